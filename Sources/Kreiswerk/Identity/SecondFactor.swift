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

    /// The step (Unix time / 30 s) whose code `code` is: the current one, or the one before or after (clock drift);
    /// nil if it is none of them. The caller takes the step (`account_totp_use`), so that a code is accepted once.
    public static func verify(_ code: String, secret: String, at date: Date = Date()) -> Int64? {
        let digits = code.filter { !$0.isWhitespace }
        guard digits.count == 6, let value = Int(digits) else { return nil }
        let totp = TOTP(secret: secret)
        let now = Int64((date.timeIntervalSince1970 / 30).rounded(.down))
        return [now, now - 1, now + 1].first { totp.compute(date: Date(timeIntervalSince1970: Double($0) * 30)) == value }
    }

    /// The current code (for tests and the command line).
    public static func code(secret: String, at date: Date = Date()) -> String {
        String(format: "%06d", TOTP(secret: secret).compute(date: date))
    }
}
