import Foundation
import Logging
import PostgresNIO

/// The service directory as people use it: everyone of a district finds its services (`viewServices`); a carrier's
/// administrators and counsellors keep their own tenant's services, the district's coordinators every service of the
/// district (`maintainServices`). Every change carries the version it is based on and is audited; a retired service
/// keeps its past referrals. One page or API call = one call here = one transaction.
public struct ServiceUpkeep: Sendable {
    let work: TenantWork

    public init(database: Database, policy: Policy) {
        work = TenantWork(database: database, policy: policy, purpose: "service_directory")
    }

    var logger: Logger { work.logger }
    var policy: Policy { work.policy }

    static let noService = DomainError.notFound("Dieses Angebot gibt es im Versorgungssystem Ihres Kreises nicht.")

    /// Whether the identity keeps `service`: the carrier's own staff, or the coordinators of its district.
    func mayMaintain(_ service: ServiceDirectory.Entry, by identity: Identity) -> Bool {
        guard policy.allows(identity, .maintainServices) else { return false }
        if identity.tenant.kind == "district" { return identity.has(.districtCoordinator) }
        return service.carrier == identity.tenant.slug
    }

    /// The carriers the identity may name for a new service: its own tenant, or for coordinators every one of the district.
    func carriers(for identity: Identity, in context: ServiceDraft.Context) -> [(slug: String, name: String)] {
        if identity.tenant.kind == "district" && identity.has(.districtCoordinator) {
            return context.carriers.map { (slug: $0.key, name: $0.value) }.sorted { $0.name < $1.name }
        }
        return context.carriers[identity.tenant.slug].map { [(slug: identity.tenant.slug, name: $0)] } ?? []
    }

    func district(of identity: Identity) throws -> UUID {
        guard let district = identity.tenant.ownDistrictID else { throw Self.noService }
        return district
    }

    // MARK: - Finding

    /// The directory page: what the filter finds, the towns to filter by, and (from a case) the case's number and the town
    /// its client lives in, preselected when the filter names none.
    public struct Directory: Sendable {
        public var services: [ServiceDirectory.Entry]
        public var filter: ServiceDirectory.Filter
        public var towns: [(slug: String, name: String)]
        public var caseNumber: String?
        public var mayCreate: Bool
    }

    /// Searches the district's directory; with `forCase`, the town of that case's client is the filter's town unless the
    /// filter names one (`townChosen`: the person chose "alle Städte" explicitly).
    public func directory(
        _ filter: ServiceDirectory.Filter,
        townChosen: Bool = false,
        forCase caseID: UUID? = nil,
        by identity: Identity,
        clientAddress: String?
    ) async throws -> Directory {
        let district = try district(of: identity)
        return try await work.work(identity, clientAddress: clientAddress) { connection, audit in
            var filter = filter
            var caseNumber: String?
            if let caseID, policy.allows(identity, .workCases) {
                guard let file = try await CaseRecords.find(caseID, on: connection, logger: logger),
                    let client = try await ClientRecords.find(file.clientID, on: connection, logger: logger)
                else { throw CaseWork.noCase }
                caseNumber = file.caseNumber
                if !townChosen {
                    filter.town = try await ServiceDirectory.town(
                        of: identity,
                        placeOfResidence: client.data.placeOfResidence,
                        on: connection,
                        logger: logger
                    )
                }
                audit.append(work.event("case.read", identity, "case", caseID, ["for": "service_search"]))
            }
            return Directory(
                services: try await ServiceDirectory.search(district: district, filter, on: connection, logger: logger),
                filter: filter,
                towns: try await ServiceDirectory.towns(of: district, on: connection, logger: logger),
                caseNumber: caseNumber,
                mayCreate: policy.allows(identity, .maintainServices)
            )
        }
    }

    /// The directory for the API (no audit: directory data, no personal data).
    public func search(_ filter: ServiceDirectory.Filter, by identity: Identity) async throws -> [ServiceDirectory.Entry] {
        guard let district = identity.tenant.ownDistrictID else { return [] }
        return try await work.database.withTenant(identity.tenant.id, user: identity.userID) {
            try await ServiceDirectory.search(district: district, filter, on: $0, logger: logger)
        }
    }

    /// One service with how it answered its referrals, and whether the identity may change it.
    public struct Detail: Sendable, Codable {
        public var service: ServiceDirectory.Entry
        public var answers: ServiceDirectory.AnswerCounts
        public var mayMaintain: Bool
        public var townNames: [String]
    }

    public func detail(_ id: UUID, by identity: Identity) async throws -> Detail {
        let district = try district(of: identity)
        return try await work.database.withTenant(identity.tenant.id, user: identity.userID) { connection in
            guard let service = try await ServiceDirectory.find(id, district: district, on: connection, logger: logger) else {
                throw Self.noService
            }
            let towns = Dictionary(
                try await ServiceDirectory.towns(of: district, on: connection, logger: logger).map { ($0.slug, $0.name) },
                uniquingKeysWith: { first, _ in first }
            )
            return Detail(
                service: service,
                answers: try await ServiceDirectory.answerCounts(of: id, on: connection, logger: logger),
                mayMaintain: mayMaintain(service, by: identity),
                townNames: service.towns.map { towns[$0] ?? $0 }
            )
        }
    }

    // MARK: - Keeping

    /// What the form offers: the carriers the identity may name and the district's towns.
    public struct Choices: Sendable {
        public var carriers: [(slug: String, name: String)]
        public var towns: [(slug: String, name: String)]
        /// The service being changed (nil for a new one).
        public var service: ServiceDirectory.Entry?
    }

    /// The form's choices, and for a change the service as it stands (404 if the identity does not keep it).
    public func choices(for id: UUID? = nil, by identity: Identity) async throws -> Choices {
        let district = try district(of: identity)
        return try await work.database.withTenant(identity.tenant.id, user: identity.userID) { connection in
            var service: ServiceDirectory.Entry?
            if let id {
                guard let found = try await ServiceDirectory.find(id, district: district, on: connection, logger: logger),
                    mayMaintain(found, by: identity)
                else { throw Self.noService }
                service = found
            }
            let context = try await ServiceDirectory.context(of: district, on: connection, logger: logger)
            return Choices(
                carriers: carriers(for: identity, in: context),
                towns: context.towns.map { (slug: $0.key, name: $0.value) }.sorted { $0.name < $1.name },
                service: service
            )
        }
    }

    /// Checks the draft against the district, and that the identity may name its carrier; `alsoWrong` are the problems
    /// the caller found before (a form's), reported with these in one answer.
    func validate(
        _ draft: ServiceDraft,
        alsoWrong: [String: String],
        by identity: Identity,
        district: UUID,
        on connection: PostgresConnection
    ) async throws {
        let context = try await ServiceDirectory.context(of: district, on: connection, logger: logger)
        var problems = draft.problems(in: context).merging(alsoWrong) { first, _ in first }
        if problems["carrier"] == nil && !carriers(for: identity, in: context).contains(where: { $0.slug == draft.carrier }) {
            problems["carrier"] = "Sie pflegen nur die Angebote Ihres eigenen Trägers (\(identity.tenant.name))."
        }
        if !problems.isEmpty { throw InvalidInput(errors: problems) }
    }

    /// A new service of the identity's tenant (or, for a coordinator, of any carrier of the district).
    public func create(
        _ draft: ServiceDraft,
        alsoWrong: [String: String] = [:],
        by identity: Identity,
        clientAddress: String?
    ) async throws -> ServiceDirectory.Entry {
        let district = try district(of: identity)
        return try await work.work(identity, clientAddress: clientAddress) { connection, audit in
            try await validate(draft, alsoWrong: alsoWrong, by: identity, district: district, on: connection)
            let id = UUID()
            let key = try await ServiceDirectory.newKey(for: draft, district: district, on: connection, logger: logger)
            try await connection.query(
                """
                INSERT INTO services (id, district_id, key, name, programme, carrier_id, legal_spheres, towns, languages, contact_email, contact_phone,
                                      description, address, opening_hours, takes_new_clients, waiting_weeks, managed_by, changed_by)
                VALUES (\(id), \(district), \(key), \(draft.name), \(draft.programme), (SELECT id FROM tenants WHERE slug = \(draft.carrier)),
                        \(draft.legalSpheres), \(draft.towns), \(draft.languages), \(draft.contactEmail), \(draft.contactPhone), \(draft.description),
                        \(draft.address), \(draft.openingHours), \(draft.takesNewClients), \(draft.waitingWeeks), 'api', \(identity.userID))
                """,
                logger: logger
            )
            audit.append(work.event("service.created", identity, "service", id, ["key": key, "carrier": draft.carrier]))
            return try await ServiceDirectory.find(id, district: district, on: connection, logger: logger)!
        }
    }

    /// Changes a service at `version` (412 if someone changed it since); from then on the browser and the API keep it.
    public func change(
        _ id: UUID,
        version: Int,
        to draft: ServiceDraft,
        alsoWrong: [String: String] = [:],
        by identity: Identity,
        clientAddress: String?
    ) async throws -> ServiceDirectory.Entry {
        let district = try district(of: identity)
        return try await work.work(identity, clientAddress: clientAddress) { connection, audit in
            let current = try await maintained(id, version: version, by: identity, district: district, on: connection)
            try await validate(draft, alsoWrong: alsoWrong, by: identity, district: district, on: connection)
            try await connection.query(
                """
                UPDATE services SET name = \(draft.name), programme = \(draft.programme),
                    carrier_id = (SELECT id FROM tenants WHERE slug = \(draft.carrier)), legal_spheres = \(draft.legalSpheres),
                    towns = \(draft.towns), languages = \(draft.languages), contact_email = \(draft.contactEmail),
                    contact_phone = \(draft.contactPhone), description = \(draft.description), address = \(draft.address),
                    opening_hours = \(draft.openingHours), takes_new_clients = \(draft.takesNewClients), waiting_weeks = \(draft.waitingWeeks),
                    managed_by = 'api', version = version + 1, changed_at = now(), changed_by = \(identity.userID)
                WHERE id = \(id) AND version = \(version)
                """,
                logger: logger
            )
            audit.append(
                work.event("service.changed", identity, "service", id, ["key": current.key, "fields": Self.changedFields(current.draft, draft)])
            )
            return try await ServiceDirectory.find(id, district: district, on: connection, logger: logger)!
        }
    }

    /// Retires a service at `version`: it is no longer offered; its referrals stay as they are.
    public func retire(_ id: UUID, version: Int, by identity: Identity, clientAddress: String?) async throws -> ServiceDirectory.Entry {
        try await offer(id, version: version, active: false, by: identity, clientAddress: clientAddress)
    }

    /// Offers a retired service again at `version` (its carrier's administrators and counsellors, the district's
    /// coordinators); the referrals it had stay as they were.
    public func reactivate(_ id: UUID, version: Int, by identity: Identity, clientAddress: String?) async throws -> ServiceDirectory.Entry {
        try await offer(id, version: version, active: true, by: identity, clientAddress: clientAddress)
    }

    /// Retires (`active` false) or reactivates a service, as one versioned, audited change.
    func offer(_ id: UUID, version: Int, active: Bool, by identity: Identity, clientAddress: String?) async throws -> ServiceDirectory.Entry {
        let district = try district(of: identity)
        return try await work.work(identity, clientAddress: clientAddress) { connection, audit in
            let current = try await maintained(id, version: version, by: identity, district: district, on: connection)
            guard current.active != active else {
                throw DomainError.conflict(
                    active ? "Das Angebot „\(current.name)“ wird bereits angeboten." : "Das Angebot „\(current.name)“ ist bereits beendet."
                )
            }
            try await connection.query(
                """
                UPDATE services SET active = \(active), managed_by = 'api', version = version + 1, changed_at = now(), changed_by = \(identity.userID)
                WHERE id = \(id) AND version = \(version)
                """,
                logger: logger
            )
            audit.append(work.event(active ? "service.reactivated" : "service.retired", identity, "service", id, ["key": current.key]))
            return try await ServiceDirectory.find(id, district: district, on: connection, logger: logger)!
        }
    }

    /// The service the identity keeps, at the version the change is based on.
    func maintained(
        _ id: UUID,
        version: Int,
        by identity: Identity,
        district: UUID,
        on connection: PostgresConnection
    ) async throws -> ServiceDirectory.Entry {
        guard let current = try await ServiceDirectory.find(id, district: district, on: connection, logger: logger),
            mayMaintain(current, by: identity)
        else { throw Self.noService }
        guard current.version == version else {
            throw DomainError.stale(
                "Das Angebot „\(current.name)“ wurde inzwischen geändert (jetzt Version \(current.version), Ihre Änderung beruht auf Version \(version)). Bitte neu laden und die Änderung noch einmal vornehmen."
            )
        }
        return current
    }

    static func changedFields(_ old: ServiceDraft, _ new: ServiceDraft) -> String {
        var fields: [String] = []
        if old.name != new.name { fields.append("name") }
        if old.programme != new.programme { fields.append("programme") }
        if old.carrier != new.carrier { fields.append("carrier") }
        if old.legalSpheres != new.legalSpheres { fields.append("legal_spheres") }
        if old.towns != new.towns { fields.append("towns") }
        if old.languages != new.languages { fields.append("languages") }
        if old.description != new.description { fields.append("description") }
        if old.address != new.address { fields.append("address") }
        if old.openingHours != new.openingHours { fields.append("opening_hours") }
        if old.contactEmail != new.contactEmail { fields.append("contact_email") }
        if old.contactPhone != new.contactPhone { fields.append("contact_phone") }
        if old.takesNewClients != new.takesNewClients { fields.append("takes_new_clients") }
        if old.waitingWeeks != new.waitingWeeks { fields.append("waiting_weeks") }
        return fields.joined(separator: ",")
    }
}
