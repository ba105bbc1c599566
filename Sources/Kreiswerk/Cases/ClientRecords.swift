import Foundation
import Logging
import PostgresNIO

/// Clients and their consents in PostgreSQL. Every function runs in a transaction acting for the tenant.
public enum ClientRecords {
    static let columns = """
        c.id, t.slug, c.first_name, c.last_name, to_char(c.date_of_birth, 'YYYY-MM-DD'), c.gender, c.place_of_residence, c.social_area,
        c.residence_status, c.country_of_origin, c.languages, c.german_level, c.health_situation, c.household, c.youth_office_measures,
        c.jobcenter_measures, c.club_memberships, to_char(c.arrival_date, 'YYYY-MM-DD'), c.single_parent, c.unaccompanied_minor,
        c.family_with_barriers, c.extra::text, c.version, c.created_at,
        EXISTS (SELECT 1 FROM consents k WHERE k.client_id = c.id AND k.scope = 'case_management'
                AND (k.withdrawn_on IS NULL OR k.withdrawn_on > current_date) AND (k.expires_on IS NULL OR k.expires_on >= current_date)),
        c.residence_title, c.residence_paragraph, to_char(c.residence_valid_until, 'YYYY-MM-DD')
        """

    static func decode(_ rows: PostgresRowSequence) async throws -> [Client] {
        var clients: [Client] = []
        let today = Day.today
        for try await row in rows { clients.append(try client(row, today: today)) }
        return clients
    }

    /// One row of `columns`, or the `columns` of a longer row that start at `first`.
    static func client(_ row: PostgresRow, today: Day, from first: Int = 0) throws -> Client {
        let r = row.makeRandomAccess()
        var data = ClientData(
            firstName: try r[first + 2].decode(String.self),
            lastName: try r[first + 3].decode(String.self),
            dateOfBirth: Day(try r[first + 4].decode(String.self))!
        )
        data.gender = try r[first + 5].decode(String?.self)
        data.placeOfResidence = try r[first + 6].decode(String?.self)
        data.socialArea = try r[first + 7].decode(String?.self)
        data.residenceStatus = try r[first + 8].decode(String?.self)
        data.residenceTitle = try r[first + 25].decode(String?.self)
        data.residenceParagraph = try r[first + 26].decode(String?.self)
        data.residenceValidUntil = try r[first + 27].decode(String?.self).flatMap(Day.init)
        data.countryOfOrigin = try r[first + 9].decode(String?.self)
        data.languages = try r[first + 10].decode([String].self)
        data.germanLevel = try r[first + 11].decode(String?.self)
        data.healthSituation = try r[first + 12].decode(String?.self)
        data.household = try r[first + 13].decode(String?.self)
        data.youthOfficeMeasures = try r[first + 14].decode(String?.self)
        data.jobcenterMeasures = try r[first + 15].decode(String?.self)
        data.clubMemberships = try r[first + 16].decode(String?.self)
        data.arrivalDate = try r[first + 17].decode(String?.self).flatMap(Day.init)
        data.singleParent = try r[first + 18].decode(Bool.self)
        data.unaccompaniedMinor = try r[first + 19].decode(Bool.self)
        data.familyWithBarriers = try r[first + 20].decode(Bool.self)
        let extra = try r[first + 21].decode(String.self)
        data.extra = extra == "{}" ? [:] : try JSONDecoder().decode([String: ExtraValue].self, from: Data(extra.utf8))
        return Client(
            id: try r[first + 0].decode(UUID.self),
            tenant: try r[first + 1].decode(String.self),
            data: data,
            arrivedRecently: data.arrivedRecently(today: today),
            hasCaseManagementConsent: try r[first + 24].decode(Bool.self),
            version: try r[first + 22].decode(Int.self),
            createdAt: try r[first + 23].decode(Date.self)
        )
    }

    static func extraJSON(_ extra: [String: ExtraValue]?) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(extra ?? [:]), as: UTF8.self)
    }

    public static func find(_ id: UUID, on connection: PostgresConnection, logger: Logger) async throws -> Client? {
        try await connection.rows(ClientByID(id: id), logger: logger).first
    }

    struct ClientByID: PreparedByID {
        static let sql = "SELECT \(ClientRecords.columns) FROM clients c JOIN tenants t ON t.id = c.tenant_id WHERE c.id = $1"
        var id: UUID
        func decodeRow(_ row: PostgresRow) throws -> Client { try ClientRecords.client(row, today: .today) }
    }

    /// Clients of the same name and date of birth in this tenant.
    public static func duplicates(of data: ClientData, on connection: PostgresConnection, logger: Logger) async throws -> [UUID] {
        try await connection.query(
            """
            SELECT id FROM clients WHERE lower(last_name) = lower(\(data.lastName)) AND lower(first_name) = lower(\(data.firstName))
              AND date_of_birth = \(data.dateOfBirth.iso)::date AND anonymised_at IS NULL
            """,
            logger: logger
        ).collect().map { try $0.decode(UUID.self) }
    }

    public static func create(_ data: ClientData, tenant: UUID, by user: UUID, on connection: PostgresConnection, logger: Logger) async throws -> UUID
    {
        let id = UUID()
        try await connection.query(
            """
            INSERT INTO clients (tenant_id, id, first_name, last_name, date_of_birth, gender, place_of_residence, social_area, residence_status,
                residence_title, residence_paragraph, residence_valid_until, country_of_origin, languages, german_level, health_situation, household, youth_office_measures, jobcenter_measures, club_memberships,
                arrival_date, single_parent, unaccompanied_minor, family_with_barriers, extra, created_by)
            VALUES (\(tenant), \(id), \(data.firstName), \(data.lastName), \(data.dateOfBirth.iso)::date, \(data.gender), \(data.placeOfResidence),
                \(data.socialArea), \(data.residenceStatus), \(data.residenceTitle), \(data.residenceParagraph),
                \(data.residenceValidUntil?.iso)::date, \(data.countryOfOrigin), \(data.languages ?? []), \(data.germanLevel), \(data.healthSituation),
                \(data.household), \(data.youthOfficeMeasures), \(data.jobcenterMeasures), \(data.clubMemberships), \(data.arrivalDate?.iso)::date,
                \(data.singleParent ?? false), \(data.unaccompaniedMinor ?? false), \(data.familyWithBarriers ?? false), \(try extraJSON(data.extra))::jsonb, \(user))
            """,
            logger: logger
        )
        return id
    }

    /// Replaces the record's data if it is still at `version`; `stale` otherwise.
    public static func update(_ id: UUID, version: Int, with data: ClientData, on connection: PostgresConnection, logger: Logger) async throws {
        let rows = try await connection.query(
            """
            UPDATE clients SET first_name = \(data.firstName), last_name = \(data.lastName), date_of_birth = \(data.dateOfBirth.iso)::date,
                gender = \(data.gender), place_of_residence = \(data.placeOfResidence), social_area = \(data.socialArea),
                residence_status = \(data.residenceStatus), residence_title = \(data.residenceTitle),
                residence_paragraph = \(data.residenceParagraph), residence_valid_until = \(data.residenceValidUntil?.iso)::date, country_of_origin = \(data.countryOfOrigin), languages = \(data.languages ?? []),
                german_level = \(data.germanLevel), health_situation = \(data.healthSituation), household = \(data.household),
                youth_office_measures = \(data.youthOfficeMeasures), jobcenter_measures = \(data.jobcenterMeasures),
                club_memberships = \(data.clubMemberships), arrival_date = \(data.arrivalDate?.iso)::date, single_parent = \(data.singleParent ?? false),
                unaccompanied_minor = \(data.unaccompaniedMinor ?? false), family_with_barriers = \(data.familyWithBarriers ?? false),
                extra = \(try extraJSON(data.extra))::jsonb, version = version + 1, updated_at = now()
            WHERE id = \(id) AND version = \(version) RETURNING 1
            """,
            logger: logger
        ).collect()
        guard !rows.isEmpty else {
            throw DomainError.stale("Die Angaben wurden inzwischen von jemand anderem geändert. Bitte neu laden und Ihre Änderung erneut eintragen.")
        }
    }

    /// Search within the tenant: a date of birth, a case number, or every word of `text` in the name.
    /// Each kind is its own simple query, so that each can use its index (row-level security adds the tenant).
    public static func search(_ text: String, limit: Int = 50, on connection: PostgresConnection, logger: Logger) async throws -> [Client] {
        let query = text.trimmingCharacters(in: .whitespaces)
        let order = "ORDER BY c.last_name, c.first_name, c.date_of_birth LIMIT \(limit)"
        let select = "SELECT \(columns) FROM clients c JOIN tenants t ON t.id = c.tenant_id WHERE c.anonymised_at IS NULL"
        if let birth = Day(query)?.iso ?? germanDate(query) {
            var binds = PostgresBindings()
            binds.append(birth)
            return try await decode(
                connection.query(PostgresQuery(unsafeSQL: "\(select) AND c.date_of_birth = $1::date \(order)", binds: binds), logger: logger)
            )
        }
        if query.contains("-"), query.contains(where: \.isNumber) {
            var binds = PostgresBindings()
            binds.append(query.uppercased())
            let found = try await decode(
                connection.query(
                    PostgresQuery(unsafeSQL: "\(select) AND c.id IN (SELECT client_id FROM cases WHERE case_number = $1) \(order)", binds: binds),
                    logger: logger
                )
            )
            if !found.isEmpty { return found }
        }
        // Up to four words, each a LIKE the trigram index answers.
        let words = query.lowercased().split(separator: " ").prefix(4).map {
            "%"
                + $0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(
                    of: "_",
                    with: "\\_"
                ) + "%"
        }
        guard !words.isEmpty else { return [] }
        // The lookup goes through the trigram index in client_search_ids (see migration 0011); this query
        // reads the clients it names under row-level security.
        var binds = PostgresBindings()
        binds.append(Array(words))
        binds.append(limit)
        return try await decode(
            connection.query(
                PostgresQuery(unsafeSQL: "\(select) AND c.id IN (SELECT client_search_ids($1::text[], $2::integer)) \(order)", binds: binds),
                logger: logger
            )
        )
    }

    /// 23.11.2026 → 2026-11-23
    static func germanDate(_ text: String) -> String? {
        let parts = text.split(separator: ".")
        guard parts.count == 3, parts[2].count == 4 else { return nil }
        return Day("\(parts[2])-\(parts[1].count == 1 ? "0" : "")\(parts[1])-\(parts[0].count == 1 ? "0" : "")\(parts[0])")?.iso
    }

    // MARK: - Consent

    public static func consents(of client: UUID, on connection: PostgresConnection, logger: Logger) async throws -> [Consent] {
        let rows = try await connection.query(
            """
            SELECT id, scope, recipient, to_char(given_on, 'YYYY-MM-DD'), to_char(withdrawn_on, 'YYYY-MM-DD'), to_char(expires_on, 'YYYY-MM-DD'),
                given_how, interpreter_language
            FROM consents WHERE client_id = \(client) ORDER BY given_on, recorded_at
            """,
            logger: logger
        )
        var consents: [Consent] = []
        for try await (id, scope, recipient, given, withdrawn, expires, how, language)
            in rows.decode((UUID, String, String?, String, String?, String?, String?, String?).self)
        {
            consents.append(
                Consent(
                    id: id,
                    scope: Consent.Scope(rawValue: scope) ?? .handover,
                    recipient: recipient,
                    givenOn: Day(given)!,
                    withdrawnOn: withdrawn.flatMap(Day.init),
                    expiresOn: expires.flatMap(Day.init),
                    givenHow: how.flatMap(Consent.Manner.init(rawValue:)),
                    interpreterLanguage: language
                )
            )
        }
        return consents
    }

    public static func recordConsent(
        client: UUID,
        tenant: UUID,
        scope: Consent.Scope,
        recipient: String?,
        givenOn: Day,
        expiresOn: Day? = nil,
        givenHow: Consent.Manner? = nil,
        interpreterLanguage: String? = nil,
        by user: UUID,
        on connection: PostgresConnection,
        logger: Logger
    ) async throws -> UUID {
        let id = UUID()
        try await connection.query(
            """
            INSERT INTO consents (tenant_id, id, client_id, scope, recipient, given_on, expires_on, given_how, interpreter_language, recorded_by)
            VALUES (\(tenant), \(id), \(client), \(scope.rawValue), \(recipient), \(givenOn.iso)::date, \(expiresOn?.iso)::date, \(givenHow?.rawValue),
                \(interpreterLanguage), \(user))
            """,
            logger: logger
        )
        return id
    }

    /// Withdraws a consent from `day` on; false if there is no such consent still in force.
    public static func withdrawConsent(_ id: UUID, client: UUID, on day: Day, on connection: PostgresConnection, logger: Logger) async throws -> Bool
    {
        try await !connection.query(
            """
            UPDATE consents SET withdrawn_on = greatest(\(day.iso)::date, given_on)
            WHERE id = \(id) AND client_id = \(client) AND withdrawn_on IS NULL RETURNING 1
            """,
            logger: logger
        ).collect().isEmpty
    }
}
