import Foundation
import Logging
import PostgresNIO

/// The SQL of the experience reports: reads through `experience_reports_of_district()` (drafts for the district's own
/// coordinators and assistants, released reports for every reader of its figures), writes to `experience_reports` under
/// the district's row-level security.
enum ExperienceReportRecords {
    struct District {
        var id: UUID
        var slug: String
        var name: String
    }

    /// The district whose figures the acting identity reads, or nil (then it reads no report).
    static func district(on connection: PostgresConnection, logger: Logger) async throws -> District? {
        let rows = try await connection.query(
            "SELECT t.id, t.slug, t.name FROM tenants t WHERE t.id = district_figures_reader_district()",
            logger: logger
        ).collect()
        guard let row = rows.first else { return nil }
        let (id, slug, name) = try row.decode((UUID, String, String).self)
        return District(id: id, slug: slug, name: name)
    }

    struct Row {
        var period: String
        var state: String
        var sections: [String: String]
        var figures: String?
        var version: Int
        var draftedBy: String?
        var draftedAt: Date
        var updatedBy: String?
        var updatedAt: Date
        var releasedBy: String?
        var releasedAt: Date?
    }

    /// The reports the identity may read, one period's or all, newest period first.
    static func rows(period: String?, on connection: PostgresConnection, logger: Logger) async throws -> [Row] {
        let rows = try await connection.query(
            """
            SELECT period, state, sections, figures, version, drafted_by, drafted_at, updated_by, updated_at, released_by, released_at
            FROM experience_reports_of_district() WHERE \(period)::text IS NULL OR period = \(period) ORDER BY period DESC
            """,
            logger: logger
        )
        var found: [Row] = []
        for try await (period, state, sections, figures, version, draftedBy, draftedAt, updatedBy, updatedAt, releasedBy, releasedAt)
            in rows
            .decode((String, String, String, String?, Int, String?, Date, String?, Date, String?, Date?).self)
        {
            let texts = (try? JSONDecoder().decode([String: String].self, from: Data(sections.utf8))) ?? [:]
            found.append(
                Row(
                    period: period,
                    state: state,
                    sections: texts,
                    figures: figures,
                    version: version,
                    draftedBy: draftedBy,
                    draftedAt: draftedAt,
                    updatedBy: updatedBy,
                    updatedAt: updatedAt,
                    releasedBy: releasedBy,
                    releasedAt: releasedAt
                )
            )
        }
        return found
    }

    static func json(_ sections: [String: String]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: (try? encoder.encode(sections)) ?? Data("{}".utf8), as: UTF8.self)
    }

    /// Starts a draft; false when the district already has a report for the period.
    static func insert(
        period: String,
        sections: [String: String],
        by user: UUID,
        on connection: PostgresConnection,
        logger: Logger
    ) async throws
        -> Bool
    {
        try await !connection.query(
            """
            INSERT INTO experience_reports (tenant_id, period, sections, drafted_by, updated_by)
            VALUES (app_current_tenant(), \(period), \(json(sections))::jsonb, \(user), \(user))
            ON CONFLICT DO NOTHING RETURNING 1
            """,
            logger: logger
        ).collect().isEmpty
    }

    /// Replaces a draft's sections if it is still at `version`; false otherwise.
    static func update(
        period: String,
        sections: [String: String],
        version: Int,
        by user: UUID,
        on connection: PostgresConnection,
        logger: Logger
    ) async throws -> Bool {
        try await !connection.query(
            """
            UPDATE experience_reports SET sections = \(json(sections))::jsonb, updated_by = \(user), updated_at = now(), version = version + 1
            WHERE tenant_id = app_current_tenant() AND period = \(period) AND state = 'draft' AND version = \(version)
            RETURNING 1
            """,
            logger: logger
        ).collect().isEmpty
    }

    /// The draft's state and version, locked for its release.
    static func lock(period: String, on connection: PostgresConnection, logger: Logger) async throws -> (state: String, version: Int)? {
        let rows = try await connection.query(
            "SELECT state, version FROM experience_reports WHERE tenant_id = app_current_tenant() AND period = \(period) FOR UPDATE",
            logger: logger
        ).collect()
        return try rows.first?.decode((String, Int).self)
    }

    static func release(period: String, figures: String, by user: UUID, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query(
            """
            UPDATE experience_reports SET state = 'released', figures = \(figures)::jsonb, released_by = \(user), released_at = now(),
                   updated_by = \(user), updated_at = now(), version = version + 1
            WHERE tenant_id = app_current_tenant() AND period = \(period) AND state = 'draft'
            """,
            logger: logger
        ).collect()
    }
}

/// The district's experience reports (Erfahrungsberichte, issue 21): drafted by its coordinators from the figures of a
/// half-year, released for the state (final: the figures are frozen, the text no longer changes), read by its
/// coordinators and assistants (drafts too) and its steering group (released ones). Every write and every export is
/// one transaction through `TenantWork` with its audit events.
public struct ExperienceReports: Sendable {
    let work: TenantWork
    let figures: DistrictFigures

    public init(database: Database, policy: Policy) {
        work = .coordination(database, policy)
        figures = DistrictFigures(database: database)
    }

    var logger: Logger { work.logger }

    /// Whether the identity writes and releases the district's reports (its coordinators, acting in the district).
    public func writes(_ identity: Identity) -> Bool {
        work.policy.allows(identity, .coordinateDistrict) && identity.tenant.kind == "district"
    }

    // MARK: - Reading

    /// The district's reports, and the half-years a coordinator may start one for.
    public func list(
        district slug: String? = nil,
        by identity: Identity,
        clientAddress: String?,
        today: Day = .today
    ) async throws
        -> ExperienceReportList
    {
        try await work.work(identity, clientAddress: clientAddress) { connection, _ in
            let district = try await Self.district(slug, on: connection, logger: logger)
            let rows = try await ExperienceReportRecords.rows(period: nil, on: connection, logger: logger)
            let taken = Set(rows.map(\.period))
            return ExperienceReportList(
                district: district.slug,
                districtName: district.name,
                reports: rows.map { row in
                    ExperienceReportSummary(
                        period: row.period,
                        periodLabel: HalfYear(row.period)?.label ?? row.period,
                        state: row.state,
                        version: row.version,
                        draftedBy: row.draftedBy,
                        updatedAt: row.updatedAt,
                        releasedBy: row.releasedBy,
                        releasedAt: row.releasedAt
                    )
                },
                startable: writes(identity) ? Self.recent(today).map(\.description).filter { !taken.contains($0) } : []
            )
        }
    }

    /// One report with its figures: frozen when released, the period's live figures while a draft.
    public func report(
        _ period: String,
        district slug: String? = nil,
        by identity: Identity,
        clientAddress: String?
    ) async throws
        -> ExperienceReport
    {
        try await read(period, slug, identity, clientAddress: clientAddress, export: nil)
    }

    /// A released report for the state (print page or download), recorded in the audit trail; a draft is not exported.
    public func export(
        _ period: String,
        format: String,
        district slug: String? = nil,
        by identity: Identity,
        clientAddress: String?
    ) async throws
        -> ExperienceReport
    {
        try await read(period, slug, identity, clientAddress: clientAddress, export: format)
    }

    private func read(
        _ period: String,
        _ slug: String?,
        _ identity: Identity,
        clientAddress: String?,
        export format: String?
    ) async throws
        -> ExperienceReport
    {
        let halfYear = try HalfYear.parse(period, field: "period")
        return try await work.work(identity, clientAddress: clientAddress) { connection, audit in
            let report = try await read(halfYear, slug, identity, on: connection)
            guard let format else { return report }
            guard report.released else {
                throw DomainError.conflict(
                    "Der Erfahrungsbericht \(halfYear.label) ist noch ein Entwurf: drucken und herunterladen lässt er sich erst nach der Freigabe."
                )
            }
            var event = Self.event("experience_report.exported", identity, halfYear, ["format": format])
            event.purpose = DistrictFigures.purpose
            audit.append(event)
            return report
        }
    }

    // MARK: - Writing

    /// Starts the draft of `period` (the current or a past half-year); an existing report is left as it is.
    public func start(_ period: String, by identity: Identity, clientAddress: String?, today: Day = .today) async throws -> ExperienceReport {
        let halfYear = try checkedPeriod(period, identity, today: today)
        return try await work.work(identity, clientAddress: clientAddress) { connection, audit in
            _ = try await Self.district(nil, on: connection, logger: logger)
            if try await ExperienceReportRecords.insert(
                period: halfYear.description,
                sections: [:],
                by: identity.userID,
                on: connection,
                logger: logger
            ) {
                audit.append(Self.event("experience_report.started", identity, halfYear))
            }
            return try await read(halfYear, nil, identity, on: connection)
        }
    }

    /// Saves the sections of a draft that is still at `version` (0: start it with these sections). A save against an
    /// older version is refused (412, `DomainError.stale`), never written over what another coordinator saved.
    public func save(
        _ period: String,
        _ request: ExperienceReportRequest,
        version: Int?,
        district slug: String? = nil,
        by identity: Identity,
        clientAddress: String?,
        today: Day = .today
    ) async throws -> ExperienceReport {
        let halfYear = try checkedPeriod(period, identity, today: today)
        let sections = try Self.checked(request)
        guard let version, version >= 0 else {
            throw DomainError.versionRequired("Die Fassung fehlt: bitte die Seite neu laden und den Text erneut speichern.")
        }
        return try await work.work(identity, clientAddress: clientAddress) { connection, audit in
            _ = try await Self.district(slug, on: connection, logger: logger)
            let user = identity.userID
            let written =
                version == 0
                ? try await ExperienceReportRecords.insert(period: halfYear.description, sections: sections, by: user, on: connection, logger: logger)
                : try await ExperienceReportRecords.update(
                    period: halfYear.description,
                    sections: sections,
                    version: version,
                    by: user,
                    on: connection,
                    logger: logger
                )
            guard written else { try await refusal(halfYear, on: connection) }
            audit.append(
                Self.event("experience_report.saved", identity, halfYear, ["sections": sections.keys.sorted().joined(separator: ",")])
            )
            return try await read(halfYear, nil, identity, on: connection)
        }
    }

    /// Releases the draft at `version` for the state: every section must be written and the half-year over; the period's
    /// figures are computed afresh and frozen into the report. A released report is final.
    public func release(
        _ period: String,
        version: Int?,
        district slug: String? = nil,
        by identity: Identity,
        clientAddress: String?,
        today: Day = .today
    ) async throws -> ExperienceReport {
        let halfYear = try checkedPeriod(period, identity, today: today)
        guard let version, version >= 1 else {
            throw DomainError.versionRequired("Die Fassung fehlt: bitte die Seite neu laden und erneut freigeben.")
        }
        if halfYear == HalfYear(containing: today) {
            throw InvalidInput(
                field: "period",
                "Das \(halfYear.label) läuft noch: freigeben lässt sich der Bericht erst nach seinem Ende, wenn seine Kennzahlen vollständig sind."
            )
        }
        return try await work.work(identity, clientAddress: clientAddress) { connection, audit in
            _ = try await Self.district(slug, on: connection, logger: logger)
            guard let current = try await ExperienceReportRecords.lock(period: halfYear.description, on: connection, logger: logger) else {
                throw Self.notFound(halfYear)
            }
            guard current.state == "draft" else { throw Self.final(halfYear) }
            guard current.version == version else { throw Self.stale(halfYear) }
            let draft = try await read(halfYear, nil, identity, on: connection)
            let empty = draft.emptySections
            guard empty.isEmpty else {
                var errors = Dictionary(
                    uniqueKeysWithValues: empty.map { ($0.rawValue, "„\($0.heading)“ ist leer: bitte vor der Freigabe ausfüllen.") }
                )
                errors["sections"] =
                    "Vor der Freigabe müssen alle Abschnitte ausgefüllt sein; leer \(empty.count == 1 ? "ist" : "sind"): "
                    + empty.map { "„\($0.heading)“" }.joined(separator: ", ") + "."
                throw InvalidInput(errors: errors)
            }
            // The figures as of now, not as of the last scheduled snapshot: these are the ones the state receives.
            try await FigureSnapshots.refresh(on: connection, logger: logger)
            guard let report = try await liveFigures(halfYear, identity, on: connection) else {
                throw DomainError.conflict("Für Ihren Kreis liegen noch keine Kennzahlen vor; bitte später erneut freigeben.")
            }
            try await ExperienceReportRecords.release(
                period: halfYear.description,
                figures: try report.encoded(),
                by: identity.userID,
                on: connection,
                logger: logger
            )
            audit.append(Self.event("experience_report.released", identity, halfYear, ["figures_computed_at": "\(report.computedAt)"]))
            return try await read(halfYear, nil, identity, on: connection)
        }
    }

    // MARK: - Rules

    /// The last four half-years up to the current one, newest first (the ones a report may be started for).
    static func recent(_ today: Day) -> [HalfYear] {
        let current = HalfYear(containing: today)
        return (0..<4).map { back in
            let index = current.year * 2 + (current.half - 1) - back
            return HalfYear("\(index / 2)-\(index % 2 + 1)")!
        }
    }

    /// The half-year a coordinator writes for: theirs to write, and not in the future.
    func checkedPeriod(_ period: String, _ identity: Identity, today: Day) throws -> HalfYear {
        guard writes(identity) else {
            throw DomainError.forbidden("Erfahrungsberichte schreiben und geben die Koordinierungsstellen des Kreises frei.")
        }
        let halfYear = try HalfYear.parse(period, field: "period")
        let current = HalfYear(containing: today)
        guard (halfYear.year, halfYear.half) <= (current.year, current.half) else {
            throw InvalidInput(
                field: "period",
                "Das \(halfYear.label) hat noch nicht begonnen: ein Erfahrungsbericht lässt sich für das laufende oder ein vergangenes Halbjahr schreiben (zuletzt \(current.label))."
            )
        }
        return halfYear
    }

    /// The sections of a request: known keys only, each at most `ReportSection.maximumLength` characters; blank ones absent.
    static func checked(_ request: ExperienceReportRequest) throws -> [String: String] {
        guard let given = request.sections else {
            throw InvalidInput(
                field: "sections",
                "Bitte die Abschnitte als Objekt senden, z. B. {\"sections\": {\"starting_point\": \"…\"}}; erlaubt sind: "
                    + ReportSection.allCases.map(\.rawValue).joined(separator: ", ") + "."
            )
        }
        var errors: [String: String] = [:]
        var sections: [String: String] = [:]
        for (key, text) in given {
            guard let section = ReportSection(rawValue: key) else {
                errors[key] =
                    "Einen Abschnitt „\(key)“ gibt es nicht; erlaubt sind: \(ReportSection.allCases.map(\.rawValue).joined(separator: ", "))."
                continue
            }
            let trimmed = (text ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.count > ReportSection.maximumLength {
                errors[key] =
                    "„\(section.heading)“ ist mit \(trimmed.count) Zeichen zu lang: bitte auf höchstens \(ReportSection.maximumLength) Zeichen kürzen."
            } else if !trimmed.isEmpty {
                sections[key] = trimmed
            }
        }
        guard errors.isEmpty else { throw InvalidInput(errors: errors) }
        return sections
    }

    static func notFound(_ halfYear: HalfYear) -> DomainError {
        .notFound("Für das \(halfYear.label) gibt es keinen Erfahrungsbericht, den Sie lesen dürfen.")
    }

    static func final(_ halfYear: HalfYear) -> DomainError {
        .conflict(
            "Der Erfahrungsbericht \(halfYear.label) ist freigegeben und damit endgültig: er wird nicht mehr geändert. Ergänzungen gehören in den Bericht des nächsten Halbjahres."
        )
    }

    static func stale(_ halfYear: HalfYear) -> DomainError {
        .stale(
            "Jemand hat den Erfahrungsbericht \(halfYear.label) gespeichert, seit Sie ihn geöffnet haben. Ihr Text ist nicht gespeichert: bitte mit dem aktuellen Stand abgleichen und erneut speichern."
        )
    }

    static func event(_ action: String, _ identity: Identity, _ halfYear: HalfYear, _ detail: [String: String] = [:]) -> AuditEvent {
        AuditEvent(
            action,
            tenant: identity.tenant.id,
            actor: identity.userID,
            objectType: "experience_report",
            objectID: halfYear.description,
            detail: detail
        )
    }

    // MARK: - In the transaction

    /// The reader's district; 404 when `slug` names another (or the identity reads no district's figures).
    static func district(_ slug: String?, on connection: PostgresConnection, logger: Logger) async throws -> ExperienceReportRecords.District {
        guard let district = try await ExperienceReportRecords.district(on: connection, logger: logger), slug == nil || slug == district.slug
        else {
            throw DomainError.notFound(
                "Diesen Kreis gibt es nicht, oder Sie lesen seine Erfahrungsberichte nicht: das tun seine Koordinierungsstelle, ihre Assistenz und die Lenkungsgruppe."
            )
        }
        return district
    }

    /// Why a save wrote nothing: no such report, a released one, or a newer version.
    func refusal(_ halfYear: HalfYear, on connection: PostgresConnection) async throws -> Never {
        let rows = try await ExperienceReportRecords.rows(period: halfYear.description, on: connection, logger: logger)
        if rows.first?.state == "released" { throw Self.final(halfYear) }
        throw Self.stale(halfYear)
    }

    func liveFigures(_ halfYear: HalfYear, _ identity: Identity, on connection: PostgresConnection) async throws -> ReportFigures? {
        let months = halfYear.months.compactMap(Day.init).map(Month.init)
        guard let report = try await figures.report(on: connection, identity: identity, months: months, halfYear: halfYear, audit: nil)
        else { return nil }
        var figures = ReportFigures(report, halfYear: halfYear)
        // The milestone plan as of the half-year's last day (or today, while it runs).
        let end = Day(halfYear.half == 1 ? "\(halfYear.year)-06-30" : "\(halfYear.year)-12-31")!
        let day = min(end, Day.today)
        figures.addMilestones(try await MilestonePlan.summary(asOf: day, on: connection, logger: logger), asOf: day)
        return figures
    }

    func read(_ halfYear: HalfYear, _ slug: String?, _ identity: Identity, on connection: PostgresConnection) async throws -> ExperienceReport {
        let district = try await Self.district(slug, on: connection, logger: logger)
        guard let row = try await ExperienceReportRecords.rows(period: halfYear.description, on: connection, logger: logger).first else {
            throw Self.notFound(halfYear)
        }
        let frozen = row.figures.flatMap(ReportFigures.decode)
        return ExperienceReport(
            district: district.slug,
            districtName: district.name,
            period: row.period,
            periodLabel: halfYear.label,
            state: row.state,
            sections: row.sections,
            version: row.version,
            draftedBy: row.draftedBy,
            draftedAt: row.draftedAt,
            updatedBy: row.updatedBy,
            updatedAt: row.updatedAt,
            releasedBy: row.releasedBy,
            releasedAt: row.releasedAt,
            figuresFrozen: frozen != nil,
            figures: row.state == "released" ? frozen : try await liveFigures(halfYear, identity, on: connection)
        )
    }
}
