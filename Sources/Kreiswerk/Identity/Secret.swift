import Crypto
import Foundation

/// A random secret handed to a person or program once (a session cookie, a bearer token,
/// an invitation link). Only its SHA-256 digest is stored.
public struct Secret: Sendable, Equatable {
    public let value: String

    public init(value: String) { self.value = value }

    /// 32 random bytes, URL-safe, with a prefix that tells what it is (`kws_`, `kwt_`, `kwp_`, `kwi_`).
    public static func generate(prefix: String) -> Secret {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let text = Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
        return Secret(value: prefix + text)
    }

    public var digest: Data { Self.digest(value) }

    public static func digest(_ text: String) -> Data { Data(SHA256.hash(data: Data(text.utf8))) }

    /// Compares two strings in time independent of where they differ (CSRF tokens).
    public static func constantTimeEquals(_ lhs: String, _ rhs: String) -> Bool {
        let a = Array(lhs.utf8)
        let b = Array(rhs.utf8)
        guard a.count == b.count else { return false }
        return zip(a, b).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
