import Foundation
import Logging
import PostgresNIO

/// A case as it is read back.
public struct CaseFile: Sendable, Codable, Equatable {
    public var id: UUID
    public var caseNumber: String
    public var clientID: UUID
    public var clientName: String
    public var ownerID: UUID
    public var ownerName: String
    public var channel: AccessChannel
    public var phase: Phase
    public var route: CaseRoute?
    public var reason: String?
    public var nextReviewOn: Day?
    public var openedOn: Day
    public var closedOn: Day?
    public var closureReason: String?
    public var version: Int
    /// Open goals whose review date has come (today or earlier).
    public var goalsDue: Int

    // Written out, so that lists of cases need no key conversion per field (it was a third of "my cases").
    enum CodingKeys: String, CodingKey {
        case id, channel, phase, route, reason, version
        case caseNumber = "case_number", clientID = "client_id", clientName = "client_name", ownerID = "owner_id", ownerName = "owner_name"
        case nextReviewOn = "next_review_on", openedOn = "opened_on", closedOn = "closed_on", closureReason = "closure_reason"
        case goalsDue = "goals_due"
    }
}

extension CaseFile: HandWrittenJSON {
    /// The keys in sorted order, as `CodingKeys` name them.
    func writeJSON(to json: inout JSONText) {
        json.object { fields in
            fields.field("case_number", caseNumber)
            fields.field("channel", channel.rawValue)
            fields.field("client_id", clientID)
            fields.field("client_name", clientName)
            fields.field("closed_on", closedOn?.iso)
            fields.field("closure_reason", closureReason)
            fields.field("goals_due", goalsDue)
            fields.field("id", id)
            fields.field("next_review_on", nextReviewOn?.iso)
            fields.field("opened_on", openedOn.iso)
            fields.field("owner_id", ownerID)
            fields.field("owner_name", ownerName)
            fields.field("phase", phase.rawValue)
            fields.field("reason", reason)
            fields.field("route", route?.rawValue)
            fields.field("version", version)
        }
    }
}

/// One entry of a case's timeline.
public struct CaseEvent: Sendable, Codable, Equatable {
    public var id: Int
    public var occurredAt: Date
    public var actorName: String?
    public var kind: String
    public var text: String
    /// The absent colleague the actor stood in for (Vertretung), by name.
    public var standInFor: String? = nil
}

extension CaseEvent: HandWrittenJSON {
    func writeJSON(to json: inout JSONText) {
        json.object { fields in
            fields.field("actor_name", actorName)
            fields.field("id", id)
            fields.field("kind", kind)
            fields.field("occurred_at", occurredAt)
            fields.field("stand_in_for", standInFor)
            fields.field("text", text)
        }
    }
}

/// A goal of a case.
public struct Goal: Sendable, Codable, Equatable {
    public var id: UUID
    public var area: GoalArea
    public var text: String
    public var agreedOn: Day
    public var reviewOn: Day
    public var outcome: GoalOutcome?
    public var outcomeNote: String?
    public var reviewedOn: Day?
    public var version: Int
}

extension Goal: HandWrittenJSON {
    func writeJSON(to json: inout JSONText) {
        json.object { fields in
            fields.field("agreed_on", agreedOn.iso)
            fields.field("area", area.rawValue)
            fields.field("id", id)
            fields.field("outcome", outcome?.rawValue)
            fields.field("outcome_note", outcomeNote)
            fields.field("review_on", reviewOn.iso)
            fields.field("reviewed_on", reviewedOn?.iso)
            fields.field("text", text)
            fields.field("version", version)
        }
    }
}

/// Cases, their timeline and goals in PostgreSQL; every function runs in a transaction acting for the tenant.
public enum CaseRecords {
    static let columns = """
        k.id, k.case_number, k.client_id, c.first_name || ' ' || c.last_name, k.owner_id, u.display_name, k.channel, k.phase, k.route, k.reason,
        to_char(k.next_review_on, 'YYYY-MM-DD'), to_char(k.opened_on, 'YYYY-MM-DD'), to_char(k.closed_on, 'YYYY-MM-DD'), k.closure_reason, k.version,
        (SELECT count(*)::integer FROM goals g WHERE g.tenant_id = k.tenant_id AND g.case_id = k.id AND g.outcome IS NULL AND g.review_on <= current_date)
        """
    /// How many `columns` there are: what follows them in a longer row starts here.
    static let columnCount = 16
    // Joins on the full composite keys, so every lookup is an index lookup whatever the tenant's size.
    static let from = """
        FROM cases k JOIN clients c ON c.tenant_id = k.tenant_id AND c.id = k.client_id
        JOIN users u ON u.tenant_id = k.tenant_id AND u.id = k.owner_id
        """

    static func decode(_ rows: PostgresRowSequence) async throws -> [CaseFile] {
        var cases: [CaseFile] = []
        for try await row in rows { cases.append(try caseFile(row)) }
        return cases
    }

    /// One row of `columns`.
    static func caseFile(_ row: PostgresRow) throws -> CaseFile {
        let r = row.makeRandomAccess()
        return CaseFile(
            id: try r[0].decode(UUID.self),
            caseNumber: try r[1].decode(String.self),
            clientID: try r[2].decode(UUID.self),
            clientName: try r[3].decode(String.self),
            ownerID: try r[4].decode(UUID.self),
            ownerName: try r[5].decode(String.self),
            channel: AccessChannel(rawValue: try r[6].decode(String.self)) ?? .level1,
            phase: Phase(rawValue: try r[7].decode(String.self)) ?? .intake,
            route: try r[8].decode(String?.self).flatMap(CaseRoute.init),
            reason: try r[9].decode(String?.self),
            nextReviewOn: try r[10].decode(String?.self).flatMap(Day.init),
            openedOn: Day(try r[11].decode(String.self))!,
            closedOn: try r[12].decode(String?.self).flatMap(Day.init),
            closureReason: try r[13].decode(String?.self),
            version: try r[14].decode(Int.self),
            goalsDue: try r[15].decode(Int.self)
        )
    }

    /// "My cases", the most frequent read: a statement prepared once per connection (planning it cost as much
    /// as running it). Row-level security still applies: the tenant is read when it runs.
    struct OpenCasesOfOwner: PreparedByID {
        static let sql = """
            SELECT \(CaseRecords.columns) \(CaseRecords.from)
            WHERE k.owner_id = $1 AND k.closed_on IS NULL ORDER BY k.next_review_on NULLS LAST, k.opened_on LIMIT 500
            """
        /// The case manager's.
        var id: UUID

        func decodeRow(_ row: PostgresRow) throws -> CaseFile { try CaseRecords.caseFile(row) }
    }

    public static func find(_ id: UUID, on connection: PostgresConnection, logger: Logger) async throws -> CaseFile? {
        try await connection.rows(CaseByID(id: id), logger: logger).first
    }

    struct CaseByID: PreparedByID {
        static let sql = "SELECT \(CaseRecords.columns) \(CaseRecords.from) WHERE k.id = $1"
        var id: UUID
        func decodeRow(_ row: PostgresRow) throws -> CaseFile { try CaseRecords.caseFile(row) }
    }

    /// The case page's data in one statement: the case, its client, goals and timeline (`CaseWork.caseView`).
    static func view(_ id: UUID, on connection: PostgresConnection, logger: Logger) async throws -> CaseWork.CaseView? {
        try await connection.rows(CaseViewByID(id: id), logger: logger).first
    }

    struct CaseViewByID: PreparedByID {
        static let sql = """
            SELECT \(CaseRecords.columns), \(ClientRecords.columns), \(CaseRecords.goalsJSON), \(CaseRecords.timelineJSON)
            \(CaseRecords.from) JOIN tenants t ON t.id = c.tenant_id WHERE k.id = $1
            """
        var id: UUID
        func decodeRow(_ row: PostgresRow) throws -> CaseWork.CaseView {
            let r = row.makeRandomAccess()
            return CaseWork.CaseView(
                file: try CaseRecords.caseFile(row),
                client: try ClientRecords.client(row, today: .today, from: CaseRecords.columnCount),
                goals: try CaseRecords.goals(json: try r[r.count - 2].decode(String.self)),
                timeline: try CaseRecords.timeline(json: try r[r.count - 1].decode(String.self))
            )
        }
    }

    /// Open cases of one case manager (nil: of the whole tenant), what is due first.
    public static func open(ownedBy owner: UUID?, on connection: PostgresConnection, logger: Logger) async throws -> [CaseFile] {
        if let owner {
            return try await connection.rows(OpenCasesOfOwner(id: owner), logger: logger)
        }
        return try await decode(
            connection.query(
                "SELECT \(unescaped: columns) \(unescaped: from) WHERE k.closed_on IS NULL ORDER BY k.next_review_on NULLS LAST, k.opened_on LIMIT 500",
                logger: logger
            )
        )
    }

    public static func of(client: UUID, on connection: PostgresConnection, logger: Logger) async throws -> [CaseFile] {
        try await decode(
            connection.query(
                "SELECT \(unescaped: columns) \(unescaped: from) WHERE k.client_id = \(client) ORDER BY k.opened_on DESC",
                logger: logger
            )
        )
    }

    /// Opens a case with the next number of the tenant's year, e.g. WIT-2026-0007.
    public static func open(
        client: UUID,
        tenant: TenantRef,
        owner: UUID,
        channel: AccessChannel,
        reason: String?,
        nextReviewOn: Day?,
        on connection: PostgresConnection,
        logger: Logger
    ) async throws -> UUID {
        let year = Calendar(identifier: .gregorian).component(.year, from: Date())
        let number = try await connection.query(
            """
            INSERT INTO case_number_counters (tenant_id, year, last) VALUES (\(tenant.id), \(year), 1)
            ON CONFLICT (tenant_id, year) DO UPDATE SET last = case_number_counters.last + 1 RETURNING last
            """,
            logger: logger
        ).collect().first!.decode(Int.self)
        let prefix = String(tenant.slug.uppercased().filter { $0.isLetter }.prefix(3))
        let caseNumber = "\(prefix)-\(year)-\(String(format: "%04d", number))"
        let id = UUID()
        try await connection.query(
            """
            INSERT INTO cases (tenant_id, id, case_number, client_id, owner_id, channel, reason, next_review_on)
            VALUES (\(tenant.id), \(id), \(caseNumber), \(client), \(owner), \(channel.rawValue), \(reason), \(nextReviewOn?.iso)::date)
            """,
            logger: logger
        )
        return id
    }

    /// Writes the case's changeable state if it is still at `version`; `stale` otherwise.
    public static func save(_ file: CaseFile, expecting version: Int, on connection: PostgresConnection, logger: Logger) async throws {
        let rows = try await connection.query(
            """
            UPDATE cases SET phase = \(file.phase.rawValue), route = \(file.route?.rawValue), reason = \(file.reason), owner_id = \(file.ownerID),
                next_review_on = \(file.nextReviewOn?.iso)::date, closed_on = \(file.closedOn?.iso)::date, closure_reason = \(file.closureReason),
                version = version + 1, updated_at = now()
            WHERE id = \(file.id) AND version = \(version) RETURNING 1
            """,
            logger: logger
        ).collect()
        guard !rows.isEmpty else {
            throw DomainError.stale("Der Fall wurde inzwischen von jemand anderem geändert. Bitte neu laden und die Änderung erneut vornehmen.")
        }
    }

    public static func addEvent(
        _ kind: String,
        text: String,
        case id: UUID,
        tenant: UUID,
        actor: UUID?,
        on connection: PostgresConnection,
        logger: Logger
    ) async throws {
        try await connection.query(
            "INSERT INTO case_events (tenant_id, case_id, actor_id, kind, text) VALUES (\(tenant), \(id), \(actor), \(kind), \(text))",
            logger: logger
        )
    }

    public static func timeline(of id: UUID, on connection: PostgresConnection, logger: Logger) async throws -> [CaseEvent] {
        try await connection.rows(TimelineOfCase(id: id), logger: logger).first ?? []
    }

    /// The case's timeline, newest first, as one JSON array (`CaseViewByID` reads it in the same statement as the case).
    static let timelineJSON = """
        (SELECT coalesce(json_agg(json_build_object('id', e.id, 'at', extract(epoch FROM e.occurred_at), 'actor', u.display_name, 'kind', e.kind,
                                                    'text', e.text, 'standInFor', a.display_name) ORDER BY e.id DESC), '[]')
         FROM case_events e LEFT JOIN users u ON u.id = e.actor_id LEFT JOIN users a ON a.id = e.stand_in_for
         WHERE e.case_id = k.id)::text
        """

    struct TimelineOfCase: PreparedByID {
        static let sql = "SELECT \(CaseRecords.timelineJSON) FROM cases k WHERE k.id = $1"
        var id: UUID
        func decodeRow(_ row: PostgresRow) throws -> [CaseEvent] { try CaseRecords.timeline(json: try row.decode(String.self)) }
    }

    static func timeline(json: String) throws -> [CaseEvent] {
        struct Event: Decodable {
            var id: Int
            var at: Double
            var actor: String?
            var kind: String
            var text: String
            var standInFor: String?
        }
        return try JSONDecoder().decode([Event].self, from: Data(json.utf8)).map {
            CaseEvent(
                id: $0.id,
                occurredAt: Date(timeIntervalSince1970: $0.at),
                actorName: $0.actor,
                kind: $0.kind,
                text: $0.text,
                standInFor: $0.standInFor
            )
        }
    }

    // MARK: - Goals

    public static func goals(of id: UUID, on connection: PostgresConnection, logger: Logger) async throws -> [Goal] {
        try await connection.rows(GoalsOfCase(id: id), logger: logger).first ?? []
    }

    /// The case's goals, next review first, as one JSON array (`CaseViewByID` reads it in the same statement as the case).
    static let goalsJSON = """
        (SELECT coalesce(json_agg(json_build_object('id', g.id, 'area', g.area, 'text', g.text, 'agreedOn', to_char(g.agreed_on, 'YYYY-MM-DD'),
                                                    'reviewOn', to_char(g.review_on, 'YYYY-MM-DD'), 'outcome', g.outcome, 'outcomeNote', g.outcome_note,
                                                    'reviewedOn', to_char(g.reviewed_on, 'YYYY-MM-DD'), 'version', g.version)
                                  ORDER BY g.review_on, g.created_at), '[]')
         FROM goals g WHERE g.tenant_id = k.tenant_id AND g.case_id = k.id)::text
        """

    struct GoalsOfCase: PreparedByID {
        static let sql = "SELECT \(CaseRecords.goalsJSON) FROM cases k WHERE k.id = $1"
        var id: UUID
        func decodeRow(_ row: PostgresRow) throws -> [Goal] { try CaseRecords.goals(json: try row.decode(String.self)) }
    }

    static func goals(json: String) throws -> [Goal] {
        struct Stored: Decodable {
            var id: UUID
            var area: String
            var text: String
            var agreedOn: String
            var reviewOn: String
            var outcome: String?
            var outcomeNote: String?
            var reviewedOn: String?
            var version: Int
        }
        return try JSONDecoder().decode([Stored].self, from: Data(json.utf8)).map {
            Goal(
                id: $0.id,
                area: GoalArea(rawValue: $0.area) ?? .social,
                text: $0.text,
                agreedOn: Day($0.agreedOn)!,
                reviewOn: Day($0.reviewOn)!,
                outcome: $0.outcome.flatMap(GoalOutcome.init),
                outcomeNote: $0.outcomeNote,
                reviewedOn: $0.reviewedOn.flatMap(Day.init),
                version: $0.version
            )
        }
    }

    public static func addGoal(
        case id: UUID,
        tenant: UUID,
        area: GoalArea,
        text: String,
        agreedOn: Day,
        reviewOn: Day,
        on connection: PostgresConnection,
        logger: Logger
    ) async throws -> UUID {
        let goal = UUID()
        try await connection.query(
            """
            INSERT INTO goals (tenant_id, id, case_id, area, text, agreed_on, review_on)
            VALUES (\(tenant), \(goal), \(id), \(area.rawValue), \(text), \(agreedOn.iso)::date, \(reviewOn.iso)::date)
            """,
            logger: logger
        )
        return goal
    }

    public static func reviewGoal(
        _ goal: UUID,
        case id: UUID,
        version: Int,
        outcome: GoalOutcome,
        note: String?,
        on day: Day,
        on connection: PostgresConnection,
        logger: Logger
    ) async throws {
        let rows = try await connection.query(
            """
            UPDATE goals SET outcome = \(outcome.rawValue), outcome_note = \(note), reviewed_on = \(day.iso)::date, version = version + 1
            WHERE id = \(goal) AND case_id = \(id) AND version = \(version) RETURNING 1
            """,
            logger: logger
        ).collect()
        guard !rows.isEmpty else {
            let exists = try await !connection.query("SELECT 1 FROM goals WHERE id = \(goal) AND case_id = \(id)", logger: logger).collect().isEmpty
            throw exists
                ? DomainError.stale("Das Ziel wurde inzwischen geändert. Bitte neu laden.")
                : DomainError.notFound("Dieses Ziel gibt es in diesem Fall nicht.")
        }
    }
}
