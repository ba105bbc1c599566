import Foundation
import Logging
import PostgresNIO
import Yams

/// A counselling service of a district's service directory (Versorgungssystem).
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

    public static let programmes: [String: String] = [
        "mbe": "Migrationsberatung für erwachsene Zuwanderer (MBE)", "jmd": "Jugendmigrationsdienst (JMD)",
        "refugee_counselling": "Flüchtlingsberatung", "participation_management": "Teilhabemanagement",
        "southeast_europe": "Förderprogramm Südosteuropa", "medical_refugee_aid": "Medizinische Flüchtlingshilfe",
        "addiction_counselling": "Suchtberatung", "housing": "Wohnungssuche", "pregnancy_conflict": "Schwangerschaftskonfliktberatung",
        "other": "Sonstige Beratung",
    ]
    public static let legalSpheres = ["SGB II", "SGB III", "SGB VIII", "SGB XII", "AufenthG"]
}

/// Reads `tenants/DISTRICT/services.yaml`, one per district, and checks it against the tenants.
///
/// ```yaml
/// services:
///   - key: mbe-awo
///     name: Migrationsberatung für erwachsene Zuwanderer
///     programme: mbe                 # see CounsellingService.programmes
///     carrier: awo-en                # a carrier or authority of the district: it receives the referrals
///     legal_spheres: [AufenthG]      # SGB II, SGB III, SGB VIII, SGB XII, AufenthG
///     towns: [witten, hattingen]     # leave out for the whole district
///     languages: [de, ar, tr]
///     contact_email: mbe@example.org
/// ```
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
        func problem(_ service: CounsellingService, _ field: String, _ message: String) {
            problems.append(TenantFileProblem(file: file, field: "\(service.key).\(field)", message: message))
        }
        let inDistrict = tenants.filter { $0.district == district }
        if !tenants.contains(where: { $0.slug == district && $0.kind == .district }) {
            problems.append(TenantFileProblem(file: file, message: "the folder '\(district)' is not a district of the tenant files"))
        }
        var seen = Set<String>()
        for service in services {
            if !seen.insert(service.key).inserted { problem(service, "key", "is given twice") }
            if service.key.range(of: "^[a-z0-9]+(-[a-z0-9]+)*$", options: .regularExpression) == nil {
                problem(service, "key", "use lowercase letters, digits and single hyphens")
            }
            if CounsellingService.programmes[service.programme] == nil {
                problem(
                    service,
                    "programme",
                    "'\(service.programme)' is not a programme (known: \(CounsellingService.programmes.keys.sorted().joined(separator: ", ")))"
                )
            }
            if !inDistrict.contains(where: {
                $0.slug == service.carrier && ($0.kind == .carrier || $0.kind == .authority || $0.kind == .municipality)
            }) {
                problem(service, "carrier", "'\(service.carrier)' is not a tenant of \(district)")
            }
            for sphere in service.legalSpheres where !CounsellingService.legalSpheres.contains(sphere) {
                problem(service, "legal_spheres", "'\(sphere)' is not one of \(CounsellingService.legalSpheres.joined(separator: ", "))")
            }
            for town in service.towns where !inDistrict.contains(where: { $0.slug == town && $0.kind == .municipality }) {
                problem(service, "towns", "'\(town)' is not a town of \(district)")
            }
        }
        return problems
    }
}

extension CounsellingService {
    enum CodingKeys: String, CodingKey {
        case key, name, programme, carrier, towns, languages
        case legalSpheres = "legal_spheres", contactEmail = "contact_email", contactPhone = "contact_phone"
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
    }
}

/// The service directory in PostgreSQL.
public enum ServiceDirectory {
    /// Brings the directory in line with the files (run as the owner by `tenants apply`); returns a summary.
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
                    INSERT INTO services (id, district_id, key, name, programme, carrier_id, legal_spheres, towns, languages, contact_email, contact_phone)
                    VALUES (\(UUID()), \(districtID), \(service.key), \(service.name), \(service.programme), \(carrier), \(service.legalSpheres),
                            \(service.towns), \(service.languages), \(service.contactEmail), \(service.contactPhone))
                    ON CONFLICT (district_id, key) DO UPDATE SET name = excluded.name, programme = excluded.programme, carrier_id = excluded.carrier_id,
                        legal_spheres = excluded.legal_spheres, towns = excluded.towns, languages = excluded.languages,
                        contact_email = excluded.contact_email, contact_phone = excluded.contact_phone, active = true
                    WHERE (services.name, services.programme, services.carrier_id, services.legal_spheres, services.towns, services.languages,
                           services.contact_email, services.contact_phone, services.active)
                        IS DISTINCT FROM (excluded.name, excluded.programme, excluded.carrier_id, excluded.legal_spheres, excluded.towns,
                           excluded.languages, excluded.contact_email, excluded.contact_phone, true)
                    RETURNING (xmax = 0)
                    """,
                    logger: logger
                ).collect().first
                if let row { if try row.decode(Bool.self) { created += 1 } else { updated += 1 } }
            }
            deactivated += try await connection.query(
                "UPDATE services SET active = false WHERE district_id = \(districtID) AND active AND NOT (key = ANY(\(services.map(\.key)))) RETURNING 1",
                logger: logger
            ).collect().count
        }
        if created + updated + deactivated == 0 { return "Services: no changes." }
        return "Services: \(created) created, \(updated) updated, \(deactivated) deactivated."
    }

    /// A service as a case manager chooses it.
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
    }

    /// The active services of a district, optionally only those serving `town`.
    public static func list(district: UUID, town: String? = nil, on connection: PostgresConnection, logger: Logger) async throws -> [Entry] {
        let rows = try await connection.query(
            """
            SELECT s.id, s.key, s.name, s.programme, t.slug, t.name, s.legal_spheres, s.towns, s.languages, s.contact_email, s.contact_phone
            FROM services s JOIN tenants t ON t.id = s.carrier_id
            WHERE s.district_id = \(district) AND s.active AND (\(town)::text IS NULL OR cardinality(s.towns) = 0 OR \(town) = ANY(s.towns))
            ORDER BY s.name
            """,
            logger: logger
        )
        var entries: [Entry] = []
        for try await (id, key, name, programme, carrier, carrierName, spheres, towns, languages, email, phone) in rows.decode(
            (UUID, String, String, String, String, String, [String], [String], [String], String?, String?).self
        ) {
            entries.append(
                Entry(
                    id: id,
                    key: key,
                    name: name,
                    programme: programme,
                    programmeLabel: CounsellingService.programmes[programme] ?? programme,
                    carrier: carrier,
                    carrierName: carrierName,
                    legalSpheres: spheres,
                    towns: towns,
                    languages: languages,
                    contactEmail: email,
                    contactPhone: phone
                )
            )
        }
        return entries
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
        let plan = try await TenantCatalogue(database: database).apply(tenants, deactivateMissing: deactivateMissing)
        let summary = try await database.withTransaction { try await ServiceDirectory.apply(services, on: $0, logger: database.logger) }
        return (plan, summary)
    }
}
