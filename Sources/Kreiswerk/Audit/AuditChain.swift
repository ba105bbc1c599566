import Crypto
import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle

/// The hash chain over the audit trail: sealing pending entries, and verifying the chain.
///
/// Each entry's `entry_hash` digests its own content when it is written. Sealing, done in
/// batches by `audit_seal()` in the database, gives entries a position (`seq`) and
/// `chain_hash = SHA-256(prev_hash ‖ entry_hash)`. Verification recomputes both.
public struct AuditChain: Sendable {
    public let database: Database

    public init(database: Database) { self.database = database }

    /// Seals every committed, unsealed entry; returns how many.
    @discardableResult
    public func seal() async throws -> Int {
        var total = 0
        while true {
            let sealed = try await database.withTransaction { connection in
                try await connection.query("SELECT audit_seal(5000)", logger: database.logger).collect().first?.decode(Int.self) ?? 0
            }
            total += sealed
            if sealed < 5000 { return total }
        }
    }

    /// What verification found.
    public struct Report: Sendable, Equatable, CustomStringConvertible {
        public var sealed: Int
        public var pending: Int
        /// The first entry that breaks the chain, and why; nil if the chain is intact.
        public var firstBroken: (seq: Int, id: Int?, reason: String)?
        /// The hash of the last sealed entry: note it elsewhere to detect a cut-off tail later.
        public var head: String?

        public static func == (lhs: Report, rhs: Report) -> Bool {
            lhs.sealed == rhs.sealed && lhs.pending == rhs.pending && lhs.head == rhs.head
                && lhs.firstBroken?.seq == rhs.firstBroken?.seq && lhs.firstBroken?.reason == rhs.firstBroken?.reason
        }

        public var isIntact: Bool { firstBroken == nil }

        public var description: String {
            var lines: [String] = []
            if let broken = firstBroken {
                lines.append("BROKEN at entry #\(broken.seq)\(broken.id.map { " (id \($0))" } ?? ""): \(broken.reason)")
                lines.append("Entries before #\(broken.seq) are intact; from #\(broken.seq) on the chain cannot be trusted.")
            } else {
                lines.append("Chain intact: \(sealed) sealed entr\(sealed == 1 ? "y" : "ies") verified.")
                if let head { lines.append("Head: #\(sealed) \(head)") }
            }
            lines.append(
                pending == 0
                    ? "Pending: none."
                    : "Pending: \(pending) entr\(pending == 1 ? "y is" : "ies are") written but not yet sealed (the server seals every few seconds; kreiswerk audit seal seals now)."
            )
            return lines.joined(separator: "\n")
        }
    }

    /// Walks the sealed chain in order and names the first entry that was changed, removed or re-linked.
    public func verify() async throws -> Report {
        try await database.withTransaction { connection in
            try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ", logger: database.logger)
            let pending = try await connection.query("SELECT count(*)::integer FROM audit_log WHERE seq IS NULL", logger: database.logger)
                .collect().first!.decode(Int.self)
            let rows = try await connection.query(
                """
                SELECT a.seq, a.id, a.entry_hash, audit_entry_digest(a), a.prev_hash, a.chain_hash
                FROM audit_log a WHERE a.seq IS NOT NULL ORDER BY a.seq
                """,
                logger: database.logger
            )
            var previous = Data(repeating: 0, count: 32)
            var expectedSeq = 1
            var report = Report(sealed: 0, pending: pending, firstBroken: nil, head: nil)
            for try await (seq, id, entryHash, digest, prevHash, chainHash) in rows.decode((Int, Int, Data, Data, Data?, Data?).self) {
                if report.firstBroken != nil { continue }
                if seq != expectedSeq {
                    report.firstBroken = (expectedSeq, nil, "missing: the chain jumps from #\(expectedSeq - 1) to #\(seq), so entries were deleted")
                } else if entryHash != digest {
                    report.firstBroken = (seq, id, "its content was changed after it was written (the digest no longer matches)")
                } else if prevHash != previous {
                    report.firstBroken = (seq, id, "it does not link to entry #\(seq - 1) (prev_hash differs)")
                } else if chainHash != Data(SHA256.hash(data: previous + entryHash)) {
                    report.firstBroken = (seq, id, "its chain hash is wrong")
                } else {
                    previous = chainHash!
                    report.sealed = seq
                    expectedSeq += 1
                }
            }
            report.head = report.sealed > 0 ? previous.map { String(format: "%02x", $0) }.joined() : nil
            return report
        }
    }
}

/// Seals the audit trail every few seconds while the server runs.
public struct AuditSealer: Service {
    let chain: AuditChain
    let interval: Duration

    public init(chain: AuditChain, interval: Duration = .seconds(2)) {
        self.chain = chain
        self.interval = interval
    }

    public func run() async throws {
        let chain = chain
        let interval = interval
        // Sleep first: a server that fails its start-up checks stops without a query in flight.
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                guard !Task.isCancelled else { return }
                do {
                    try await chain.seal()
                } catch {
                    chain.database.logger.warning("sealing the audit trail failed; retrying", metadata: ["error": "\(String(reflecting: error))"])
                }
            }
        }
    }
}
