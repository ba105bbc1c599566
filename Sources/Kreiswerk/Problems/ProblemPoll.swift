import Foundation
import Logging
import PostgresNIO

/// "Do you know this, how did you solve it?": a coordinator's question about a problem to the
/// case managers of the other towns, with the answers collected so far.
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
    public var question: String
    public var askedBy: String
    public var askedAt: Date
    /// The tenants asked, by name.
    public var asked: [String]
    /// Asked tenants without an answer yet.
    public var waitingFor: [String]
    public var answers: [Answer]

    enum CodingKeys: String, CodingKey {
        case id, question, askedBy = "asked_by", askedAt = "asked_at", asked, waitingFor = "waiting_for", answers
    }
}

enum PollRecords {
    /// The polls the acting tenant may see (the district: all of a problem's; a town: those it was asked
    /// in, with its own answers), oldest first.
    static func polls(of problem: UUID?, on connection: PostgresConnection, logger: Logger) async throws -> [ProblemPoll] {
        var polls: [ProblemPoll] = []
        for try await (id, question, by, at, asked) in try await connection.query(
            """
            SELECT p.id, p.question, p.asked_by_name, p.asked_at,
                   ARRAY(SELECT t.name FROM tenants t WHERE t.id = ANY (p.asked_tenants) ORDER BY t.name)
            FROM problem_polls p
            WHERE (\(problem)::uuid IS NULL OR p.problem_id = \(problem)) ORDER BY p.asked_at
            """,
            logger: logger
        ).decode((UUID, String, String, Date, [String]).self) {
            polls.append(ProblemPoll(id: id, question: question, askedBy: by, askedAt: at, asked: asked, waitingFor: asked, answers: []))
        }
        for index in polls.indices {
            for try await (tenant, by, known, answer, at) in try await connection.query(
                """
                SELECT t.name, a.answered_by_name, a.known, a.answer, a.answered_at
                FROM poll_answers a JOIN tenants t ON t.id = a.tenant_id WHERE a.poll_id = \(polls[index].id) ORDER BY a.answered_at
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
}
