import Foundation
import Logging
import PostgresNIO

/// What project groups and the steering group share: members, meetings with agenda and minutes.
public struct CommitteeMember: Sendable, Codable {
    public var id: UUID
    public var name: String
    /// The organisation (project group) or the body represented (steering group).
    public var organisation: String
    /// No account of their own (integration council, volunteer initiative).
    public var external: Bool
    public var kind: String?
    /// A steering group's advisory member (beratend): advises, does not vote.
    public var advisory: Bool? = nil

    enum CodingKeys: String, CodingKey { case id, name, organisation, external, kind, advisory }
}

public struct CommitteeMeeting: Sendable, Codable {
    public var id: UUID
    public var scheduledAt: Date
    public var location: String
    public var agenda: String
    public var agendaDeadline: Day?
    public var minutes: String
    public var version: Int

    enum CodingKeys: String, CodingKey {
        case id, scheduledAt = "scheduled_at", location, agenda, agendaDeadline = "agenda_deadline", minutes, version
    }
}

/// A meeting as planned.
public struct NewMeeting: Sendable, Decodable {
    public var scheduledAt: Date
    public var location: String?
    public var agenda: String?
    public var agendaDeadline: Day?

    public init(scheduledAt: Date, location: String?, agenda: String?, agendaDeadline: Day?) {
        self.scheduledAt = scheduledAt
        self.location = location
        self.agenda = agenda
        self.agendaDeadline = agendaDeadline
    }

    enum CodingKeys: String, CodingKey { case scheduledAt = "scheduled_at", location, agenda, agendaDeadline = "agenda_deadline" }
}

enum MeetingRecords {
    /// The meetings of a project group, or of the steering group (`group` nil), the next first.
    static func meetings(of group: UUID?, on connection: PostgresConnection, logger: Logger) async throws -> [CommitteeMeeting] {
        var meetings: [CommitteeMeeting] = []
        for try await (id, at, location, agenda, deadline, minutes, version) in try await connection.query(
            """
            SELECT id, scheduled_at, location, agenda, to_char(agenda_deadline, 'YYYY-MM-DD'), minutes, version FROM committee_meetings
            WHERE group_id IS NOT DISTINCT FROM \(group) ORDER BY scheduled_at DESC LIMIT 100
            """,
            logger: logger
        ).decode((UUID, Date, String, String, String?, String, Int).self) {
            meetings.append(
                .init(
                    id: id,
                    scheduledAt: at,
                    location: location,
                    agenda: agenda,
                    agendaDeadline: deadline.flatMap(Day.init),
                    minutes: minutes,
                    version: version
                )
            )
        }
        return meetings
    }

    /// Plans a meeting of a group (or of the steering group) of the acting district.
    static func plan(_ new: NewMeeting, group: UUID?, district: UUID, on connection: PostgresConnection, logger: Logger) async throws -> UUID {
        let agenda = (new.agenda ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        let location = (new.location ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        var errors: [String: String] = [:]
        if agenda.count > 20000 { errors["agenda"] = "Die Tagesordnung ist zu lang (höchstens 20000 Zeichen)." }
        if location.count > 200 { errors["location"] = "Der Ort ist zu lang (höchstens 200 Zeichen)." }
        if let deadline = new.agendaDeadline, deadline > Day(new.scheduledAt) {
            errors["agenda_deadline"] = "Der Tagesordnungsschluss muss vor der Sitzung liegen."
        }
        guard errors.isEmpty else { throw InvalidInput(errors: errors) }
        let id = UUID()
        try await connection.query(
            """
            INSERT INTO committee_meetings (tenant_id, id, group_id, scheduled_at, location, agenda, agenda_deadline)
            VALUES (\(district), \(id), \(group), \(new.scheduledAt), \(location), \(agenda), \(new.agendaDeadline?.iso)::date)
            """,
            logger: logger
        )
        return id
    }

    /// Records the minutes of a meeting (if still at `version`).
    static func recordMinutes(
        _ id: UUID,
        version: Int,
        minutes: String,
        district: UUID,
        on connection: PostgresConnection,
        logger: Logger
    ) async throws {
        let minutes = minutes.trimmingCharacters(in: .whitespacesAndNewlines)
        guard minutes.count <= 50000 else { throw InvalidInput(field: "minutes", "Das Protokoll ist zu lang (höchstens 50000 Zeichen).") }
        let current = try await connection.query(
            "SELECT version FROM committee_meetings WHERE id = \(id) AND tenant_id = \(district) FOR UPDATE",
            logger: logger
        ).collect().first?.decode(Int.self)
        guard let current else { throw DomainError.notFound("Diese Sitzung gibt es nicht.") }
        guard current == version else {
            throw DomainError.stale(
                "Das Protokoll wurde inzwischen geändert (Version \(current)). Bitte neu laden und Ihre Änderung erneut eintragen."
            )
        }
        try await connection.query(
            "UPDATE committee_meetings SET minutes = \(minutes), version = version + 1 WHERE id = \(id)",
            logger: logger
        )
    }
}

extension TenantWork {
    /// The account of a district tenant's staff member, by e-mail address (district staff read their tenants' accounts).
    func staffAccount(email: String, field: String, on connection: PostgresConnection) async throws -> (UUID, UUID, String) {
        let email = email.trimmingCharacters(in: .whitespaces).lowercased()
        guard
            let row = try await connection.query(
                """
                SELECT u.id, u.tenant_id, u.display_name FROM users u JOIN tenants t ON t.id = u.tenant_id
                WHERE u.email = \(email) AND u.active AND (t.id = app_current_tenant() OR t.district_id = app_current_tenant())
                """,
                logger: logger
            ).collect().first
        else {
            throw InvalidInput(
                field: field,
                "Unter \(email) gibt es kein aktives Konto im Kreis. Personen ohne Konto bitte mit Namen und Organisation eintragen."
            )
        }
        return try row.decode((UUID, UUID, String).self)
    }
}
