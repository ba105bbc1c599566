import Foundation
import Logging
import PostgresNIO

/// Structural problems and the escalation ladder. Case managers raise problems from their cases;
/// district coordinators poll the towns, hand a problem to a project group, escalate it, solve
/// it (and publish the solution as good practice) or write it up for the state. Every call runs
/// in one transaction acting for the caller's tenant and is audited with purpose `coordination`.
public struct Problems: Sendable {
    let work: TenantWork
    /// The raiser's own cases, which a problem is raised from.
    let cases: CaseWork

    public init(work: TenantWork, cases: CaseWork) {
        self.work = work
        self.cases = cases
    }

    var logger: Logger { work.logger }
    static let notFound = DomainError.notFound("Dieses Systemproblem gibt es nicht, oder es ist für Sie nicht sichtbar.")

    // MARK: - Raising and reading

    /// A case manager raises a problem from cases of their own tenant. It starts at the municipal level,
    /// or at the district level when it is about a district-wide actor; the coordinators are told.
    public func raise(_ new: NewProblem, by identity: Identity, clientAddress: String?) async throws -> StructuralProblem {
        let (title, category, description, spheres) = try new.validated()
        guard identity.tenant.districtID != nil else {
            throw DomainError.forbidden("Systemprobleme melden die Case Manager der Städte und Träger eines Kreises.")
        }
        let wholeTenant = work.policy.allows(identity, .overseeCaseload)
        return try await work.work(identity, clientAddress: clientAddress) { connection, audit in
            let caseIDs = Array(Set(new.caseIDs))
            let own = try await connection.query(
                """
                SELECT id FROM cases WHERE tenant_id = \(identity.tenant.id) AND id = ANY(\(caseIDs))
                  AND (\(wholeTenant) OR owner_id = \(identity.userID))
                """,
                logger: logger
            ).collect().map { try $0.decode(UUID.self) }
            if let missing = caseIDs.first(where: { !own.contains($0) }) {
                throw InvalidInput(field: "case_ids", "Den Fall \(missing.uuidString.lowercased()) gibt es nicht unter Ihren Fällen.")
            }
            let rules = try await ReminderSweep.rules(for: identity.tenant.id, on: connection, logger: logger)
            let level: LadderLevel = new.districtWideActor == true ? .district : .municipal
            let id = UUID()
            try await connection.query(
                """
                INSERT INTO structural_problems (tenant_id, id, raised_by_tenant_id, raised_by, raised_by_name, title, category, description,
                                                 legal_spheres, district_wide_actor, case_count, level, level_since, level_deadline)
                VALUES (\(identity.tenant.districtID!), \(id), \(identity.tenant.id), \(identity.userID), \(identity.displayName), \(title),
                        \(category.rawValue), \(description), \(spheres), \(new.districtWideActor == true), \(caseIDs.count), \(level.rawValue),
                        now(), now() + make_interval(weeks => \(level.deadline(rules))::integer))
                """,
                logger: logger
            )
            try await connection.query(
                """
                INSERT INTO problem_cases (tenant_id, problem_id, case_id) SELECT \(identity.tenant.id), \(id), unnest(\(caseIDs)::uuid[])
                """,
                logger: logger
            )
            try await Self.record(
                .raised,
                id,
                raisedBy: identity.tenant.id,
                district: identity.tenant.districtID!,
                to: level,
                text: "Gemeldet von \(identity.tenant.name) (\(category.label)).",
                actor: identity.displayName,
                on: connection,
                logger: logger
            )
            for coordinator in try await Notifier.districtCoordinators(on: connection, logger: logger) {
                try await Notifier.notify(
                    coordinator,
                    .problemRaised,
                    title: "\(identity.tenant.name): neues Systemproblem „\(title)“",
                    link: Self.link(id),
                    dedupeKey: "problem-raised:\(id.uuidString.lowercased())",
                    on: connection,
                    logger: logger
                )
            }
            audit.append(work.event("problem.raised", identity, "problem", id, ["cases": "\(caseIDs.count)", "level": level.rawValue]))
            return try await detailed(id, on: connection)
        }
    }

    /// A coordinator records a problem brought from outside the case work (an Integrationsrat, a migrant organisation, a
    /// carrier, another actor), with its source and no case. It starts at the municipal level of the town it concerns, or
    /// at district level when it concerns no single town; the other coordinators are told.
    public func recordFromOutside(_ new: RecordedProblem, by identity: Identity, clientAddress: String?) async throws -> StructuralProblem {
        let (title, category, description, spheres, source, sourceName) = try new.validated()
        guard identity.tenant.kind == "district" else {
            throw DomainError.forbidden("Probleme von außerhalb der Fallarbeit erfassen die Koordinierungsstellen des Kreises.")
        }
        let town = new.town?.trimmingCharacters(in: .whitespacesAndNewlines).lowercased().nonEmpty
        return try await work.work(identity, clientAddress: clientAddress) { connection, audit in
            var concerns: (id: UUID, name: String)?
            if let town {
                guard
                    let row = try await connection.query(
                        """
                        SELECT id, name FROM tenants
                        WHERE slug = \(town) AND district_id = \(identity.tenant.id) AND kind = 'municipality' AND active
                        """,
                        logger: logger
                    ).collect().first
                else {
                    throw InvalidInput(field: "town", "Diese Stadt gibt es im Kreis nicht. Bitte eine Stadt wählen oder „den ganzen Kreis“.")
                }
                concerns = try row.decode((UUID, String).self)
            }
            let rules = try await ReminderSweep.rules(for: identity.tenant.id, on: connection, logger: logger)
            let level: LadderLevel = concerns == nil ? .district : .municipal
            let id = UUID()
            try await connection.query(
                """
                INSERT INTO structural_problems (tenant_id, id, raised_by_tenant_id, raised_by, raised_by_name, title, category, description,
                                                 legal_spheres, district_wide_actor, case_count, level, level_since, level_deadline,
                                                 source_kind, source_name)
                VALUES (\(identity.tenant.id), \(id), \(concerns?.id ?? identity.tenant.id), \(identity.userID), \(identity.displayName), \(title),
                        \(category.rawValue), \(description), \(spheres), false, 0, \(level.rawValue),
                        now(), now() + make_interval(weeks => \(level.deadline(rules))::integer), \(source.rawValue), \(sourceName))
                """,
                logger: logger
            )
            try await Self.record(
                .raised,
                id,
                raisedBy: nil,
                district: identity.tenant.id,
                to: level,
                text: "Eingebracht von \(sourceName) (\(source.label)); betrifft \(concerns?.name ?? "den ganzen Kreis") (\(category.label)).",
                actor: identity.displayName,
                on: connection,
                logger: logger
            )
            for coordinator in try await Escalation.coordinators(of: identity.tenant.id, on: connection, logger: logger)
            where coordinator != identity.userID {
                try await Notifier.notify(
                    coordinator,
                    .problemRaised,
                    title: "\(sourceName): neues Systemproblem „\(title)“",
                    link: Self.link(id),
                    dedupeKey: "problem-raised:\(id.uuidString.lowercased())",
                    on: connection,
                    logger: logger
                )
            }
            audit.append(work.event("problem.recorded", identity, "problem", id, ["source": source.rawValue, "level": level.rawValue]))
            return try await detailed(id, on: connection)
        }
    }

    /// The problems the identity may see (as `list`), and for a coordinator the district's towns (slug, name) that an
    /// outside problem may concern: what the problems page shows, read in one transaction.
    public func overview(by identity: Identity, clientAddress: String?) async throws -> (problems: [StructuralProblem], towns: [(String, String)]) {
        try await work.work(identity, clientAddress: clientAddress) { connection, audit in
            let problems = try await listed(level: nil, status: nil, identity, connection, &audit)
            guard identity.tenant.kind == "district" else { return (problems, []) }
            let towns = try await connection.query(
                "SELECT slug, name FROM tenants WHERE district_id = \(identity.tenant.id) AND kind = 'municipality' AND active ORDER BY name",
                logger: logger
            ).collect().map { try $0.decode((String, String).self) }
            return (problems, towns)
        }
    }

    /// The problems the identity may see: a coordinator all of the district's; a town its own and the
    /// published solutions of the others. Optionally only those at `level` or in `status`.
    public func list(
        level: LadderLevel? = nil,
        status: ProblemStatus? = nil,
        by identity: Identity,
        clientAddress: String?
    ) async throws
        -> [StructuralProblem]
    {
        try await work.work(identity, clientAddress: clientAddress) { connection, audit in
            try await listed(level: level, status: status, identity, connection, &audit)
        }
    }

    private func listed(
        level: LadderLevel?,
        status: ProblemStatus?,
        _ identity: Identity,
        _ connection: PostgresConnection,
        _ audit: inout [AuditEvent]
    ) async throws -> [StructuralProblem] {
        let ids = try await connection.query(
            """
            SELECT id FROM structural_problems
            WHERE (\(level?.rawValue)::text IS NULL OR level = \(level?.rawValue)) AND (\(status?.rawValue)::text IS NULL OR status = \(status?.rawValue))
            ORDER BY created_at DESC LIMIT 500
            """,
            logger: logger
        ).collect().map { try $0.decode(UUID.self) }
        audit.append(AuditEvent("problem.listed", tenant: identity.tenant.id, actor: identity.userID, detail: ["results": "\(ids.count)"]))
        return try await ProblemRecords.load(ids, on: connection, logger: logger)
    }

    public func problem(_ id: UUID, by identity: Identity, clientAddress: String?) async throws -> StructuralProblem {
        try await work.work(identity, clientAddress: clientAddress) { connection, audit in
            let problem = try await detailed(id, on: connection)
            audit.append(work.event("problem.read", identity, "problem", id))
            return problem
        }
    }

    func detailed(_ id: UUID, on connection: PostgresConnection) async throws -> StructuralProblem {
        guard var problem = try await ProblemRecords.load([id], on: connection, logger: logger).first else { throw Self.notFound }
        try await ProblemRecords.details(of: &problem, on: connection, logger: logger)
        return problem
    }

    // MARK: - The ladder

    /// A coordinator's change of an open problem at `version`: loads it, checks it, lets `change` write,
    /// bumps the version. A problem of another district, or a stale version, changes nothing.
    func steer(
        _ id: UUID,
        version: Int,
        by identity: Identity,
        clientAddress: String?,
        _ change: (StructuralProblem, PostgresConnection, inout [AuditEvent]) async throws -> Void
    ) async throws -> StructuralProblem {
        try await work.work(identity, clientAddress: clientAddress) { connection, audit in
            // Lock first, then read: a second coordinator waits here and then sees the first one's version.
            guard
                try await connection.query(
                    "SELECT 1 FROM structural_problems WHERE id = \(id) AND tenant_id = \(identity.tenant.id) FOR UPDATE",
                    logger: logger
                ).collect().count == 1,
                let problem = try await ProblemRecords.load([id], on: connection, logger: logger).first
            else { throw Self.notFound }
            guard problem.version == version else {
                throw DomainError.stale(
                    "Das Systemproblem wurde inzwischen geändert (Version \(problem.version)). Bitte neu laden und erneut versuchen."
                )
            }
            try await change(problem, connection, &audit)
            try await connection.query("UPDATE structural_problems SET version = version + 1 WHERE id = \(id)", logger: logger)
            return try await detailed(id, on: connection)
        }
    }

    /// Takes an open problem up one level, with the coordinator's reason; the coordinators, the raising
    /// town and the members of the group that had it are told.
    public func escalate(_ id: UUID, version: Int, reason: String, by identity: Identity, clientAddress: String?) async throws -> StructuralProblem {
        let reason = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !reason.isEmpty, reason.count <= 5000 else {
            throw InvalidInput(field: "reason", "Bitte begründen, warum das Problem auf dieser Ebene nicht gelöst wird (1 bis 5000 Zeichen).")
        }
        return try await steer(id, version: version, by: identity, clientAddress: clientAddress) { problem, connection, audit in
            guard problem.status == .open else { throw InvalidInput(field: "status", "Nur ein offenes Systemproblem kann weitergegeben werden.") }
            guard let next = problem.level.next else {
                throw InvalidInput(field: "level", "Das Problem liegt schon auf Landesebene: bitte das Anliegen an das Land schreiben.")
            }
            let rules = try await ReminderSweep.rules(for: identity.tenant.id, on: connection, logger: logger)
            let moved = try await Escalation.move(
                district: identity.tenant.id,
                problems: [id],
                asOf: Date(),
                rules: rules,
                reason: reason,
                actor: identity.displayName,
                byScheduler: false,
                on: connection,
                logger: logger
            )
            guard moved == 1 else { throw Self.notFound }
            audit.append(work.event("problem.escalated", identity, "problem", id, ["from": problem.level.rawValue, "to": next.rawValue]))
        }
    }

    /// The coordinators' other answer to a deadline: the problem stays at its level, with a new deadline (the last second of
    /// that day in Berlin) and the reason in its history; an overdue mark is cleared, and the scheduler reminds again when the new one passes.
    public func setDeadline(
        _ id: UUID,
        version: Int,
        deadline text: String,
        reason: String,
        by identity: Identity,
        clientAddress: String?
    ) async throws -> StructuralProblem {
        var errors: [String: String] = [:]
        let day: Day?
        do { day = try Day.parse(text, field: "deadline", label: "Neue Frist") } catch {
            day = nil
            errors.merge(error.errors) { $1 }
        }
        if day == nil && errors.isEmpty {
            errors["deadline"] = "Bitte die neue Frist als Datum angeben, z. B. \(Day(Date().addingTimeInterval(56 * 86_400)).iso)."
        }
        if let day, day <= Day(Date()) { errors["deadline"] = "Die neue Frist muss nach dem heutigen Tag liegen." }
        let reason = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        if reason.isEmpty || reason.count > 5000 {
            errors["deadline_reason"] = "Bitte begründen, warum das Problem auf dieser Ebene bleibt (1 bis 5000 Zeichen)."
        }
        guard errors.isEmpty, let day else { throw InvalidInput(errors: errors) }
        return try await steer(id, version: version, by: identity, clientAddress: clientAddress) { problem, connection, audit in
            guard problem.status == .open else { throw InvalidInput(field: "status", "Nur ein offenes Systemproblem bekommt eine neue Frist.") }
            try await connection.query(
                """
                UPDATE structural_problems
                SET level_deadline = ((\(day.iso)::date + 1)::timestamp AT TIME ZONE 'Europe/Berlin') - interval '1 second', overdue_since = NULL
                WHERE id = \(id)
                """,
                logger: logger
            )
            try await Self.record(
                .deadlineSet,
                id,
                raisedBy: nil,
                district: identity.tenant.id,
                to: problem.level,
                text: "Neue Frist der Ebene „\(problem.level.label)“: \(day.german). \(reason)",
                actor: identity.displayName,
                on: connection,
                logger: logger
            )
            audit.append(work.event("problem.deadline_set", identity, "problem", id, ["deadline": day.iso]))
        }
    }

    /// Hands the problem to a project group of its level (a municipal group of the raising town, or a district group).
    public func assign(_ id: UUID, version: Int, group: UUID, by identity: Identity, clientAddress: String?) async throws -> StructuralProblem {
        try await steer(id, version: version, by: identity, clientAddress: clientAddress) { problem, connection, audit in
            guard problem.status == .open else {
                throw InvalidInput(field: "status", "Nur ein offenes Systemproblem kann einer Gruppe übergeben werden.")
            }
            guard
                let row = try await connection.query(
                    """
                    SELECT g.name, g.level, g.town_tenant_id = p.raised_by_tenant_id FROM project_groups g, structural_problems p
                    WHERE g.id = \(group) AND g.active AND p.id = \(id)
                    """,
                    logger: logger
                ).collect().first
            else { throw InvalidInput(field: "group_id", "Diese Projektgruppe gibt es nicht.") }
            let (name, level, sameTown) = try row.decode((String, String, Bool?).self)
            guard level == problem.level.rawValue, level == "district" || sameTown == true else {
                throw InvalidInput(
                    field: "group_id",
                    problem.level == .municipal
                        ? "Auf kommunaler Ebene bearbeitet eine kommunale Projektgruppe der meldenden Stadt das Problem."
                        : problem.level == .district
                            ? "Auf Kreisebene bearbeitet eine Projektgruppe auf Kreisebene das Problem."
                            : "Auf dieser Ebene bearbeitet keine Projektgruppe das Problem."
                )
            }
            try await connection.query("UPDATE structural_problems SET group_id = \(group) WHERE id = \(id)", logger: logger)
            try await Self.record(
                .assigned,
                id,
                raisedBy: nil,
                district: identity.tenant.id,
                to: problem.level,
                text: "Übergeben an: \(name).",
                actor: identity.displayName,
                on: connection,
                logger: logger
            )
            for member in try await ProjectGroups.memberAccounts(of: group, on: connection, logger: logger) {
                try await Notifier.notify(
                    member,
                    .problemEscalated,
                    title: "Neues Thema für \(name): „\(problem.title)“",
                    link: Self.link(id),
                    dedupeKey: "problem-assigned:\(id.uuidString.lowercased()):\(group.uuidString.lowercased())",
                    on: connection,
                    logger: logger
                )
            }
            audit.append(work.event("problem.assigned", identity, "problem", id, ["group": group.uuidString]))
        }
    }

    /// Records the solution; with `publish`, the other towns see it as good practice.
    public func solve(
        _ id: UUID,
        version: Int,
        solution: String,
        publish: Bool,
        by identity: Identity,
        clientAddress: String?
    ) async throws
        -> StructuralProblem
    {
        let solution = solution.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !solution.isEmpty, solution.count <= 10000 else {
            throw InvalidInput(field: "solution", "Bitte die Lösung beschreiben (1 bis 10000 Zeichen).")
        }
        return try await steer(id, version: version, by: identity, clientAddress: clientAddress) { problem, connection, audit in
            guard problem.status == .open else { throw InvalidInput(field: "status", "Das Systemproblem ist schon abgeschlossen.") }
            try await connection.query(
                """
                UPDATE structural_problems SET status = 'solved', solution = \(solution), solved_at = now(),
                       published_at = CASE WHEN \(publish) THEN now() END, level_deadline = NULL, overdue_since = NULL
                WHERE id = \(id)
                """,
                logger: logger
            )
            try await Self.record(
                .solved,
                id,
                raisedBy: nil,
                district: identity.tenant.id,
                to: problem.level,
                text: solution,
                actor: identity.displayName,
                on: connection,
                logger: logger
            )
            if publish { try await published(problem, by: identity, on: connection) }
            try await tellRaiser(problem, .problemSolved, "Lösung für Ihr Systemproblem „\(problem.title)“", key: "solved", on: connection)
            audit.append(work.event("problem.solved", identity, "problem", id, ["published": "\(publish)"]))
        }
    }

    /// Offers a solved problem's solution to all towns of the district as good practice.
    public func publish(_ id: UUID, version: Int, by identity: Identity, clientAddress: String?) async throws -> StructuralProblem {
        try await steer(id, version: version, by: identity, clientAddress: clientAddress) { problem, connection, audit in
            guard problem.status == .solved else {
                throw InvalidInput(field: "status", "Veröffentlicht wird eine Lösung: bitte das Problem erst lösen.")
            }
            guard problem.publishedAt == nil else { return }
            try await connection.query("UPDATE structural_problems SET published_at = now() WHERE id = \(id)", logger: logger)
            try await published(problem, by: identity, on: connection)
            audit.append(work.event("problem.published", identity, "problem", id))
        }
    }

    private func published(_ problem: StructuralProblem, by identity: Identity, on connection: PostgresConnection) async throws {
        try await Self.record(
            .published,
            problem.id,
            raisedBy: nil,
            district: identity.tenant.id,
            to: problem.level,
            text: "Als gute Praxis für alle Städte veröffentlicht.",
            actor: identity.displayName,
            on: connection,
            logger: logger
        )
    }

    /// At state level: the concern put to the state (Anliegen an das Land), written from the history.
    public func submitToState(_ id: UUID, version: Int, text: String, by identity: Identity, clientAddress: String?) async throws -> StructuralProblem
    {
        let text = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty, text.count <= 20000 else {
            throw InvalidInput(field: "text", "Bitte das Anliegen an das Land formulieren (1 bis 20000 Zeichen).")
        }
        return try await steer(id, version: version, by: identity, clientAddress: clientAddress) { problem, connection, audit in
            guard problem.status == .open, problem.level == .state else {
                throw InvalidInput(
                    field: "level",
                    "Ein Anliegen an das Land wird geschrieben, wenn das offene Problem auf Landesebene angekommen ist."
                )
            }
            try await connection.query(
                "UPDATE structural_problems SET status = 'submitted', state_submission = \(text), submitted_at = now(), overdue_since = NULL WHERE id = \(id)",
                logger: logger
            )
            try await Self.record(
                .submitted,
                id,
                raisedBy: nil,
                district: identity.tenant.id,
                to: .state,
                text: "Anliegen an das Land abgegeben.",
                actor: identity.displayName,
                on: connection,
                logger: logger
            )
            audit.append(work.event("problem.submitted", identity, "problem", id))
        }
    }

    // MARK: - Polls

    /// Asks the case managers of the district's other towns (and, when the coordinator chooses, of its carriers) whether they
    /// know the problem and how they solved it. The poll carries the problem's title, category and description.
    public func poll(
        _ id: UUID,
        question: String,
        includeCarriers: Bool = false,
        by identity: Identity,
        clientAddress: String?
    ) async throws -> StructuralProblem {
        let question = question.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !question.isEmpty, question.count <= 5000 else {
            throw InvalidInput(field: "question", "Bitte die Frage an die anderen Städte formulieren (1 bis 5000 Zeichen), ohne Daten von Klienten.")
        }
        return try await work.work(identity, clientAddress: clientAddress) { connection, audit in
            guard let problem = try await ProblemRecords.load([id], on: connection, logger: logger).first,
                try await connection.query("SELECT 1 FROM structural_problems WHERE id = \(id) AND tenant_id = \(identity.tenant.id)", logger: logger)
                    .collect().count == 1
            else { throw Self.notFound }
            guard problem.status == .open, problem.level <= .district else {
                throw InvalidInput(field: "status", "Umfragen gibt es zu offenen Problemen, bevor eine Projektgruppe es bearbeitet hat.")
            }
            let kinds = includeCarriers ? ["municipality", "carrier"] : ["municipality"]
            let asked = try await connection.query(
                """
                SELECT c.user_id, c.tenant_id, t.kind FROM district_case_managers() c JOIN tenants t ON t.id = c.tenant_id
                WHERE c.tenant_id <> (SELECT raised_by_tenant_id FROM structural_problems WHERE id = \(id)) AND t.kind = ANY(\(kinds))
                """,
                logger: logger
            ).collect().map { try $0.decode((UUID, UUID, String).self) }
            let tenants = Array(Set(asked.map(\.1)))
            guard !tenants.isEmpty else {
                throw InvalidInput(
                    field: "question",
                    includeCarriers
                        ? "In den anderen Städten und bei den Trägern des Kreises gibt es noch keine Case Manager mit Konto, die antworten könnten."
                        : "In den anderen Städten des Kreises gibt es noch keine Case Manager mit Konto, die antworten könnten."
                )
            }
            let carriers = Set(asked.filter { $0.2 == "carrier" }.map(\.1)).count
            let audience = ProblemPoll.audience(towns: tenants.count - carriers, carriers: carriers)
            let poll = UUID()
            try await connection.query(
                """
                INSERT INTO problem_polls (tenant_id, id, problem_id, question, asked_tenants, asked_by, asked_by_name,
                                           problem_title, problem_category, problem_description)
                VALUES (\(identity.tenant.id), \(poll), \(id), \(question), \(tenants), \(identity.userID), \(identity.displayName),
                        \(problem.title), \(problem.category.rawValue), \(problem.description))
                """,
                logger: logger
            )
            try await Self.record(
                .polled,
                id,
                raisedBy: nil,
                district: identity.tenant.id,
                to: problem.level,
                text: "Umfrage an \(audience): \(question)",
                actor: identity.displayName,
                on: connection,
                logger: logger
            )
            for (user, _, _) in asked {
                try await Notifier.notify(
                    user,
                    .problemPoll,
                    title: "Umfrage der Koordinierungsstelle: „\(problem.title)“",
                    link: "/umfragen#poll-\(poll.uuidString.lowercased())",
                    dedupeKey: "poll:\(poll.uuidString.lowercased())",
                    on: connection,
                    logger: logger
                )
            }
            audit.append(work.event("problem.polled", identity, "problem", id, ["tenants": "\(tenants.count)", "carriers": "\(carriers)"]))
            return try await detailed(id, on: connection)
        }
    }

    /// The polls the identity's tenant was asked in, with its own answers.
    public func askedPolls(by identity: Identity, clientAddress: String?) async throws -> [ProblemPoll] {
        try await work.work(identity, clientAddress: clientAddress) { connection, _ in
            try await PollRecords.polls(of: nil, on: connection, logger: logger)
        }
    }

    /// A case manager answers a poll their tenant was asked in: whether the problem is known there (required), and how it was solved.
    public func answer(poll: UUID, known: Bool?, answer: String, by identity: Identity, clientAddress: String?) async throws {
        let answer = answer.trimmingCharacters(in: .whitespacesAndNewlines)
        var errors: [String: String] = [:]
        if known == nil { errors["known"] = "Bitte angeben, ob Ihre Stelle das Problem kennt (ja oder nein)." }
        if answer.count > 5000 || (known == true && answer.isEmpty) {
            errors["answer"] = "Bitte kurz beschreiben, wie Sie das Problem gelöst haben (bis 5000 Zeichen)."
        }
        guard errors.isEmpty, let known else { throw InvalidInput(errors: errors) }
        try await work.work(identity, clientAddress: clientAddress) { connection, audit in
            guard try await connection.query("SELECT app_was_polled(\(poll))", logger: logger).collect().first?.decode(Bool.self) == true else {
                throw DomainError.notFound("Diese Umfrage gibt es nicht, oder Ihre Stelle wurde nicht gefragt.")
            }
            try await connection.query(
                """
                INSERT INTO poll_answers (tenant_id, id, poll_id, district_id, answered_by, answered_by_name, known, answer)
                VALUES (\(identity.tenant.id), \(UUID()), \(poll), \(identity.tenant.districtID), \(identity.userID), \(identity.displayName),
                        \(known), \(answer))
                """,
                logger: logger
            )
            audit.append(work.event("poll.answered", identity, "poll", poll, ["known": "\(known)"]))
        }
    }

    // MARK: - Helpers

    static func link(_ id: UUID) -> String { "/probleme/\(id.uuidString.lowercased())" }

    enum EventKind: String {
        case raised, assigned, polled, escalated, solved, published, submitted, overdue
        case deadlineSet = "deadline_set"
    }

    /// Appends to the problem's history; `raisedBy` nil: the problem's own raising tenant.
    static func record(
        _ kind: EventKind,
        _ problem: UUID,
        raisedBy: UUID?,
        district: UUID,
        from: LadderLevel? = nil,
        to: LadderLevel?,
        text: String,
        actor: String,
        byScheduler: Bool = false,
        on connection: PostgresConnection,
        logger: Logger
    ) async throws {
        try await connection.query(
            """
            INSERT INTO problem_events (tenant_id, problem_id, raised_by_tenant_id, kind, from_level, to_level, text, actor_name, by_scheduler)
            VALUES (\(district), \(problem), coalesce(\(raisedBy), (SELECT raised_by_tenant_id FROM structural_problems WHERE id = \(problem))),
                    \(kind.rawValue), \(from?.rawValue), \(to?.rawValue), \(text), \(actor), \(byScheduler))
            """,
            logger: logger
        )
    }

    /// Tells the person who raised the problem (a district may notify its towns' staff).
    func tellRaiser(
        _ problem: StructuralProblem,
        _ kind: NotificationKind,
        _ title: String,
        key: String,
        on connection: PostgresConnection
    ) async throws {
        guard
            let raiser = try await connection.query("SELECT raised_by FROM structural_problems WHERE id = \(problem.id)", logger: logger)
                .collect().first?.decode(UUID.self)
        else { return }
        try await Notifier.notify(
            raiser,
            kind,
            title: title,
            link: Self.link(problem.id),
            dedupeKey: "problem-\(key):\(problem.id.uuidString.lowercased())",
            on: connection,
            logger: logger
        )
    }
}
