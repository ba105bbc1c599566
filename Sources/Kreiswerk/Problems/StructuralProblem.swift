import Foundation
import Logging
import PostgresNIO

/// A structural problem (Systemproblem) as its reader may see it: the coordinators and the
/// raising tenant see all of it; the other towns see a published one (its solution as good practice).
public struct StructuralProblem: Sendable, Codable {
    public struct Event: Sendable, Codable {
        public var at: Date
        public var kind: String
        public var fromLevel: LadderLevel?
        public var toLevel: LadderLevel?
        public var text: String
        public var actorName: String
        public var byScheduler: Bool

        enum CodingKeys: String, CodingKey {
            case at, kind, fromLevel = "from_level", toLevel = "to_level", text, actorName = "actor_name", byScheduler = "by_scheduler"
        }
    }

    /// One of the raising tenant's cases that shows the problem (only the raising tenant sees these).
    public struct LinkedCase: Sendable, Codable {
        public var id: UUID
        public var caseNumber: String

        enum CodingKeys: String, CodingKey { case id, caseNumber = "case_number" }
    }

    public var id: UUID
    public var number: Int
    public var title: String
    public var category: ProblemCategory
    public var description: String
    public var legalSpheres: [String]
    public var districtWideActor: Bool
    public var caseCount: Int
    public var level: LadderLevel
    public var levelSince: Date
    public var levelDeadline: Date?
    /// The level's deadline that passed, once the scheduler found it passed and reminded the coordinators.
    public var overdueSince: Date?
    public var groupID: UUID?
    public var groupName: String?
    public var status: ProblemStatus
    public var solution: String?
    public var solvedAt: Date?
    public var publishedAt: Date?
    public var stateSubmission: String?
    public var submittedAt: Date?
    /// The tenant whose problem it is, by name: the raising town or carrier (for one from outside the case work, the town
    /// it concerns, or the district).
    public var raisedBy: String
    /// Who raised it, or for one from outside the case work, the coordinator who recorded it.
    public var raisedByName: String
    /// Where it comes from: the case work, or an outside source the coordinators recorded.
    public var source: ProblemSource
    /// The outside source's name (e.g. "Integrationsrat der Stadt Witten"); nil for the case work.
    public var sourceName: String?
    public var createdAt: Date
    public var version: Int
    public var cases: [LinkedCase]
    public var events: [Event]
    public var polls: [ProblemPoll]

    enum CodingKeys: String, CodingKey {
        case id, number, title, category, description, legalSpheres = "legal_spheres", districtWideActor = "district_wide_actor"
        case caseCount = "case_count", level, levelSince = "level_since", levelDeadline = "level_deadline", overdueSince = "overdue_since"
        case groupID = "group_id"
        case groupName = "group_name", status, solution, solvedAt = "solved_at", publishedAt = "published_at", stateSubmission = "state_submission"
        case submittedAt = "submitted_at", raisedBy = "raised_by", raisedByName = "raised_by_name", source = "source_kind"
        case sourceName = "source_name", createdAt = "created_at", version, cases, events,
            polls
    }
}

/// A problem as a CM raises it from their cases.
public struct NewProblem: Sendable, Decodable {
    public var title: String
    public var category: String
    public var description: String
    public var legalSpheres: [String]?
    /// About a district-wide actor (ABH, Jobcenter): starts at district level.
    public var districtWideActor: Bool?
    public var caseIDs: [UUID]

    public init(title: String, category: String, description: String, legalSpheres: [String]?, districtWideActor: Bool?, caseIDs: [UUID]) {
        self.title = title
        self.category = category
        self.description = description
        self.legalSpheres = legalSpheres
        self.districtWideActor = districtWideActor
        self.caseIDs = caseIDs
    }

    enum CodingKeys: String, CodingKey {
        case title, category, description, legalSpheres = "legal_spheres", districtWideActor = "district_wide_actor", caseIDs = "case_ids"
    }

    /// The fields, checked; every message says what to fix.
    func validated() throws(InvalidInput) -> (String, ProblemCategory, String, [String]) {
        var errors: [String: String] = [:]
        if caseIDs.isEmpty { errors["case_ids"] = "Bitte mindestens einen eigenen Fall nennen, an dem sich das Problem zeigt." }
        if caseIDs.count > 100 { errors["case_ids"] = "Höchstens 100 Fälle je Systemproblem." }
        return try Self.validated(title: title, category: category, description: description, legalSpheres: legalSpheres, errors: errors)
    }

    /// Title, category, description and legal spheres, checked, with the `errors` of the other fields.
    static func validated(
        title: String,
        category: String,
        description: String,
        legalSpheres: [String]?,
        errors: [String: String]
    ) throws(InvalidInput) -> (String, ProblemCategory, String, [String]) {
        var errors = errors
        let title = title.trimmingCharacters(in: .whitespacesAndNewlines)
        let description = description.trimmingCharacters(in: .whitespacesAndNewlines)
        if title.isEmpty || title.count > 200 { errors["title"] = "Bitte einen Titel von 1 bis 200 Zeichen angeben." }
        let category = ProblemCategory(rawValue: category)
        if category == nil {
            errors["category"] = "Bitte eine der vier Kategorien wählen: " + ProblemCategory.allCases.map(\.rawValue).joined(separator: ", ") + "."
        }
        if description.isEmpty || description.count > 10000 {
            errors["description"] = "Bitte das Problem beschreiben (1 bis 10000 Zeichen), ohne Namen oder Daten von Klienten."
        }
        let spheres = Array(Set(legalSpheres ?? [])).sorted()
        if let unknown = spheres.first(where: { !LegalSphere.all.contains($0) }) {
            errors["legal_spheres"] = "„\(unknown)“ ist kein Rechtskreis; möglich sind: \(LegalSphere.all.joined(separator: ", "))."
        }
        guard errors.isEmpty, let category else { throw InvalidInput(errors: errors) }
        return (title, category, description, spheres)
    }
}

/// A problem brought to the coordinators from outside the case work (concept section 8): by an Integrationsrat,
/// a migrant organisation, a carrier or another actor. It links no case.
public struct RecordedProblem: Sendable, Decodable {
    public var title: String
    public var category: String
    public var description: String
    public var legalSpheres: [String]?
    /// `integration_council`, `migrant_organisation`, `carrier` or `outside_actor`.
    public var sourceKind: String
    /// Who brought it, by name (e.g. "Integrationsrat der Stadt Witten").
    public var sourceName: String
    /// The slug of the town it concerns (it starts at that town's municipal level); nil: it concerns the district
    /// as a whole or a district-wide actor and starts at district level.
    public var town: String?

    public init(
        title: String,
        category: String,
        description: String,
        legalSpheres: [String]?,
        sourceKind: String,
        sourceName: String,
        town: String?
    ) {
        self.title = title
        self.category = category
        self.description = description
        self.legalSpheres = legalSpheres
        self.sourceKind = sourceKind
        self.sourceName = sourceName
        self.town = town
    }

    enum CodingKeys: String, CodingKey {
        case title, category, description, legalSpheres = "legal_spheres", sourceKind = "source_kind", sourceName = "source_name", town
    }

    /// The fields, checked: (title, category, description, spheres, source, source name).
    func validated() throws(InvalidInput) -> (String, ProblemCategory, String, [String], ProblemSource, String) {
        var errors: [String: String] = [:]
        let source = ProblemSource(rawValue: sourceKind).flatMap { $0 == .caseWork ? nil : $0 }
        if source == nil {
            errors["source_kind"] =
                "Bitte angeben, wer das Problem einbringt: "
                + ProblemSource.outside.map { "\($0.rawValue) (\($0.label))" }.joined(separator: ", ") + "."
        }
        let name = sourceName.trimmingCharacters(in: .whitespacesAndNewlines)
        if name.isEmpty || name.count > 200 {
            errors["source_name"] = "Bitte den Namen der Stelle oder Person angeben, die das Problem einbringt (1 bis 200 Zeichen)."
        }
        let (title, category, description, spheres) = try NewProblem.validated(
            title: title,
            category: category,
            description: description,
            legalSpheres: legalSpheres,
            errors: errors
        )
        return (title, category, description, spheres, source!, name)
    }
}

/// Reading problems: the columns, and what comes with one.
enum ProblemRecords {
    /// The problems of `ids` that the acting tenant may see, newest first.
    static func load(_ ids: [UUID], on connection: PostgresConnection, logger: Logger) async throws -> [StructuralProblem] {
        let query: PostgresQuery = """
            SELECT p.id, p.number, p.title, p.category, p.description, p.legal_spheres, p.district_wide_actor, p.case_count, p.level,
                   p.level_since, p.level_deadline, p.group_id, g.name, p.status, p.solution, p.solved_at, p.published_at,
                   p.state_submission, p.submitted_at, t.name, p.raised_by_name, p.created_at, p.version, p.overdue_since,
                   p.source_kind, p.source_name
            FROM structural_problems p JOIN tenants t ON t.id = p.raised_by_tenant_id LEFT JOIN project_groups g ON g.id = p.group_id
            WHERE p.id = ANY(\(ids))
            ORDER BY p.created_at DESC
            """
        var problems: [StructuralProblem] = []
        for try await row in try await connection.query(query, logger: logger) {
            let r = row.makeRandomAccess()
            problems.append(
                StructuralProblem(
                    id: try r[0].decode(UUID.self),
                    number: try r[1].decode(Int.self),
                    title: try r[2].decode(String.self),
                    category: ProblemCategory(rawValue: try r[3].decode(String.self))!,
                    description: try r[4].decode(String.self),
                    legalSpheres: try r[5].decode([String].self),
                    districtWideActor: try r[6].decode(Bool.self),
                    caseCount: try r[7].decode(Int.self),
                    level: LadderLevel(rawValue: try r[8].decode(String.self))!,
                    levelSince: try r[9].decode(Date.self),
                    levelDeadline: try r[10].decode(Date?.self),
                    overdueSince: try r[23].decode(Date?.self),
                    groupID: try r[11].decode(UUID?.self),
                    groupName: try r[12].decode(String?.self),
                    status: ProblemStatus(rawValue: try r[13].decode(String.self))!,
                    solution: try r[14].decode(String?.self),
                    solvedAt: try r[15].decode(Date?.self),
                    publishedAt: try r[16].decode(Date?.self),
                    stateSubmission: try r[17].decode(String?.self),
                    submittedAt: try r[18].decode(Date?.self),
                    raisedBy: try r[19].decode(String.self),
                    raisedByName: try r[20].decode(String.self),
                    source: ProblemSource(rawValue: try r[24].decode(String.self))!,
                    sourceName: try r[25].decode(String?.self),
                    createdAt: try r[21].decode(Date.self),
                    version: try r[22].decode(Int.self),
                    cases: [],
                    events: [],
                    polls: []
                )
            )
        }
        return problems
    }

    /// The history, the linked cases (visible only in the raising tenant) and the polls with their answers.
    static func details(of problem: inout StructuralProblem, on connection: PostgresConnection, logger: Logger) async throws {
        for try await (at, kind, from, to, text, actor, scheduler) in try await connection.query(
            """
            SELECT at, kind, from_level, to_level, text, actor_name, by_scheduler FROM problem_events WHERE problem_id = \(problem.id) ORDER BY at, id
            """,
            logger: logger
        ).decode((Date, String, String?, String?, String, String, Bool).self) {
            problem.events.append(
                .init(
                    at: at,
                    kind: kind,
                    fromLevel: from.flatMap(LadderLevel.init),
                    toLevel: to.flatMap(LadderLevel.init),
                    text: text,
                    actorName: actor,
                    byScheduler: scheduler
                )
            )
        }
        for try await (id, number) in try await connection.query(
            """
            SELECT k.id, k.case_number FROM problem_cases l JOIN cases k ON k.tenant_id = l.tenant_id AND k.id = l.case_id
            WHERE l.problem_id = \(problem.id) ORDER BY k.case_number
            """,
            logger: logger
        ).decode((UUID, String).self) {
            problem.cases.append(.init(id: id, caseNumber: number))
        }
        problem.polls = try await PollRecords.polls(of: problem.id, on: connection, logger: logger)
    }
}
