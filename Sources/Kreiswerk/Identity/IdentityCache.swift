import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// The identities behind the sessions and tokens this server resolved in the last seconds, so that a request does not
/// pay a round trip and a connection lease only to learn who sends it.
///
/// It is only ever used while `IdentityCache.Listener` listens on `kreiswerk_identity`, where the database announces
/// every change that can end or narrow an identity (migration 0030): each notice forgets every entry, so a session
/// ended, a token revoked or a role taken away on any server takes effect with the next request. If the listening
/// connection drops, the cache forgets everything and stands aside until it listens again. An entry lives `lifetime`
/// at most, which bounds how late a session's idle or absolute end is noticed, and how stale its last-seen time gets.
public final class IdentityCache: Sendable {
    public enum Credential: Sendable, Hashable {
        case session(Data)
        case bearer(Data)
    }

    struct Entry {
        var identity: Identity
        var secondFactorPending: Bool
        /// The end of `lifetime`, or earlier when the session or token ends or falls idle before.
        var expiresAt: ContinuousClock.Instant
    }

    struct State {
        var listening = false
        /// Counts the times everything was forgotten: an identity read before a notice is not kept after it.
        var generation = 0
        var entries: [Credential: Entry] = [:]
    }

    private let state = Mutex(State())
    let lifetime: Duration
    let capacity: Int

    public init(lifetime: Duration = .seconds(15), capacity: Int = 20_000) {
        self.lifetime = lifetime
        self.capacity = capacity
    }

    /// The identity behind `credential`, resolved by `resolve` unless a live entry has it.
    func identity(
        _ credential: Credential,
        resolve: () async throws -> (Identity, secondFactorPending: Bool)?
    ) async throws -> (Identity, secondFactorPending: Bool)? {
        let now = ContinuousClock.now
        let (cached, generation) = state.withLock { state -> (Entry?, Int?) in
            guard state.listening else { return (nil, nil) }
            if let entry = state.entries[credential], now < entry.expiresAt { return (entry, nil) }
            return (nil, state.generation)
        }
        if let cached { return (cached.identity, cached.secondFactorPending) }
        let resolved = try await resolve()
        if let generation, let (identity, pending) = resolved {
            state.withLock { state in
                guard state.listening, state.generation == generation else { return }
                if state.entries.count >= capacity { state.entries.removeAll(keepingCapacity: true) }
                var expiresAt = now + lifetime
                if let validUntil = identity.validUntil {
                    expiresAt = min(expiresAt, now + .milliseconds(Int64(validUntil.timeIntervalSinceNow * 1000)))
                }
                state.entries[credential] = Entry(identity: identity, secondFactorPending: pending, expiresAt: expiresAt)
            }
        }
        return resolved
    }

    /// Forgets every identity; with `listening`, whether entries may be kept from now on.
    func forgetAll(listening: Bool? = nil) {
        state.withLock { state in
            state.entries.removeAll()
            state.generation += 1
            if let listening { state.listening = listening }
        }
    }

    /// What a change made by this server's own request may have ended, forgotten before its answer leaves: the
    /// notice that other servers act on arrives a few milliseconds later, too late for the next request here.
    /// A person changes only their own sessions, tokens, password and second factor; administrators change others'.
    func forget(afterChangeBy identity: Identity?, policy: Policy) {
        let administers = identity.map { identity in
            ([.manageUsers, .manageTenantSecurity, .onboardTenants, .operateJobs] as [Permission]).contains { policy.allows(identity, $0) }
        }
        guard let identity, administers == false else { return forgetAll() }
        state.withLock { state in
            state.entries = state.entries.filter { $0.value.identity.userID != identity.userID }
            state.generation += 1
        }
    }

    var count: Int { state.withLock { $0.entries.count } }
    var isListening: Bool { state.withLock { $0.listening } }

    /// Holds one connection listening for identity changes; the cache is in use only while it does.
    public struct Listener: Service {
        static let channel = "kreiswerk_identity"
        let cache: IdentityCache
        let database: Database

        public init(cache: IdentityCache, database: Database) {
            self.cache = cache
            self.database = database
        }

        public func run() async throws {
            defer { cache.forgetAll(listening: false) }
            await cancelWhenGracefulShutdown {
                while !Task.isCancelled {
                    do {
                        try await database.client.withConnection { connection in
                            try await connection.listen(on: Self.channel) { notices in
                                cache.forgetAll(listening: true)  // whatever changed while nobody listened
                                for try await _ in notices { cache.forgetAll() }
                            }
                        }
                    } catch {
                        cache.forgetAll(listening: false)
                        if Task.isCancelled { return }
                        database.logger.warning(
                            "listening for identity changes failed; resolving every request's identity until it is back",
                            metadata: ["error": "\(String(reflecting: error))"]
                        )
                        try? await Task.sleep(for: .seconds(1))
                    }
                }
            }
        }
    }
}
