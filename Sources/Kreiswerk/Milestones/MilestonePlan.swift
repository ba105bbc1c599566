import Foundation
import Logging
import PostgresNIO

/// A district's KIM milestone plan (issue 21, seed 004 section 10): everyone of the district reads it — the steering
/// group's members, the towns' and carriers' staff, the coordinators; the coordinators (Koordinierungsstelle) keep it:
/// status, who and note per task, versioned (a change made against an older version is refused) and audited, and they
/// add tasks. The tasks themselves come from tenants/DISTRICT/milestones.yaml (`MilestoneFiles`).
public struct MilestonePlan: Sendable {
    let work: TenantWork

    public init(database: Database, policy: Policy) {
        work = .coordination(database, policy)
    }

    var logger: Logger { work.logger }

    /// Whether the identity keeps the plan (its district's coordinators, acting in the district).
    public func keeps(_ identity: Identity) -> Bool {
        work.policy.allows(identity, .coordinateDistrict) && identity.tenant.kind == "district"
    }

    static func notFound(_ slug: String) -> DomainError {
        .notFound("Einen Kreis „\(slug)“ gibt es in Ihrem Bereich nicht: den Meilensteinplan lesen nur die Mandanten des eigenen Kreises.")
    }

    static let notKept = DomainError.forbidden(
        "Den Meilensteinplan pflegt die Koordinierungsstelle des Kreises; alle anderen im Kreis lesen ihn."
    )

    /// The identity's own district, if `slug` names it (404 otherwise: another district is not told apart from none).
    func district(_ slug: String?, of identity: Identity, on connection: PostgresConnection) async throws -> TenantRef {
        let own = try await identity.tenant.ownDistrictID.asyncFlatMap {
            try await TenantDirectory.find(id: $0, on: connection, logger: logger)
        }
        guard let own, own.kind == "district", slug == nil || own.slug == slug else { throw Self.notFound(slug ?? "") }
        return own
    }

    /// The plan of the identity's district (`slug`, or its own when nil), overdue as of `day`.
    public func plan(
        ofDistrict slug: String?,
        by identity: Identity,
        clientAddress: String?,
        asOf day: Day = .today
    ) async throws
        -> MilestonePlanView
    {
        try await work.work(identity, clientAddress: clientAddress) { connection, _ in
            let district = try await district(slug, of: identity, on: connection)
            return try await Self.view(district, asOf: day, on: connection, logger: logger)
        }
    }

    /// The plan and the district's tenants (for the form that names who is responsible), in one transaction.
    func page(by identity: Identity, clientAddress: String?, asOf day: Day) async throws -> (MilestonePlanView, [(slug: String, name: String)]) {
        try await work.work(identity, clientAddress: clientAddress) { connection, _ in
            let district = try await district(nil, of: identity, on: connection)
            let view = try await Self.view(district, asOf: day, on: connection, logger: logger)
            let tenants = keeps(identity) ? try await MilestoneRecords.districtTenants(of: district.id, on: connection, logger: logger) : []
            return (view, tenants.map { ($0.slug, $0.name) })
        }
    }

    static func view(_ district: TenantRef, asOf day: Day, on connection: PostgresConnection, logger: Logger) async throws -> MilestonePlanView {
        let tasks = try await MilestoneRecords.tasks(asOf: day, on: connection, logger: logger)
        let halfYears = Set(tasks.flatMap(\.halfYears)).compactMap(HalfYear.init).sorted { ($0.year, $0.half) < ($1.year, $1.half) }
        return MilestonePlanView(
            district: district.slug,
            districtName: district.name,
            asOf: day.iso,
            halfYears: halfYears.map(\.description),
            open: tasks.filter { !(MilestoneStatus(rawValue: $0.status)?.isClosed ?? false) }.count,
            overdue: tasks.filter(\.overdue).count,
            tasks: tasks
        )
    }

    /// The counts of the reader's district's plan by building block and status, with open and overdue, as of `day`:
    /// for a report that reads them in its own transaction (every account of the district may).
    public static func summary(asOf day: Day, on connection: PostgresConnection, logger: Logger) async throws -> MilestoneSummary {
        let tasks = try await MilestoneRecords.tasks(asOf: day, on: connection, logger: logger)
        var counts: [String: [String: Int]] = [:]
        for task in tasks { counts[task.buildingBlock, default: [:]][task.status, default: 0] += 1 }
        return MilestoneSummary(
            byBuildingBlock: counts,
            open: tasks.filter { !(MilestoneStatus(rawValue: $0.status)?.isClosed ?? false) }.count,
            overdue: tasks.filter(\.overdue).count,
            total: tasks.count
        )
    }

    /// The same counts for the identity's district, in a transaction of their own.
    public func summary(by identity: Identity, clientAddress: String?, asOf day: Day = .today) async throws -> MilestoneSummary {
        try await work.work(identity, clientAddress: clientAddress) { connection, _ in
            _ = try await district(nil, of: identity, on: connection)
            return try await Self.summary(asOf: day, on: connection, logger: logger)
        }
    }

    // MARK: - Checking input

    static func text(_ value: String?) -> String? {
        guard let trimmed = value?.trimmingCharacters(in: .whitespacesAndNewlines), !trimmed.isEmpty else { return nil }
        return trimmed
    }

    static func status(_ text: String?, errors: inout [String: String]) -> MilestoneStatus? {
        guard let text else { return nil }
        guard let status = MilestoneStatus(rawValue: text.trimmingCharacters(in: .whitespaces)) else {
            errors["status"] = "„\(text)“ ist kein Stand einer Aufgabe: bitte einen dieser angeben: \(MilestoneStatus.listed)."
            return nil
        }
        return status
    }

    static func limited(_ value: String?, field: String, label: String, max: Int, errors: inout [String: String]) -> String? {
        let value = text(value)
        if let value, value.count > max { errors[field] = "\(label) darf höchstens \(max) Zeichen lang sein (jetzt \(value.count)): bitte kürzen." }
        return value
    }

    static func tenant(
        _ slug: String?,
        in tenants: [(slug: String, id: UUID, name: String)],
        errors: inout [String: String]
    ) -> UUID? {
        guard let slug = text(slug) else { return nil }
        guard let found = tenants.first(where: { $0.slug == slug }) else {
            errors["responsible_tenant"] =
                "„\(slug)“ ist kein Mandant Ihres Kreises: bitte einen Mandanten des Kreises wählen oder das Feld leer lassen."
            return nil
        }
        return found.id
    }

    static func halfYears(_ values: [String]?, errors: inout [String: String]) -> [String] {
        let values = (values ?? []).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let wrong = values.filter { HalfYear($0) == nil }
        if let first = wrong.first {
            errors["half_years"] =
                "„\(first)“ ist kein Halbjahr: bitte Jahr und 1 oder 2 angeben, z. B. 2021-1 für Januar bis Juni oder 2021-2 für Juli bis Dezember 2021."
            return []
        }
        if values.isEmpty {
            errors["half_years"] = "Bitte mindestens ein Halbjahr angeben, in dem die Aufgabe geplant ist, z. B. 2027-1."
        }
        return Set(values.compactMap(HalfYear.init)).sorted { ($0.year, $0.half) < ($1.year, $1.half) }.map(\.description)
    }

    // MARK: - Changes

    /// What a change did, field by field, in German: "Stand: geplant → erledigt".
    public struct Outcome: Sendable {
        public var task: MilestoneTask
        /// The fields that changed: `status`, `responsible`, `responsible_tenant`, `note`.
        public var changed: [String]
    }

    /// Changes status, who and note of task `id` of the district `slug` (nil: the identity's own). `version` is the task's
    /// version as read: a task changed since is a stale edit (`DomainError.stale`, naming the current state).
    public func update(
        _ id: UUID,
        ofDistrict slug: String?,
        _ change: MilestoneChange,
        version: Int?,
        by identity: Identity,
        clientAddress: String?,
        asOf day: Day = .today
    ) async throws -> Outcome {
        try await work.work(identity, clientAddress: clientAddress) { connection, audit in
            let district = try await district(slug, of: identity, on: connection)
            guard keeps(identity) else { throw Self.notKept }
            let tasks = try await MilestoneRecords.tasks(asOf: day, on: connection, logger: logger)
            guard let current = tasks.first(where: { $0.id == id }) else {
                throw DomainError.notFound("Diese Aufgabe gibt es im Meilensteinplan von \(district.name) nicht.")
            }
            let tenants = try await MilestoneRecords.districtTenants(of: district.id, on: connection, logger: logger)
            var errors: [String: String] = [:]
            let status = Self.status(change.status, errors: &errors) ?? MilestoneStatus(rawValue: current.status) ?? .planned
            let responsible =
                change.responsible.map {
                    Self.limited($0, field: "responsible", label: "„Zuständig“", max: 200, errors: &errors)
                } ?? current.responsible
            let note = change.note.map { Self.limited($0, field: "note", label: "Die Notiz", max: 1000, errors: &errors) } ?? current.note
            let responsibleTenant: UUID? =
                switch change.responsibleTenant {
                case .none: current.responsibleTenant.flatMap { slug in tenants.first { $0.slug == slug }?.id }
                case .some(let slug): Self.tenant(slug, in: tenants, errors: &errors)
                }
            guard errors.isEmpty else { throw InvalidInput(errors: errors) }
            guard let version, version >= 1 else {
                throw DomainError.versionRequired(
                    "Die Fassung der Aufgabe fehlt: bitte den Meilensteinplan neu laden und die Änderung erneut eintragen."
                )
            }
            guard version == current.version else { throw Self.stale(current) }
            let written = try await MilestoneRecords.update(
                id,
                version: version,
                status: status,
                responsible: responsible,
                responsibleTenant: responsibleTenant,
                note: note,
                by: identity.userID,
                on: connection,
                logger: logger
            )
            guard written else { throw Self.stale(current) }
            let after = try await MilestoneRecords.tasks(asOf: day, on: connection, logger: logger).first { $0.id == id }!
            var changed: [String] = []
            if after.status != current.status { changed.append("status") }
            if after.responsible != current.responsible { changed.append("responsible") }
            if after.responsibleTenant != current.responsibleTenant { changed.append("responsible_tenant") }
            if after.note != current.note { changed.append("note") }
            var detail = ["changed": changed.joined(separator: ","), "status": after.status, "version": String(after.version)]
            detail["key"] = after.key
            audit.append(work.event("milestone.updated", identity, "milestone_task", id, detail))
            return Outcome(task: after, changed: changed)
        }
    }

    /// The refusal of a stale edit, with the task's current state so that the coordinator can decide again.
    static func stale(_ current: MilestoneTask) -> DomainError {
        .stale(
            "Jemand hat die Aufgabe „\(current.title)“ geändert, seit Sie sie geöffnet haben; Ihre Änderung ist nicht gespeichert. "
                + "Jetzt gilt: \(describe(current)). Bitte prüfen und Ihre Änderung bei Bedarf erneut speichern."
        )
    }

    /// "Stand „läuft“, zuständig „KS“, Notiz „…“"
    static func describe(_ task: MilestoneTask) -> String {
        var parts = ["Stand „\(task.statusLabel)“"]
        let who = [task.responsible, task.responsibleTenantName].compactMap { $0 }.joined(separator: ", ")
        parts.append(who.isEmpty ? "niemand als zuständig eingetragen" : "zuständig „\(who)“")
        parts.append(task.note.map { "Notiz „\($0)“" } ?? "keine Notiz")
        return parts.joined(separator: ", ")
    }

    /// Adds a task to the identity's district's plan (its coordinators only).
    public func add(
        _ request: NewMilestoneTask,
        ofDistrict slug: String?,
        by identity: Identity,
        clientAddress: String?,
        asOf day: Day = .today
    ) async throws -> MilestoneTask {
        try await work.work(identity, clientAddress: clientAddress) { connection, audit in
            let district = try await district(slug, of: identity, on: connection)
            guard keeps(identity) else { throw Self.notKept }
            let tenants = try await MilestoneRecords.districtTenants(of: district.id, on: connection, logger: logger)
            var errors: [String: String] = [:]
            let block = Self.text(request.buildingBlock).flatMap(BuildingBlock.init(rawValue:))
            if block == nil {
                errors["building_block"] = "Bitte den Baustein angeben: I (Koordinierung), II (Case Management) oder III (Ausländerbehörde)."
            }
            let title = Self.limited(request.title, field: "title", label: "Die Aufgabe", max: 500, errors: &errors)
            if title == nil { errors["title"] = "Bitte die Aufgabe benennen (1 bis 500 Zeichen), z. B. „Qualifizierung der CM“." }
            let heading = Self.limited(request.heading, field: "heading", label: "Die Überschrift", max: 300, errors: &errors)
            let halfYears = Self.halfYears(request.halfYears, errors: &errors)
            let status = Self.status(Self.text(request.status), errors: &errors) ?? .planned
            let responsible = Self.limited(request.responsible, field: "responsible", label: "„Zuständig“", max: 200, errors: &errors)
            let responsibleTenant = Self.tenant(request.responsibleTenant, in: tenants, errors: &errors)
            let note = Self.limited(request.note, field: "note", label: "Die Notiz", max: 1000, errors: &errors)
            guard errors.isEmpty, let block, let title else { throw InvalidInput(errors: errors) }
            let id = try await MilestoneRecords.insert(
                district: district.id,
                buildingBlock: block,
                heading: heading,
                title: title,
                halfYears: halfYears,
                status: status,
                responsible: responsible,
                responsibleTenant: responsibleTenant,
                note: note,
                by: identity.userID,
                on: connection,
                logger: logger
            )
            audit.append(
                work.event(
                    "milestone.added",
                    identity,
                    "milestone_task",
                    id,
                    ["building_block": block.rawValue, "half_years": halfYears.joined(separator: ",")]
                )
            )
            return try await MilestoneRecords.tasks(asOf: day, on: connection, logger: logger).first { $0.id == id }!
        }
    }
}

extension Optional {
    /// `flatMap` with an async transform.
    fileprivate func asyncFlatMap<Other>(_ transform: (Wrapped) async throws -> Other?) async rethrows -> Other? {
        guard let self else { return nil }
        return try await transform(self)
    }
}
