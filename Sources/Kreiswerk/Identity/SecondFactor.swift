import Foundation
import HummingbirdOTP

/// Time-based one-time passwords (RFC 6238: SHA-1, 6 digits, 30-second steps) as authenticator apps use them.
public enum SecondFactor {
    static let alphabet = Array("ABCDEFGHJKLMNPQRSTUVWXYZ23456789")

    /// A new shared secret (20 random characters; their bytes are the HMAC key).
    public static func newSecret() -> String {
        var generator = SystemRandomNumberGenerator()
        return String((0..<20).map { _ in alphabet.randomElement(using: &generator)! })
    }

    /// The `otpauth://` address an authenticator app reads (as a QR code or a link).
    public static func authenticatorURL(secret: String, account: String) -> String {
        TOTP(secret: secret).createAuthenticatorURL(label: "Kreiswerk:\(account)", issuer: "Kreiswerk")
    }

    /// The secret in Base32, for typing into an authenticator app by hand, in groups of four.
    public static func typedSecret(_ secret: String) -> String {
        let url = authenticatorURL(secret: secret, account: "x")
        let base32 = URLComponents(string: url)?.queryItems?.first { $0.name == "secret" }?.value ?? ""
        return stride(from: 0, to: base32.count, by: 4).map { offset in
            let start = base32.index(base32.startIndex, offsetBy: offset)
            return String(base32[start..<(base32.index(start, offsetBy: 4, limitedBy: base32.endIndex) ?? base32.endIndex)])
        }.joined(separator: " ")
    }

    /// Whether `code` is the current code, or the one of the step before or after (clock drift).
    public static func verify(_ code: String, secret: String, at date: Date = Date()) -> Bool {
        let digits = code.filter { !$0.isWhitespace }
        guard digits.count == 6, let value = Int(digits) else { return false }
        let totp = TOTP(secret: secret)
        return [-30.0, 0, 30].contains { totp.compute(date: date.addingTimeInterval($0)) == value }
    }

    /// The current code (for tests and the command line).
    public static func code(secret: String, at date: Date = Date()) -> String {
        String(format: "%06d", TOTP(secret: secret).compute(date: date))
    }
}
