import Foundation
import Logging
import PostgresNIO

/// Changing a campaign's plan (title, period, description, towns, services) through the API, on the version the caller
/// read (`naturalisation_campaigns.version`): a change on a stale version is refused, never merged.
extension Campaigns {
    /// A campaign of the caller's district with its version and its counts per town (suppressed), in one transaction.
    public func versioned(
        _ id: UUID,
        by identity: Identity,
        clientAddress: String?
    ) async throws -> (campaign: NaturalisationCampaign, counts: [NaturalisationCampaign.TownCounts], version: Int) {
        try await district.work(identity, clientAddress: clientAddress) { connection, audit in
            let version = try await Self.version(of: id, district: identity.tenant.id, on: connection, logger: logger)
            let counts = try await Self.counts(of: id, district: identity.tenant.id, on: connection, logger: logger)
            audit.append(district.event("campaign.read", identity, "campaign", id))
            return (try await CampaignRecords.find(id, on: connection, logger: logger)!, counts, version)
        }
    }

    /// Changes the plan of a campaign of the caller's district if it is still at `version`; every problem at once.
    public func change(
        _ id: UUID,
        version: Int,
        to new: NewCampaign,
        by identity: Identity,
        clientAddress: String?
    ) async throws -> (campaign: NaturalisationCampaign, version: Int) {
        let (title, description, starts, ends) = try new.validated()
        return try await district.work(identity, clientAddress: clientAddress) { connection, audit in
            guard try await Self.version(of: id, district: identity.tenant.id, on: connection, logger: logger) == version else {
                throw DomainError.stale(
                    "Die Kampagne wurde inzwischen von jemand anderem geändert. Bitte neu laden, den aktuellen Stand prüfen und die Änderung erneut senden."
                )
            }
            try await Self.checkChoices(of: new, district: identity.tenant.id, on: connection, logger: logger)
            let changed = try await connection.query(
                """
                UPDATE naturalisation_campaigns SET title = \(title), starts_on = \(starts.iso)::date, ends_on = \(ends.iso)::date,
                    description = \(description), towns = \(new.towns), services = \(new.services), version = version + 1
                WHERE id = \(id) AND tenant_id = \(identity.tenant.id) AND version = \(version) RETURNING version
                """,
                logger: logger
            ).collect().first?.decode(Int.self)
            guard let changed else { throw DomainError.stale("Die Kampagne wurde inzwischen geändert. Bitte neu laden.") }
            audit.append(district.event("campaign.changed", identity, "campaign", id, ["version": "\(changed)"]))
            return (try await CampaignRecords.find(id, on: connection, logger: logger)!, changed)
        }
    }

    /// The version of a campaign of `district`; not found for any other.
    static func version(of id: UUID, district: UUID, on connection: PostgresConnection, logger: Logger) async throws -> Int {
        guard
            let version = try await connection.query(
                "SELECT version FROM naturalisation_campaigns WHERE id = \(id) AND tenant_id = \(district)",
                logger: logger
            ).collect().first?.decode(Int.self)
        else { throw notFound }
        return version
    }

    /// The campaign's counts per town and for the district, through the figures' suppression.
    static func counts(
        of id: UUID,
        district: UUID,
        on connection: PostgresConnection,
        logger: Logger
    ) async throws -> [NaturalisationCampaign.TownCounts] {
        var raw: [(town: String, counts: [Int])] = []
        let rows = try await connection.query(
            "SELECT t.name, c.informed, c.prechecks, c.applications FROM campaign_counts(\(id)) c JOIN tenants t ON t.id = c.town ORDER BY t.name",
            logger: logger
        )
        for try await (town, informed, prechecks, applications) in rows.decode((String, Int, Int, Int).self) {
            raw.append((town, [informed, prechecks, applications]))
        }
        let rules = try await ReminderSweep.rules(for: district, on: connection, logger: logger)
        return suppressed(raw, threshold: rules.suppressCountsBelow)
    }
}
