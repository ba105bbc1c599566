import Foundation
import Logging
import PostgresNIO

/// Plausible synthetic data for a district: case managers per town, clients with consent, cases in
/// every phase, goals. No real names: first and last names are drawn independently from common ones.
/// Written with set-based INSERT … SELECT, one statement per table and town, so that a million
/// clients take minutes, not hours. Run as the owner role.
public struct DemoData: Sendable {
    let database: Database

    public init(database: Database) { self.database = database }

    static let firstNames = [
        "Amira", "Yusuf", "Olena", "Mohammed", "Fatima", "Ahmad", "Leyla", "Omar", "Iryna", "Hassan", "Zainab", "Mehmet", "Ayşe", "Dmytro", "Nadia",
        "Ali", "Mariam", "Khaled", "Elif", "Bogdan", "Rania", "Samir", "Oksana", "Tarek", "Hiba", "Emre", "Anastasia", "Bilal", "Noor", "Florin",
        "Daria", "Karim", "Sara", "Mustafa", "Yana", "Ibrahim", "Lina", "Ionuț", "Maryam", "Abdullah",
    ]
    static let lastNames = [
        "Haddad", "Demir", "Kovalenko", "Al-Sayed", "Yılmaz", "Hussaini", "Petrova", "Rahimi", "Shevchenko", "Nasser", "Kaya", "Popescu", "Ahmadi",
        "Boyko", "Khalil", "Öztürk", "Ivanova", "Mansour", "Georgiev", "Karimi", "Tkachenko", "Saleh", "Aydın", "Dimitrova", "Hamdan", "Melnyk",
        "Yousef", "Çelik", "Stoica", "Habibi",
    ]
    static let countries = ["Syrien", "Ukraine", "Afghanistan", "Türkei", "Irak", "Rumänien", "Bulgarien", "Iran", "Eritrea", "Somalia"]
    static let statuses = [
        "Aufenthaltserlaubnis § 25 Abs. 2", "Aufenthaltserlaubnis § 24", "Aufenthaltsgestattung", "Duldung", "Freizügigkeit EU",
        "Niederlassungserlaubnis",
    ]

    /// What was written.
    public struct Summary: Sendable, CustomStringConvertible {
        public var caseManagers = 0
        public var clients = 0
        public var goals = 0
        public var seconds = 0.0
        public var description: String {
            "seeded \(clients) clients with consent and a case each, \(goals) goals, \(caseManagers) case managers in \(String(format: "%.1f", seconds)) s"
        }
    }

    /// Clients per case manager over the years (most of their cases closed).
    static let caseload = 300

    /// Fills the towns of `district` with `clients` clients in all, shared out by their funded case-management posts.
    public func seed(district slug: String, clients total: Int) async throws -> Summary {
        let start = Date()
        var summary = Summary()
        // Funded case-management posts of the latest year (staff shares are tenant rows: the catalogue reads them per tenant).
        let towns = try await TenantCatalogue(database: database).list(district: slug).filter { $0.tenant.kind == .municipality && $0.active }.map {
            stored -> (UUID, String, Double) in
            let latest = stored.tenant.staffShares.filter { $0.key.programme == .caseManagement }.max { $0.key.year < $1.key.year }
            return (stored.id, stored.tenant.slug, Double(latest?.value.hundredths ?? 50) / 100)
        }
        guard !towns.isEmpty else { throw TenantNotFound(slug: slug, expectedKind: .district) }
        let weights = towns.map { max($0.2, 0.25) }
        let sum = weights.reduce(0, +)
        for (index, (tenant, townSlug, fte)) in towns.enumerated() {
            let count = index == towns.count - 1 ? total - summary.clients : Int((Double(total) * weights[index] / sum).rounded())
            guard count > 0 else { continue }
            // About 300 clients per case manager over the years, most of their cases closed: a caseload stays
            // a caseload (some dozens open) however large the district's history grows. A second seed adds
            // managers for the new clients and gives the new cases to those with room, so nobody's grows.
            let managers = try await database.withTransaction { connection -> Int in
                try await connection.actAs(tenant: tenant, logger: database.logger)
                let existing =
                    try await connection.query(
                        "SELECT count(*)::integer FROM cases WHERE tenant_id = \(tenant) AND case_number LIKE '%-DEMO-%'",
                        logger: database.logger
                    ).collect().first?.decode(Int.self) ?? 0
                let managers = max(2, Int((fte * 2).rounded()), (existing + count + Self.caseload - 1) / Self.caseload)
                try await connection.query(
                    """
                    INSERT INTO users (tenant_id, id, email, display_name, roles)
                    SELECT \(tenant), gen_random_uuid(), 'cm' || n || '@' || \(townSlug) || '.demo', 'Demo-CM ' || n || ' (' || \(townSlug) || ')', '{case_manager}'
                    FROM generate_series(1, \(managers)) n
                    ON CONFLICT (email) DO NOTHING
                    """,
                    logger: database.logger
                )
                // Clients (birth dates over 55 years, arrivals over the last 4), each with consent and one case owned
                // round-robin by the town's case managers, in every phase: one statement, so it is all or nothing.
                summary.goals +=
                    try await connection.query(
                        """
                        WITH new_clients AS (
                            INSERT INTO clients (tenant_id, id, first_name, last_name, date_of_birth, gender, place_of_residence, residence_status,
                                country_of_origin, languages, german_level, arrival_date, single_parent, unaccompanied_minor, family_with_barriers)
                            SELECT \(tenant), gen_random_uuid(),
                                (\(Self.firstNames))[1 + floor(random() * \(Self.firstNames.count))::int],
                                (\(Self.lastNames))[1 + floor(random() * \(Self.lastNames.count))::int],
                                date '1950-01-01' + floor(random() * 20000)::int,
                                (ARRAY['female', 'male', 'diverse', 'unspecified'])[1 + floor(random() * 2.05)::int],
                                initcap(replace(\(townSlug), '-', ' ')),
                                (\(Self.statuses))[1 + floor(random() * \(Self.statuses.count))::int],
                                (\(Self.countries))[1 + floor(random() * \(Self.countries.count))::int],
                                ARRAY[(ARRAY['ar', 'uk', 'fa', 'tr', 'ru', 'ro', 'ku', 'ti'])[1 + floor(random() * 8)::int]],
                                (ARRAY['none', 'A1', 'A2', 'B1', 'B2', 'C1'])[1 + floor(random() * 6)::int],
                                current_date - floor(random() * 1460)::int,
                                random() < 0.1, random() < 0.02, random() < 0.08
                            FROM generate_series(1, \(count))
                            RETURNING id, arrival_date),
                        new_consents AS (
                            INSERT INTO consents (tenant_id, id, client_id, scope, given_on)
                            SELECT \(tenant), gen_random_uuid(), id, 'case_management', greatest(arrival_date, current_date - 400) FROM new_clients
                            RETURNING 1),
                        load AS (
                            SELECT owner_id, count(*) AS cases FROM cases WHERE tenant_id = \(tenant) AND case_number LIKE '%-DEMO-%' GROUP BY owner_id),
                        demo_managers AS (
                            SELECT u.id, u.email, coalesce(l.cases, 0) AS cases FROM users u LEFT JOIN load l ON l.owner_id = u.id
                            WHERE u.tenant_id = \(tenant) AND u.email LIKE '%@' || \(townSlug) || '.demo'),
                        -- One slot per case a manager still has room for, dealt round the managers in turn
                        -- (an array: picking the n-th slot is a lookup, not a join of clients with slots).
                        slots AS (
                            SELECT array_agg(id ORDER BY slot, email) AS owners
                            FROM demo_managers, generate_series(1, greatest(\(Self.caseload) - cases, 0)) slot),
                        base AS (
                            SELECT coalesce(max(split_part(case_number, '-', 3)::int), 0) AS last FROM cases
                            WHERE tenant_id = \(tenant) AND case_number LIKE '%-DEMO-%'),
                        picked AS (
                            SELECT id, row_number() OVER () AS n,
                                CASE WHEN random() < 0.8 THEN 'closure'
                                     ELSE (ARRAY['intake', 'assessment', 'goal_agreement', 'service_steering', 'monitoring', 'reassessment'])
                                         [1 + floor(random() * 6)::int] END AS phase
                            FROM new_clients),
                        new_cases AS (
                        INSERT INTO cases (tenant_id, id, case_number, client_id, owner_id, channel, phase, route, next_review_on, opened_on, closed_on, closure_reason)
                        SELECT \(tenant), gen_random_uuid(), upper(left(\(townSlug), 3)) || '-DEMO-' || (base.last + p.n), p.id,
                            slots.owners[1 + (p.n - 1) % cardinality(slots.owners)],
                            (ARRAY['level1', 'level1', 'level1', 'level2_internal', 'level2_external'])[1 + floor(random() * 5)::int],
                            p.phase,
                            CASE WHEN p.phase IN ('intake', 'assessment') THEN NULL
                                 ELSE (ARRAY['welcome_package', 'solved_directly', 'cross_jurisdiction', 'counselling_referral'])[1 + floor(random() * 4)::int] END,
                            CASE WHEN p.phase = 'closure' THEN NULL ELSE current_date + floor(random() * 120 - 20)::int END,
                            current_date - floor(random() * 700)::int,
                            CASE WHEN p.phase = 'closure' THEN current_date - floor(random() * 30)::int END,
                            CASE WHEN p.phase = 'closure' THEN 'Ziele erreicht' END
                        FROM picked p CROSS JOIN base CROSS JOIN slots
                        RETURNING tenant_id, id, phase, opened_on),
                        -- Two goals for every case past the assessment: the cases just written, no lookup.
                        new_goals AS (
                            INSERT INTO goals (tenant_id, id, case_id, area, text, agreed_on, review_on)
                            SELECT k.tenant_id, gen_random_uuid(), k.id,
                                (ARRAY['language', 'work', 'education', 'housing', 'health', 'residence', 'family', 'social'])[1 + floor(random() * 8)::int],
                                'Demo-Ziel ' || g, k.opened_on, k.opened_on + 90 + floor(random() * 180)::int
                            FROM new_cases k CROSS JOIN generate_series(1, 2) g
                            WHERE k.phase NOT IN ('intake', 'assessment')
                            RETURNING 1)
                        SELECT count(*)::integer FROM new_goals
                        """,
                        logger: database.logger
                    ).collect().first?.decode(Int.self) ?? 0
                try await AuditLog.record(
                    AuditEvent("demo.seeded", tenant: tenant, actor: nil, detail: ["clients": "\(count)", "via": "cli"]),
                    on: connection,
                    logger: database.logger
                )
                return managers
            }
            summary.clients += count
            summary.caseManagers += managers
        }
        try await database.withTransaction { try await $0.query("ANALYZE clients, cases, goals, consents", logger: database.logger) }
        summary.seconds = Date().timeIntervalSince(start)
        return summary
    }
}
