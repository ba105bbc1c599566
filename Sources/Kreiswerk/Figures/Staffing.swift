import Foundation
import Logging
import PostgresNIO

/// A town of the district as staffing sees it: the facts of the coordination-post rule and its
/// funded case-management share from the tenant files (latest year up to this one).
public struct StaffingTown: Sendable {
    public var town: String
    public var name: String
    public var ownForeignersAuthority: Bool?
    public var ownYouthOffice: Bool?
    public var ownIntegrationCouncil: Bool?
    public var entitledToCoordinationPost: Bool?
    public var fundedFte: String?
    public var fundedYear: Int?
    var funded: FullTimeEquivalent?
}

/// What the allocation key is asked: the total of funded posts and each town's assigned refugees.
public struct AllocationRequest: Sendable, Decodable {
    public struct Entry: Sendable, Decodable {
        public var town: String
        public var refugees: Int
    }
    /// "14", "14.5" or "14,50" (a JSON number or string).
    public var totalFte: String
    public var towns: [Entry]

    enum CodingKeys: String, CodingKey { case totalFte = "total_fte", towns }

    public init(totalFte: String, towns: [Entry]) {
        self.totalFte = totalFte
        self.towns = towns
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if let number = try? container.decode(Double.self, forKey: .totalFte) {
            totalFte = String(format: "%.2f", number)
        } else {
            totalFte = try container.decode(String.self, forKey: .totalFte)
        }
        towns = try container.decode([Entry].self, forKey: .towns)
    }
}

/// The proposal, town by town, next to the shares on file.
public struct AllocationResult: Sendable, Encodable {
    public struct Line: Sendable, Encodable {
        public var town: String
        public var name: String
        public var refugees: Int
        public var proposedFte: String
        public var fundedFte: String?
        public var fundedYear: Int?
        /// Proposal minus the share on file ("+0.35", "-0.10").
        public var difference: String?
        public var entitledToCoordinationPost: Bool?
    }
    public var totalFte: String
    public var refugees: Int
    public var towns: [Line]
}

/// Staffing of the district: the towns' funded shares, the coordination-post rule, and the allocation key.
public struct Staffing: Sendable {
    let database: Database

    public init(database: Database) { self.database = database }

    /// The municipalities of the identity's district (as the database lets the identity read them).
    public func towns(for identity: Identity, today: Day = .today) async throws -> [StaffingTown] {
        try await database.withTenant(identity.tenant.id, user: identity.userID) { connection in
            guard let district = try await FigureSnapshots.stamp(on: connection, logger: database.logger).district else {
                throw DomainError.forbidden("Die Stellenanteile des Kreises sehen die Koordinierungsstelle, ihre Assistenz und die Lenkungsgruppe.")
            }
            let rows = try await connection.query(
                """
                SELECT t.slug, t.name, t.has_own_foreigners_authority, t.has_youth_office, t.has_integration_council, s.year, (s.fte * 100)::integer
                FROM tenants t
                LEFT JOIN LATERAL (SELECT x.year, x.fte FROM district_staff_shares() x
                                   WHERE x.tenant_id = t.id AND x.year <= \(HalfYear(containing: today).year) ORDER BY x.year DESC LIMIT 1) s ON true
                WHERE t.district_id = \(district) AND t.kind = 'municipality' AND t.active
                ORDER BY t.name
                """,
                logger: database.logger
            )
            var towns: [StaffingTown] = []
            for try await (slug, name, abh, youth, council, year, hundredths) in rows.decode((String, String, Bool?, Bool?, Bool?, Int?, Int?).self) {
                let funded = hundredths.map { FullTimeEquivalent(hundredths: $0) }
                towns.append(
                    StaffingTown(
                        town: slug,
                        name: name,
                        ownForeignersAuthority: abh,
                        ownYouthOffice: youth,
                        ownIntegrationCouncil: council,
                        entitledToCoordinationPost: CoordinationPostRule.entitled(
                            foreignersAuthority: abh,
                            youthOffice: youth,
                            integrationCouncil: council
                        ),
                        fundedFte: funded.map { Self.format($0) },
                        fundedYear: year,
                        funded: funded
                    )
                )
            }
            return towns
        }
    }

    /// Proposes each named town's share of `totalFte`; every problem with the input is a German 422 message.
    public func allocate(_ request: AllocationRequest, for identity: Identity) async throws -> AllocationResult {
        let towns = try await towns(for: identity)
        var errors: [String: String] = [:]
        let total = FullTimeEquivalent(request.totalFte.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: ",", with: "."))
        if total == nil || total!.hundredths == 0 {
            errors["total_fte"] = "Bitte die Summe der geförderten Stellen als Zahl mit höchstens zwei Nachkommastellen angeben, z. B. 14 oder 14,5."
        }
        var seen: Set<String> = []
        for entry in request.towns {
            if !towns.contains(where: { $0.town == entry.town }) {
                errors["towns"] = "„\(entry.town)“ ist keine Stadt Ihres Kreises."
            } else if !seen.insert(entry.town).inserted {
                errors["towns"] = "„\(entry.town)“ ist doppelt angegeben."
            }
            if entry.refugees < 0 || entry.refugees > 10_000_000 {
                errors["refugees_\(entry.town)"] = "Bitte für \(entry.town) eine Zahl zugewiesener Geflüchteter von 0 bis 10.000.000 angeben."
            }
        }
        if request.towns.isEmpty { errors["towns"] = "Bitte mindestens eine Stadt mit ihrer Zahl zugewiesener Geflüchteter angeben." }
        if errors.isEmpty, request.towns.reduce(0, { $0 + $1.refugees }) == 0 {
            errors["towns"] = "Mindestens eine Stadt braucht zugewiesene Geflüchtete; sonst gibt es nichts zu verteilen."
        }
        guard errors.isEmpty, let total else { throw InvalidInput(errors: errors) }
        let shares = AllocationKey.allocate(total, weights: request.towns.map(\.refugees))
        return AllocationResult(
            totalFte: Self.format(total),
            refugees: request.towns.reduce(0) { $0 + $1.refugees },
            towns: zip(request.towns, shares).map { entry, share in
                let town = towns.first { $0.town == entry.town }!
                return .init(
                    town: town.town,
                    name: town.name,
                    refugees: entry.refugees,
                    proposedFte: Self.format(share),
                    fundedFte: town.fundedFte,
                    fundedYear: town.fundedYear,
                    difference: town.funded.map { Self.format(share - $0, signed: true) },
                    entitledToCoordinationPost: town.entitledToCoordinationPost
                )
            }
        )
    }

    /// "2.35"; with `signed`, "+0.35" / "-0.10" / "0.00".
    static func format(_ value: FullTimeEquivalent, signed: Bool = false) -> String {
        let magnitude = abs(value.hundredths)
        let sign = value.hundredths < 0 ? "-" : signed && value.hundredths > 0 ? "+" : ""
        return "\(sign)\(magnitude / 100).\(String(format: "%02d", magnitude % 100))"
    }
}
