import Foundation
import Logging
import PostgresNIO

/// Slows and then refuses repeated failed sign-ins, per account and per client address.
///
/// Counts live in `sign_in_failures`, keyed by SHA-256 digests, so every server process
/// sees the same counts and the table holds neither addresses nor e-mails. An attempt is
/// counted before it is verified (`reserve`), so parallel attempts cannot all slip past the limit.
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

    /// A sign-in attempt counted before its password or code is checked.
    struct Attempt: Sendable {
        var email: String
        var address: String?
        /// The account's attempts in the window, this one included.
        var count: Int
    }

    /// Counts the attempt for the account and for the client address before anything is verified, and
    /// throws `throttled` if either is over its limit. One statement per key takes the row's lock and
    /// answers with the new count, so however many attempts arrive at once, at most `accountLimit` of
    /// them per account (and `addressLimit` per address) go on to be verified in a window. The attempt
    /// that reaches a limit locks for `lockout`; once a lock or a window has passed, counting starts anew.
    /// A wrong password needs nothing more (it was counted); a right one calls `succeeded` or `release`.
    func reserve(email: String, address: String?, on database: Database) async throws -> Attempt {
        let window = Double(limits.window.components.seconds)
        let lockout = Double(limits.lockout.components.seconds)
        let keys = [(Self.accountKey(email), limits.accountLimit), (Self.addressKey(address ?? "-"), limits.addressLimit)]
        // A refusal rolls the transaction back: an attempt that is never verified is not counted.
        let count = try await database.withTransaction { connection -> Int in
            var accountCount = 0
            for (key, limit) in keys {
                let (count, seconds) = try await connection.query(
                    """
                    INSERT INTO sign_in_failures AS f (key, failures, first_failure_at, last_failure_at, locked_until)
                    VALUES (\(key), 1, now(), now(), CASE WHEN \(limit) <= 1 THEN now() + make_interval(secs => \(lockout)) END)
                    ON CONFLICT (key) DO UPDATE SET
                        failures = CASE WHEN coalesce(f.locked_until <= now(), f.first_failure_at < now() - make_interval(secs => \(window)))
                                        THEN 1 ELSE f.failures + 1 END,
                        first_failure_at = CASE WHEN coalesce(f.locked_until <= now(), f.first_failure_at < now() - make_interval(secs => \(window)))
                                                THEN now() ELSE f.first_failure_at END,
                        last_failure_at = now(),
                        locked_until = CASE
                            WHEN coalesce(f.locked_until <= now(), f.first_failure_at < now() - make_interval(secs => \(window)))
                                THEN CASE WHEN \(limit) <= 1 THEN now() + make_interval(secs => \(lockout)) END
                            WHEN f.failures + 1 = \(limit) THEN now() + make_interval(secs => \(lockout))
                            ELSE f.locked_until END
                    RETURNING failures, ceil(extract(epoch FROM locked_until - now()))::integer
                    """,
                    logger: database.logger
                ).collect().first!.decode((Int, Int?).self)
                if count > limit {
                    let seconds = max(1, seconds ?? Int(lockout))
                    throw DomainError.throttled(Self.lockedMessage(seconds: seconds), retryAfter: seconds)
                }
                if key == keys[0].0 { accountCount = count }
            }
            return accountCount
        }
        return Attempt(email: email, address: address, count: count)
    }

    static func lockedMessage(seconds: Int) -> String {
        let minutes = max(1, (seconds + 59) / 60)
        return
            "Zu viele fehlgeschlagene Anmeldeversuche. Die Anmeldung ist für \(minutes) Minute\(minutes == 1 ? "" : "n") gesperrt; bitte danach erneut versuchen."
    }

    /// How long the answer to a failed attempt is held back: a little longer for each failure beyond `slowAfter`.
    func delay(after attempt: Attempt) -> Duration {
        let excess = attempt.count - limits.slowAfter
        return excess > 0 ? min(limits.delayStep * excess, limits.maximumDelay) : .zero
    }

    /// The sign-in succeeded: the account's count is cleared; the address's loses this attempt (the address keeps its failures).
    func succeeded(_ attempt: Attempt, on database: Database) async throws {
        try await database.withTransaction { connection in
            try await connection.query("DELETE FROM sign_in_failures WHERE key = \(Self.accountKey(attempt.email))", logger: database.logger)
            try await uncount(Self.addressKey(attempt.address ?? "-"), limit: limits.addressLimit, on: connection, logger: database.logger)
        }
    }

    /// The password was right and the second factor is still to come: this attempt neither failed nor succeeded.
    /// (Not cleared: a right password must not reset the count that limits guessing the code.)
    func release(_ attempt: Attempt, on database: Database) async throws {
        try await database.withTransaction { connection in
            try await uncount(Self.accountKey(attempt.email), limit: limits.accountLimit, on: connection, logger: database.logger)
            try await uncount(Self.addressKey(attempt.address ?? "-"), limit: limits.addressLimit, on: connection, logger: database.logger)
        }
    }

    private func uncount(_ key: Data, limit: Int, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query(
            """
            UPDATE sign_in_failures SET failures = failures - 1, locked_until = CASE WHEN failures - 1 < \(limit) THEN NULL ELSE locked_until END
            WHERE key = \(key) AND failures > 0
            """,
            logger: logger
        )
    }
}
