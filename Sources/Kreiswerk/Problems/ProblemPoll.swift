import Foundation
import Logging
import PostgresNIO

/// "Do you know this, how did you solve it?": a coordinator's question about a problem to the case managers
/// of the other towns (and of the carriers the coordinator chose), with the answers collected so far. It carries
/// the problem's title, category and description as they were when it was sent, never the raiser's cases.
public struct ProblemPoll: Sendable, Codable {
    public struct Answer: Sendable, Codable {
        public var tenant: String
        public var answeredBy: String
        /// The town knows the problem.
        public var known: Bool
        public var answer: String
        public var answeredAt: Date

        enum CodingKeys: String, CodingKey {
            case tenant, answeredBy = "answered_by", known, answer, answeredAt = "answered_at"
        }
    }

    public var id: UUID
    public var title: String
    public var category: ProblemCategory
    public var description: String
    public var question: String
    public var askedBy: String
    public var askedAt: Date
    /// The tenants asked, by name.
    public var asked: [String]
    /// Those of `asked` that are carriers (the others are towns).
    public var askedCarriers: [String]
    /// Asked tenants without an answer yet.
    public var waitingFor: [String]
    public var answers: [Answer]

    /// Whether the reading tenant (a polled one) has answered; for the district, whether anyone has.
    public var answered: Bool { !answers.isEmpty }

    enum CodingKeys: String, CodingKey {
        case id, title, category, description, question, askedBy = "asked_by", askedAt = "asked_at", asked, askedCarriers = "asked_carriers"
        case waitingFor = "waiting_for", answers
    }

    /// Whom it asked, in words: "8 Städte und 2 Träger", "1 Stadt".
    public static func audience(towns: Int, carriers: Int) -> String {
        let parts = [
            towns > 0 ? GermanFormat.count(towns, "Stadt", "Städte") : nil,
            carriers > 0 ? GermanFormat.count(carriers, "Träger", "Träger") : nil,
        ].compactMap { $0 }
        return parts.joined(separator: " und ")
    }

    public var audience: String { Self.audience(towns: asked.count - askedCarriers.count, carriers: askedCarriers.count) }
}

enum PollRecords {
    /// The polls the acting tenant may see (the district: all of a problem's; a town: those it was asked
    /// in, with its own answers), oldest first.
    static func polls(of problem: UUID?, on connection: PostgresConnection, logger: Logger) async throws -> [ProblemPoll] {
        var polls: [ProblemPoll] = []
        for try await (id, title, category, description, question, by, at, asked, carriers) in try await connection.query(
            """
            SELECT p.id, p.problem_title, p.problem_category, p.problem_description, p.question, p.asked_by_name, p.asked_at,
                   ARRAY(SELECT t.name FROM tenants t WHERE t.id = ANY (p.asked_tenants) ORDER BY t.name),
                   ARRAY(SELECT t.name FROM tenants t WHERE t.id = ANY (p.asked_tenants) AND t.kind = 'carrier' ORDER BY t.name)
            FROM problem_polls p
            WHERE (\(problem)::uuid IS NULL OR p.problem_id = \(problem)) ORDER BY p.asked_at
            """,
            logger: logger
        ).decode((UUID, String, String, String, String, String, Date, [String], [String]).self) {
            polls.append(
                ProblemPoll(
                    id: id,
                    title: title,
                    category: ProblemCategory(rawValue: category)!,
                    description: description,
                    question: question,
                    askedBy: by,
                    askedAt: at,
                    asked: asked,
                    askedCarriers: carriers,
                    waitingFor: asked,
                    answers: []
                )
            )
        }
        for index in polls.indices {
            for try await (tenant, by, known, answer, at) in try await connection.query(
                """
                SELECT t.name, a.answered_by_name, a.known, a.answer, a.answered_at
                FROM poll_answers a JOIN tenants t ON t.id = a.tenant_id WHERE a.poll_id = \(polls[index].id) ORDER BY t.name, a.answered_at
                """,
                logger: logger
            ).decode((String, String, Bool, String, Date).self) {
                polls[index].answers.append(.init(tenant: tenant, answeredBy: by, known: known, answer: answer, answeredAt: at))
            }
            let answered = Set(polls[index].answers.map(\.tenant))
            polls[index].waitingFor = polls[index].asked.filter { !answered.contains($0) }
        }
        return polls
    }

    /// How many polls the acting tenant was asked in and has not answered yet.
    static func openCount(on connection: PostgresConnection, logger: Logger) async throws -> Int {
        try await connection.query(
            """
            SELECT count(*)::integer FROM problem_polls p
            WHERE app_current_tenant() = ANY (p.asked_tenants)
              AND NOT EXISTS (SELECT 1 FROM poll_answers a WHERE a.poll_id = p.id AND a.tenant_id = app_current_tenant())
            """,
            logger: logger
        ).collect().first?.decode(Int.self) ?? 0
    }
}
