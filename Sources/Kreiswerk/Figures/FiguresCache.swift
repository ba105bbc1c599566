import Foundation
import Hummingbird
import Synchronization

/// The built figures of a snapshot, kept in memory until the next snapshot: every reader of a
/// district sees the same figures between two refreshes, so they are read, suppressed and
/// encoded once, not on every request. Keyed by district, snapshot time and period, so a new
/// snapshot is a new key; access is still checked in the database on every request.
final class FiguresCache: Sendable {
    struct Entry: Sendable {
        var report: FiguresReport
        /// The JSON of the API, encoded on first use.
        var json: ByteBuffer?
    }

    private let entries = Mutex<[String: Entry]>([:])
    /// Enough for every hosted district's dashboard and a few exports each; beyond it, the cache starts over.
    let capacity: Int

    init(capacity: Int = 512) { self.capacity = capacity }

    static func key(district: UUID, computedAt: Date, since: String, until: String) -> String {
        "\(district)|\(computedAt.timeIntervalSince1970)|\(since)|\(until)"
    }

    func report(_ key: String) -> FiguresReport? { entries.withLock { $0[key]?.report } }

    func store(_ report: FiguresReport, key: String) {
        entries.withLock { entries in
            if entries.count >= capacity { entries.removeAll() }
            entries[key] = Entry(report: report)
        }
    }

    /// The report's JSON as the API sends it (snake_case keys, sorted), encoded once per entry.
    func json(_ report: FiguresReport, key: String) throws -> ByteBuffer {
        if let cached = entries.withLock({ $0[key]?.json }) { return cached }
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let buffer = ByteBuffer(bytes: try encoder.encode(report))
        entries.withLock { $0[key]?.json = buffer }
        return buffer
    }
}
