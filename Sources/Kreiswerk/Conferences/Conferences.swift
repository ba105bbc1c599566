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
    /// The district whose coordinators lead it (a district conference): they plan, invite, write minutes and action items.
    public var lead: String?
    /// Who called it: `town` (the town asked the coordinators) or `coordination` (the coordinators called it for a case the town shared).
    public var initiative: String?
    /// When time, title and agenda were settled; nil while a town's request waits for the coordinators.
    public var plannedAt: Date?
    public var plannedByName: String?
    /// The coordinator who took on the moderation of a municipal conference, by name.
    public var moderatorName: String?
    /// What the person reading may do: `organiser` (the town's case work), `lead` (the district's coordinators),
    /// `moderator` (writes the minutes), `invited` (reads).
    public var part: String
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
    /// A district conference is asked of the district's coordinators, who plan and lead it: `town` (default) asks for one,
    /// `coordination` shares the case with them and leaves it to them to call one.
    public var initiative: String?
    /// How the client's consent of `consentGivenOn` was given (in writing, orally, with an interpreter and in which language).
    public var consentGivenHow: Consent.Manner? = nil
    public var consentInterpreterLanguage: String? = nil

    var consent: ConsentGiven? {
        consentGivenOn.map { ConsentGiven(givenOn: $0, how: consentGivenHow, interpreterLanguage: consentInterpreterLanguage) }
    }
}

/// The coordinators plan a district conference a town asked for: the time (the town's wish until then), title, agenda,
/// and whom they invite (resting on the hand-over consent the town recorded with its request).
public struct LedPlan: Sendable, Decodable {
    public var scheduledAt: Date
    public var title: String?
    public var agenda: String?
    public var participants: [String]?
    public var externalParticipants: [String]?
    public var invitees: [String]?
}

/// Inviting more people to a planned conference.
public struct MoreParticipants: Sendable, Decodable {
    public var participants: [String]?
    public var externalParticipants: [String]?
    public var invitees: [String]?
    public var consentGivenOn: Day?
    public var consentGivenHow: Consent.Manner? = nil
    public var consentInterpreterLanguage: String? = nil

    var consent: ConsentGiven? {
        consentGivenOn.map { ConsentGiven(givenOn: $0, how: consentGivenHow, interpreterLanguage: consentInterpreterLanguage) }
    }
}

/// Case conferences (Fallkonferenz): planned by the case manager, shared with the invited tenants by grants.
public struct Conferences: Sendable {
    let work: CaseWork

    public init(work: CaseWork) { self.work = work }

    var database: Database { work.database }
    var logger: Logger { work.logger }

    /// The conferences behind `ids` that the acting tenant sees; `identity` (when a person reads) decides `part`.
    func load(
        _ ids: [UUID],
        actingFor tenant: UUID,
        as identity: Identity? = nil,
        on connection: PostgresConnection
    ) async throws -> [CaseConference] {
        var conferences: [CaseConference] = []
        for id in ids {
            guard
                let row = try await connection.query(
                    """
                    SELECT f.id, f.case_id, f.tenant_id, f.kind, f.title, f.scheduled_at, f.summary, f.agenda, f.minutes, t.slug, f.organiser_name, m.slug,
                           f.version, EXISTS (SELECT 1 FROM access_grants g WHERE g.object_type = 'conference' AND g.object_id = f.id AND g.revoked_at IS NULL),
                           f.cancelled_at, f.cancel_reason, l.slug, f.lead_tenant_id, f.initiative, f.planned_at, f.planned_by_name,
                           f.moderator_user_name, f.moderator_user_id
                    FROM case_conferences f JOIN tenants t ON t.id = f.tenant_id LEFT JOIN tenants m ON m.id = f.moderator_tenant_id
                    LEFT JOIN tenants l ON l.id = f.lead_tenant_id WHERE f.id = \(id)
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
            let (leadID, moderatorUser) = (try r[17].decode(UUID?.self), try r[22].decode(UUID?.self))
            let part = identity.map {
                Self.part(of: $0, owner: organiser, lead: leadID, moderator: moderatorUser, policy: work.policy)?.rawValue ?? "invited"
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
                    cancelReason: try r[15].decode(String?.self),
                    lead: try r[16].decode(String?.self),
                    initiative: try r[18].decode(String?.self),
                    plannedAt: try r[19].decode(Date?.self),
                    plannedByName: try r[20].decode(String?.self),
                    moderatorName: try r[21].decode(String?.self),
                    part: part ?? (organiser == tenant ? "organiser" : "invited")
                )
            )
        }
        return conferences
    }

    /// What the acting person may do with a conference: run it (`organiser`: the town's case work; `lead`: a coordinator of
    /// the district leading it), write its minutes (`moderator`: the coordinator who took on its moderation), or nothing.
    enum Part: String, Sendable {
        case organiser, lead, moderator
    }

    static func part(of identity: Identity, owner: UUID, lead: UUID?, moderator: UUID?, policy: Policy) -> Part? {
        if owner == identity.tenant.id && policy.allows(identity, .workCases) { return .organiser }
        if let lead, lead == identity.tenant.id, identity.has(.districtCoordinator) { return .lead }
        if let moderator, moderator == identity.userID { return .moderator }
        return nil
    }

    /// Plans a conference on an open case; the invited tenants (and, for a district conference, the district's
    /// coordinators) get grants that rest on the client's consent (when and how it was given). `alsoWrong` are the
    /// problems the caller found before (a form's consent fields), reported with these in one answer.
    public func plan(
        case id: UUID,
        _ new: NewConference,
        alsoWrong: [String: String] = [:],
        by identity: Identity,
        clientAddress: String?
    ) async throws -> CaseConference {
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
        let consent = ConsentGiven.required(
            new.consent,
            alsoWrong: alsoWrong,
            missing: "Ohne Einwilligung des Klienten darf die Zusammenfassung nicht geteilt werden.",
            errors: &errors
        )
        let led = new.kind == "district"
        if led, !["town", "coordination"].contains(new.initiative ?? "town") {
            errors["initiative"] =
                "Bitte angeben, ob Sie um eine Fallkonferenz bitten (town) oder den Fall der Koordinierungsstelle teilen (coordination)."
        }
        if led, identity.tenant.ownDistrictID == nil || identity.tenant.kind == "district" {
            errors["kind"] = "Eine Fallkonferenz auf Kreisebene lädt die Koordinierungsstelle Ihres Kreises ein; Ihr Mandant gehört zu keinem Kreis."
        }
        let addresses = Self.addresses(new.invitees)
        if addresses.count > 30 { errors["invitees"] = "Bitte höchstens 30 Personen namentlich einladen." }
        if new.participants.isEmpty && (new.externalParticipants ?? []).isEmpty && addresses.isEmpty && new.kind == "municipal" {
            errors["participants"] = "Bitte mindestens eine teilnehmende Stelle einladen."
        }
        guard errors.isEmpty, let given = consent else { throw InvalidInput(errors: errors) }
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
                recipient: led
                    ? "Fallkonferenz auf Kreisebene „\(title)“ (Koordinierungsstelle und die von ihr Eingeladenen)" : "Fallkonferenz „\(title)“",
                givenOn: given.givenOn,
                givenHow: given.how,
                interpreterLanguage: given.interpreterLanguage,
                by: identity.userID,
                on: connection,
                logger: logger
            )
            let conference = UUID()
            try await connection.query(
                """
                INSERT INTO case_conferences (tenant_id, id, case_id, kind, title, scheduled_at, summary, agenda, moderator_tenant_id, organiser_name, created_by,
                                              lead_tenant_id, handover_consent_id, initiative, planned_at, planned_by_name)
                VALUES (\(identity.tenant.id), \(conference), \(id), \(new.kind), \(title), \(new.scheduledAt), \(summary), \(new.agenda ?? ""),
                        \(moderator?.id), \(identity.displayName), \(identity.userID),
                        \(led ? moderator?.id : nil), \(led ? consent : nil), \(led ? new.initiative ?? "town" : nil),
                        \(led ? nil : Date()), \(led ? nil : identity.displayName))
                """,
                logger: logger
            )
            try await addParticipants(
                to: conference,
                of: identity.tenant.id,
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
                text: led
                    ? "Fallkonferenz auf Kreisebene „\(title)“ bei der Koordinierungsstelle \(new.initiative == "coordination" ? "angeregt (Fall geteilt)" : "erbeten"); Wunschtermin \(GermanFormat.deadline(new.scheduledAt))."
                    : "Fallkonferenz „\(title)“ geplant (kommunal).",
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
                    led
                    ? "\(identity.tenant.name) bittet um eine Fallkonferenz auf Kreisebene (Wunschtermin \(when)) – bitte planen und einladen"
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
            return try await load([conference], actingFor: identity.tenant.id, as: identity, on: connection).first!
        }
    }

    /// Tenants invited as a whole (all of their staff see the conference), people invited by name (only they of their
    /// tenant, unless it is invited as a whole; they are notified) and people without an account, each with its grant
    /// resting on `consent`.
    func addParticipants(
        to conference: UUID,
        of owner: UUID,
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
                "INSERT INTO conference_participants (tenant_id, id, conference_id, participant_tenant_id) VALUES (\(owner), \(UUID()), \(conference), \(tenant.id))",
                logger: logger
            )
            try await grant(conference, of: owner, to: tenant.id, consent: consent, by: identity, on: connection)
        }
        let wholeTenants = try await connection.query(
            "SELECT participant_tenant_id FROM conference_participants WHERE conference_id = \(conference) AND participant_tenant_id IS NOT NULL AND participant_user_id IS NULL",
            logger: logger
        ).collect().map { try $0.decode(UUID.self) }
        for person in persons {
            try await connection.query(
                """
                INSERT INTO conference_participants (tenant_id, id, conference_id, participant_tenant_id, participant_user_id, participant_user_name)
                VALUES (\(owner), \(UUID()), \(conference), \(person.tenant), \(person.id), \(person.name))
                """,
                logger: logger
            )
            if person.tenant != owner && !wholeTenants.contains(person.tenant) {
                try await grant(conference, of: owner, to: person.tenant, person: person.id, consent: consent, by: identity, on: connection)
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
                "INSERT INTO conference_participants (tenant_id, id, conference_id, external_name) VALUES (\(owner), \(UUID()), \(conference), \(name))",
                logger: logger
            )
        }
    }

    /// A grant on the conference: the town's own (it rests on the town's consent), also when the district's coordinators
    /// who lead the conference invite (0033 lets them write it).
    func grant(
        _ conference: UUID,
        of owner: UUID,
        to grantee: UUID,
        person: UUID? = nil,
        consent: UUID,
        by identity: Identity,
        on connection: PostgresConnection
    ) async throws {
        guard owner != identity.tenant.id else {
            try await AccessGrants.grant(
                .conference,
                object: conference,
                to: grantee,
                person: person,
                consent: consent,
                by: identity,
                on: connection,
                logger: logger
            )
            return
        }
        try await connection.query(
            """
            INSERT INTO access_grants (tenant_id, id, grantee_tenant_id, grantee_user_id, object_type, object_id, consent_id, granted_by)
            VALUES (\(owner), \(UUID()), \(grantee), \(person), 'conference', \(conference), \(consent), \(identity.userID))
            """,
            logger: logger
        )
    }

    /// More participants for a conference the identity's tenant organises (the client's consent to sharing the summary
    /// with them is recorded anew) or the district's coordinators lead (resting on the hand-over consent the town recorded
    /// with its request). Those already invited are left as they are.
    public func invite(
        _ id: UUID,
        _ more: MoreParticipants,
        alsoWrong: [String: String] = [:],
        by identity: Identity,
        clientAddress: String?
    ) async throws -> CaseConference {
        let addresses = Self.addresses(more.invitees)
        let external = (more.externalParticipants ?? []).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        var errors: [String: String] = [:]
        if addresses.count > 30 { errors["invitees"] = "Bitte höchstens 30 Personen namentlich einladen." }
        if (more.participants ?? []).isEmpty && addresses.isEmpty && external.isEmpty {
            errors["participants"] = "Bitte mindestens eine Stelle oder Person einladen."
        }
        // The coordinators who lead a conference invite on the town's hand-over consent; everyone else records the client's.
        let consent = ConsentGiven.required(
            more.consent,
            alsoWrong: alsoWrong,
            missing: "Ohne Einwilligung des Klienten darf die Zusammenfassung nicht mit weiteren Teilnehmenden geteilt werden.",
            errors: &errors
        )
        if consent == nil && identity.has(.districtCoordinator) { errors["consent"] = nil }
        guard errors.isEmpty else { throw InvalidInput(errors: errors) }
        return try await work.work(identity, clientAddress: clientAddress) { connection, audit in
            // Locked so that two invitations at once do not invite anyone twice.
            let locked = try await lock(id, identity, on: connection)
            var invitedTenants: Set<UUID> = []
            var invitedPeople: Set<UUID> = []
            for try await (tenant, person) in try await connection.query(
                "SELECT participant_tenant_id, participant_user_id FROM conference_participants WHERE conference_id = \(id) AND participant_tenant_id IS NOT NULL",
                logger: logger
            ).decode((UUID, UUID?).self) {
                if let person { invitedPeople.insert(person) } else { invitedTenants.insert(tenant) }
            }
            let tenants = try await otherTenants(more.participants ?? [], of: identity, besides: locked.owner, on: connection)
                .filter { !invitedTenants.contains($0.id) }
            let persons = try await invitees(addresses, on: connection).filter { !invitedPeople.contains($0.id) }
            guard !tenants.isEmpty || !persons.isEmpty || !external.isEmpty else {
                throw InvalidInput(field: "participants", "Alle Genannten sind zu dieser Fallkonferenz bereits eingeladen.")
            }
            let consent = try await consentForMore(locked, consent, by: identity, on: connection)
            try await addParticipants(
                to: id,
                of: locked.owner,
                scheduledAt: locked.scheduledAt,
                tenants: tenants,
                persons: persons,
                external: external,
                consent: consent,
                by: identity,
                on: connection
            )
            try await connection.query(
                "UPDATE case_conferences SET version = version + 1 WHERE id = \(id) AND tenant_id = \(locked.owner)",
                logger: logger
            )
            try await caseEvent(
                locked,
                "conference_invited",
                "Weitere Teilnehmende zur Fallkonferenz „\(locked.title)“ eingeladen.",
                identity,
                connection
            )
            audit.append(
                work.event(
                    "conference.participants_added",
                    identity,
                    "conference",
                    id,
                    ["invited": "\(tenants.count)", "people": "\(persons.count)", "as": locked.part.rawValue]
                )
            )
            return try await load([id], actingFor: identity.tenant.id, as: identity, on: connection).first!
        }
    }

    /// The consent more participants rest on: the town records the client's consent anew; the coordinators who lead the
    /// conference invite on the hand-over consent the town recorded with its request.
    func consentForMore(_ locked: Locked, _ given: ConsentGiven?, by identity: Identity, on connection: PostgresConnection) async throws -> UUID {
        if locked.part == .lead, let consent = locked.handoverConsent { return consent }
        guard let given else {
            throw InvalidInput(
                field: "consent",
                "Ohne Einwilligung des Klienten darf die Zusammenfassung nicht mit weiteren Teilnehmenden geteilt werden."
            )
        }
        let file = try await work.workable(locked.caseID, on: connection)
        return try await ClientRecords.recordConsent(
            client: file.clientID,
            tenant: identity.tenant.id,
            scope: .handover,
            recipient: "Fallkonferenz „\(locked.title)“ (weitere Teilnehmende)",
            givenOn: given.givenOn,
            givenHow: given.how,
            interpreterLanguage: given.interpreterLanguage,
            by: identity.userID,
            on: connection,
            logger: logger
        )
    }

    /// The coordinators plan a district conference a town asked for (if still at `version`): its time, title and agenda, and
    /// whom they invite. The town's case manager who asked is told.
    public func planLed(_ id: UUID, version: Int, _ plan: LedPlan, by identity: Identity, clientAddress: String?) async throws -> CaseConference {
        let title = plan.title?.trimmingCharacters(in: .whitespaces)
        let addresses = Self.addresses(plan.invitees)
        var errors: [String: String] = [:]
        if let title, title.isEmpty || title.count > 200 { errors["title"] = "Bitte einen Titel von 1 bis 200 Zeichen angeben." }
        if addresses.count > 30 { errors["invitees"] = "Bitte höchstens 30 Personen namentlich einladen." }
        guard errors.isEmpty else { throw InvalidInput(errors: errors) }
        return try await work.work(identity, clientAddress: clientAddress) { connection, audit in
            let locked = try await lock(id, identity, allowing: [.lead], on: connection)
            guard locked.version == version else { throw Self.staleConference }
            guard !locked.planned, let consent = locked.handoverConsent else {
                throw InvalidInput(
                    field: "conference",
                    "Die Fallkonferenz ist bereits geplant. Den Termin verschieben oder weitere Teilnehmende einladen können Sie auf ihrer Seite."
                )
            }
            let tenants = try await otherTenants(plan.participants ?? [], of: identity, besides: locked.owner, on: connection)
            let persons = try await invitees(addresses, on: connection)
            try await connection.query(
                """
                UPDATE case_conferences SET scheduled_at = \(plan.scheduledAt), title = coalesce(\(title), title),
                       agenda = coalesce(\(plan.agenda?.trimmingCharacters(in: .whitespacesAndNewlines)), agenda),
                       planned_at = now(), planned_by_name = \(identity.displayName), version = version + 1
                WHERE id = \(id) AND tenant_id = \(locked.owner)
                """,
                logger: logger
            )
            try await addParticipants(
                to: id,
                of: locked.owner,
                scheduledAt: plan.scheduledAt,
                tenants: tenants,
                persons: persons,
                external: plan.externalParticipants ?? [],
                consent: consent,
                by: identity,
                on: connection
            )
            try await Notifier.notify(
                locked.requester,
                .conferenceChanged,
                title: "\(identity.tenant.name) hat die Fallkonferenz auf Kreisebene für den \(GermanFormat.deadline(plan.scheduledAt)) geplant",
                link: "/konferenzen/\(id.uuidString.lowercased())",
                dedupeKey: "conference-planned:\(id.uuidString.lowercased())",
                on: connection,
                logger: logger
            )
            audit.append(
                work.event("conference.planned_by_lead", identity, "conference", id, ["invited": "\(tenants.count)", "people": "\(persons.count)"])
            )
            return try await load([id], actingFor: identity.tenant.id, as: identity, on: connection).first!
        }
    }

    /// A coordinator takes on the moderation of a municipal conference its town asked the district to moderate: from then on
    /// the grant is to this coordinator by name (the other coordinators no longer see it), who writes the minutes.
    public func takeOnModeration(_ id: UUID, by identity: Identity, clientAddress: String?) async throws -> CaseConference {
        try await work.work(identity, clientAddress: clientAddress) { connection, audit in
            let taken = try await connection.query("SELECT conference_take_on(\(id))", logger: logger).collect().first?.decode(String?.self) ?? nil
            guard taken != nil, let conference = try await load([id], actingFor: identity.tenant.id, as: identity, on: connection).first else {
                throw DomainError.notFound("Diese Fallkonferenz bittet Ihre Koordinierungsstelle nicht (mehr) um Moderation.")
            }
            guard conference.part == Part.moderator.rawValue else {
                throw DomainError.conflict(
                    "Die Moderation dieser Fallkonferenz hat bereits \(conference.moderatorName ?? "jemand anderes") übernommen."
                )
            }
            let requester = try await connection.query("SELECT created_by FROM case_conferences WHERE id = \(id)", logger: logger)
                .collect().first?.decode(UUID.self)
            if let requester {
                try await Notifier.notify(
                    requester,
                    .conferenceChanged,
                    title:
                        "\(identity.displayName) (\(identity.tenant.name)) moderiert Ihre Fallkonferenz am \(GermanFormat.deadline(conference.scheduledAt))",
                    link: "/konferenzen/\(id.uuidString.lowercased())",
                    dedupeKey: "conference-moderator:\(id.uuidString.lowercased())",
                    on: connection,
                    logger: logger
                )
            }
            audit.append(work.event("conference.moderation_taken_on", identity, "conference", id))
            return conference
        }
    }

    /// Moves a conference (if still at `version`); the people invited by name, and the town's case manager who asked the
    /// coordinators, are told.
    public func reschedule(
        _ id: UUID,
        version: Int,
        to scheduledAt: Date,
        by identity: Identity,
        clientAddress: String?
    ) async throws -> CaseConference {
        try await work.work(identity, clientAddress: clientAddress) { connection, audit in
            let locked = try await lock(id, identity, on: connection)
            guard locked.version == version else { throw Self.staleConference }
            try await connection.query(
                "UPDATE case_conferences SET scheduled_at = \(scheduledAt), version = version + 1 WHERE id = \(id) AND tenant_id = \(locked.owner)",
                logger: logger
            )
            let when = GermanFormat.deadline(scheduledAt)
            try await caseEvent(
                locked,
                "conference_rescheduled",
                "Fallkonferenz „\(locked.title)“ vom \(GermanFormat.deadline(locked.scheduledAt)) auf den \(when) verlegt.",
                identity,
                connection
            )
            try await notifyNamed(
                locked,
                .conferenceChanged,
                title: "\(identity.tenant.name) hat eine Fallkonferenz auf den \(when) verlegt",
                link: "/konferenzen/\(id.uuidString.lowercased())",
                occasion: "conference-changed:\(id.uuidString.lowercased()):\(version + 1)",
                by: identity,
                on: connection
            )
            audit.append(work.event("conference.rescheduled", identity, "conference", id, ["as": locked.part.rawValue]))
            return try await load([id], actingFor: identity.tenant.id, as: identity, on: connection).first!
        }
    }

    /// Calls off a conference (if still at `version`): every grant on it ends at once, and the people invited by name are told.
    public func cancel(_ id: UUID, version: Int, reason: String, by identity: Identity, clientAddress: String?) async throws -> CaseConference {
        let reason = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !reason.isEmpty, reason.count <= 1000 else {
            throw InvalidInput(field: "reason", "Bitte kurz angeben, warum die Fallkonferenz abgesagt wird (bis 1000 Zeichen).")
        }
        return try await work.work(identity, clientAddress: clientAddress) { connection, audit in
            let locked = try await lock(id, identity, on: connection)
            guard locked.version == version else { throw Self.staleConference }
            try await connection.query(
                """
                UPDATE case_conferences SET cancelled_at = now(), cancel_reason = \(reason), version = version + 1
                WHERE id = \(id) AND tenant_id = \(locked.owner)
                """,
                logger: logger
            )
            let revoked = try await connection.query(
                """
                UPDATE access_grants SET revoked_at = now(), revoked_by = \(identity.userID), revoke_reason = 'conference cancelled'
                WHERE tenant_id = \(locked.owner) AND object_type = 'conference' AND object_id = \(id) AND revoked_at IS NULL RETURNING 1
                """,
                logger: logger
            ).collect().count
            try await caseEvent(locked, "conference_cancelled", "Fallkonferenz „\(locked.title)“ abgesagt: \(reason)", identity, connection)
            try await notifyNamed(
                locked,
                .conferenceCancelled,
                title: "\(identity.tenant.name) hat die Fallkonferenz am \(GermanFormat.deadline(locked.scheduledAt)) abgesagt",
                link: "/konferenzen",
                occasion: "conference-cancelled:\(id.uuidString.lowercased())",
                by: identity,
                on: connection
            )
            audit.append(
                work.event("conference.cancelled", identity, "conference", id, ["grants_revoked": "\(revoked)", "as": locked.part.rawValue])
            )
            return try await load([id], actingFor: identity.tenant.id, as: identity, on: connection).first!
        }
    }

    /// A conference locked for a change by the acting person, and their part in it.
    struct Locked {
        var id: UUID
        /// The town whose row (and case) it is.
        var owner: UUID
        var caseID: UUID
        var title: String
        var scheduledAt: Date
        var version: Int
        var part: Part
        /// The hand-over consent the town recorded with its request (a district conference).
        var handoverConsent: UUID?
        var planned: Bool
        /// Who planned it or asked the coordinators for it.
        var requester: UUID
    }

    /// The conference, locked for a change by someone whose part is one of `parts`; 404 for anyone else (the row-level
    /// policies let only the organising town, the leading coordinators and the moderator lock it), 422 once called off.
    func lock(
        _ id: UUID,
        _ identity: Identity,
        allowing parts: Set<Part> = [.organiser, .lead],
        evenIfCancelled: Bool = false,
        on connection: PostgresConnection
    ) async throws -> Locked {
        guard work.policy.allows(identity, .workCases) || identity.has(.districtCoordinator) else {
            throw DomainError.forbidden("Eine Fallkonferenz ändern die Fallverantwortlichen der Stadt und die Koordinierungsstelle des Kreises.")
        }
        guard
            let row = try await connection.query(
                """
                SELECT tenant_id, case_id, title, scheduled_at, version, cancelled_at IS NOT NULL, lead_tenant_id, moderator_user_id,
                       handover_consent_id, planned_at IS NOT NULL, created_by
                FROM case_conferences WHERE id = \(id) FOR UPDATE
                """,
                logger: logger
            ).collect().first
        else { throw Self.noConference }
        let (owner, caseID, title, scheduledAt, version, cancelled, lead, moderator, consent, planned, requester) = try row.decode(
            (UUID, UUID, String, Date, Int, Bool, UUID?, UUID?, UUID?, Bool, UUID).self
        )
        guard let part = Self.part(of: identity, owner: owner, lead: lead, moderator: moderator, policy: work.policy) else {
            throw Self.noConference
        }
        guard parts.contains(part) else {
            throw DomainError.forbidden(
                part == .moderator
                    ? "Als Moderatorin oder Moderator schreiben Sie das Protokoll; alles Weitere ändert, wer die Fallkonferenz einlädt."
                    : "Das tut die Koordinierungsstelle, die die Fallkonferenz leitet."
            )
        }
        guard evenIfCancelled || !cancelled else {
            throw InvalidInput(field: "conference", "Die Fallkonferenz ist abgesagt; sie kann nicht mehr geändert werden.")
        }
        return Locked(
            id: id,
            owner: owner,
            caseID: caseID,
            title: title,
            scheduledAt: scheduledAt,
            version: version,
            part: part,
            handoverConsent: consent,
            planned: planned,
            requester: requester
        )
    }

    /// A change by the town is written to its case's history; the coordinators do not write in the town's case.
    func caseEvent(_ locked: Locked, _ kind: String, _ text: String, _ identity: Identity, _ connection: PostgresConnection) async throws {
        guard locked.part == .organiser else { return }
        try await CaseRecords.addEvent(
            kind,
            text: text,
            case: locked.caseID,
            tenant: identity.tenant.id,
            actor: identity.userID,
            on: connection,
            logger: logger
        )
    }

    /// Tells the people invited by name (not the one acting) and, when the coordinators change it, the town's case manager who asked.
    func notifyNamed(
        _ locked: Locked,
        _ kind: NotificationKind,
        title: String,
        link: String,
        occasion: String,
        by identity: Identity,
        on connection: PostgresConnection
    ) async throws {
        var people = try await connection.query(
            "SELECT participant_user_id FROM conference_participants WHERE conference_id = \(locked.id) AND participant_user_id IS NOT NULL",
            logger: logger
        ).collect().map { try $0.decode(UUID.self) }
        if locked.part != .organiser { people.append(locked.requester) }
        for person in Set(people) where person != identity.userID {
            try await Notifier.notify(person, kind, title: title, link: link, dedupeKey: occasion, on: connection, logger: logger)
        }
    }

    /// Invitee addresses as given: trimmed, lower case, without repeats.
    static func addresses(_ invitees: [String]?) -> Set<String> {
        Set((invitees ?? []).map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.filter { !$0.isEmpty })
    }

    /// The tenants behind `slugs`: each another tenant of the identity's district, or a 422.
    /// `besides`: the town whose conference it is (it takes part through its case manager, not as an invited tenant).
    func otherTenants(
        _ slugs: [String],
        of identity: Identity,
        besides owner: UUID? = nil,
        on connection: PostgresConnection
    ) async throws
        -> [TenantRef]
    {
        var tenants: [TenantRef] = []
        for slug in Set(slugs) {
            guard let tenant = try await TenantDirectory.find(slug: slug, on: connection, logger: logger),
                tenant.ownDistrictID == identity.tenant.ownDistrictID, tenant.id != identity.tenant.id, tenant.id != owner
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

    /// Conferences the identity's tenant organises, leads or is invited to, the latest first (an audited read).
    public func list(by identity: Identity, clientAddress: String?) async throws -> [CaseConference] {
        try await work.work(identity, clientAddress: clientAddress) { connection, audit in
            let ids = try await connection.query(
                "SELECT id FROM case_conferences ORDER BY scheduled_at DESC LIMIT 200",
                logger: logger
            ).collect().map { try $0.decode(UUID.self) }
            audit.append(AuditEvent("conference.listed", tenant: identity.tenant.id, actor: identity.userID, detail: ["results": "\(ids.count)"]))
            return try await load(ids, actingFor: identity.tenant.id, as: identity, on: connection)
        }
    }

    public func conference(_ id: UUID, by identity: Identity, clientAddress: String?) async throws -> CaseConference {
        try await page(id, by: identity, clientAddress: clientAddress).conference
    }

    /// A conference's page: the conference and, for those who run it, the tenants they can still invite as a whole.
    public func page(
        _ id: UUID,
        by identity: Identity,
        clientAddress: String?
    ) async throws -> (conference: CaseConference, invitable: [(slug: String, name: String)]) {
        try await work.work(identity, clientAddress: clientAddress) { connection, audit in
            guard let conference = try await load([id], actingFor: identity.tenant.id, as: identity, on: connection).first else {
                throw Self.noConference
            }
            audit.append(work.event("conference.read", identity, "conference", id))
            guard ["organiser", "lead"].contains(conference.part) else { return (conference, []) }
            let invitable = try await Self.invitableTenants(of: identity, on: connection, logger: logger).filter { $0.slug != conference.organiser }
            return (conference, invitable)
        }
    }

    /// The minutes (if still at `version`): by the town that organises it, the coordinators who lead it, or the coordinator
    /// who took on its moderation.
    public func recordMinutes(_ id: UUID, version: Int, minutes: String, by identity: Identity, clientAddress: String?) async throws -> CaseConference
    {
        try await work.work(identity, clientAddress: clientAddress) { connection, audit in
            let locked = try await lock(id, identity, allowing: [.organiser, .lead, .moderator], on: connection)
            guard locked.version == version else { throw Self.staleConference }
            try await connection.query(
                """
                UPDATE case_conferences SET minutes = \(minutes.trimmingCharacters(in: .whitespacesAndNewlines)), version = version + 1
                WHERE id = \(id) AND tenant_id = \(locked.owner)
                """,
                logger: logger
            )
            audit.append(work.event("conference.minutes_recorded", identity, "conference", id, ["as": locked.part.rawValue]))
            return try await load([id], actingFor: identity.tenant.id, as: identity, on: connection).first!
        }
    }

    /// An action item with an owner and a due date, by the town that organises the conference or the coordinators who lead it.
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
            let locked = try await lock(id, identity, on: connection)
            try await connection.query(
                """
                INSERT INTO conference_action_items (tenant_id, id, conference_id, text, owner_name, due_on)
                VALUES (\(locked.owner), \(UUID()), \(id), \(text), \(owner), \(dueOn.iso)::date)
                """,
                logger: logger
            )
            audit.append(work.event("conference.action_item_added", identity, "conference", id, ["as": locked.part.rawValue]))
            return try await load([id], actingFor: identity.tenant.id, as: identity, on: connection).first!
        }
    }

    public func completeActionItem(_ item: UUID, of id: UUID, by identity: Identity, clientAddress: String?) async throws {
        try await work.work(identity, clientAddress: clientAddress) { connection, audit in
            let locked: Locked
            do {
                locked = try await lock(id, identity, evenIfCancelled: true, on: connection)
            } catch DomainError.notFound {
                throw Self.noOpenItem
            }
            let done = try await connection.query(
                "UPDATE conference_action_items SET done_on = current_date WHERE id = \(item) AND conference_id = \(id) AND tenant_id = \(locked.owner) AND done_on IS NULL RETURNING 1",
                logger: logger
            ).collect()
            guard !done.isEmpty else { throw Self.noOpenItem }
            audit.append(work.event("conference.action_item_done", identity, "conference", id))
        }
    }

    static let noOpenItem = DomainError.notFound("Diese offene Aufgabe gibt es in Ihrer Fallkonferenz nicht.")
    static let staleConference = DomainError.stale("Die Fallkonferenz wurde inzwischen geändert. Bitte neu laden.")
    static let noConference = DomainError.notFound("Diese Fallkonferenz gibt es nicht – oder Sie sind nicht (mehr) eingeladen.")
}
