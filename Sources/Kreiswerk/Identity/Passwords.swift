import HummingbirdBcrypt
import NIOPosix

/// Bcrypt hashing (cost 12) off the event loops, and the rules a new password must meet.
public struct Passwords: Sendable {
    public static let minimumLength = 10
    public let cost: UInt8

    public init(cost: UInt8 = 12) { self.cost = cost }

    /// A hash that no password matches, verified against when an e-mail address is unknown,
    /// so that unknown addresses and wrong passwords take the same time.
    static let decoyHash = "$2b$12$fip3Uo1MwFMx1Yp.AeAQCukP/iS3mLcK55JRBCfwn0PBL.sn.OnzK"

    public func hash(_ password: String) async throws -> String {
        let cost = cost
        return try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: cost) }
    }

    public func verify(_ password: String, against hash: String?) async throws -> Bool {
        let hash = hash ?? Self.decoyHash
        return try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: hash) } && hash != Self.decoyHash
    }

    /// Checks a new password and its repetition; the message says what to change (German, shown in forms and API).
    public static func validate(_ password: String, repeated: String? = nil, field: String = "password") throws(InvalidInput) {
        if password.count < minimumLength {
            throw InvalidInput(field: field, "Das Passwort muss mindestens \(minimumLength) Zeichen lang sein.")
        }
        if password.count > 200 {
            throw InvalidInput(field: field, "Das Passwort darf höchstens 200 Zeichen lang sein.")
        }
        if let repeated, repeated != password {
            throw InvalidInput(field: "\(field)_repeat", "Die beiden Passwörter stimmen nicht überein.")
        }
    }
}
