import Foundation
import Logging
import PostgresNIO
import Yams

/// A counselling service of a district's service directory (Versorgungssystem), as services.yaml declares it.
public struct CounsellingService: Sendable, Codable, Equatable {
    public var key: String
    public var name: String
    public var programme: String
    /// The tenant whose staff receive referrals.
    public var carrier: String
    public var legalSpheres: [String]
    /// Municipality slugs; empty: the whole district.
    public var towns: [String]
    public var languages: [String]
    public var contactEmail: String?
    public var contactPhone: String?
    public var description: String?
    public var address: String?
    public var openingHours: String?
    public var takesNewClients: Bool
    public var waitingWeeks: Int?

    public static let programmes: [String: String] = [
        "mbe": "Migrationsberatung für erwachsene Zuwanderer (MBE)", "jmd": "Jugendmigrationsdienst (JMD)",
        "refugee_counselling": "Flüchtlingsberatung", "participation_management": "Teilhabemanagement",
        "southeast_europe": "Förderprogramm Südosteuropa", "medical_refugee_aid": "Medizinische Flüchtlingshilfe",
        "addiction_counselling": "Suchtberatung", "housing": "Wohnungssuche", "pregnancy_conflict": "Schwangerschaftskonfliktberatung",
        "debt_counselling": "Schuldnerberatung", "health": "Gesundheitsberatung", "other": "Sonstige Beratung",
        // The areas with their own case management (seed 004, section 6): a town's or the district's offices as authority tenants.
        "youth_welfare": "Jugendamt (SGB VIII)", "social_welfare": "Sozialamt (SGB XII)", "jobcenter": "Jobcenter (SGB II)",
        "employment_agency": "Agentur für Arbeit (SGB III)",
    ]
    public static let legalSpheres = ["SGB II", "SGB III", "SGB VIII", "SGB XII", "AufenthG"]
    /// The languages a service can name (ISO 639 codes), with their German names.
    public static let languageNames: [String: String] = [
        "de": "Deutsch", "en": "Englisch", "ar": "Arabisch", "fa": "Persisch (Farsi/Dari)", "tr": "Türkisch", "ru": "Russisch",
        "uk": "Ukrainisch", "ro": "Rumänisch", "bg": "Bulgarisch", "ku": "Kurdisch", "ti": "Tigrinya", "so": "Somali",
        "fr": "Französisch", "pl": "Polnisch", "sq": "Albanisch", "sr": "Serbisch", "ps": "Paschtu", "es": "Spanisch",
        "it": "Italienisch", "el": "Griechisch", "hr": "Kroatisch", "bs": "Bosnisch", "am": "Amharisch", "ur": "Urdu",
    ]

    public static func languageName(_ code: String) -> String { languageNames[code] ?? code }
}

/// What people change of a service (the browser's form, the API's body, one entry of services.yaml), and the one
/// validation all three go through: German messages, each naming the field.
public struct ServiceDraft: Sendable, Equatable {
    public var name: String
    public var programme: String
    /// The carrier's slug; for a carrier's own staff it is their tenant.
    public var carrier: String
    public var legalSpheres: [String]
    public var towns: [String]
    public var languages: [String]
    public var description: String?
    public var address: String?
    public var openingHours: String?
    public var contactEmail: String?
    public var contactPhone: String?
    public var takesNewClients: Bool
    public var waitingWeeks: Int?

    public init(
        name: String,
        programme: String,
        carrier: String,
        legalSpheres: [String] = [],
        towns: [String] = [],
        languages: [String] = [],
        description: String? = nil,
        address: String? = nil,
        openingHours: String? = nil,
        contactEmail: String? = nil,
        contactPhone: String? = nil,
        takesNewClients: Bool = true,
        waitingWeeks: Int? = nil
    ) {
        func text(_ value: String?) -> String? { value?.trimmingCharacters(in: .whitespacesAndNewlines).nonEmpty }
        self.name = name.trimmingCharacters(in: .whitespacesAndNewlines)
        self.programme = programme
        self.carrier = carrier
        self.legalSpheres = legalSpheres
        self.towns = towns
        self.languages = languages
        self.description = text(description)
        self.address = text(address)
        self.openingHours = text(openingHours)
        self.contactEmail = text(contactEmail)
        self.contactPhone = text(contactPhone)
        self.takesNewClients = takesNewClients
        self.waitingWeeks = waitingWeeks
    }

    init(_ service: CounsellingService) {
        self.init(
            name: service.name,
            programme: service.programme,
            carrier: service.carrier,
            legalSpheres: service.legalSpheres,
            towns: service.towns,
            languages: service.languages,
            description: service.description,
            address: service.address,
            openingHours: service.openingHours,
            contactEmail: service.contactEmail,
            contactPhone: service.contactPhone,
            takesNewClients: service.takesNewClients,
            waitingWeeks: service.waitingWeeks
        )
    }

    /// The tenants of a district a service can name: which may carry one, and its towns.
    public struct Context: Sendable {
        /// slug → name of the district's carriers, authorities and municipalities.
        public var carriers: [String: String]
        /// slug → name of the district's towns.
        public var towns: [String: String]
        public var districtName: String
    }

    /// Every problem of the draft, field → German message (empty: valid).
    public func problems(in context: Context) -> [String: String] {
        var problems: [String: String] = [:]
        if name.isEmpty || name.count > 200 { problems["name"] = "Bitte den Namen des Angebots in 1 bis 200 Zeichen angeben." }
        if CounsellingService.programmes[programme] == nil {
            problems["programme"] =
                "„\(programme)“ ist kein Programm; bitte eines wählen: \(CounsellingService.programmes.keys.sorted().joined(separator: ", "))."
        }
        if context.carriers[carrier] == nil {
            problems["carrier"] = "„\(carrier)“ ist kein Träger, keine Behörde und keine Stadt des Kreises \(context.districtName)."
        }
        if let sphere = legalSpheres.first(where: { !CounsellingService.legalSpheres.contains($0) }) {
            problems["legal_spheres"] = "„\(sphere)“ ist kein Rechtskreis; möglich sind \(CounsellingService.legalSpheres.joined(separator: ", "))."
        }
        if let town = towns.first(where: { context.towns[$0] == nil }) {
            problems["towns"] =
                "„\(town)“ ist keine Stadt des Kreises \(context.districtName); leer lassen, wenn das Angebot im ganzen Kreis gilt."
        }
        if languages.isEmpty {
            problems["languages"] = "Bitte mindestens eine Sprache nennen, in der beraten wird."
        } else if let language = languages.first(where: { CounsellingService.languageNames[$0] == nil }) {
            problems["languages"] =
                "„\(language)“ ist keine bekannte Sprache; möglich sind \(CounsellingService.languageNames.keys.sorted().joined(separator: ", "))."
        }
        if let email = contactEmail, email.count > 200 || email.range(of: "^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", options: .regularExpression) == nil {
            problems["contact_email"] = "Bitte eine E-Mail-Adresse wie beratung@traeger.de angeben, oder das Feld leer lassen."
        }
        if let phone = contactPhone, phone.count > 50 || phone.range(of: "^[0-9 +()/-]+$", options: .regularExpression) == nil {
            problems["contact_phone"] = "Bitte eine Telefonnummer aus Ziffern (auch + ( ) / -) angeben, oder das Feld leer lassen."
        }
        if (description?.count ?? 0) > 4000 { problems["description"] = "Die Beschreibung ist zu lang (höchstens 4000 Zeichen)." }
        if (address?.count ?? 0) > 500 { problems["address"] = "Die Anschrift ist zu lang (höchstens 500 Zeichen)." }
        if (openingHours?.count ?? 0) > 1000 { problems["opening_hours"] = "Die Öffnungszeiten sind zu lang (höchstens 1000 Zeichen)." }
        if let weeks = waitingWeeks, !(0...104).contains(weeks) {
            problems["waiting_weeks"] = "Die Wartezeit in Wochen liegt zwischen 0 und 104; leer lassen, wenn sie nicht bekannt ist."
        }
        return problems
    }
}

/// Reads `tenants/DISTRICT/services.yaml`, one per district, and checks it against the tenants with
/// `ServiceDraft.problems` (the validation of the browser and the API).
///
/// ```yaml
/// services:
///   - key: mbe-awo
///     name: Migrationsberatung für erwachsene Zuwanderer
///     programme: mbe                 # see CounsellingService.programmes
///     carrier: awo-en                # a carrier, authority or town of the district: it receives the referrals
///     legal_spheres: [AufenthG]      # SGB II, SGB III, SGB VIII, SGB XII, AufenthG
///     towns: [witten, hattingen]     # leave out for the whole district
///     languages: [de, ar, tr]
///     contact_email: mbe@example.org
///     contact_phone: 02302 12345
///     description: Beratung zu Sprachkursen, Arbeit und Aufenthalt.
///     address: Musterstraße 1, 58452 Witten
///     opening_hours: Mo–Do 9–12 Uhr
///     takes_new_clients: true        # leave out: true
///     waiting_weeks: 2
/// ```
///
/// The file is the seed for the services it names: `tenants apply` creates them and keeps them as the file says
/// until someone changes one in the browser or the API, which from then on maintains it (`managed_by: api`).
public enum ServiceFiles {
    struct File: Decodable { var services: [CounsellingService] }

    /// district slug → its services; every problem of every file at once.
    public static func load(from directory: URL, tenants: [Tenant]) throws -> [String: [CounsellingService]] {
        var result: [String: [CounsellingService]] = [:]
        var problems: [TenantFileProblem] = []
        let folders = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        for district in folders.sorted() {
            let url = directory.appendingPathComponent(district).appendingPathComponent("services.yaml")
            guard FileManager.default.fileExists(atPath: url.path) else { continue }
            let display = "\(directory.lastPathComponent)/\(district)/services.yaml"
            let file: File
            do {
                let decoder = YAMLDecoder()
                file = try decoder.decode(File.self, from: String(contentsOf: url, encoding: .utf8), userInfo: [:])
            } catch {
                problems.append(TenantFileProblem(file: display, message: "cannot be read: \(error)"))
                continue
            }
            problems += check(file.services, district: district, file: display, tenants: tenants)
            result[district] = file.services
        }
        guard problems.isEmpty else { throw TenantFilesInvalid(problems: problems) }
        return result
    }

    static func check(_ services: [CounsellingService], district: String, file: String, tenants: [Tenant]) -> [TenantFileProblem] {
        var problems: [TenantFileProblem] = []
        guard let districtTenant = tenants.first(where: { $0.slug == district && $0.kind == .district }) else {
            return [TenantFileProblem(file: file, message: "the folder '\(district)' is not a district of the tenant files")]
        }
        let inDistrict = tenants.filter { $0.district == district }
        let context = ServiceDraft.Context(
            carriers: Dictionary(
                inDistrict.filter { [.carrier, .authority, .municipality].contains($0.kind) }.map { ($0.slug, $0.name) },
                uniquingKeysWith: { first, _ in first }
            ),
            towns: Dictionary(inDistrict.filter { $0.kind == .municipality }.map { ($0.slug, $0.name) }, uniquingKeysWith: { first, _ in first }),
            districtName: districtTenant.name
        )
        var seen = Set<String>()
        for service in services {
            if !seen.insert(service.key).inserted {
                problems.append(TenantFileProblem(file: file, field: "\(service.key).key", message: "Der Schlüssel kommt zweimal vor."))
            }
            if !ServiceDirectory.isKey(service.key) {
                problems.append(
                    TenantFileProblem(file: file, field: "\(service.key).key", message: "Bitte Kleinbuchstaben, Ziffern und einzelne Bindestriche.")
                )
            }
            for (field, message) in ServiceDraft(service).problems(in: context).sorted(by: { $0.key < $1.key }) {
                problems.append(TenantFileProblem(file: file, field: "\(service.key).\(field)", message: message))
            }
        }
        return problems
    }
}

extension CounsellingService {
    enum CodingKeys: String, CodingKey {
        case key, name, programme, carrier, towns, languages, description, address
        case legalSpheres = "legal_spheres", contactEmail = "contact_email", contactPhone = "contact_phone"
        case openingHours = "opening_hours", takesNewClients = "takes_new_clients", waitingWeeks = "waiting_weeks"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        key = try container.decode(String.self, forKey: .key)
        name = try container.decode(String.self, forKey: .name)
        programme = try container.decode(String.self, forKey: .programme)
        carrier = try container.decode(String.self, forKey: .carrier)
        legalSpheres = try container.decodeIfPresent([String].self, forKey: .legalSpheres) ?? []
        towns = try container.decodeIfPresent([String].self, forKey: .towns) ?? []
        languages = try container.decodeIfPresent([String].self, forKey: .languages) ?? []
        contactEmail = try container.decodeIfPresent(String.self, forKey: .contactEmail)
        contactPhone = try container.decodeIfPresent(String.self, forKey: .contactPhone)
        description = try container.decodeIfPresent(String.self, forKey: .description)
        address = try container.decodeIfPresent(String.self, forKey: .address)
        openingHours = try container.decodeIfPresent(String.self, forKey: .openingHours)
        takesNewClients = try container.decodeIfPresent(Bool.self, forKey: .takesNewClients) ?? true
        waitingWeeks = try container.decodeIfPresent(Int.self, forKey: .waitingWeeks)
    }
}

/// The service directory in PostgreSQL (`services`, migrations 0004 and 0034).
public enum ServiceDirectory {
    static func isKey(_ key: String) -> Bool { key.range(of: "^[a-z0-9]+(-[a-z0-9]+)*$", options: .regularExpression) != nil }

    /// Brings the file-managed services in line with the files (run as the owner by `tenants apply`); services maintained
    /// in the browser or the API (`managed_by = 'api'`) are left as they are. Returns a summary.
    public static func apply(_ files: [String: [CounsellingService]], on connection: PostgresConnection, logger: Logger) async throws -> String {
        var created = 0
        var updated = 0
        var deactivated = 0
        for (district, services) in files {
            guard
                let districtID = try await connection.query("SELECT id FROM tenants WHERE slug = \(district)", logger: logger).collect().first?
                    .decode(UUID.self)
            else { continue }
            for service in services {
                let carrier = try await connection.query("SELECT id FROM tenants WHERE slug = \(service.carrier)", logger: logger).collect().first!
                    .decode(UUID.self)
                let row = try await connection.query(
                    """
                    INSERT INTO services (id, district_id, key, name, programme, carrier_id, legal_spheres, towns, languages, contact_email, contact_phone,
                                          description, address, opening_hours, takes_new_clients, waiting_weeks)
                    VALUES (\(UUID()), \(districtID), \(service.key), \(service.name), \(service.programme), \(carrier), \(service.legalSpheres),
                            \(service.towns), \(service.languages), \(service.contactEmail), \(service.contactPhone), \(service.description),
                            \(service.address), \(service.openingHours), \(service.takesNewClients), \(service.waitingWeeks))
                    ON CONFLICT (district_id, key) DO UPDATE SET name = excluded.name, programme = excluded.programme, carrier_id = excluded.carrier_id,
                        legal_spheres = excluded.legal_spheres, towns = excluded.towns, languages = excluded.languages,
                        contact_email = excluded.contact_email, contact_phone = excluded.contact_phone, description = excluded.description,
                        address = excluded.address, opening_hours = excluded.opening_hours, takes_new_clients = excluded.takes_new_clients,
                        waiting_weeks = excluded.waiting_weeks, active = true, version = services.version + 1, changed_at = now(), changed_by = NULL
                    WHERE services.managed_by = 'files'
                      AND (services.name, services.programme, services.carrier_id, services.legal_spheres, services.towns, services.languages,
                           services.contact_email, services.contact_phone, services.description, services.address, services.opening_hours,
                           services.takes_new_clients, services.waiting_weeks, services.active)
                        IS DISTINCT FROM (excluded.name, excluded.programme, excluded.carrier_id, excluded.legal_spheres, excluded.towns,
                           excluded.languages, excluded.contact_email, excluded.contact_phone, excluded.description, excluded.address,
                           excluded.opening_hours, excluded.takes_new_clients, excluded.waiting_weeks, true)
                    RETURNING (xmax = 0)
                    """,
                    logger: logger
                ).collect().first
                if let row { if try row.decode(Bool.self) { created += 1 } else { updated += 1 } }
            }
            deactivated += try await connection.query(
                """
                UPDATE services SET active = false, version = version + 1, changed_at = now(), changed_by = NULL
                WHERE district_id = \(districtID) AND active AND managed_by = 'files' AND NOT (key = ANY(\(services.map(\.key)))) RETURNING 1
                """,
                logger: logger
            ).collect().count
        }
        // Named in a file but kept in the browser or the API since: the file no longer changes them; say so.
        var kept = 0
        for (district, services) in files {
            kept += try await connection.query(
                """
                SELECT 1 FROM services s JOIN tenants d ON d.id = s.district_id
                WHERE d.slug = \(district) AND s.managed_by = 'api' AND s.key = ANY(\(services.map(\.key)))
                """,
                logger: logger
            ).collect().count
        }
        let keptNote = kept == 0 ? "" : " (\(kept) named in services.yaml kept in the browser since, left as they are)"
        if created + updated + deactivated == 0 { return "Services: no changes\(keptNote)." }
        return "Services: \(created) created, \(updated) updated, \(deactivated) deactivated\(keptNote)."
    }

    /// A service as people find and choose it.
    public struct Entry: Sendable, Codable, Equatable {
        public var id: UUID
        public var key: String
        public var name: String
        public var programme: String
        public var programmeLabel: String
        public var carrier: String
        public var carrierName: String
        public var legalSpheres: [String]
        public var towns: [String]
        public var languages: [String]
        public var contactEmail: String?
        public var contactPhone: String?
        public var description: String?
        public var address: String?
        public var openingHours: String?
        public var takesNewClients: Bool
        public var waitingWeeks: Int?
        public var active: Bool
        public var version: Int
        /// `files` (services.yaml) or `api` (the browser and the API).
        public var managedBy: String
        public var changedAt: Date

        var draft: ServiceDraft {
            ServiceDraft(
                name: name,
                programme: programme,
                carrier: carrier,
                legalSpheres: legalSpheres,
                towns: towns,
                languages: languages,
                description: description,
                address: address,
                openingHours: openingHours,
                contactEmail: contactEmail,
                contactPhone: contactPhone,
                takesNewClients: takesNewClients,
                waitingWeeks: waitingWeeks
            )
        }
    }

    /// What the directory is searched by; every part optional.
    public struct Filter: Sendable, Equatable {
        /// Only services serving this town (a municipality's slug): those naming it and those of the whole district.
        public var town: String?
        public var language: String?
        public var programme: String?
        public var legalSphere: String?
        public var takesNewClients: Bool = false
        /// Words searched in the names and descriptions (German full text, or a part of the name).
        public var text: String?
        public var includeRetired: Bool = false

        public init(
            town: String? = nil,
            language: String? = nil,
            programme: String? = nil,
            legalSphere: String? = nil,
            takesNewClients: Bool = false,
            text: String? = nil,
            includeRetired: Bool = false
        ) {
            func given(_ value: String?) -> String? { value?.trimmingCharacters(in: .whitespacesAndNewlines).nonEmpty }
            self.town = given(town)
            self.language = given(language)
            self.programme = given(programme)
            self.legalSphere = given(legalSphere)
            self.takesNewClients = takesNewClients
            self.text = given(text).map { String($0.prefix(200)) }
            self.includeRetired = includeRetired
        }
    }

    static let select = """
        SELECT s.id, s.key, s.name, s.programme, t.slug, t.name, s.legal_spheres, s.towns, s.languages, s.contact_email, s.contact_phone,
               s.description, s.address, s.opening_hours, s.takes_new_clients, s.waiting_weeks, s.active, s.version, s.managed_by, s.changed_at
        FROM services s JOIN tenants t ON t.id = s.carrier_id
        """

    static func decode(_ rows: PostgresRowSequence) async throws -> [Entry] {
        var entries: [Entry] = []
        for try await row in rows {
            let r = row.makeRandomAccess()
            let programme = try r[3].decode(String.self)
            entries.append(
                Entry(
                    id: try r[0].decode(UUID.self),
                    key: try r[1].decode(String.self),
                    name: try r[2].decode(String.self),
                    programme: programme,
                    programmeLabel: CounsellingService.programmes[programme] ?? programme,
                    carrier: try r[4].decode(String.self),
                    carrierName: try r[5].decode(String.self),
                    legalSpheres: try r[6].decode([String].self),
                    towns: try r[7].decode([String].self),
                    languages: try r[8].decode([String].self),
                    contactEmail: try r[9].decode(String?.self),
                    contactPhone: try r[10].decode(String?.self),
                    description: try r[11].decode(String?.self),
                    address: try r[12].decode(String?.self),
                    openingHours: try r[13].decode(String?.self),
                    takesNewClients: try r[14].decode(Bool.self),
                    waitingWeeks: try r[15].decode(Int?.self),
                    active: try r[16].decode(Bool.self),
                    version: try r[17].decode(Int.self),
                    managedBy: try r[18].decode(String.self),
                    changedAt: try r[19].decode(Date.self)
                )
            )
        }
        return entries
    }

    /// The active services of a district, optionally only those serving `town`.
    public static func list(district: UUID, town: String? = nil, on connection: PostgresConnection, logger: Logger) async throws -> [Entry] {
        try await search(district: district, Filter(town: town), on: connection, logger: logger)
    }

    /// The district's services the filter finds, by name.
    public static func search(district: UUID, _ filter: Filter, on connection: PostgresConnection, logger: Logger) async throws -> [Entry] {
        let pattern = filter.text.map {
            "%\($0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_"))%"
        }
        return try await decode(
            connection.query(
                """
                \(unescaped: select)
                WHERE s.district_id = \(district) AND (s.active OR \(filter.includeRetired))
                  AND (\(filter.town)::text IS NULL OR cardinality(s.towns) = 0 OR \(filter.town) = ANY(s.towns))
                  AND (\(filter.language)::text IS NULL OR \(filter.language) = ANY(s.languages))
                  AND (\(filter.programme)::text IS NULL OR s.programme = \(filter.programme))
                  AND (\(filter.legalSphere)::text IS NULL OR \(filter.legalSphere) = ANY(s.legal_spheres))
                  AND (NOT \(filter.takesNewClients) OR s.takes_new_clients)
                  AND (\(filter.text)::text IS NULL
                       OR to_tsvector('german', s.name || ' ' || coalesce(s.description, '')) @@ websearch_to_tsquery('german', \(filter.text))
                       OR s.name ILIKE \(pattern) OR t.name ILIKE \(pattern))
                ORDER BY s.active DESC, s.name
                """,
                logger: logger
            )
        )
    }

    /// One service of the district (retired ones too).
    static func find(_ id: UUID, district: UUID, on connection: PostgresConnection, logger: Logger) async throws -> Entry? {
        try await decode(connection.query("\(unescaped: select) WHERE s.id = \(id) AND s.district_id = \(district)", logger: logger)).first
    }

    /// The town a client lives in, for the services offered to them: the case's town when the tenant is a town,
    /// otherwise the district's town the client's place of residence names.
    static func town(
        of identity: Identity,
        placeOfResidence: String?,
        on connection: PostgresConnection,
        logger: Logger
    ) async throws -> String? {
        if identity.tenant.kind == "municipality" { return identity.tenant.slug }
        guard let place = placeOfResidence?.trimmingCharacters(in: .whitespacesAndNewlines).lowercased().nonEmpty,
            let district = identity.tenant.ownDistrictID
        else { return nil }
        let towns = try await self.towns(of: district, on: connection, logger: logger)
        return towns.first { town in
            let name = town.name.lowercased()
            return name == place || name.hasSuffix(" \(place)") || town.slug == place || place.hasPrefix(town.slug)
        }?.slug
    }

    /// The services a case of the identity's tenant can be referred to: those serving the client's town.
    public static func offered(
        to client: Client,
        by identity: Identity,
        on connection: PostgresConnection,
        logger: Logger
    ) async throws -> [Entry] {
        let town = try await town(of: identity, placeOfResidence: client.data.placeOfResidence, on: connection, logger: logger)
        // Not the town's own services: nobody in its tenant receives them (`Referrals.send` refuses them).
        let ownTaken = Policy.rolesOffered(by: identity.tenant.kind).contains(.counsellor)
        return try await list(district: identity.tenant.ownDistrictID ?? identity.tenant.id, town: town, on: connection, logger: logger)
            .filter { ownTaken || $0.carrier != identity.tenant.slug }
    }

    /// The district's towns, by name.
    static func towns(of district: UUID, on connection: PostgresConnection, logger: Logger) async throws -> [(slug: String, name: String)] {
        let rows = try await connection.query(
            "SELECT slug, name FROM tenants WHERE district_id = \(district) AND kind = 'municipality' AND active ORDER BY name",
            logger: logger
        )
        return try await rows.collect().map { row in
            let (slug, name) = try row.decode((String, String).self)
            return (slug: slug, name: name)
        }
    }

    /// What a service can name in the district: its carriers, authorities and towns.
    static func context(of district: UUID, on connection: PostgresConnection, logger: Logger) async throws -> ServiceDraft.Context {
        var carriers: [String: String] = [:]
        var towns: [String: String] = [:]
        var districtName = ""
        let rows = try await connection.query(
            "SELECT slug, name, kind, id FROM tenants WHERE (district_id = \(district) OR id = \(district)) AND active",
            logger: logger
        )
        for try await (slug, name, kind, id) in rows.decode((String, String, String, UUID).self) {
            if id == district { districtName = name }
            if ["carrier", "authority", "municipality"].contains(kind) { carriers[slug] = name }
            if kind == "municipality" { towns[slug] = name }
        }
        return ServiceDraft.Context(carriers: carriers, towns: towns, districtName: districtName)
    }

    /// A key for a service made in the browser or the API: its name's words, and a number if taken.
    static func newKey(for draft: ServiceDraft, district: UUID, on connection: PostgresConnection, logger: Logger) async throws -> String {
        let folded = draft.name.folding(options: [.diacriticInsensitive, .caseInsensitive], locale: Locale(identifier: "de_DE"))
            .replacingOccurrences(of: "ß", with: "ss")
        let words = folded.lowercased().split { !($0.isASCII && ($0.isLetter || $0.isNumber)) }.prefix(6)
        let base = (words.isEmpty ? "angebot" : words.joined(separator: "-")) + "-\(draft.carrier)"
        let rows = try await connection.query("SELECT key FROM services WHERE district_id = \(district) AND key LIKE \(base + "%")", logger: logger)
        let taken = Set(try await rows.collect().map { try $0.decode(String.self) })
        var key = base
        var number = 2
        while taken.contains(key) {
            key = "\(base)-\(number)"
            number += 1
        }
        return key
    }

    /// How a service answered its referrals (counts only, `service_answer_counts` of 0034).
    public struct AnswerCounts: Sendable, Codable, Equatable {
        public var received: Int
        public var answered: Int
        public var answeredInTime: Int
    }

    static func answerCounts(of service: UUID, on connection: PostgresConnection, logger: Logger) async throws -> AnswerCounts {
        let rows = try await connection.query("SELECT * FROM service_answer_counts(\(service))", logger: logger)
        let row = try await rows.collect().first.map { try $0.decode((Int, Int, Int).self) }
        return AnswerCounts(received: row?.0 ?? 0, answered: row?.1 ?? 0, answeredInTime: row?.2 ?? 0)
    }
}

/// `tenants/` as a whole: the tenant files and the districts' service directories, checked
/// together before anything is written.
public enum TenantsFolder {
    public static func load(_ directory: URL) throws -> (tenants: [Tenant], services: [String: [CounsellingService]]) {
        let tenants = try TenantFiles.load(from: directory)
        return (tenants, try ServiceFiles.load(from: directory, tenants: tenants))
    }

    /// Applies the tenants, then the service directories; returns both summaries.
    public static func apply(
        _ directory: URL,
        database: Database,
        deactivateMissing: Bool = false
    ) async throws -> (plan: TenantPlan, services: String) {
        let (tenants, services) = try load(directory)
        let milestones = try MilestoneFiles.load(from: directory, tenants: tenants)
        let plan = try await TenantCatalogue(database: database).apply(tenants, deactivateMissing: deactivateMissing)
        let summary = try await database.withTransaction { connection in
            let services = try await ServiceDirectory.apply(services, on: connection, logger: database.logger)
            // The milestone plans (tenants/DISTRICT/milestones.yaml) are said only when they changed.
            let plans = try await MilestoneFiles.apply(milestones, on: connection, logger: database.logger)
            return plans.map { "\(services)\n\($0)" } ?? services
        }
        return (plan, summary)
    }
}
