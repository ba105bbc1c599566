import Foundation
import Logging
import PostgresNIO

/// The district's naturalisation campaign (issue 21, migrations/0037_naturalisation_campaign.sql): led by the coordinators,
/// with the participating towns' case managers and the counselling services; events, a letter in several languages, and
/// counts per town (clients informed, pre-checks asked, applications made) — never names at district level.
public struct NaturalisationCampaign: Sendable, Equatable {
    public struct Event: Sendable, Equatable {
        public var heldOn: Day
        public var title: String
        public var place: String?
        public var town: String?
    }
    public struct Letter: Sendable, Equatable {
        public var language: String
        public var body: String
        public var languageName: String { Campaigns.languages[language] ?? language }
    }
    /// One participating town's counts, as the district may see them (suppressed like the figures).
    public struct TownCounts: Sendable, Equatable {
        public var town: String
        public var informed: FigureCount
        public var prechecks: FigureCount
        public var applications: FigureCount
    }

    public var id: UUID
    public var title: String
    public var startsOn: Day
    public var endsOn: Day
    public var description: String?
    public var townIDs: [UUID]
    public var towns: [String]
    public var services: [String]
    public var events: [Event] = []
    public var letters: [Letter] = []
}

/// What the coordinators enter for a new campaign.
public struct NewCampaign: Sendable {
    public var title: String
    public var startsOn: Day?
    public var endsOn: Day?
    public var description: String?
    public var towns: [UUID]
    public var services: [UUID]

    public init(title: String, startsOn: Day?, endsOn: Day?, description: String?, towns: [UUID], services: [UUID]) {
        self.title = title
        self.startsOn = startsOn
        self.endsOn = endsOn
        self.description = description
        self.towns = towns
        self.services = services
    }

    /// The plan as it may be stored (title and description trimmed), or every problem at once.
    func validated() throws -> (title: String, description: String?, starts: Day, ends: Day) {
        let title = title.trimmingCharacters(in: .whitespacesAndNewlines)
        let description = NewPrecheck.trimmed(description)
        var errors: [String: String] = [:]
        if title.isEmpty || title.count > 200 { errors["title"] = "Bitte der Kampagne einen Titel von 1 bis 200 Zeichen geben." }
        if startsOn == nil { errors["starts_on"] = "Bitte angeben, ab wann die Kampagne läuft." }
        if endsOn == nil { errors["ends_on"] = "Bitte angeben, bis wann die Kampagne läuft." }
        if let starts = startsOn, let ends = endsOn, ends < starts {
            errors["ends_on"] = "Das Ende liegt vor dem Beginn (\(starts.german)): bitte ein Datum ab dann angeben."
        }
        if (description?.count ?? 0) > 4000 { errors["description"] = "Die Beschreibung: höchstens 4000 Zeichen." }
        if towns.isEmpty { errors["towns"] = "Bitte mindestens eine teilnehmende Stadt wählen." }
        guard errors.isEmpty, let starts = startsOn, let ends = endsOn else { throw InvalidInput(errors: errors) }
        return (title, description, starts, ends)
    }
}

enum CampaignRecords {
    static let select = """
        SELECT c.id, c.title, to_char(c.starts_on, 'YYYY-MM-DD'), to_char(c.ends_on, 'YYYY-MM-DD'), c.description, c.towns,
               coalesce((SELECT array_agg(t.name ORDER BY t.name) FROM tenants t WHERE t.id = ANY (c.towns)), '{}'),
               coalesce((SELECT array_agg(s.name ORDER BY s.name) FROM services s WHERE s.id = ANY (c.services)), '{}')
        FROM naturalisation_campaigns c
        """

    /// The campaigns the acting tenant sees: of the district `district`, with the town `town` taking part, or the one `id`.
    static func list(
        district: UUID? = nil,
        town: UUID? = nil,
        id: UUID? = nil,
        on connection: PostgresConnection,
        logger: Logger
    ) async throws -> [NaturalisationCampaign] {
        var found: [NaturalisationCampaign] = []
        let rows = try await connection.query(
            """
            \(unescaped: select)
            WHERE (\(district)::uuid IS NULL OR c.tenant_id = \(district)) AND (\(town)::uuid IS NULL OR \(town) = ANY (c.towns))
              AND (\(id)::uuid IS NULL OR c.id = \(id))
            ORDER BY c.starts_on DESC, c.title
            """,
            logger: logger
        )
        for try await (id, title, starts, ends, description, townIDs, towns, services) in rows.decode(
            (UUID, String, String, String, String?, [UUID], [String], [String]).self
        ) {
            found.append(
                NaturalisationCampaign(
                    id: id,
                    title: title,
                    startsOn: Day(starts)!,
                    endsOn: Day(ends)!,
                    description: description,
                    townIDs: townIDs,
                    towns: towns,
                    services: services
                )
            )
        }
        return found
    }

    /// One campaign the acting tenant sees, with its events and letters.
    static func find(_ id: UUID, on connection: PostgresConnection, logger: Logger) async throws -> NaturalisationCampaign? {
        guard var campaign = try await list(id: id, on: connection, logger: logger).first else { return nil }
        let events = try await connection.query(
            """
            SELECT to_char(e.held_on, 'YYYY-MM-DD'), e.title, e.place, t.name FROM campaign_events e LEFT JOIN tenants t ON t.id = e.town_id
            WHERE e.campaign_id = \(id) ORDER BY e.held_on, e.title
            """,
            logger: logger
        )
        for try await (day, title, place, town) in events.decode((String, String, String?, String?).self) {
            campaign.events.append(.init(heldOn: Day(day)!, title: title, place: place, town: town))
        }
        let letters = try await connection.query(
            "SELECT language, body FROM campaign_letters WHERE campaign_id = \(id) ORDER BY language",
            logger: logger
        )
        for try await (language, body) in letters.decode((String, String).self) { campaign.letters.append(.init(language: language, body: body)) }
        return campaign
    }
}

/// The campaign's service: the coordinators plan it and read its counts; the participating towns' case workers read it and
/// record the clients they informed. Every call is one transaction acting for the caller's tenant.
public struct Campaigns: Sendable {
    let district: TenantWork
    let town: TenantWork

    public init(database: Database, policy: Policy) {
        district = .coordination(database, policy)
        town = .caseManagement(database, policy)
    }

    var logger: Logger { district.logger }

    /// The languages a letter may be written in (ISO 639-1), with their German names.
    static let languages: [String: String] = [
        "de": "Deutsch", "en": "Englisch", "ar": "Arabisch", "fa": "Persisch (Farsi)", "uk": "Ukrainisch", "ru": "Russisch", "tr": "Türkisch",
        "ku": "Kurdisch", "ti": "Tigrinya", "so": "Somali", "fr": "Französisch", "ps": "Paschtu",
    ]
    static let notFound = DomainError.notFound("Diese Kampagne gibt es nicht (oder nicht für Ihren Mandanten).")

    /// The district's towns and services, to choose the participants from.
    public struct Choices: Sendable {
        public var towns: [(id: UUID, name: String)]
        public var services: [(id: UUID, name: String)]
    }

    static func choices(district: UUID, on connection: PostgresConnection, logger: Logger) async throws -> Choices {
        let towns = try await connection.query(
            "SELECT id, name FROM tenants WHERE district_id = \(district) AND kind = 'municipality' AND active ORDER BY name",
            logger: logger
        ).collect().map { try $0.decode((UUID, String).self) }.map { (id: $0.0, name: $0.1) }
        let services = try await connection.query(
            "SELECT id, name FROM services WHERE district_id = \(district) AND active ORDER BY name",
            logger: logger
        ).collect().map { try $0.decode((UUID, String).self) }.map { (id: $0.0, name: $0.1) }
        return Choices(towns: towns, services: services)
    }

    /// Refuses towns and services that are not the district's own choices.
    static func checkChoices(of new: NewCampaign, district: UUID, on connection: PostgresConnection, logger: Logger) async throws {
        let choices = try await Self.choices(district: district, on: connection, logger: logger)
        guard Set(new.towns).isSubset(of: choices.towns.map(\.id)) else {
            throw InvalidInput(field: "towns", "Bitte nur Städte des eigenen Kreises wählen.")
        }
        guard Set(new.services).isSubset(of: choices.services.map(\.id)) else {
            throw InvalidInput(field: "services", "Bitte nur Beratungsstellen aus dem Versorgungssystem des Kreises wählen.")
        }
    }

    // MARK: - The coordinators

    public func overview(by identity: Identity, clientAddress: String?) async throws -> (campaigns: [NaturalisationCampaign], choices: Choices) {
        try await district.work(identity, clientAddress: clientAddress) { connection, _ in
            let campaigns = try await CampaignRecords.list(district: identity.tenant.id, on: connection, logger: logger)
            return (campaigns, try await Self.choices(district: identity.tenant.id, on: connection, logger: logger))
        }
    }

    /// Starts a campaign; every problem at once.
    public func create(_ new: NewCampaign, by identity: Identity, clientAddress: String?) async throws -> NaturalisationCampaign {
        let (title, description, starts, ends) = try new.validated()
        return try await district.work(identity, clientAddress: clientAddress) { connection, audit in
            try await Self.checkChoices(of: new, district: identity.tenant.id, on: connection, logger: logger)
            let id = UUID()
            try await connection.query(
                """
                INSERT INTO naturalisation_campaigns (tenant_id, id, title, starts_on, ends_on, description, towns, services, created_by)
                VALUES (\(identity.tenant.id), \(id), \(title), \(starts.iso)::date, \(ends.iso)::date, \(description), \(new.towns), \(new.services),
                        \(identity.userID))
                """,
                logger: logger
            )
            audit.append(district.event("campaign.created", identity, "campaign", id))
            return try await CampaignRecords.find(id, on: connection, logger: logger)!
        }
    }

    /// One campaign of the district with its counts per town, suppressed as the district's figures are.
    public func campaign(
        _ id: UUID,
        by identity: Identity,
        clientAddress: String?
    ) async throws -> (campaign: NaturalisationCampaign, counts: [NaturalisationCampaign.TownCounts], choices: Choices) {
        try await district.work(identity, clientAddress: clientAddress) { connection, audit in
            guard let campaign = try await CampaignRecords.find(id, on: connection, logger: logger),
                try await !connection.query(
                    "SELECT 1 FROM naturalisation_campaigns WHERE id = \(id) AND tenant_id = \(identity.tenant.id)",
                    logger: logger
                ).collect().isEmpty
            else { throw Self.notFound }
            var raw: [(town: String, counts: [Int])] = []
            let rows = try await connection.query(
                "SELECT t.name, c.informed, c.prechecks, c.applications FROM campaign_counts(\(id)) c JOIN tenants t ON t.id = c.town ORDER BY t.name",
                logger: logger
            )
            for try await (town, informed, prechecks, applications) in rows.decode((String, Int, Int, Int).self) {
                raw.append((town, [informed, prechecks, applications]))
            }
            let rules = try await ReminderSweep.rules(for: identity.tenant.id, on: connection, logger: logger)
            audit.append(district.event("campaign.read", identity, "campaign", id))
            return (
                campaign, Self.suppressed(raw, threshold: rules.suppressCountsBelow),
                try await Self.choices(district: identity.tenant.id, on: connection, logger: logger)
            )
        }
    }

    /// The towns' counts and their totals ("Kreis insgesamt", last) through the figures' suppression: a small count is
    /// "<5", and a count from which one could be worked out (a column's total minus the other towns) is withheld.
    static func suppressed(_ raw: [(town: String, counts: [Int])], threshold: Int) -> [NaturalisationCampaign.TownCounts] {
        let suppression = Suppression(threshold: threshold)
        let columns = 3
        let totals = (0..<columns).map { column in raw.map { $0.counts[column] }.reduce(0, +) }
        let exact = raw.flatMap(\.counts) + totals
        let relations: [ComplementarySuppression.Relation] = (0..<columns).map { column in
            [(cell: raw.count * columns + column, sign: -1)] + raw.indices.map { (cell: $0 * columns + column, sign: 1) }
        }
        var protection = ComplementarySuppression(counts: exact.map(suppression.count), relations: relations, threshold: threshold)
        protection.protect()
        let names = raw.map(\.town) + ["Kreis insgesamt"]
        return names.indices.map { row in
            let cells = protection.counts[(row * columns)..<(row * columns + columns)].map { $0 }
            return .init(town: names[row], informed: cells[0], prechecks: cells[1], applications: cells[2])
        }
    }

    public func addEvent(
        to id: UUID,
        heldOn: Day?,
        title: String,
        place: String?,
        town: UUID?,
        by identity: Identity,
        clientAddress: String?
    ) async throws {
        let title = title.trimmingCharacters(in: .whitespacesAndNewlines)
        let place = NewPrecheck.trimmed(place)
        var errors: [String: String] = [:]
        if heldOn == nil { errors["held_on"] = "Bitte den Tag der Veranstaltung angeben." }
        if title.isEmpty || title.count > 200 { errors["event_title"] = "Bitte die Veranstaltung in 1 bis 200 Zeichen benennen." }
        if (place?.count ?? 0) > 200 { errors["place"] = "Der Ort: höchstens 200 Zeichen." }
        guard errors.isEmpty, let heldOn else { throw InvalidInput(errors: errors) }
        try await district.work(identity, clientAddress: clientAddress) { connection, audit in
            guard let campaign = try await CampaignRecords.find(id, on: connection, logger: logger) else { throw Self.notFound }
            if let town, !campaign.townIDs.contains(town) {
                throw InvalidInput(field: "town_id", "Bitte eine der teilnehmenden Städte wählen, oder „im ganzen Kreis“.")
            }
            try await connection.query(
                """
                INSERT INTO campaign_events (tenant_id, id, campaign_id, held_on, title, place, town_id, created_by)
                VALUES (\(identity.tenant.id), \(UUID()), \(id), \(heldOn.iso)::date, \(title), \(place), \(town), \(identity.userID))
                """,
                logger: logger
            )
            audit.append(district.event("campaign.event_added", identity, "campaign", id))
        }
    }

    public func addLetter(to id: UUID, language: String, body: String, by identity: Identity, clientAddress: String?) async throws {
        let body = body.trimmingCharacters(in: .whitespacesAndNewlines)
        var errors: [String: String] = [:]
        if Self.languages[language] == nil { errors["language"] = "Bitte die Sprache des Schreibens aus der Liste wählen." }
        if body.isEmpty || body.count > 10_000 { errors["body"] = "Bitte den Text des Schreibens in 1 bis 10.000 Zeichen angeben." }
        guard errors.isEmpty else { throw InvalidInput(errors: errors) }
        try await district.work(identity, clientAddress: clientAddress) { connection, audit in
            guard let campaign = try await CampaignRecords.find(id, on: connection, logger: logger) else { throw Self.notFound }
            if campaign.letters.contains(where: { $0.language == language }) {
                throw InvalidInput(
                    field: "language",
                    "Ein Schreiben auf \(Self.languages[language]!) gibt es schon: bitte eine andere Sprache wählen."
                )
            }
            try await connection.query(
                """
                INSERT INTO campaign_letters (tenant_id, id, campaign_id, language, body, created_by)
                VALUES (\(identity.tenant.id), \(UUID()), \(id), \(language), \(body), \(identity.userID))
                """,
                logger: logger
            )
            audit.append(district.event("campaign.letter_added", identity, "campaign", id, ["language": language]))
        }
    }

    // MARK: - The participating towns

    /// The campaigns the town takes part in.
    public func ofTown(by identity: Identity, clientAddress: String?) async throws -> [NaturalisationCampaign] {
        try await town.work(identity, clientAddress: clientAddress) { connection, _ in
            try await CampaignRecords.list(town: identity.tenant.id, on: connection, logger: logger)
        }
    }

    /// One campaign the town takes part in, with how many of its clients were informed (its own count, exact).
    public func forTown(_ id: UUID, by identity: Identity, clientAddress: String?) async throws -> (campaign: NaturalisationCampaign, informed: Int) {
        try await town.work(identity, clientAddress: clientAddress) { connection, _ in
            guard let campaign = try await CampaignRecords.find(id, on: connection, logger: logger), campaign.townIDs.contains(identity.tenant.id)
            else { throw Self.notFound }
            let informed = try await connection.query("SELECT count(*)::integer FROM campaign_contacts WHERE campaign_id = \(id)", logger: logger)
                .collect().first!.decode(Int.self)
            return (campaign, informed)
        }
    }

    /// Records that the client of the case numbered `caseNumber` was informed on `day` (the letter handed over or sent, or at
    /// an event).
    public func inform(
        _ id: UUID,
        caseNumber: String,
        on day: Day?,
        how: String,
        by identity: Identity,
        clientAddress: String?
    ) async throws {
        let caseNumber = caseNumber.trimmingCharacters(in: .whitespaces)
        var errors: [String: String] = [:]
        if caseNumber.isEmpty { errors["case_number"] = "Bitte die Fallnummer des Klienten angeben (steht auf der Fallseite)." }
        if day == nil { errors["informed_on"] = "Bitte den Tag angeben, an dem der Klient informiert wurde." }
        if let day, day > .today { errors["informed_on"] = "Der Tag liegt in der Zukunft: bitte heute (\(Day.today.german)) oder früher angeben." }
        if !["handed", "sent", "event"].contains(how) {
            errors["how"] = "Bitte wählen, wie informiert wurde: übergeben, geschickt oder bei einer Veranstaltung."
        }
        guard errors.isEmpty, let day else { throw InvalidInput(errors: errors) }
        try await town.work(identity, clientAddress: clientAddress) { connection, audit in
            guard let campaign = try await CampaignRecords.find(id, on: connection, logger: logger), campaign.townIDs.contains(identity.tenant.id)
            else { throw Self.notFound }
            guard
                let client = try await connection.query(
                    "SELECT client_id FROM cases WHERE case_number = \(caseNumber)",
                    logger: logger
                ).collect().first?.decode(UUID.self)
            else { throw InvalidInput(field: "case_number", "Einen Fall mit der Nummer „\(caseNumber)“ gibt es in Ihrem Mandanten nicht.") }
            do {
                try await connection.query(
                    """
                    INSERT INTO campaign_contacts (tenant_id, id, campaign_id, client_id, informed_on, how, recorded_by)
                    VALUES (\(identity.tenant.id), \(UUID()), \(id), \(client), \(day.iso)::date, \(how), \(identity.userID))
                    """,
                    logger: logger
                )
            } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23505" {
                throw InvalidInput(field: "case_number", "Dieser Klient ist für diese Kampagne schon als informiert eingetragen.")
            }
            audit.append(town.event("campaign.client_informed", identity, "campaign", campaign.id, ["client": client.uuidString]))
        }
    }
}
