import Foundation
import Logging
import PostgresNIO

/// One tenant's posts in one programme and year (issue 19, seed 004 section 5): what its tenant file says was funded,
/// what the allocation key proposed, and what the district decided. Full-time equivalents as "2.00".
public struct StaffingEntry: Sendable, Encodable, Equatable {
    public var tenant: String
    public var name: String
    public var kind: String
    public var programme: String
    public var year: Int
    /// The share in the tenant file (`staff_shares`), if it gives one.
    public var fileFte: String?
    public var proposedFte: String?
    public var decidedFte: String?
    /// What applies: the district's decision if recorded, else the tenant file's share.
    public var fte: String?
    public var reason: String?
    public var decidedBy: String?
    public var decidedOn: String?
    /// The decision's edit counter; 0 while none is recorded (send `If-Match: "0"` to record the first).
    public var version: Int

    var applies: FullTimeEquivalent? { fte.flatMap(FullTimeEquivalent.init) }
}

/// The posts that apply in one year to one group: `towns` and `carriers` (case management), `coordination`,
/// `assistance`, `immigration_office`.
public struct StaffingTotal: Sendable, Encodable, Equatable {
    public var year: Int
    public var group: String
    public var fte: String
}

/// A programme a tenant is entitled to and does not take, with the reason its file gives.
public struct StaffingWaiver: Sendable, Encodable, Equatable {
    public var tenant: String
    public var name: String
    public var programme: String
    public var reason: String
}

/// A tenant whose posts the district decides.
public struct StaffingTenant: Sendable, Encodable, Equatable {
    public var tenant: String
    public var name: String
    public var kind: String
    public var entitledToCoordinationPost: Bool?
    var id: UUID

    enum CodingKeys: String, CodingKey { case tenant, name, kind, entitledToCoordinationPost }
}

/// The district's staffing: every entry of every year, the totals per year and group, the waivers.
public struct StaffingPlan: Sendable, Encodable {
    public var years: [Int]
    public var tenants: [StaffingTenant]
    public var entries: [StaffingEntry]
    public var totals: [StaffingTotal]
    public var waivers: [StaffingWaiver]
}

/// What a coordinator records: the programme and year, the proposal (optional) and the decision with its reason.
public struct StaffingDecisionRequest: Sendable, Decodable {
    public var programme: String?
    public var year: Int?
    public var proposedFte: String?
    public var decidedFte: String?
    public var reason: String?

    enum CodingKeys: String, CodingKey {
        case programme, year, reason
        case proposedFte = "proposed_fte"
        case decidedFte = "decided_fte"
    }

    public init(programme: String?, year: Int?, proposedFte: String?, decidedFte: String?, reason: String?) {
        self.programme = programme
        self.year = year
        self.proposedFte = proposedFte
        self.decidedFte = decidedFte
        self.reason = reason
    }

    /// A share may come as a JSON number (1.24) or a string ("1.24", "1,24"); a third decimal is refused, never rounded.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        func share(_ key: CodingKeys) -> String? {
            if let number = try? container.decode(Double.self, forKey: key) { return "\(number)" }
            return try? container.decode(String.self, forKey: key)
        }
        programme = try? container.decode(String.self, forKey: .programme)
        year = try? container.decode(Int.self, forKey: .year)
        proposedFte = share(.proposedFte)
        decidedFte = share(.decidedFte)
        reason = try? container.decode(String.self, forKey: .reason)
    }
}

enum StaffingDecisionRecords {
    static func tenants(on connection: PostgresConnection, logger: Logger) async throws -> [(StaffingTenant, [StaffProgramme: String])] {
        var found: [(StaffingTenant, [StaffProgramme: String])] = []
        let rows = try await connection.query(
            "SELECT id, slug, name, kind, entitled_to_coordination, staff_waivers FROM staffing_tenants()",
            logger: logger
        )
        for try await (id, slug, name, kind, entitled, waivers) in rows.decode((UUID, String, String, String, Bool?, String?).self) {
            let reasons = waivers.flatMap { try? JSONDecoder().decode([String: String].self, from: Data($0.utf8)) } ?? [:]
            found.append(
                (
                    StaffingTenant(tenant: slug, name: name, kind: kind, entitledToCoordinationPost: entitled, id: id),
                    Dictionary(uniqueKeysWithValues: reasons.compactMap { key, reason in StaffProgramme(rawValue: key).map { ($0, reason) } })
                )
            )
        }
        return found
    }

    struct Key: Hashable {
        var tenant: UUID
        var programme: String
        var year: Int
    }

    struct Decision {
        var proposed: Int?
        var decided: Int
        var reason: String
        var version: Int
        var decidedBy: String?
        var decidedOn: String
    }

    static func shares(on connection: PostgresConnection, logger: Logger) async throws -> [Key: Int] {
        var found: [Key: Int] = [:]
        let rows = try await connection.query("SELECT tenant_id, programme, year, hundredths FROM staffing_shares()", logger: logger)
        for try await (tenant, programme, year, hundredths) in rows.decode((UUID, String, Int, Int).self) {
            found[Key(tenant: tenant, programme: programme, year: year)] = hundredths
        }
        return found
    }

    static func decisions(on connection: PostgresConnection, logger: Logger) async throws -> [Key: Decision] {
        var found: [Key: Decision] = [:]
        let rows = try await connection.query(
            """
            SELECT subject_id, programme, year, proposed, decided, reason, version, decided_by,
                   to_char(decided_at AT TIME ZONE 'Europe/Berlin', 'DD.MM.YYYY')
            FROM staffing_decisions_of_district()
            """,
            logger: logger
        )
        for try await (tenant, programme, year, proposed, decided, reason, version, by, on) in rows.decode(
            (UUID, String, Int, Int?, Int, String, Int, String?, String).self
        ) {
            found[Key(tenant: tenant, programme: programme, year: year)] = Decision(
                proposed: proposed,
                decided: decided,
                reason: reason,
                version: version,
                decidedBy: by,
                decidedOn: on
            )
        }
        return found
    }
}

/// The district's staffing decisions (issue 19): read by the district's coordinators, assistants and steering members,
/// decided by its coordinators, each decision versioned and audited.
public struct StaffingDecisions: Sendable {
    let work: TenantWork

    public init(database: Database, policy: Policy) {
        work = .coordination(database, policy)
    }

    var logger: Logger { work.logger }
    static let kindOrder = ["district", "municipality", "carrier", "authority"]

    /// Whether the identity records the district's decisions (its coordinators, acting in the district).
    public func decides(_ identity: Identity) -> Bool {
        work.policy.allows(identity, .coordinateDistrict) && identity.tenant.kind == "district"
    }

    /// Everything of the reader's district: entries of every year, totals, waivers.
    public func plan(by identity: Identity, clientAddress: String?) async throws -> StaffingPlan {
        try await work.work(identity, clientAddress: clientAddress) { connection, _ in
            try await Self.plan(on: connection, logger: logger)
        }
    }

    /// One tenant's entries, year by year (404 for a tenant outside the reader's district).
    public func history(of slug: String, by identity: Identity, clientAddress: String?) async throws -> StaffingPlan {
        let plan = try await plan(by: identity, clientAddress: clientAddress)
        guard let tenant = plan.tenants.first(where: { $0.tenant == slug }) else { throw Self.notFound(slug) }
        let entries = plan.entries.filter { $0.tenant == slug }
        return StaffingPlan(
            years: Array(Set(entries.map(\.year))).sorted(),
            tenants: [tenant],
            entries: entries,
            totals: [],
            waivers: plan.waivers.filter { $0.tenant == slug }
        )
    }

    static func notFound(_ slug: String) -> DomainError {
        .notFound("„\(slug)“ ist kein Mandant Ihres Kreises: Stellen entscheidet der Kreis nur für seine eigenen Städte, Träger und Behörden.")
    }

    static func plan(on connection: PostgresConnection, logger: Logger) async throws -> StaffingPlan {
        let tenants = try await StaffingDecisionRecords.tenants(on: connection, logger: logger)
        guard !tenants.isEmpty else {
            throw DomainError.forbidden("Die Stellen des Kreises sehen die Koordinierungsstelle, ihre Assistenz und die Lenkungsgruppe.")
        }
        let shares = try await StaffingDecisionRecords.shares(on: connection, logger: logger)
        let decisions = try await StaffingDecisionRecords.decisions(on: connection, logger: logger)
        let byID = Dictionary(uniqueKeysWithValues: tenants.map { ($0.0.id, $0.0) })
        var entries: [StaffingEntry] = []
        for key in Set(shares.keys).union(decisions.keys) {
            guard let tenant = byID[key.tenant] else { continue }
            entries.append(entry(tenant, key.programme, key.year, file: shares[key], decision: decisions[key]))
        }
        entries.sort { a, b in
            (a.year, kindRank(a.kind), a.name, a.programme) < (b.year, kindRank(b.kind), b.name, b.programme)
        }
        var sums: [String: FullTimeEquivalent] = [:]
        for entry in entries {
            guard let fte = entry.applies else { continue }
            sums["\(entry.year) \(group(entry))", default: .zero] = sums["\(entry.year) \(group(entry))", default: .zero] + fte
        }
        let totals = sums.map { key, fte in
            let parts = key.split(separator: " ")
            return StaffingTotal(year: Int(parts[0])!, group: String(parts[1]), fte: Staffing.format(fte))
        }.sorted { ($0.year, groupRank($0.group)) < ($1.year, groupRank($1.group)) }
        let waivers = tenants.flatMap { tenant, reasons in
            reasons.sorted { $0.key < $1.key }.map {
                StaffingWaiver(tenant: tenant.tenant, name: tenant.name, programme: $0.key.rawValue, reason: $0.value)
            }
        }
        return StaffingPlan(
            years: Array(Set(entries.map(\.year))).sorted(),
            tenants: tenants.map(\.0).sorted { (kindRank($0.kind), $0.name) < (kindRank($1.kind), $1.name) },
            entries: entries,
            totals: totals,
            waivers: waivers
        )
    }

    static func entry(
        _ tenant: StaffingTenant,
        _ programme: String,
        _ year: Int,
        file: Int?,
        decision: StaffingDecisionRecords.Decision?
    ) -> StaffingEntry {
        let show = { (hundredths: Int?) in hundredths.map { Staffing.format(FullTimeEquivalent(hundredths: $0)) } }
        return StaffingEntry(
            tenant: tenant.tenant,
            name: tenant.name,
            kind: tenant.kind,
            programme: programme,
            year: year,
            fileFte: show(file),
            proposedFte: show(decision?.proposed),
            decidedFte: show(decision?.decided),
            fte: show(decision?.decided ?? file),
            reason: decision?.reason,
            decidedBy: decision?.decidedBy,
            decidedOn: decision?.decidedOn,
            version: decision?.version ?? 0
        )
    }

    static func kindRank(_ kind: String) -> Int { kindOrder.firstIndex(of: kind) ?? kindOrder.count }

    static let groups = ["coordination", "assistance", "towns", "carriers", "immigration_office", "other"]
    static func groupRank(_ group: String) -> Int { groups.firstIndex(of: group) ?? groups.count }

    /// The group an entry counts towards: case management splits into towns and carriers (seed 004: 11.79 and 2.21 in 2022).
    static func group(_ entry: StaffingEntry) -> String {
        switch (entry.programme, entry.kind) {
        case ("case_management", "municipality"): "towns"
        case ("case_management", "carrier"): "carriers"
        case ("case_management", _): "other"
        default: entry.programme
        }
    }

    /// The request checked: every problem at once, each naming its field.
    static func checked(
        _ request: StaffingDecisionRequest
    ) throws -> (programme: StaffProgramme, year: Int, proposed: FullTimeEquivalent?, decided: FullTimeEquivalent, reason: String) {
        var errors: [String: String] = [:]
        let programme = request.programme.flatMap(StaffProgramme.init(rawValue:))
        if programme == nil {
            errors["programme"] =
                "Bitte das Programm angeben: \(StaffProgramme.allCases.map(\.rawValue).sorted().joined(separator: ", "))."
        }
        let year = request.year.flatMap { (2000...2100).contains($0) ? $0 : nil }
        if year == nil { errors["year"] = "Bitte das Jahr als vierstellige Zahl von 2000 bis 2100 angeben, z. B. 2023." }
        func share(_ text: String?) -> FullTimeEquivalent? {
            text.flatMap { FullTimeEquivalent($0.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: ",", with: ".")) }
        }
        let proposedText = request.proposedFte?.trimmingCharacters(in: .whitespaces)
        let proposed = proposedText.flatMap { $0.isEmpty ? nil : share($0) }
        if let proposedText, !proposedText.isEmpty, proposed == nil {
            errors["proposed_fte"] =
                "Bitte den Vorschlag als Stellenzahl mit höchstens zwei Nachkommastellen angeben, z. B. 1,3 (oder leer lassen, wenn es keinen gab)."
        }
        let decided = share(request.decidedFte)
        if decided == nil {
            errors["decided_fte"] = "Bitte die entschiedenen Stellen als Zahl mit höchstens zwei Nachkommastellen angeben, z. B. 1,24 oder 0."
        }
        let reason = request.reason?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        if reason.isEmpty || reason.count > 2000 {
            errors["reason"] =
                "Bitte die Entscheidung in 1 bis 2000 Zeichen begründen, z. B. „Die Stadt nimmt nur einen Teil der Erhöhung in Anspruch.“"
        }
        guard errors.isEmpty, let programme, let year, let decided else { throw InvalidInput(errors: errors) }
        return (programme, year, proposed, decided, reason)
    }

    /// Records the district's decision on `slug`'s posts. `version` is the decision's edit counter as read (0: none yet);
    /// a decision recorded or changed since is a stale edit (412).
    public func decide(
        _ slug: String,
        _ request: StaffingDecisionRequest,
        version: Int?,
        by identity: Identity,
        clientAddress: String?
    ) async throws -> StaffingEntry {
        guard decides(identity) else {
            throw DomainError.forbidden("Über die Stellen entscheidet die Koordinierungsstelle des Kreises.")
        }
        let input = try Self.checked(request)
        guard let version, version >= 0 else {
            throw DomainError.versionRequired("Die Fassung fehlt: bitte die Seite neu laden und die Entscheidung erneut eintragen.")
        }
        return try await work.work(identity, clientAddress: clientAddress) { connection, audit in
            let tenants = try await StaffingDecisionRecords.tenants(on: connection, logger: logger)
            guard let tenant = tenants.first(where: { $0.0.tenant == slug })?.0 else { throw Self.notFound(slug) }
            let proposed = input.proposed?.hundredths
            let decided = input.decided.hundredths
            let written: [PostgresRow]
            if version == 0 {
                written = try await connection.query(
                    """
                    INSERT INTO staffing_decisions (tenant_id, subject_id, programme, year, proposed_fte, decided_fte, reason, decided_by)
                    VALUES (\(identity.tenant.id), \(tenant.id), \(input.programme.rawValue), \(input.year),
                            \(proposed)::numeric / 100, \(decided)::numeric / 100, \(input.reason), \(identity.userID))
                    ON CONFLICT DO NOTHING RETURNING 1
                    """,
                    logger: logger
                ).collect()
            } else {
                written = try await connection.query(
                    """
                    UPDATE staffing_decisions SET proposed_fte = \(proposed)::numeric / 100, decided_fte = \(decided)::numeric / 100,
                           reason = \(input.reason), decided_by = \(identity.userID), decided_at = now(), version = version + 1
                    WHERE subject_id = \(tenant.id) AND programme = \(input.programme.rawValue) AND year = \(input.year) AND version = \(version)
                    RETURNING 1
                    """,
                    logger: logger
                ).collect()
            }
            guard !written.isEmpty else {
                throw DomainError.stale(
                    "Jemand hat die Entscheidung für \(tenant.name) (\(input.year)) eingetragen oder geändert, seit Sie sie geöffnet haben: bitte die Seite neu laden, die aktuelle Entscheidung lesen und Ihre erneut eintragen."
                )
            }
            var detail = ["programme": input.programme.rawValue, "year": String(input.year), "decided_fte": input.decided.description]
            detail["proposed_fte"] = input.proposed?.description
            audit.append(work.event("staffing.decided", identity, "staffing_decision", tenant.id, detail))
            let plan = try await Self.plan(on: connection, logger: logger)
            return plan.entries.first { $0.tenant == slug && $0.programme == input.programme.rawValue && $0.year == input.year }!
        }
    }
}
