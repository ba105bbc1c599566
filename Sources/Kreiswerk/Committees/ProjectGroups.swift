import Foundation
import Logging
import PostgresNIO

/// A project group (municipal or district) with members from several tenants and people without an account.
public struct ProjectGroup: Sendable, Codable {
    public struct Task: Sendable, Codable {
        public var id: UUID
        public var text: String
        public var ownerName: String
        public var dueOn: Day
        public var doneOn: Day?

        enum CodingKeys: String, CodingKey { case id, text, ownerName = "owner_name", dueOn = "due_on", doneOn = "done_on" }
    }

    public var id: UUID
    public var level: String
    public var town: String?
    public var name: String
    public var topic: String
    public var members: [CommitteeMember]
    public var meetings: [CommitteeMeeting]
    public var tasks: [Task]

    enum CodingKeys: String, CodingKey { case id, level, town, name, topic, members, meetings, tasks }
}

public struct NewProjectGroup: Sendable, Decodable {
    public var level: String
    /// For a municipal group: the town's slug.
    public var town: String?
    public var name: String
    public var topic: String?

    public init(level: String, town: String?, name: String, topic: String?) {
        self.level = level
        self.town = town
        self.name = name
        self.topic = topic
    }
}

/// A member: an account by e-mail, or a person without one by name and organisation.
public struct NewMember: Sendable, Decodable {
    public var email: String?
    public var name: String?
    public var organisation: String?

    public init(email: String?, name: String?, organisation: String?) {
        self.email = email
        self.name = name
        self.organisation = organisation
    }
}

public struct NewTask: Sendable, Decodable {
    public var text: String
    public var owner: String?
    /// An owner with an account gets the scheduler's reminder.
    public var ownerEmail: String?
    public var dueOn: Day
    public var meetingID: UUID?

    public init(text: String, owner: String?, ownerEmail: String?, dueOn: Day, meetingID: UUID?) {
        self.text = text
        self.owner = owner
        self.ownerEmail = ownerEmail
        self.dueOn = dueOn
        self.meetingID = meetingID
    }

    enum CodingKeys: String, CodingKey { case text, owner, ownerEmail = "owner_email", dueOn = "due_on", meetingID = "meeting_id" }
}

/// Project groups of a district: the coordinators and assistants run them; members with an account read theirs.
public struct ProjectGroups: Sendable {
    let work: TenantWork

    public init(work: TenantWork) { self.work = work }

    var logger: Logger { work.logger }
    static let notFound = DomainError.notFound("Diese Projektgruppe gibt es nicht, oder Sie gehören ihr nicht an.")

    /// The towns of the identity's district, for which a municipal project group can be set up.
    public func towns(by identity: Identity) async throws -> [TenantRef] {
        try await work.database.withTransaction { try await TenantDirectory.towns(of: identity.tenant.ownDistrictID, on: $0, logger: logger) }
    }

    public func list(by identity: Identity, clientAddress: String?) async throws -> [ProjectGroup] {
        try await work.work(identity, clientAddress: clientAddress) { connection, _ in
            let ids = try await connection.query("SELECT id FROM project_groups WHERE active ORDER BY level DESC, name", logger: logger)
                .collect().map { try $0.decode(UUID.self) }
            var groups: [ProjectGroup] = []
            for id in ids { groups.append(try await load(id, on: connection)) }
            return groups
        }
    }

    public func group(_ id: UUID, by identity: Identity, clientAddress: String?) async throws -> ProjectGroup {
        try await work.work(identity, clientAddress: clientAddress) { connection, audit in
            audit.append(work.event("group.read", identity, "project_group", id))
            return try await load(id, on: connection)
        }
    }

    func load(_ id: UUID, on connection: PostgresConnection) async throws -> ProjectGroup {
        guard
            let row = try await connection.query(
                "SELECT g.level, t.name, g.name, g.topic FROM project_groups g LEFT JOIN tenants t ON t.id = g.town_tenant_id WHERE g.id = \(id)",
                logger: logger
            ).collect().first
        else { throw Self.notFound }
        let (level, town, name, topic) = try row.decode((String, String?, String, String).self)
        let members = try await connection.query(
            """
            SELECT id, name, organisation, user_id IS NULL FROM project_group_members WHERE group_id = \(id) AND left_at IS NULL ORDER BY name
            """,
            logger: logger
        ).collect().map { row in
            let (id, name, organisation, external) = try row.decode((UUID, String, String, Bool).self)
            return CommitteeMember(id: id, name: name, organisation: organisation, external: external, kind: nil)
        }
        let tasks = try await connection.query(
            """
            SELECT id, text, owner_name, to_char(due_on, 'YYYY-MM-DD'), to_char(done_on, 'YYYY-MM-DD') FROM group_tasks
            WHERE group_id = \(id) ORDER BY done_on IS NOT NULL, due_on
            """,
            logger: logger
        ).collect().map { row in
            let (id, text, owner, due, done) = try row.decode((UUID, String, String, String, String?).self)
            return ProjectGroup.Task(id: id, text: text, ownerName: owner, dueOn: Day(due)!, doneOn: done.flatMap(Day.init))
        }
        return ProjectGroup(
            id: id,
            level: level,
            town: town,
            name: name,
            topic: topic,
            members: members,
            meetings: try await MeetingRecords.meetings(of: id, on: connection, logger: logger),
            tasks: tasks
        )
    }

    public func create(_ new: NewProjectGroup, by identity: Identity, clientAddress: String?) async throws -> ProjectGroup {
        var errors: [String: String] = [:]
        let name = new.name.trimmingCharacters(in: .whitespacesAndNewlines)
        let topic = (new.topic ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        if !["municipal", "district"].contains(new.level) {
            errors["level"] = "Die Projektgruppe ist municipal (kommunal) oder district (Kreisebene)."
        }
        if name.isEmpty || name.count > 200 { errors["name"] = "Bitte einen Namen von 1 bis 200 Zeichen angeben." }
        if topic.count > 5000 { errors["topic"] = "Das Thema ist zu lang (höchstens 5000 Zeichen)." }
        if new.level == "municipal" && (new.town ?? "").isEmpty {
            errors["town"] = "Eine kommunale Projektgruppe arbeitet für eine Stadt: bitte die Stadt wählen."
        }
        guard errors.isEmpty else { throw InvalidInput(errors: errors) }
        return try await work.work(identity, clientAddress: clientAddress) { connection, audit in
            var town: UUID?
            if new.level == "municipal" {
                town = try await connection.query(
                    "SELECT id FROM tenants WHERE slug = \(new.town ?? "") AND kind = 'municipality' AND district_id = \(identity.tenant.id)",
                    logger: logger
                ).collect().first?.decode(UUID.self)
                guard town != nil else { throw InvalidInput(field: "town", "„\(new.town ?? "")“ ist keine Stadt dieses Kreises.") }
            }
            let id = UUID()
            try await connection.query(
                """
                INSERT INTO project_groups (tenant_id, id, level, town_tenant_id, name, topic)
                VALUES (\(identity.tenant.id), \(id), \(new.level), \(town), \(name), \(topic))
                """,
                logger: logger
            )
            audit.append(work.event("group.created", identity, "project_group", id, ["level": new.level]))
            return try await load(id, on: connection)
        }
    }

    public func addMember(_ new: NewMember, to group: UUID, by identity: Identity, clientAddress: String?) async throws -> ProjectGroup {
        try await work.work(identity, clientAddress: clientAddress) { connection, audit in
            _ = try await load(group, on: connection)
            var user: UUID?
            var tenant: UUID?
            var name = (new.name ?? "").trimmingCharacters(in: .whitespaces)
            var organisation = (new.organisation ?? "").trimmingCharacters(in: .whitespaces)
            if let email = new.email, !email.trimmingCharacters(in: .whitespaces).isEmpty {
                let account = try await work.staffAccount(email: email, field: "email", on: connection)
                (user, tenant, name) = (account.0, account.1, account.2)
                organisation = try await connection.query("SELECT name FROM tenants WHERE id = \(account.1)", logger: logger).collect().first!.decode(
                    String.self
                )
            } else if name.isEmpty || organisation.isEmpty || name.count > 200 || organisation.count > 200 {
                throw InvalidInput(errors: [
                    "name": "Bitte die E-Mail-Adresse eines Kontos angeben, oder Name und Organisation einer Person ohne Konto (je bis 200 Zeichen)."
                ])
            }
            let id = UUID()
            try await connection.query(
                """
                INSERT INTO project_group_members (tenant_id, id, group_id, user_id, member_tenant_id, name, organisation)
                VALUES (\(identity.tenant.id), \(id), \(group), \(user), \(tenant), \(name), \(organisation))
                """,
                logger: logger
            )
            audit.append(work.event("group.member_added", identity, "project_group", group, ["external": "\(user == nil)"]))
            return try await load(group, on: connection)
        }
    }

    public func removeMember(_ member: UUID, from group: UUID, by identity: Identity, clientAddress: String?) async throws {
        try await work.work(identity, clientAddress: clientAddress) { connection, audit in
            let rows = try await connection.query(
                """
                UPDATE project_group_members SET left_at = now()
                WHERE id = \(member) AND group_id = \(group) AND tenant_id = \(identity.tenant.id) AND left_at IS NULL RETURNING 1
                """,
                logger: logger
            ).collect()
            guard !rows.isEmpty else { throw DomainError.notFound("Dieses Mitglied gibt es in der Projektgruppe nicht.") }
            audit.append(work.event("group.member_removed", identity, "project_group", group))
        }
    }

    public func planMeeting(_ new: NewMeeting, of group: UUID, by identity: Identity, clientAddress: String?) async throws -> ProjectGroup {
        try await work.work(identity, clientAddress: clientAddress) { connection, audit in
            _ = try await load(group, on: connection)
            let id = try await MeetingRecords.plan(new, group: group, district: identity.tenant.id, on: connection, logger: logger)
            audit.append(work.event("group.meeting_planned", identity, "meeting", id, ["group": group.uuidString]))
            return try await load(group, on: connection)
        }
    }

    public func addTask(_ new: NewTask, to group: UUID, by identity: Identity, clientAddress: String?) async throws -> ProjectGroup {
        let text = new.text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty, text.count <= 1000 else { throw InvalidInput(field: "text", "Bitte die Aufgabe beschreiben (1 bis 1000 Zeichen).") }
        return try await work.work(identity, clientAddress: clientAddress) { connection, audit in
            _ = try await load(group, on: connection)
            var owner = (new.owner ?? "").trimmingCharacters(in: .whitespaces)
            var user: UUID?
            if let email = new.ownerEmail, !email.trimmingCharacters(in: .whitespaces).isEmpty {
                let account = try await work.staffAccount(email: email, field: "owner_email", on: connection)
                user = account.0
                if owner.isEmpty { owner = account.2 }
            }
            guard !owner.isEmpty, owner.count <= 200 else {
                throw InvalidInput(field: "owner", "Bitte angeben, wer die Aufgabe übernimmt (Name, oder E-Mail-Adresse eines Kontos).")
            }
            let id = UUID()
            try await connection.query(
                """
                INSERT INTO group_tasks (tenant_id, id, group_id, meeting_id, text, owner_name, owner_user_id, due_on)
                SELECT \(identity.tenant.id), \(id), \(group), m.id, \(text), \(owner), \(user), \(new.dueOn.iso)::date
                FROM (SELECT \(new.meetingID)::uuid AS wanted) w LEFT JOIN committee_meetings m ON m.id = w.wanted AND m.group_id = \(group)
                WHERE w.wanted IS NULL OR m.id IS NOT NULL
                """,
                logger: logger
            )
            guard try await connection.query("SELECT 1 FROM group_tasks WHERE id = \(id)", logger: logger).collect().count == 1 else {
                throw InvalidInput(field: "meeting_id", "Diese Sitzung gehört nicht zu der Projektgruppe.")
            }
            audit.append(work.event("group.task_added", identity, "project_group", group))
            return try await load(group, on: connection)
        }
    }

    public func completeTask(_ task: UUID, of group: UUID, by identity: Identity, clientAddress: String?) async throws {
        try await work.work(identity, clientAddress: clientAddress) { connection, audit in
            let rows = try await connection.query(
                """
                UPDATE group_tasks SET done_on = current_date
                WHERE id = \(task) AND group_id = \(group) AND tenant_id = \(identity.tenant.id) AND done_on IS NULL RETURNING 1
                """,
                logger: logger
            ).collect()
            guard !rows.isEmpty else { throw DomainError.notFound("Diese offene Aufgabe gibt es in der Projektgruppe nicht.") }
            audit.append(work.event("group.task_done", identity, "project_group", group))
        }
    }

    /// The members of a group who have an account (whom its notifications reach).
    static func memberAccounts(of group: UUID, on connection: PostgresConnection, logger: Logger) async throws -> [UUID] {
        try await connection.query(
            "SELECT user_id FROM project_group_members WHERE group_id = \(group) AND user_id IS NOT NULL AND left_at IS NULL",
            logger: logger
        ).collect().map { try $0.decode(UUID.self) }
    }
}
