import Foundation
import Logging
import PostgresNIO

/// The district's steering group (Lenkungsgruppe): at most 20 members (advisory members among them do not vote), rules of
/// procedure, meetings with agenda, papers for a decision or for information from district project groups or from the
/// coordinators, and the decisions on them.
public struct SteeringGroup: Sendable, Codable {
    public struct Paper: Sendable, Codable {
        public struct Decision: Sendable, Codable {
            public var decision: String
            public var votesFor: Int
            public var votesAgainst: Int
            public var abstentions: Int
            public var note: String
            public var meetingAt: Date
            public var recordedBy: String

            enum CodingKeys: String, CodingKey {
                case decision, votesFor = "votes_for", votesAgainst = "votes_against", abstentions, note, meetingAt = "meeting_at"
                case recordedBy = "recorded_by"
            }
        }

        public var id: UUID
        public var title: String
        public var proposal: String
        public var group: String
        public var problemID: UUID?
        public var meetingID: UUID?
        public var status: String
        public var decisions: [Decision]
        /// `decision` or `information` (zur Kenntnisnahme: taken note of, without a vote).
        public var purpose: String
        /// `group` (a district project group) or `coordination` (the coordinators).
        public var source: String
        public var submittedBy: String?

        enum CodingKeys: String, CodingKey {
            case id, title, proposal, group, problemID = "problem_id", meetingID = "meeting_id", status, decisions, purpose, source
            case submittedBy = "submitted_by"
        }
    }

    public static let maximumMembers = 20

    public var rulesOfProcedure: String
    public var rulesAdoptedOn: Day?
    public var version: Int
    public var members: [CommitteeMember]
    public var meetings: [CommitteeMeeting]
    public var papers: [Paper]

    enum CodingKeys: String, CodingKey {
        case rulesOfProcedure = "rules_of_procedure", rulesAdoptedOn = "rules_adopted_on", version, members, meetings, papers
    }
}

public struct NewSteeringMember: Sendable, Decodable {
    public var name: String
    public var body: String
    public var bodyKind: String
    public var email: String?
    /// An advisory member (beratend): invited to advise, does not vote.
    public var advisory: Bool?

    public init(name: String, body: String, bodyKind: String, email: String?, advisory: Bool? = nil) {
        self.name = name
        self.body = body
        self.bodyKind = bodyKind
        self.email = email
        self.advisory = advisory
    }

    enum CodingKeys: String, CodingKey { case name, body, bodyKind = "body_kind", email, advisory }

    public static let bodyKinds: [(String, String)] = [
        ("district", "Kreisverwaltung"), ("municipality", "Stadt (Sozialdezernat)"), ("employment_agency", "Agentur für Arbeit"),
        ("jobcenter", "Jobcenter"), ("foreigners_authority", "Ausländerbehörde"), ("welfare", "Wohlfahrtsverband"), ("other", "Sonstige"),
    ]
}

public struct NewPaper: Sendable, Decodable {
    public var title: String
    public var proposal: String
    /// The district project group putting it forward; nil: the coordinators put it forward themselves.
    public var groupID: UUID?
    public var problemID: UUID?
    public var meetingID: UUID?
    /// `decision` (default) or `information` (zur Kenntnisnahme).
    public var purpose: String?

    public init(title: String, proposal: String, groupID: UUID?, problemID: UUID?, meetingID: UUID?, purpose: String? = nil) {
        self.title = title
        self.proposal = proposal
        self.groupID = groupID
        self.problemID = problemID
        self.meetingID = meetingID
        self.purpose = purpose
    }

    enum CodingKeys: String, CodingKey {
        case title, proposal, groupID = "group_id", problemID = "problem_id", meetingID = "meeting_id", purpose
    }
}

public struct NewDecision: Sendable, Decodable {
    public var meetingID: UUID
    public var decision: String
    public var votesFor: Int
    public var votesAgainst: Int
    public var abstentions: Int
    public var note: String?

    public init(meetingID: UUID, decision: String, votesFor: Int, votesAgainst: Int, abstentions: Int, note: String?) {
        self.meetingID = meetingID
        self.decision = decision
        self.votesFor = votesFor
        self.votesAgainst = votesAgainst
        self.abstentions = abstentions
        self.note = note
    }

    enum CodingKeys: String, CodingKey {
        case meetingID = "meeting_id", decision, votesFor = "votes_for", votesAgainst = "votes_against", abstentions, note
    }
}

/// The steering group's operations: coordinators and assistants run it, its members (with an account) read it.
public struct Steering: Sendable {
    let work: TenantWork

    public init(work: TenantWork) { self.work = work }

    var logger: Logger { work.logger }

    public func group(by identity: Identity, clientAddress: String?) async throws -> SteeringGroup {
        try await work.work(identity, clientAddress: clientAddress) { connection, audit in
            audit.append(AuditEvent("steering.read", tenant: identity.tenant.id, actor: identity.userID))
            return try await load(on: connection)
        }
    }

    /// The steering group the acting user sees: their own district's (coordinators) or the one they sit in.
    func load(on connection: PostgresConnection) async throws -> SteeringGroup {
        let district = try await connection.query(
            "SELECT CASE WHEN (SELECT kind FROM tenants WHERE id = app_current_tenant()) = 'district' THEN app_current_tenant() ELSE app_steering_district() END",
            logger: logger
        ).collect().first?.decode(UUID?.self)
        guard let district else { return SteeringGroup(rulesOfProcedure: "", rulesAdoptedOn: nil, version: 0, members: [], meetings: [], papers: []) }
        let rules = try await connection.query(
            "SELECT rules_of_procedure, to_char(rules_adopted_on, 'YYYY-MM-DD'), version FROM steering_groups WHERE tenant_id = \(district)",
            logger: logger
        ).collect().first?.decode((String, String?, Int).self)
        let members = try await connection.query(
            """
            SELECT id, name, body, user_id IS NULL, body_kind, advisory FROM steering_members WHERE tenant_id = \(district) AND left_on IS NULL
            ORDER BY advisory, body_kind, body, name
            """,
            logger: logger
        ).collect().map { row in
            let (id, name, body, external, kind, advisory) = try row.decode((UUID, String, String, Bool, String, Bool).self)
            return CommitteeMember(id: id, name: name, organisation: body, external: external, kind: kind, advisory: advisory)
        }
        var papers: [SteeringGroup.Paper] = []
        for try await (id, title, proposal, group, problem, meeting, status, purpose, source, by) in try await connection.query(
            """
            SELECT p.id, p.title, p.proposal, CASE WHEN p.source = 'coordination' THEN 'Koordinierungsstelle' ELSE coalesce(g.name, '–') END,
                   p.problem_id, p.meeting_id, p.status, p.purpose, p.source, p.submitted_by_name
            FROM decision_papers p LEFT JOIN project_groups g ON g.id = p.group_id WHERE p.tenant_id = \(district) ORDER BY p.created_at DESC
            """,
            logger: logger
        ).decode((UUID, String, String, String, UUID?, UUID?, String, String, String, String?).self) {
            papers.append(
                .init(
                    id: id,
                    title: title,
                    proposal: proposal,
                    group: group,
                    problemID: problem,
                    meetingID: meeting,
                    status: status,
                    decisions: [],
                    purpose: purpose,
                    source: source,
                    submittedBy: by
                )
            )
        }
        for index in papers.indices {
            for try await (decision, yes, no, abstain, note, at, by) in try await connection.query(
                """
                SELECT d.decision, d.votes_for, d.votes_against, d.abstentions, d.note, m.scheduled_at, d.recorded_by_name
                FROM paper_decisions d JOIN committee_meetings m ON m.id = d.meeting_id WHERE d.paper_id = \(papers[index].id) ORDER BY d.decided_at
                """,
                logger: logger
            ).decode((String, Int, Int, Int, String, Date, String).self) {
                papers[index].decisions.append(
                    .init(decision: decision, votesFor: yes, votesAgainst: no, abstentions: abstain, note: note, meetingAt: at, recordedBy: by)
                )
            }
        }
        return SteeringGroup(
            rulesOfProcedure: rules?.0 ?? "",
            rulesAdoptedOn: rules?.1.flatMap(Day.init),
            version: rules?.2 ?? 0,
            members: members,
            meetings: try await MeetingRecords.meetings(of: nil, on: connection, logger: logger),
            papers: papers
        )
    }

    /// Sets the rules of procedure (Geschäftsordnung), if still at `version` (0 before the first).
    public func setRules(_ text: String, adoptedOn: Day?, version: Int, by identity: Identity, clientAddress: String?) async throws -> SteeringGroup {
        let text = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard text.count <= 50000 else {
            throw InvalidInput(field: "rules_of_procedure", "Die Geschäftsordnung ist zu lang (höchstens 50000 Zeichen).")
        }
        return try await work.work(identity, clientAddress: clientAddress) { connection, audit in
            try await ensureGroup(identity, on: connection)
            let rows = try await connection.query(
                """
                UPDATE steering_groups SET rules_of_procedure = \(text), rules_adopted_on = \(adoptedOn?.iso)::date, version = version + 1
                WHERE tenant_id = \(identity.tenant.id) AND version = \(version == 0 ? 1 : version) RETURNING 1
                """,
                logger: logger
            ).collect()
            guard !rows.isEmpty else {
                throw DomainError.stale("Die Geschäftsordnung wurde inzwischen geändert. Bitte neu laden und Ihre Änderung erneut eintragen.")
            }
            audit.append(AuditEvent("steering.rules_set", tenant: identity.tenant.id, actor: identity.userID))
            return try await load(on: connection)
        }
    }

    private func ensureGroup(_ identity: Identity, on connection: PostgresConnection) async throws {
        try await connection.query("INSERT INTO steering_groups (tenant_id) VALUES (\(identity.tenant.id)) ON CONFLICT DO NOTHING", logger: logger)
    }

    /// Adds a member; the twenty-first is refused (the database counts under a lock).
    public func addMember(_ new: NewSteeringMember, by identity: Identity, clientAddress: String?) async throws -> SteeringGroup {
        var errors: [String: String] = [:]
        let name = new.name.trimmingCharacters(in: .whitespaces)
        let body = new.body.trimmingCharacters(in: .whitespaces)
        if name.isEmpty || name.count > 200 { errors["name"] = "Bitte den Namen des Mitglieds angeben (1 bis 200 Zeichen)." }
        if body.isEmpty || body.count > 200 { errors["body"] = "Bitte angeben, welche Stelle das Mitglied vertritt (1 bis 200 Zeichen)." }
        if !NewSteeringMember.bodyKinds.map(\.0).contains(new.bodyKind) {
            errors["body_kind"] = "Bitte die Art der Stelle wählen: " + NewSteeringMember.bodyKinds.map(\.0).joined(separator: ", ") + "."
        }
        guard errors.isEmpty else { throw InvalidInput(errors: errors) }
        return try await work.work(identity, clientAddress: clientAddress) { connection, audit in
            try await ensureGroup(identity, on: connection)
            var user: UUID?
            if let email = new.email, !email.trimmingCharacters(in: .whitespaces).isEmpty {
                user = try await work.staffAccount(email: email, field: "email", on: connection).0
            }
            do {
                try await connection.query(
                    """
                    INSERT INTO steering_members (tenant_id, id, name, body, body_kind, user_id, advisory)
                    VALUES (\(identity.tenant.id), \(UUID()), \(name), \(body), \(new.bodyKind), \(user), \(new.advisory ?? false))
                    """,
                    logger: logger
                )
            } catch let error as PSQLError where error.serverInfo?[.sqlState] == "KW020" {
                throw InvalidInput(
                    field: "name",
                    "Die Lenkungsgruppe hat bereits \(SteeringGroup.maximumMembers) Mitglieder, mehr sieht das Konzept nicht vor. Bitte zuerst ein Mitglied austragen."
                )
            }
            audit.append(AuditEvent("steering.member_added", tenant: identity.tenant.id, actor: identity.userID))
            return try await load(on: connection)
        }
    }

    public func removeMember(_ member: UUID, by identity: Identity, clientAddress: String?) async throws {
        try await work.work(identity, clientAddress: clientAddress) { connection, audit in
            let rows = try await connection.query(
                "UPDATE steering_members SET left_on = current_date WHERE id = \(member) AND tenant_id = \(identity.tenant.id) AND left_on IS NULL RETURNING 1",
                logger: logger
            ).collect()
            guard !rows.isEmpty else { throw DomainError.notFound("Dieses Mitglied gibt es in der Lenkungsgruppe nicht.") }
            audit.append(AuditEvent("steering.member_removed", tenant: identity.tenant.id, actor: identity.userID))
        }
    }

    public func planMeeting(_ new: NewMeeting, by identity: Identity, clientAddress: String?) async throws -> SteeringGroup {
        try await work.work(identity, clientAddress: clientAddress) { connection, audit in
            let id = try await MeetingRecords.plan(new, group: nil, district: identity.tenant.id, on: connection, logger: logger)
            audit.append(
                AuditEvent(
                    "steering.meeting_planned",
                    tenant: identity.tenant.id,
                    actor: identity.userID,
                    objectType: "meeting",
                    objectID: id.uuidString
                )
            )
            return try await load(on: connection)
        }
    }

    /// Records the minutes of a meeting of any of the district's committees.
    public func recordMinutes(_ meeting: UUID, version: Int, minutes: String, by identity: Identity, clientAddress: String?) async throws {
        try await work.work(identity, clientAddress: clientAddress) { connection, audit in
            try await MeetingRecords.recordMinutes(
                meeting,
                version: version,
                minutes: minutes,
                district: identity.tenant.id,
                on: connection,
                logger: logger
            )
            audit.append(
                AuditEvent("meeting.minutes", tenant: identity.tenant.id, actor: identity.userID, objectType: "meeting", objectID: meeting.uuidString)
            )
        }
    }

    /// A district project group, or the coordinators themselves, put a paper forward for a decision or for information
    /// (optionally about a problem, on a meeting's agenda).
    public func submitPaper(_ new: NewPaper, by identity: Identity, clientAddress: String?) async throws -> SteeringGroup {
        var errors: [String: String] = [:]
        let title = new.title.trimmingCharacters(in: .whitespacesAndNewlines)
        let proposal = new.proposal.trimmingCharacters(in: .whitespacesAndNewlines)
        if title.isEmpty || title.count > 200 { errors["title"] = "Bitte einen Titel von 1 bis 200 Zeichen angeben." }
        if proposal.isEmpty || proposal.count > 20000 { errors["proposal"] = "Bitte den Beschlussvorschlag formulieren (1 bis 20000 Zeichen)." }
        let purpose = new.purpose ?? "decision"
        if !["decision", "information"].contains(purpose) {
            errors["purpose"] = "Eine Vorlage ist zur Entscheidung (decision) oder zur Kenntnisnahme (information)."
        }
        guard errors.isEmpty else { throw InvalidInput(errors: errors) }
        return try await work.work(identity, clientAddress: clientAddress) { connection, audit in
            if let group = new.groupID {
                let level = try await connection.query("SELECT level FROM project_groups WHERE id = \(group) AND active", logger: logger)
                    .collect().first?.decode(String.self)
                guard level == "district" else {
                    throw InvalidInput(
                        field: "group_id",
                        "Vorlagen bringt eine Projektgruppe auf Kreisebene oder die Koordinierungsstelle selbst ein: bitte eine solche Gruppe wählen oder keine."
                    )
                }
            }
            if let problem = new.problemID,
                try await connection.query("SELECT 1 FROM structural_problems WHERE id = \(problem)", logger: logger).collect().isEmpty
            {
                throw InvalidInput(field: "problem_id", "Dieses Systemproblem gibt es nicht.")
            }
            if let meeting = new.meetingID,
                try await connection.query("SELECT 1 FROM committee_meetings WHERE id = \(meeting) AND group_id IS NULL", logger: logger).collect()
                    .isEmpty
            {
                throw InvalidInput(field: "meeting_id", "Diese Sitzung der Lenkungsgruppe gibt es nicht.")
            }
            let id = UUID()
            try await connection.query(
                """
                INSERT INTO decision_papers (tenant_id, id, title, proposal, group_id, problem_id, meeting_id, purpose, source, submitted_by_name)
                VALUES (\(identity.tenant.id), \(id), \(title), \(proposal), \(new.groupID), \(new.problemID), \(new.meetingID), \(purpose),
                        \(new.groupID == nil ? "coordination" : "group"), \(identity.displayName))
                """,
                logger: logger
            )
            audit.append(
                AuditEvent(
                    "steering.paper_submitted",
                    tenant: identity.tenant.id,
                    actor: identity.userID,
                    objectType: "paper",
                    objectID: id.uuidString
                )
            )
            return try await load(on: connection)
        }
    }

    /// A vote that fits the group and its decision: no more votes than the members who could vote (when the group's
    /// members are recorded), an acceptance with more votes for than against, a rejection without (a tie rejects).
    static func checkVote(_ new: NewDecision, voters: Int) throws(InvalidInput) {
        let cast = new.votesFor + new.votesAgainst + new.abstentions
        if voters > 0 && cast > voters {
            throw InvalidInput(
                field: "votes_for",
                "Die Lenkungsgruppe hatte in dieser Sitzung \(voters) stimmberechtigte Mitglieder (beratende zählen nicht), angegeben sind \(cast) Stimmen. Bitte die Stimmen prüfen oder fehlende Mitglieder zuerst unter „Mitglieder“ erfassen."
            )
        }
        guard new.votesFor + new.votesAgainst > 0 else { return }
        if new.decision == "accepted" && new.votesFor <= new.votesAgainst {
            throw InvalidInput(
                field: "votes_for",
                "Mit \(new.votesFor) Stimmen dafür und \(new.votesAgainst) dagegen ist die Vorlage nicht angenommen (bei Gleichstand gilt sie als abgelehnt)."
            )
        }
        if new.decision == "rejected" && new.votesFor > new.votesAgainst {
            throw InvalidInput(
                field: "votes_for",
                "Mit \(new.votesFor) Stimmen dafür und \(new.votesAgainst) dagegen ist die Vorlage angenommen, nicht abgelehnt."
            )
        }
    }

    /// Records the steering group's decision on a paper in a meeting, with the vote.
    public func decide(_ paper: UUID, _ new: NewDecision, by identity: Identity, clientAddress: String?) async throws -> SteeringGroup {
        var errors: [String: String] = [:]
        if !["accepted", "rejected", "deferred", "noted"].contains(new.decision) {
            errors["decision"] =
                "Die Entscheidung ist accepted (angenommen), rejected (abgelehnt), deferred (vertagt) oder – bei einer Vorlage zur Kenntnisnahme – noted (zur Kenntnis genommen)."
        }
        if new.decision == "noted" && new.votesFor + new.votesAgainst + new.abstentions > 0 {
            errors["votes_for"] = "Eine Vorlage zur Kenntnisnahme wird ohne Abstimmung zur Kenntnis genommen: bitte keine Stimmen angeben."
        }
        let votes = [new.votesFor, new.votesAgainst, new.abstentions]
        if votes.contains(where: { !(0...SteeringGroup.maximumMembers).contains($0) }) || votes.reduce(0, +) > SteeringGroup.maximumMembers {
            errors["votes_for"] =
                "Die Stimmen (dafür, dagegen, Enthaltungen) sind nicht negativ und zusammen höchstens \(SteeringGroup.maximumMembers)."
        }
        let note = (new.note ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        if note.count > 5000 { errors["note"] = "Die Anmerkung ist zu lang (höchstens 5000 Zeichen)." }
        guard errors.isEmpty else { throw InvalidInput(errors: errors) }
        return try await work.work(identity, clientAddress: clientAddress) { connection, audit in
            guard
                let (status, purpose) = try await connection.query(
                    "SELECT status, purpose FROM decision_papers WHERE id = \(paper) AND tenant_id = \(identity.tenant.id) FOR UPDATE",
                    logger: logger
                ).collect().first?.decode((String, String).self)
            else { throw DomainError.notFound("Diese Entscheidungsvorlage gibt es nicht.") }
            guard ["submitted", "deferred"].contains(status) else {
                throw DomainError.conflict(
                    "Über diese Vorlage ist schon entschieden (\(status == "accepted" ? "angenommen" : status == "noted" ? "zur Kenntnis genommen" : "abgelehnt"))."
                )
            }
            guard (purpose == "information") == (new.decision == "noted") else {
                throw InvalidInput(
                    field: "decision",
                    purpose == "information"
                        ? "Eine Vorlage zur Kenntnisnahme nimmt die Lenkungsgruppe zur Kenntnis (noted); abgestimmt wird über sie nicht."
                        : "Über eine Vorlage zur Entscheidung wird abgestimmt: angenommen, abgelehnt oder vertagt."
                )
            }
            // The meeting, and how many standing members could vote in it (advisory members do not).
            guard
                let voters = try await connection.query(
                    """
                    SELECT (SELECT count(*)::integer FROM steering_members s
                            WHERE s.tenant_id = m.tenant_id AND NOT s.advisory AND (s.left_on IS NULL OR s.left_on > m.scheduled_at::date))
                    FROM committee_meetings m WHERE m.id = \(new.meetingID) AND m.group_id IS NULL
                    """,
                    logger: logger
                ).collect().first?.decode(Int.self)
            else { throw InvalidInput(field: "meeting_id", "Bitte die Sitzung der Lenkungsgruppe wählen, in der entschieden wurde.") }
            try Self.checkVote(new, voters: voters)
            try await connection.query(
                """
                INSERT INTO paper_decisions (tenant_id, id, paper_id, meeting_id, decision, votes_for, votes_against, abstentions, note, recorded_by_name)
                VALUES (\(identity.tenant.id), \(UUID()), \(paper), \(new.meetingID), \(new.decision), \(new.votesFor), \(new.votesAgainst),
                        \(new.abstentions), \(note), \(identity.displayName))
                """,
                logger: logger
            )
            try await connection.query(
                "UPDATE decision_papers SET status = \(new.decision), meeting_id = \(new.meetingID), version = version + 1 WHERE id = \(paper)",
                logger: logger
            )
            audit.append(
                AuditEvent(
                    "steering.decided",
                    tenant: identity.tenant.id,
                    actor: identity.userID,
                    objectType: "paper",
                    objectID: paper.uuidString,
                    detail: [
                        "decision": new.decision, "for": "\(new.votesFor)", "against": "\(new.votesAgainst)", "abstentions": "\(new.abstentions)",
                    ]
                )
            )
            return try await load(on: connection)
        }
    }
}
