import Foundation
import Logging
import PostgresNIO

/// A person invited to one meeting of the steering group to advise (seed 001: "punktuell beratend"): an advisory
/// member of the group, or a person who is not a member. They advise on an agenda item or topic and never vote.
public struct MeetingAdvisor: Sendable, Codable {
    public var id: UUID
    /// The advisory member of the group invited; nil: a person who is not a member.
    public var memberID: UUID?
    public var name: String
    public var body: String
    public var email: String?
    /// The agenda item or topic they advise on.
    public var topic: String
    public var invitedBy: String
    public var invitedAt: Date
    /// Whether the invitation reached them as a notification (an account in the district; by e-mail if they want it at once).
    public var notified: Bool

    enum CodingKeys: String, CodingKey {
        case id, memberID = "member_id", name, body, email, topic, invitedBy = "invited_by", invitedAt = "invited_at", notified
    }
}

/// One meeting of the steering group: who votes (the standing members who are not advisory) and who is invited to
/// advise at this meeting only.
public struct SteeringMeeting: Sendable, Codable {
    public var meeting: CommitteeMeeting
    /// The members who vote: standing members of the group, not advisory.
    public var votingMembers: [CommitteeMember]
    /// Invited to this meeting to advise; they do not vote.
    public var advisors: [MeetingAdvisor]
    /// The group's advisory members not yet invited to this meeting (whom the coordinators may invite).
    public var invitableMembers: [CommitteeMember]

    enum CodingKeys: String, CodingKey {
        case meeting, votingMembers = "voting_members", advisors, invitableMembers = "invitable_members"
    }
}

/// An invitation to advise at one meeting: an advisory member of the group (`member_id`) or a person by name and body.
public struct NewMeetingAdvisor: Sendable, Decodable {
    public var memberID: UUID?
    public var name: String?
    public var body: String?
    public var email: String?
    public var topic: String

    public init(memberID: UUID?, name: String?, body: String?, email: String?, topic: String) {
        self.memberID = memberID
        self.name = name
        self.body = body
        self.email = email
        self.topic = topic
    }

    enum CodingKeys: String, CodingKey { case memberID = "member_id", name, body, email, topic }
}

/// The coordinators invite advisors to single meetings of the steering group and withdraw invitations; the district's
/// coordinators and assistants read them.
public struct MeetingAdvisors: Sendable {
    let work: TenantWork

    public init(work: TenantWork) { self.work = work }

    var logger: Logger { work.logger }

    public func meeting(_ id: UUID, by identity: Identity, clientAddress: String?) async throws -> SteeringMeeting {
        try await work.work(identity, clientAddress: clientAddress) { connection, audit in
            let meeting = try await load(id, on: connection)
            audit.append(
                AuditEvent(
                    "steering.meeting_read",
                    tenant: identity.tenant.id,
                    actor: identity.userID,
                    objectType: "meeting",
                    objectID: id.uuidString
                )
            )
            return meeting
        }
    }

    /// Invites an advisor to this meeting only; one with an account in the district is notified (and mailed, if they want it at once).
    public func invite(_ new: NewMeetingAdvisor, to meeting: UUID, by identity: Identity, clientAddress: String?) async throws -> SteeringMeeting {
        try mayInvite(identity)
        var errors: [String: String] = [:]
        let topic = new.topic.trimmingCharacters(in: .whitespacesAndNewlines)
        if topic.isEmpty || topic.count > 500 {
            errors["topic"] = "Bitte den Tagesordnungspunkt oder das Thema angeben, zu dem beraten wird (1 bis 500 Zeichen)."
        }
        let name = new.name?.trimmingCharacters(in: .whitespaces) ?? ""
        let body = new.body?.trimmingCharacters(in: .whitespaces) ?? ""
        let email = new.email?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
        if new.memberID == nil {
            if name.isEmpty || name.count > 200 {
                errors["name"] = "Bitte ein beratendes Mitglied wählen oder den Namen der eingeladenen Person angeben (1 bis 200 Zeichen)."
            }
            if body.isEmpty || body.count > 200 { errors["body"] = "Bitte angeben, für welche Stelle die Person berät (1 bis 200 Zeichen)." }
            if !email.isEmpty && (email.count > 254 || email.range(of: #"^[^@\s]+@[^@\s]+\.[^@\s]+$"#, options: .regularExpression) == nil) {
                errors["email"] = "Die E-Mail-Adresse ist ungültig (Form name@beispiel.de); ohne E-Mail-Adresse bitte leer lassen."
            }
        } else if !name.isEmpty || !body.isEmpty || !email.isEmpty {
            errors["member_id"] = "Bitte entweder ein beratendes Mitglied wählen oder eine Person mit Namen und Stelle eintragen, nicht beides."
        }
        guard errors.isEmpty else { throw InvalidInput(errors: errors) }
        return try await work.work(identity, clientAddress: clientAddress) { connection, audit in
            let scheduledAt = try await steeringMeeting(meeting, on: connection)
            var invitee: (name: String, body: String, email: String?, user: UUID?)
            if let member = new.memberID {
                guard
                    let row = try await connection.query(
                        """
                        SELECT name, body, user_id FROM steering_members
                        WHERE tenant_id = \(identity.tenant.id) AND id = \(member) AND left_on IS NULL AND advisory
                        """,
                        logger: logger
                    ).collect().first
                else {
                    throw InvalidInput(
                        field: "member_id",
                        "Bitte ein beratendes Mitglied der Lenkungsgruppe wählen (stimmberechtigte Mitglieder sind ohnehin eingeladen)."
                    )
                }
                let (memberName, memberBody, user) = try row.decode((String, String, UUID?).self)
                invitee = (memberName, memberBody, nil, user)
            } else {
                let isMember = try await connection.query(
                    """
                    SELECT 1 FROM steering_members m LEFT JOIN users u ON u.id = m.user_id
                    WHERE m.tenant_id = \(identity.tenant.id) AND m.left_on IS NULL
                      AND (lower(m.name) = lower(\(name)) OR (\(email) <> '' AND u.email = \(email)))
                    """,
                    logger: logger
                ).collect()
                guard isMember.isEmpty else {
                    throw InvalidInput(
                        field: "name",
                        "\(name) ist Mitglied der Lenkungsgruppe. Beratende Mitglieder bitte aus der Liste wählen; stimmberechtigte Mitglieder sind ohnehin eingeladen."
                    )
                }
                // An account in the district with this address gets the invitation as a notification; no account: recorded only.
                let user =
                    email.isEmpty
                    ? nil
                    : try await connection.query(
                        """
                        SELECT u.id FROM users u JOIN tenants t ON t.id = u.tenant_id
                        WHERE u.email = \(email) AND u.active AND (t.id = app_current_tenant() OR t.district_id = app_current_tenant())
                        """,
                        logger: logger
                    ).collect().first?.decode(UUID.self)
                invitee = (name, body, email.isEmpty ? nil : email, user)
            }
            let id = UUID()
            do {
                try await connection.query(
                    """
                    INSERT INTO meeting_advisors (tenant_id, id, meeting_id, member_id, name, body, email, topic, invited_by_name)
                    VALUES (\(identity.tenant.id), \(id), \(meeting), \(new.memberID), \(invitee.name), \(invitee.body), \(invitee.email), \(topic),
                            \(identity.displayName))
                    """,
                    logger: logger
                )
            } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23505" {
                throw DomainError.conflict("\(invitee.name) ist zu dieser Sitzung bereits beratend eingeladen.")
            }
            if let user = invitee.user {
                let notified = try await Notifier.notify(
                    user,
                    .committeeMeeting,
                    title: "Einladung zur Sitzung der Lenkungsgruppe am \(GermanFormat.dateTime(scheduledAt)) (beratend: \(topic))",
                    link: "/gremien/lenkungsgruppe",
                    dedupeKey: "meeting-advisor:\(id.uuidString)",
                    on: connection,
                    logger: logger
                )
                if notified {
                    try await connection.query(
                        "UPDATE meeting_advisors SET notified = true WHERE tenant_id = \(identity.tenant.id) AND id = \(id)",
                        logger: logger
                    )
                }
            }
            audit.append(Self.event("steering.advisor_invited", meeting: meeting, advisor: id, by: identity))
            return try await load(meeting, on: connection)
        }
    }

    /// Withdraws an invitation to advise (it stays on record, no longer listed).
    public func withdraw(_ advisor: UUID, from meeting: UUID, by identity: Identity, clientAddress: String?) async throws -> SteeringMeeting {
        try mayInvite(identity)
        return try await work.work(identity, clientAddress: clientAddress) { connection, audit in
            _ = try await steeringMeeting(meeting, on: connection)
            let rows = try await connection.query(
                """
                UPDATE meeting_advisors SET withdrawn_at = now(), withdrawn_by_name = \(identity.displayName)
                WHERE tenant_id = \(identity.tenant.id) AND id = \(advisor) AND meeting_id = \(meeting) AND withdrawn_at IS NULL RETURNING 1
                """,
                logger: logger
            ).collect()
            guard !rows.isEmpty else { throw DomainError.notFound("Diese Einladung gibt es zu dieser Sitzung nicht (mehr).") }
            audit.append(Self.event("steering.advisor_withdrawn", meeting: meeting, advisor: advisor, by: identity))
            return try await load(meeting, on: connection)
        }
    }

    /// An audit event on the meeting, naming the invitation.
    private static func event(_ action: String, meeting: UUID, advisor: UUID, by identity: Identity) -> AuditEvent {
        AuditEvent(
            action,
            tenant: identity.tenant.id,
            actor: identity.userID,
            objectType: "meeting",
            objectID: meeting.uuidString,
            detail: ["advisor": advisor.uuidString]
        )
    }

    /// Only the district's coordinators invite (its assistants and steering members see the meeting).
    private func mayInvite(_ identity: Identity) throws {
        guard work.policy.allows(identity, .coordinateDistrict) else {
            throw DomainError.forbidden("Beratende Gäste laden die Koordinatorinnen und Koordinatoren des Kreises ein.")
        }
    }

    /// The steering meeting's time, if the acting person sees it (another district's meeting is not found).
    private func steeringMeeting(_ id: UUID, on connection: PostgresConnection) async throws -> Date {
        guard
            let at = try await connection.query(
                "SELECT scheduled_at FROM committee_meetings WHERE id = \(id) AND group_id IS NULL AND tenant_id = app_current_tenant()",
                logger: logger
            ).collect().first?.decode(Date.self)
        else { throw DomainError.notFound("Diese Sitzung der Lenkungsgruppe gibt es nicht.") }
        return at
    }

    func load(_ id: UUID, on connection: PostgresConnection) async throws -> SteeringMeeting {
        guard
            let row = try await connection.query(
                """
                SELECT id, scheduled_at, location, agenda, to_char(agenda_deadline, 'YYYY-MM-DD'), minutes, version FROM committee_meetings
                WHERE id = \(id) AND group_id IS NULL AND tenant_id = app_current_tenant()
                """,
                logger: logger
            ).collect().first
        else { throw DomainError.notFound("Diese Sitzung der Lenkungsgruppe gibt es nicht.") }
        let (meetingID, at, location, agenda, deadline, minutes, version) = try row.decode((UUID, Date, String, String, String?, String, Int).self)
        let meeting = CommitteeMeeting(
            id: meetingID,
            scheduledAt: at,
            location: location,
            agenda: agenda,
            agendaDeadline: deadline.flatMap(Day.init),
            minutes: minutes,
            version: version
        )
        var voting: [CommitteeMember] = []
        var invitable: [CommitteeMember] = []
        var advisors: [MeetingAdvisor] = []
        for try await (memberID, name, body, external, kind, advisory, invited) in try await connection.query(
            """
            SELECT m.id, m.name, m.body, m.user_id IS NULL, m.body_kind, m.advisory,
                   EXISTS (SELECT 1 FROM meeting_advisors a WHERE a.meeting_id = \(id) AND a.member_id = m.id AND a.withdrawn_at IS NULL)
            FROM steering_members m WHERE m.tenant_id = app_current_tenant() AND m.left_on IS NULL ORDER BY m.body_kind, m.body, m.name
            """,
            logger: logger
        ).decode((UUID, String, String, Bool, String, Bool, Bool).self) {
            let member = CommitteeMember(id: memberID, name: name, organisation: body, external: external, kind: kind, advisory: advisory)
            if !advisory {
                voting.append(member)
            } else if !invited {
                invitable.append(member)
            }
        }
        for try await (advisorID, member, name, body, email, topic, by, invitedAt, notified) in try await connection.query(
            """
            SELECT a.id, a.member_id, a.name, a.body, a.email, a.topic, a.invited_by_name, a.invited_at,
                   a.notified
            FROM meeting_advisors a WHERE a.tenant_id = app_current_tenant() AND a.meeting_id = \(id) AND a.withdrawn_at IS NULL
            ORDER BY a.invited_at, a.name
            """,
            logger: logger
        ).decode((UUID, UUID?, String, String, String?, String, String, Date, Bool).self) {
            advisors.append(
                MeetingAdvisor(
                    id: advisorID,
                    memberID: member,
                    name: name,
                    body: body,
                    email: email,
                    topic: topic,
                    invitedBy: by,
                    invitedAt: invitedAt,
                    notified: notified
                )
            )
        }
        return SteeringMeeting(meeting: meeting, votingMembers: voting, advisors: advisors, invitableMembers: invitable)
    }
}
