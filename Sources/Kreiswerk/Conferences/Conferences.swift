import Foundation
import Logging
import PostgresNIO

/// A case conference as the organiser and the invited see it.
public struct CaseConference: Sendable, Codable, Equatable {
    public struct ActionItem: Sendable, Codable, Equatable {
        public var id: UUID
        public var text: String
        public var ownerName: String
        public var dueOn: Day
        public var doneOn: Day?
    }

    public var id: UUID
    /// Only for the organiser.
    public var caseID: UUID?
    public var kind: String
    public var title: String
    public var scheduledAt: Date
    public var summary: String
    public var agenda: String
    public var minutes: String
    public var organiser: String
    public var organiserName: String
    public var moderator: String?
    public var participants: [String]
    public var actionItems: [ActionItem]
    public var version: Int
    public var grantActive: Bool
    /// When and why the organiser called it off; its grants ended then.
    public var cancelledAt: Date?
    public var cancelReason: String?
}

/// Planning a conference from a case.
public struct NewConference: Sendable, Decodable {
    public var kind: String
    public var title: String
    public var scheduledAt: Date
    public var summary: String
    public var agenda: String?
    /// Slugs of the district's tenants taking part.
    public var participants: [String]
    /// People without an account (integration council, volunteers), by name.
    public var externalParticipants: [String]?
    /// Colleagues of the district invited by name, by the e-mail address of their account: they (and nobody
    /// else of their tenant, unless it is invited as a whole) see the conference, and they are notified.
    public var invitees: [String]?
    public var consentGivenOn: Day?
    /// A municipal conference: ask the district's coordinators (Koordinierungsstelle) to moderate.
    public var requestModerator: Bool?
}

/// Inviting more people to a planned conference.
public struct MoreParticipants: Sendable, Decodable {
    public var participants: [String]?
    public var externalParticipants: [String]?
    public var invitees: [String]?
    public var consentGivenOn: Day?
}

/// Case conferences (Fallkonferenz): planned by the case manager, shared with the invited tenants by grants.
public struct Conferences: Sendable {
    let work: CaseWork

    public init(work: CaseWork) { self.work = work }

    var database: Database { work.database }
    var logger: Logger { work.logger }

    func load(_ ids: [UUID], actingFor tenant: UUID, on connection: PostgresConnection) async throws -> [CaseConference] {
        var conferences: [CaseConference] = []
        for id in ids {
            guard
                let row = try await connection.query(
                    """
                    SELECT f.id, f.case_id, f.tenant_id, f.kind, f.title, f.scheduled_at, f.summary, f.agenda, f.minutes, t.slug, f.organiser_name, m.slug,
                           f.version, EXISTS (SELECT 1 FROM access_grants g WHERE g.object_type = 'conference' AND g.object_id = f.id AND g.revoked_at IS NULL),
                           f.cancelled_at, f.cancel_reason
                    FROM case_conferences f JOIN tenants t ON t.id = f.tenant_id LEFT JOIN tenants m ON m.id = f.moderator_tenant_id WHERE f.id = \(id)
                    """,
                    logger: logger
                ).collect().first
            else { continue }
            let r = row.makeRandomAccess()
            let organiser = try r[2].decode(UUID.self)
            let participants = try await connection.query(
                """
                SELECT coalesce(p.participant_user_name || ' (' || t.name || ')', t.name, p.external_name)
                FROM conference_participants p LEFT JOIN tenants t ON t.id = p.participant_tenant_id
                WHERE p.conference_id = \(id) ORDER BY 1
                """,
                logger: logger
            ).collect().map { try $0.decode(String.self) }
            var items: [CaseConference.ActionItem] = []
            for try await (itemID, text, owner, due, done) in try await connection.query(
                """
                SELECT id, text, owner_name, to_char(due_on, 'YYYY-MM-DD'), to_char(done_on, 'YYYY-MM-DD') FROM conference_action_items
                WHERE conference_id = \(id) ORDER BY due_on, created_at
                """,
                logger: logger
            ).decode((UUID, String, String, String, String?).self) {
                items.append(.init(id: itemID, text: text, ownerName: owner, dueOn: Day(due)!, doneOn: done.flatMap(Day.init)))
            }
            conferences.append(
                CaseConference(
                    id: try r[0].decode(UUID.self),
                    caseID: organiser == tenant ? try r[1].decode(UUID.self) : nil,
                    kind: try r[3].decode(String.self),
                    title: try r[4].decode(String.self),
                    scheduledAt: try r[5].decode(Date.self),
                    summary: try r[6].decode(String.self),
                    agenda: try r[7].decode(String.self),
                    minutes: try r[8].decode(String.self),
                    organiser: try r[9].decode(String.self),
                    organiserName: try r[10].decode(String.self),
                    moderator: try r[11].decode(String?.self),
                    participants: participants,
                    actionItems: items,
                    version: try r[12].decode(Int.self),
                    grantActive: try r[13].decode(Bool.self),
                    cancelledAt: try r[14].decode(Date?.self),
                    cancelReason: try r[15].decode(String?.self)
                )
            )
        }
        return conferences
    }

    /// Plans a conference on an open case; the invited tenants (and, for a district conference, the district's
    /// coordinators) get grants that rest on the client's consent of `consentGivenOn`.
    public func plan(case id: UUID, _ new: NewConference, by identity: Identity, clientAddress: String?) async throws -> CaseConference {
        var errors: [String: String] = [:]
        let title = new.title.trimmingCharacters(in: .whitespaces)
        let summary = new.summary.trimmingCharacters(in: .whitespacesAndNewlines)
        if !["municipal", "district"].contains(new.kind) {
            errors["kind"] = "Die Fallkonferenz ist municipal (kommunal) oder district (Kreisebene)."
        }
        if title.isEmpty || title.count > 200 { errors["title"] = "Bitte einen Titel von 1 bis 200 Zeichen angeben." }
        if summary.isEmpty || summary.count > 5000 {
            errors["summary"] = "Bitte eine Zusammenfassung des Falls für die Teilnehmenden schreiben (1 bis 5000 Zeichen)."
        }
        if new.consentGivenOn == nil { errors["consent"] = "Ohne Einwilligung des Klienten darf die Zusammenfassung nicht geteilt werden." }
        let addresses = Self.addresses(new.invitees)
        if addresses.count > 30 { errors["invitees"] = "Bitte höchstens 30 Personen namentlich einladen." }
        if new.participants.isEmpty && (new.externalParticipants ?? []).isEmpty && addresses.isEmpty && new.kind == "municipal" {
            errors["participants"] = "Bitte mindestens eine teilnehmende Stelle einladen."
        }
        guard errors.isEmpty else { throw InvalidInput(errors: errors) }
        return try await work.work(identity, clientAddress: clientAddress) { connection, audit in
            let file = try await work.workable(id, on: connection)
            let districtID = identity.tenant.ownDistrictID
            let invited = try await otherTenants(new.participants, of: identity, on: connection)
            let persons = try await invitees(addresses, on: connection)
            var moderator: TenantRef?
            if new.kind == "district" || new.requestModerator == true, let districtID {
                moderator = try await TenantDirectory.find(id: districtID, on: connection, logger: logger)
            }
            let consent = try await ClientRecords.recordConsent(
                client: file.clientID,
                tenant: identity.tenant.id,
                scope: .handover,
                recipient: "Fallkonferenz „\(title)“",
                givenOn: new.consentGivenOn!,
                by: identity.userID,
                on: connection,
                logger: logger
            )
            let conference = UUID()
            try await connection.query(
                """
                INSERT INTO case_conferences (tenant_id, id, case_id, kind, title, scheduled_at, summary, agenda, moderator_tenant_id, organiser_name, created_by)
                VALUES (\(identity.tenant.id), \(conference), \(id), \(new.kind), \(title), \(new.scheduledAt), \(summary), \(new.agenda ?? ""),
                        \(moderator?.id), \(identity.displayName), \(identity.userID))
                """,
                logger: logger
            )
            try await addParticipants(
                to: conference,
                scheduledAt: new.scheduledAt,
                tenants: invited,
                persons: persons,
                external: new.externalParticipants ?? [],
                consent: consent,
                by: identity,
                on: connection
            )
            // The district moderates through its coordinators only, not every account of the district tenant.
            if let moderator, moderator.id != identity.tenant.id, !invited.contains(where: { $0.id == moderator.id }) {
                try await AccessGrants.grant(
                    .conference,
                    object: conference,
                    to: moderator.id,
                    role: .districtCoordinator,
                    consent: consent,
                    by: identity,
                    on: connection,
                    logger: logger
                )
            }
            try await CaseRecords.addEvent(
                "conference_planned",
                text: "Fallkonferenz „\(title)“ geplant (\(new.kind == "district" ? "Kreisebene" : "kommunal")).",
                case: id,
                tenant: identity.tenant.id,
                actor: identity.userID,
                on: connection,
                logger: logger
            )
            audit.append(
                work.event(
                    "conference.planned",
                    identity,
                    "conference",
                    conference,
                    ["case": id.uuidString, "invited": "\(invited.count)", "people": "\(persons.count)"]
                )
            )
            // The coordinators hear of it at once; titles name town and date, never the client.
            let when = GermanFormat.deadline(new.scheduledAt)
            if moderator != nil {
                let title =
                    new.kind == "district"
                    ? "\(identity.tenant.name): Fallkonferenz auf Kreisebene am \(when) – bitte moderieren"
                    : "\(identity.tenant.name) bittet um Moderation einer Fallkonferenz am \(when)"
                for coordinator in try await Notifier.districtCoordinators(on: connection, logger: logger) {
                    try await Notifier.notify(
                        coordinator,
                        .conferenceModeration,
                        title: title,
                        link: "/konferenzen/\(conference.uuidString.lowercased())",
                        dedupeKey: "conference-moderation:\(conference.uuidString.lowercased())",
                        on: connection,
                        logger: logger
                    )
                }
            }
            return try await load([conference], actingFor: identity.tenant.id, on: connection).first!
        }
    }

    /// Tenants invited as a whole (all of their staff see the conference), people invited by name (only they of their
    /// tenant, unless it is invited as a whole; they are notified) and people without an account, each with its grant
    /// resting on `consent`.
    func addParticipants(
        to conference: UUID,
        scheduledAt: Date,
        tenants: [TenantRef],
        persons: [Invitee],
        external: [String],
        consent: UUID,
        by identity: Identity,
        on connection: PostgresConnection
    ) async throws {
        for tenant in tenants {
            try await connection.query(
                "INSERT INTO conference_participants (tenant_id, id, conference_id, participant_tenant_id) VALUES (\(identity.tenant.id), \(UUID()), \(conference), \(tenant.id))",
                logger: logger
            )
            try await AccessGrants.grant(
                .conference,
                object: conference,
                to: tenant.id,
                consent: consent,
                by: identity,
                on: connection,
                logger: logger
            )
        }
        let wholeTenants = try await connection.query(
            "SELECT participant_tenant_id FROM conference_participants WHERE conference_id = \(conference) AND participant_tenant_id IS NOT NULL AND participant_user_id IS NULL",
            logger: logger
        ).collect().map { try $0.decode(UUID.self) }
        for person in persons {
            try await connection.query(
                """
                INSERT INTO conference_participants (tenant_id, id, conference_id, participant_tenant_id, participant_user_id, participant_user_name)
                VALUES (\(identity.tenant.id), \(UUID()), \(conference), \(person.tenant), \(person.id), \(person.name))
                """,
                logger: logger
            )
            if person.tenant != identity.tenant.id && !wholeTenants.contains(person.tenant) {
                try await AccessGrants.grant(
                    .conference,
                    object: conference,
                    to: person.tenant,
                    person: person.id,
                    consent: consent,
                    by: identity,
                    on: connection,
                    logger: logger
                )
            }
            if person.id != identity.userID {
                // The title names town and date, never the client.
                try await Notifier.notify(
                    person.id,
                    .conferenceInvitation,
                    title: "\(identity.tenant.name) lädt Sie zu einer Fallkonferenz am \(GermanFormat.deadline(scheduledAt)) ein",
                    link: "/konferenzen/\(conference.uuidString.lowercased())",
                    dedupeKey: "conference-invitation:\(conference.uuidString.lowercased())",
                    on: connection,
                    logger: logger
                )
            }
        }
        for name in external.map({ $0.trimmingCharacters(in: .whitespaces) }).filter({ !$0.isEmpty }) {
            try await connection.query(
                "INSERT INTO conference_participants (tenant_id, id, conference_id, external_name) VALUES (\(identity.tenant.id), \(UUID()), \(conference), \(name))",
                logger: logger
            )
        }
    }

    /// More participants for a conference the identity's tenant organises; the client's consent to sharing the
    /// summary with them is recorded anew. Those already invited are left as they are.
    public func invite(_ id: UUID, _ more: MoreParticipants, by identity: Identity, clientAddress: String?) async throws -> CaseConference {
        let addresses = Self.addresses(more.invitees)
        let external = (more.externalParticipants ?? []).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        var errors: [String: String] = [:]
        if addresses.count > 30 { errors["invitees"] = "Bitte höchstens 30 Personen namentlich einladen." }
        if (more.participants ?? []).isEmpty && addresses.isEmpty && external.isEmpty {
            errors["participants"] = "Bitte mindestens eine Stelle oder Person einladen."
        }
        if more.consentGivenOn == nil {
            errors["consent"] = "Ohne Einwilligung des Klienten darf die Zusammenfassung nicht mit weiteren Teilnehmenden geteilt werden."
        }
        guard errors.isEmpty else { throw InvalidInput(errors: errors) }
        return try await work.work(identity, clientAddress: clientAddress) { connection, audit in
            // The organiser's own conference, locked so that two invitations at once do not invite anyone twice.
            let (caseID, title, scheduledAt, _) = try await lockOwn(id, identity, on: connection)
            let file = try await work.workable(caseID, on: connection)
            var invitedTenants: Set<UUID> = []
            var invitedPeople: Set<UUID> = []
            for try await (tenant, person) in try await connection.query(
                "SELECT participant_tenant_id, participant_user_id FROM conference_participants WHERE conference_id = \(id) AND participant_tenant_id IS NOT NULL",
                logger: logger
            ).decode((UUID, UUID?).self) {
                if let person { invitedPeople.insert(person) } else { invitedTenants.insert(tenant) }
            }
            let tenants = try await otherTenants(more.participants ?? [], of: identity, on: connection).filter { !invitedTenants.contains($0.id) }
            let persons = try await invitees(addresses, on: connection).filter { !invitedPeople.contains($0.id) }
            guard !tenants.isEmpty || !persons.isEmpty || !external.isEmpty else {
                throw InvalidInput(field: "participants", "Alle Genannten sind zu dieser Fallkonferenz bereits eingeladen.")
            }
            let consent = try await ClientRecords.recordConsent(
                client: file.clientID,
                tenant: identity.tenant.id,
                scope: .handover,
                recipient: "Fallkonferenz „\(title)“ (weitere Teilnehmende)",
                givenOn: more.consentGivenOn!,
                by: identity.userID,
                on: connection,
                logger: logger
            )
            try await addParticipants(
                to: id,
                scheduledAt: scheduledAt,
                tenants: tenants,
                persons: persons,
                external: external,
                consent: consent,
                by: identity,
                on: connection
            )
            try await connection.query(
                "UPDATE case_conferences SET version = version + 1 WHERE id = \(id) AND tenant_id = \(identity.tenant.id)",
                logger: logger
            )
            try await CaseRecords.addEvent(
                "conference_invited",
                text: "Weitere Teilnehmende zur Fallkonferenz „\(title)“ eingeladen.",
                case: caseID,
                tenant: identity.tenant.id,
                actor: identity.userID,
                on: connection,
                logger: logger
            )
            audit.append(
                work.event(
                    "conference.participants_added",
                    identity,
                    "conference",
                    id,
                    ["invited": "\(tenants.count)", "people": "\(persons.count)"]
                )
            )
            return try await load([id], actingFor: identity.tenant.id, on: connection).first!
        }
    }

    /// Moves a conference the identity's tenant organises to another time (if still at `version`); the people invited by name are told.
    public func reschedule(
        _ id: UUID,
        version: Int,
        to scheduledAt: Date,
        by identity: Identity,
        clientAddress: String?
    ) async throws -> CaseConference {
        try await work.work(identity, clientAddress: clientAddress) { connection, audit in
            let (caseID, title, before, current) = try await lockOwn(id, identity, on: connection)
            guard current == version else { throw Self.staleConference }
            try await connection.query(
                "UPDATE case_conferences SET scheduled_at = \(scheduledAt), version = version + 1 WHERE id = \(id) AND tenant_id = \(identity.tenant.id)",
                logger: logger
            )
            let when = GermanFormat.deadline(scheduledAt)
            try await CaseRecords.addEvent(
                "conference_rescheduled",
                text: "Fallkonferenz „\(title)“ vom \(GermanFormat.deadline(before)) auf den \(when) verlegt.",
                case: caseID,
                tenant: identity.tenant.id,
                actor: identity.userID,
                on: connection,
                logger: logger
            )
            try await notifyNamed(
                id,
                .conferenceChanged,
                title: "\(identity.tenant.name) hat eine Fallkonferenz auf den \(when) verlegt",
                link: "/konferenzen/\(id.uuidString.lowercased())",
                occasion: "conference-changed:\(id.uuidString.lowercased()):\(version + 1)",
                by: identity,
                on: connection
            )
            audit.append(work.event("conference.rescheduled", identity, "conference", id))
            return try await load([id], actingFor: identity.tenant.id, on: connection).first!
        }
    }

    /// Calls off a conference the identity's tenant organises (if still at `version`): every grant on it ends at once,
    /// and the people invited by name are told.
    public func cancel(_ id: UUID, version: Int, reason: String, by identity: Identity, clientAddress: String?) async throws -> CaseConference {
        let reason = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !reason.isEmpty, reason.count <= 1000 else {
            throw InvalidInput(field: "reason", "Bitte kurz angeben, warum die Fallkonferenz abgesagt wird (bis 1000 Zeichen).")
        }
        return try await work.work(identity, clientAddress: clientAddress) { connection, audit in
            let (caseID, title, scheduledAt, current) = try await lockOwn(id, identity, on: connection)
            guard current == version else { throw Self.staleConference }
            try await connection.query(
                """
                UPDATE case_conferences SET cancelled_at = now(), cancel_reason = \(reason), version = version + 1
                WHERE id = \(id) AND tenant_id = \(identity.tenant.id)
                """,
                logger: logger
            )
            let revoked = try await connection.query(
                """
                UPDATE access_grants SET revoked_at = now(), revoked_by = \(identity.userID), revoke_reason = 'conference cancelled'
                WHERE tenant_id = \(identity.tenant.id) AND object_type = 'conference' AND object_id = \(id) AND revoked_at IS NULL RETURNING 1
                """,
                logger: logger
            ).collect().count
            try await CaseRecords.addEvent(
                "conference_cancelled",
                text: "Fallkonferenz „\(title)“ abgesagt: \(reason)",
                case: caseID,
                tenant: identity.tenant.id,
                actor: identity.userID,
                on: connection,
                logger: logger
            )
            try await notifyNamed(
                id,
                .conferenceCancelled,
                title: "\(identity.tenant.name) hat die Fallkonferenz am \(GermanFormat.deadline(scheduledAt)) abgesagt",
                link: "/konferenzen",
                occasion: "conference-cancelled:\(id.uuidString.lowercased())",
                by: identity,
                on: connection
            )
            audit.append(work.event("conference.cancelled", identity, "conference", id, ["grants_revoked": "\(revoked)"]))
            return try await load([id], actingFor: identity.tenant.id, on: connection).first!
        }
    }

    /// The case, title, time and version of a conference the identity's tenant organises and has not called off, locked
    /// for a change; 404 for anyone else's, 422 once called off.
    func lockOwn(_ id: UUID, _ identity: Identity, on connection: PostgresConnection) async throws -> (UUID, String, Date, Int) {
        guard
            let row = try await connection.query(
                "SELECT case_id, title, scheduled_at, version, cancelled_at IS NOT NULL FROM case_conferences WHERE id = \(id) AND tenant_id = \(identity.tenant.id) FOR UPDATE",
                logger: logger
            ).collect().first
        else { throw Self.noConference }
        let (caseID, title, scheduledAt, version, cancelled) = try row.decode((UUID, String, Date, Int, Bool).self)
        guard !cancelled else { throw InvalidInput(field: "conference", "Die Fallkonferenz ist abgesagt; sie kann nicht mehr geändert werden.") }
        return (caseID, title, scheduledAt, version)
    }

    /// Tells the people invited by name (not the one acting).
    func notifyNamed(
        _ id: UUID,
        _ kind: NotificationKind,
        title: String,
        link: String,
        occasion: String,
        by identity: Identity,
        on connection: PostgresConnection
    ) async throws {
        let people = try await connection.query(
            "SELECT participant_user_id FROM conference_participants WHERE conference_id = \(id) AND participant_user_id IS NOT NULL",
            logger: logger
        ).collect().map { try $0.decode(UUID.self) }
        for person in people where person != identity.userID {
            try await Notifier.notify(person, kind, title: title, link: link, dedupeKey: occasion, on: connection, logger: logger)
        }
    }

    /// Invitee addresses as given: trimmed, lower case, without repeats.
    static func addresses(_ invitees: [String]?) -> Set<String> {
        Set((invitees ?? []).map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.filter { !$0.isEmpty })
    }

    /// The tenants behind `slugs`: each another tenant of the identity's district, or a 422.
    func otherTenants(_ slugs: [String], of identity: Identity, on connection: PostgresConnection) async throws -> [TenantRef] {
        var tenants: [TenantRef] = []
        for slug in Set(slugs) {
            guard let tenant = try await TenantDirectory.find(slug: slug, on: connection, logger: logger),
                tenant.ownDistrictID == identity.tenant.ownDistrictID, tenant.id != identity.tenant.id
            else { throw InvalidInput(field: "participants", "'\(slug)' ist keine andere Stelle Ihres Kreises.") }
            tenants.append(tenant)
        }
        return tenants
    }

    /// Whom the identity's conferences can invite as a whole (not audited: tenant names only).
    public func invitableTenants(by identity: Identity) async throws -> [(slug: String, name: String)] {
        try await database.withTenant(identity.tenant.id, user: identity.userID) {
            try await Self.invitableTenants(of: identity, on: $0, logger: logger)
        }
    }

    /// The other active tenants of the identity's district, by name: whom a conference can invite as a whole.
    static func invitableTenants(
        of identity: Identity,
        on connection: PostgresConnection,
        logger: Logger
    ) async throws -> [(slug: String, name: String)] {
        let district = identity.tenant.ownDistrictID ?? identity.tenant.id
        return try await connection.query(
            "SELECT slug, name FROM tenants WHERE active AND (district_id = \(district) OR id = \(district)) AND id <> \(identity.tenant.id) ORDER BY name",
            logger: logger
        ).collect().map { try $0.decode((String, String).self) }
    }

    /// A person invited by name: an active account of the district that may attend conferences.
    struct Invitee {
        var id: UUID
        var tenant: UUID
        var name: String
    }

    /// The accounts behind `addresses`, or a 422 naming every address that is not one.
    func invitees(_ addresses: Set<String>, on connection: PostgresConnection) async throws -> [Invitee] {
        var found: [Invitee] = []
        var problems: [String] = []
        for address in addresses.sorted() {
            let rows = try await connection.query("SELECT user_id, tenant_id, display_name, roles FROM district_account(\(address))", logger: logger)
                .collect().map { try $0.decode((UUID, UUID, String, [String]).self) }
            guard let (id, tenant, name, roles) = rows.first else {
                problems.append("\(address) ist kein aktives Konto Ihres Kreises")
                continue
            }
            guard roles.compactMap(Role.init(rawValue:)).contains(where: { work.policy.scope(of: $0, for: .attendConferences) > .none }) else {
                problems.append("\(name) (\(address)) nimmt in Kreiswerk nicht an Fallkonferenzen teil")
                continue
            }
            found.append(Invitee(id: id, tenant: tenant, name: name))
        }
        guard problems.isEmpty else {
            throw InvalidInput(
                field: "invitees",
                problems.joined(separator: "; ") + ". Bitte die E-Mail-Adresse des Kontos prüfen oder die Stelle als Ganzes einladen."
            )
        }
        return found
    }

    /// Conferences the identity's tenant organises or is invited to, the next first (an audited read).
    public func list(by identity: Identity, clientAddress: String?) async throws -> [CaseConference] {
        try await work.work(identity, clientAddress: clientAddress) { connection, audit in
            let ids = try await connection.query(
                "SELECT id FROM case_conferences ORDER BY scheduled_at DESC LIMIT 200",
                logger: logger
            ).collect().map { try $0.decode(UUID.self) }
            audit.append(AuditEvent("conference.listed", tenant: identity.tenant.id, actor: identity.userID, detail: ["results": "\(ids.count)"]))
            return try await load(ids, actingFor: identity.tenant.id, on: connection)
        }
    }

    public func conference(_ id: UUID, by identity: Identity, clientAddress: String?) async throws -> CaseConference {
        try await work.work(identity, clientAddress: clientAddress) { connection, audit in
            guard let conference = try await load([id], actingFor: identity.tenant.id, on: connection).first else { throw Self.noConference }
            audit.append(work.event("conference.read", identity, "conference", id))
            return conference
        }
    }

    /// The organiser records the minutes (if still at `version`).
    public func recordMinutes(_ id: UUID, version: Int, minutes: String, by identity: Identity, clientAddress: String?) async throws -> CaseConference
    {
        try await work.work(identity, clientAddress: clientAddress) { connection, audit in
            let (_, _, _, current) = try await lockOwn(id, identity, on: connection)
            guard current == version else { throw Self.staleConference }
            try await connection.query(
                """
                UPDATE case_conferences SET minutes = \(minutes.trimmingCharacters(in: .whitespacesAndNewlines)), version = version + 1
                WHERE id = \(id) AND tenant_id = \(identity.tenant.id)
                """,
                logger: logger
            )
            audit.append(work.event("conference.minutes_recorded", identity, "conference", id))
            return try await load([id], actingFor: identity.tenant.id, on: connection).first!
        }
    }

    /// The organiser adds an action item with an owner and a due date.
    public func addActionItem(
        _ id: UUID,
        text: String,
        owner: String,
        dueOn: Day,
        by identity: Identity,
        clientAddress: String?
    ) async throws -> CaseConference {
        let text = text.trimmingCharacters(in: .whitespaces)
        let owner = owner.trimmingCharacters(in: .whitespaces)
        var errors: [String: String] = [:]
        if text.isEmpty { errors["text"] = "Bitte die Aufgabe beschreiben." }
        if owner.isEmpty { errors["owner"] = "Bitte angeben, wer die Aufgabe übernimmt." }
        guard errors.isEmpty else { throw InvalidInput(errors: errors) }
        return try await work.work(identity, clientAddress: clientAddress) { connection, audit in
            _ = try await lockOwn(id, identity, on: connection)
            try await connection.query(
                """
                INSERT INTO conference_action_items (tenant_id, id, conference_id, text, owner_name, due_on)
                VALUES (\(identity.tenant.id), \(UUID()), \(id), \(text), \(owner), \(dueOn.iso)::date)
                """,
                logger: logger
            )
            audit.append(work.event("conference.action_item_added", identity, "conference", id))
            return try await load([id], actingFor: identity.tenant.id, on: connection).first!
        }
    }

    public func completeActionItem(_ item: UUID, of id: UUID, by identity: Identity, clientAddress: String?) async throws {
        try await work.work(identity, clientAddress: clientAddress) { connection, audit in
            let done = try await connection.query(
                "UPDATE conference_action_items SET done_on = current_date WHERE id = \(item) AND conference_id = \(id) AND tenant_id = \(identity.tenant.id) AND done_on IS NULL RETURNING 1",
                logger: logger
            ).collect()
            guard !done.isEmpty else { throw DomainError.notFound("Diese offene Aufgabe gibt es in Ihrer Fallkonferenz nicht.") }
            audit.append(work.event("conference.action_item_done", identity, "conference", id))
        }
    }

    static let staleConference = DomainError.stale("Die Fallkonferenz wurde inzwischen geändert. Bitte neu laden.")
    static let noConference = DomainError.notFound("Diese Fallkonferenz gibt es nicht – oder Sie sind nicht (mehr) eingeladen.")
}
