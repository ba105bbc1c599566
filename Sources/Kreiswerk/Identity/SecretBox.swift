import Crypto
import Foundation

/// Seals TOTP secrets (AES-256-GCM) with a key kept outside the database, so that a dump of the
/// database alone cannot compute anybody's codes.
///
/// A sealed secret reads `kw1:KEYID:BASE64`, BASE64 being nonce, ciphertext and tag. KEYID names the
/// key that sealed it (derived from the key, so no one has to number keys): after a rotation the old
/// key, kept in `KREISWERK_TOTP_OLD_KEYS`, still opens what it sealed, and `open` says that the secret
/// should be sealed anew under the current key. The account's id is authenticated along with the
/// secret, so a sealed secret copied into another account's row does not open there.
public struct SecretBox: Sendable {
    struct Key: Sendable {
        let id: String
        let bytes: Data
        var key: SymmetricKey { SymmetricKey(data: bytes) }
    }

    let current: Key
    let older: [Key]

    static let prefix = "kw1"

    /// Keys as base64 text of 32 random bytes each (`head -c 32 /dev/urandom | base64`).
    public init(current: String, older: [String] = []) throws(ConfigurationError) {
        let current = try Self.key(current, name: "KREISWERK_TOTP_KEY")
        let older = try older.map { text throws(ConfigurationError) in try Self.key(text, name: "KREISWERK_TOTP_OLD_KEYS") }
        self.current = current
        self.older = older.filter { $0.id != current.id }
    }

    /// `KREISWERK_TOTP_KEY` (the key that seals) and `KREISWERK_TOTP_OLD_KEYS` (comma-separated keys that only open).
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws(ConfigurationError) -> SecretBox
    {
        guard let current = environment["KREISWERK_TOTP_KEY"], !current.isEmpty else {
            throw ConfigurationError(
                "KREISWERK_TOTP_KEY is not set: give the key that seals second-factor secrets as base64 of 32 random bytes (head -c 32 /dev/urandom | base64) and keep it secret, outside the database (ops/run keeps one in .kreiswerk/totp-key)"
            )
        }
        let older = (environment["KREISWERK_TOTP_OLD_KEYS"] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        return try SecretBox(current: current, older: older.filter { !$0.isEmpty })
    }

    /// A key that lives as long as the process: for tests and tools that never read a secret back after a restart.
    public static func ephemeral() -> SecretBox {
        try! SecretBox(current: SymmetricKey(size: .bits256).withUnsafeBytes { Data($0).base64EncodedString() })
    }

    private static func key(_ text: String, name: String) throws(ConfigurationError) -> Key {
        guard let bytes = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)), bytes.count == 32 else {
            throw ConfigurationError("\(name) must be base64 of exactly 32 bytes (head -c 32 /dev/urandom | base64)")
        }
        let id = SHA256.hash(data: Data("kreiswerk-totp-key".utf8) + bytes).prefix(4).map { String(format: "%02x", $0) }.joined()
        return Key(id: id, bytes: bytes)
    }

    /// The id of the key that seals, as it appears in sealed secrets.
    public var currentKeyID: String { current.id }

    public func seal(_ secret: String, account: UUID) throws -> String {
        let box = try AES.GCM.seal(Data(secret.utf8), using: current.key, authenticating: Data(account.uuidString.utf8))
        guard let combined = box.combined else { throw Failure.damaged }
        return "\(Self.prefix):\(current.id):\(combined.base64EncodedString())"
    }

    /// The secret of `account`, and whether it should be sealed anew: sealed under an older key, or
    /// stored in plain text before secrets were sealed.
    public func open(_ stored: String, account: UUID) throws -> (secret: String, stale: Bool) {
        let parts = stored.split(separator: ":", maxSplits: 2).map(String.init)
        guard parts.count == 3, parts[0] == Self.prefix else { return (stored, true) }
        guard let key = ([current] + older).first(where: { $0.id == parts[1] }) else { throw Failure.unknownKey(parts[1]) }
        guard let data = Data(base64Encoded: parts[2]), let box = try? AES.GCM.SealedBox(combined: data),
            let opened = try? AES.GCM.open(box, using: key.key, authenticating: Data(account.uuidString.utf8))
        else { throw Failure.damaged }
        return (String(decoding: opened, as: UTF8.self), key.id != current.id)
    }

    /// Whether a stored secret is sealed under the current key.
    public func isCurrent(_ stored: String) -> Bool { stored.hasPrefix("\(Self.prefix):\(current.id):") }

    public enum Failure: Error, CustomStringConvertible {
        case unknownKey(String)
        case damaged

        public var description: String {
            switch self {
            case .unknownKey(let id):
                "a second-factor secret is sealed with the key \(id), which is neither KREISWERK_TOTP_KEY nor one of KREISWERK_TOTP_OLD_KEYS: add that key to KREISWERK_TOTP_OLD_KEYS"
            case .damaged: "a sealed second-factor secret does not open with its key: it was changed, or belongs to another account"
            }
        }
    }
}
