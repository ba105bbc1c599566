import Foundation
import Logging
import PostgresNIO

/// Appends to the audit trail and reads it back.
///
/// Appending is a plain INSERT in the caller's transaction: the entry commits with the change it
/// records, or not at all, and no request waits for another's entry. `AuditChain` seals entries
/// into the hash chain afterwards.
public enum AuditLog {
    public static func record(_ event: AuditEvent, on connection: PostgresConnection, logger: Logger) async throws {
        try await record([event], on: connection, logger: logger)
    }

    /// Appends `events` in one statement: one round trip however many a transaction writes.
    public static func record(_ events: [AuditEvent], on connection: PostgresConnection, logger: Logger) async throws {
        guard !events.isEmpty else { return }
        // A SELECT's error arrives with its rows: drained, so a refused entry fails the transaction here, never unnoticed.
        _ = try await connection.query("SELECT audit_append(\(Entries(events).json)::jsonb)", logger: logger).collect()
    }

    /// The events as one JSON array, the detail of each an object with sorted keys.
    struct Entries {
        var events: [AuditEvent]
        init(_ events: [AuditEvent]) { self.events = events }

        var json: String {
            var json = JSONText()
            json.buffer.writeStaticString("[")
            for (index, event) in events.enumerated() {
                if index > 0 { json.buffer.writeStaticString(",") }
                json.object { json in
                    if let tenant = event.tenantID { json.field("tenant_id", tenant) }
                    if let actor = event.actorID { json.field("actor_id", actor) }
                    json.field("action", event.action)
                    json.field("object_type", event.objectType)
                    json.field("object_id", event.objectID)
                    json.field("purpose", event.purpose)
                    json.field("detail", json: Self.detail(Self.traced(event.detail)))
                    json.field("client_address", event.clientAddress)
                }
            }
            json.buffer.writeStaticString("]")
            return String(buffer: json.buffer)
        }

        /// The detail with the id of the request that caused the entry (`RequestLog`), so that an entry and the
        /// request's log line find each other; sealed into the hash chain with the rest of the detail.
        static func traced(_ detail: [String: String]) -> [String: String] {
            guard let id = RequestIDs.current?.value, detail["request_id"] == nil else { return detail }
            var detail = detail
            detail["request_id"] = id
            return detail
        }

        /// The detail as a JSON object with sorted keys.
        static func detail(_ detail: [String: String]) -> String {
            var json = JSONText()
            json.buffer.writeStaticString("{")
            for (index, key) in detail.keys.sorted().enumerated() {
                if index > 0 { json.buffer.writeStaticString(",") }
                json.string(key)
                json.buffer.writeStaticString(":")
                json.string(detail[key]!)
            }
            json.buffer.writeStaticString("}")
            return String(buffer: json.buffer)
        }
    }

    /// An entry as a reader of the trail sees it.
    public struct Entry: Sendable, Codable, Equatable {
        public var id: Int
        public var seq: Int?
        public var occurredAt: Date
        public var tenant: String?
        public var actorID: UUID?
        public var action: String
        public var objectType: String?
        public var objectID: String?
        public var detail: [String: String]
        public var sealed: Bool

        enum CodingKeys: String, CodingKey {
            case id, seq, tenant, action, detail, sealed
            case occurredAt = "occurred_at", actorID = "actor_id", objectType = "object_type", objectID = "object_id"
        }
    }

    /// The newest entries that row-level security lets the current transaction see, newest first.
    /// `tenant` narrows them to one tenant.
    public static func entries(tenant: UUID?, limit: Int, on connection: PostgresConnection, logger: Logger) async throws -> [Entry] {
        let rows = try await connection.query(
            """
            SELECT a.id, a.seq, a.occurred_at, t.slug, a.actor_id, a.action, a.object_type, a.object_id, a.detail::text
            FROM audit_log a LEFT JOIN tenants t ON t.id = a.tenant_id
            WHERE \(tenant)::uuid IS NULL OR a.tenant_id = \(tenant)
            ORDER BY a.id DESC LIMIT \(limit)
            """,
            logger: logger
        )
        var entries: [Entry] = []
        for try await (id, seq, occurredAt, tenant, actor, action, objectType, objectID, detail) in rows.decode(
            (Int, Int?, Date, String?, UUID?, String, String?, String?, String).self
        ) {
            let fields = (try? JSONDecoder().decode([String: String].self, from: Data(detail.utf8))) ?? [:]
            entries.append(
                Entry(
                    id: id,
                    seq: seq,
                    occurredAt: occurredAt,
                    tenant: tenant,
                    actorID: actor,
                    action: action,
                    objectType: objectType,
                    objectID: objectID,
                    detail: fields,
                    sealed: seq != nil
                )
            )
        }
        return entries
    }
}
