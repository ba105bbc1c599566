import Foundation
import Logging
import PostgresNIO

/// Slows and then refuses repeated failed sign-ins, per account and per client address.
///
/// Counts live in `sign_in_failures`, keyed by SHA-256 digests, so every server process
/// sees the same counts and the table holds neither addresses nor e-mails.
public struct SignInThrottle: Sendable {
    public struct Limits: Sendable {
        /// Failures within `window` after which each further attempt waits a little longer.
        public var slowAfter = 3
        public var delayStep: Duration = .seconds(1)
        public var maximumDelay: Duration = .seconds(5)
        /// Failures within `window` after which the account, or the address, is locked for `lockout`.
        public var accountLimit = 5
        public var addressLimit = 20
        public var window: Duration = .seconds(15 * 60)
        public var lockout: Duration = .seconds(15 * 60)

        public init() {}
    }

    public let limits: Limits

    public init(limits: Limits = Limits()) { self.limits = limits }

    static func accountKey(_ email: String) -> Data { Secret.digest("account:" + email.lowercased()) }
    static func addressKey(_ address: String) -> Data { Secret.digest("address:" + address) }

    /// Throws `throttled` while the account or the address is locked.
    func check(email: String, address: String?, on connection: PostgresConnection, logger: Logger) async throws {
        let (account, client) = (Self.accountKey(email), Self.addressKey(address ?? "-"))
        let seconds = try await connection.query(
            """
            SELECT ceil(extract(epoch FROM max(locked_until) - now()))::integer FROM sign_in_failures
            WHERE key IN (\(account), \(client)) AND locked_until > now()
            """,
            logger: logger
        ).collect().first?.decode(Int?.self)
        if let seconds, seconds > 0 {
            throw DomainError.throttled(Self.lockedMessage(seconds: seconds), retryAfter: seconds)
        }
    }

    static func lockedMessage(seconds: Int) -> String {
        let minutes = max(1, (seconds + 59) / 60)
        return "Zu viele fehlgeschlagene Anmeldeversuche. Die Anmeldung ist für \(minutes) Minute\(minutes == 1 ? "" : "n") gesperrt; bitte danach erneut versuchen."
    }

    /// Counts a failure for both keys and returns how long this response should be held back.
    func recordFailure(email: String, address: String?, on connection: PostgresConnection, logger: Logger) async throws -> Duration {
        var worst = 0
        for (key, limit) in [(Self.accountKey(email), limits.accountLimit), (Self.addressKey(address ?? "-"), limits.addressLimit)] {
            let window = Double(limits.window.components.seconds), lockout = Double(limits.lockout.components.seconds)
            let failures = try await connection.query(
                """
                INSERT INTO sign_in_failures AS f (key, failures, first_failure_at, last_failure_at) VALUES (\(key), 1, now(), now())
                ON CONFLICT (key) DO UPDATE SET
                    failures = CASE WHEN f.first_failure_at < now() - make_interval(secs => \(window)) THEN 1 ELSE f.failures + 1 END,
                    first_failure_at = CASE WHEN f.first_failure_at < now() - make_interval(secs => \(window)) THEN now() ELSE f.first_failure_at END,
                    last_failure_at = now(),
                    locked_until = CASE
                        WHEN f.first_failure_at >= now() - make_interval(secs => \(window)) AND f.failures + 1 >= \(limit)
                        THEN now() + make_interval(secs => \(lockout)) ELSE f.locked_until END
                RETURNING failures
                """,
                logger: logger
            ).collect().first?.decode(Int.self) ?? 1
            if key == Self.accountKey(email) { worst = max(worst, failures) }
        }
        let excess = worst - limits.slowAfter
        return excess > 0 ? min(limits.delayStep * excess, limits.maximumDelay) : .zero
    }

    /// A successful sign-in clears the account's count (the address keeps its own).
    func recordSuccess(email: String, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query("DELETE FROM sign_in_failures WHERE key = \(Self.accountKey(email))", logger: logger)
    }
}
