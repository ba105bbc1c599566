import Foundation
import Logging
import PostgresNIO

/// An application to the Ausländerbehörde that Baustein III of the concept is about (migrations/0032_abh_register.sql).
public struct ResidenceApplication: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        case section25a = "section_25a"
        case section25b = "section_25b"
        case section104c = "section_104c"
        case naturalisation

        public var label: String {
            switch self {
            case .section25a: "§ 25a AufenthG (gut integrierte Jugendliche)"
            case .section25b: "§ 25b AufenthG (nachhaltige Integration)"
            case .section104c: "§ 104c AufenthG (Chancen-Aufenthaltsrecht)"
            case .naturalisation: "Einbürgerung (§ 10 StAG)"
            }
        }
        public var short: String {
            switch self {
            case .section25a: "§ 25a"
            case .section25b: "§ 25b"
            case .section104c: "§ 104c"
            case .naturalisation: "Einbürgerung"
            }
        }
    }

    public enum State: String, Sendable, CaseIterable {
        case received
        case documentsMissing = "documents_missing"
        case inExamination = "in_examination"
        case granted, refused, withdrawn

        public var label: String {
            switch self {
            case .received: "eingegangen"
            case .documentsMissing: "Unterlagen fehlen"
            case .inExamination: "in Prüfung"
            case .granted: "erteilt"
            case .refused: "abgelehnt"
            case .withdrawn: "zurückgenommen"
            }
        }
        /// Granted, refused or withdrawn: final, and out of the backlog.
        public var isDecided: Bool { [.granted, .refused, .withdrawn].contains(self) }
    }

    public struct StateChange: Sendable, Equatable {
        public var state: State
        public var changedOn: Day
        public var note: String?
        public var changedBy: String
    }

    public var id: UUID
    public var kind: Kind
    public var receivedOn: Day
    public var state: State
    public var decidedOn: Day?
    public var officerID: UUID?
    public var officerName: String?
    public var version: Int
    public var applicantName: String
    public var applicantBirth: Day
    public var fileNumber: String?
    public var precheckID: UUID?
    public var history: [StateChange] = []
}

/// What an officer enters for a new application.
public struct NewResidenceApplication: Sendable {
    public var firstName: String
    public var lastName: String
    public var dateOfBirth: Day?
    public var fileNumber: String?
    public var kind: ResidenceApplication.Kind?
    public var receivedOn: Day?
    public var officerID: UUID?
    /// The pre-check asked of this ABH that the application follows (migration 0036).
    public var precheckID: UUID?

    public init(
        firstName: String,
        lastName: String,
        dateOfBirth: Day?,
        fileNumber: String? = nil,
        kind: ResidenceApplication.Kind?,
        receivedOn: Day?,
        officerID: UUID? = nil
    ) {
        self.firstName = firstName
        self.lastName = lastName
        self.dateOfBirth = dateOfBirth
        self.fileNumber = fileNumber
        self.kind = kind
        self.receivedOn = receivedOn
        self.officerID = officerID
    }
}

/// The backlog on one day: open applications by kind and age, and the months' throughput up to that day.
public struct ApplicationBacklog: Sendable, Equatable {
    public static let bands = ["unter 3 Monate", "3 bis 6 Monate", "6 bis 12 Monate", "über 12 Monate"]

    public struct Row: Sendable, Equatable {
        public var kind: ResidenceApplication.Kind
        /// Open applications in each of `bands`.
        public var open: [Int]
        public var total: Int { open.reduce(0, +) }
    }
    public struct Month: Sendable, Equatable {
        /// YYYY-MM
        public var month: String
        public var received: Int
        public var granted: Int
        public var refused: Int
        public var withdrawn: Int
        public var decided: Int { granted + refused + withdrawn }
    }

    public var asOf: Day
    public var rows: [Row]
    public var months: [Month]
    public var total: Int { rows.map(\.total).reduce(0, +) }
}

/// Filters of the register's list.
public struct ApplicationFilter: Sendable, Equatable {
    public var kind: ResidenceApplication.Kind?
    public var state: ResidenceApplication.State?
    public var officerID: UUID?
    public var openOnly = false
    public init() {}
}

enum ApplicationRecords {
    static let select = """
        SELECT a.id, a.kind, to_char(a.received_on, 'YYYY-MM-DD'), a.state, to_char(a.decided_on, 'YYYY-MM-DD'), a.officer_id, u.display_name,
               a.version, p.first_name || ' ' || p.last_name, to_char(p.date_of_birth, 'YYYY-MM-DD'), p.file_number, a.precheck_id
        FROM abh_applications a JOIN abh_applicants p ON p.tenant_id = a.tenant_id AND p.id = a.applicant_id
        LEFT JOIN users u ON u.tenant_id = a.tenant_id AND u.id = a.officer_id
        """

    static func decode(_ rows: PostgresRowSequence) async throws -> [ResidenceApplication] {
        var found: [ResidenceApplication] = []
        for try await row in rows {
            let (id, kind, received, state, decided, officer, officerName, version, name, birth, file, precheck) = try row.decode(
                (UUID, String, String, String, String?, UUID?, String?, Int, String, String, String?, UUID?).self
            )
            found.append(
                ResidenceApplication(
                    id: id,
                    kind: ResidenceApplication.Kind(rawValue: kind)!,
                    receivedOn: Day(received)!,
                    state: ResidenceApplication.State(rawValue: state)!,
                    decidedOn: decided.flatMap(Day.init),
                    officerID: officer,
                    officerName: officerName,
                    version: version,
                    applicantName: name,
                    applicantBirth: Day(birth)!,
                    fileNumber: file,
                    precheckID: precheck
                )
            )
        }
        return found
    }

    static func find(_ id: UUID, on connection: PostgresConnection, logger: Logger) async throws -> ResidenceApplication? {
        guard var found = try await decode(connection.query("\(unescaped: select) WHERE a.id = \(id)", logger: logger)).first else { return nil }
        let rows = try await connection.query(
            """
            SELECT s.state, to_char(s.changed_on, 'YYYY-MM-DD'), s.note, coalesce(u.display_name, '–')
            FROM abh_application_states s LEFT JOIN users u ON u.tenant_id = s.tenant_id AND u.id = s.changed_by
            WHERE s.application_id = \(id) ORDER BY s.changed_at, s.changed_on
            """,
            logger: logger
        )
        for try await (state, on, note, by) in rows.decode((String, String, String?, String).self) {
            found.history.append(.init(state: .init(rawValue: state)!, changedOn: Day(on)!, note: note, changedBy: by))
        }
        return found
    }

    static func list(_ filter: ApplicationFilter, on connection: PostgresConnection, logger: Logger) async throws -> [ResidenceApplication] {
        try await decode(
            connection.query(
                """
                \(unescaped: select)
                WHERE (\(filter.kind?.rawValue)::text IS NULL OR a.kind = \(filter.kind?.rawValue))
                  AND (\(filter.state?.rawValue)::text IS NULL OR a.state = \(filter.state?.rawValue))
                  AND (\(filter.officerID)::uuid IS NULL OR a.officer_id = \(filter.officerID))
                  AND (NOT \(filter.openOnly) OR a.decided_on IS NULL)
                ORDER BY a.received_on, p.last_name, p.first_name
                LIMIT 500
                """,
                logger: logger
            )
        )
    }

    static func backlog(asOf day: Day, on connection: PostgresConnection, logger: Logger) async throws -> ApplicationBacklog {
        var open: [ResidenceApplication.Kind: [Int]] = [:]
        let rows = try await connection.query(
            """
            SELECT kind,
                   count(*) FILTER (WHERE received_on > d - interval '3 months')::integer,
                   count(*) FILTER (WHERE received_on <= d - interval '3 months' AND received_on > d - interval '6 months')::integer,
                   count(*) FILTER (WHERE received_on <= d - interval '6 months' AND received_on > d - interval '12 months')::integer,
                   count(*) FILTER (WHERE received_on <= d - interval '12 months')::integer
            FROM abh_applications, (SELECT \(day.iso)::date AS d) asked
            WHERE received_on <= d AND (decided_on IS NULL OR decided_on > d)
            GROUP BY kind
            """,
            logger: logger
        )
        for try await (kind, a, b, c, d) in rows.decode((String, Int, Int, Int, Int).self) {
            if let kind = ResidenceApplication.Kind(rawValue: kind) { open[kind] = [a, b, c, d] }
        }
        // The twelve months up to the day's: received, and decided by outcome.
        var months: [ApplicationBacklog.Month] = []
        let monthRows = try await connection.query(
            """
            WITH asked AS (SELECT \(day.iso)::date AS d),
                 m AS (SELECT generate_series(date_trunc('month', d) - interval '11 months', date_trunc('month', d), interval '1 month')::date AS start
                       FROM asked)
            SELECT to_char(m.start, 'YYYY-MM'),
                   (SELECT count(*) FROM abh_applications a, asked
                    WHERE a.received_on >= m.start AND a.received_on < m.start + interval '1 month' AND a.received_on <= asked.d)::integer,
                   (SELECT count(*) FILTER (WHERE a.state = 'granted') FROM abh_applications a, asked
                    WHERE a.decided_on >= m.start AND a.decided_on < m.start + interval '1 month' AND a.decided_on <= asked.d)::integer,
                   (SELECT count(*) FILTER (WHERE a.state = 'refused') FROM abh_applications a, asked
                    WHERE a.decided_on >= m.start AND a.decided_on < m.start + interval '1 month' AND a.decided_on <= asked.d)::integer,
                   (SELECT count(*) FILTER (WHERE a.state = 'withdrawn') FROM abh_applications a, asked
                    WHERE a.decided_on >= m.start AND a.decided_on < m.start + interval '1 month' AND a.decided_on <= asked.d)::integer
            FROM m ORDER BY m.start
            """,
            logger: logger
        )
        for try await (month, received, granted, refused, withdrawn) in monthRows.decode((String, Int, Int, Int, Int).self) {
            months.append(.init(month: month, received: received, granted: granted, refused: refused, withdrawn: withdrawn))
        }
        return ApplicationBacklog(
            asOf: day,
            rows: ResidenceApplication.Kind.allCases.map { .init(kind: $0, open: open[$0] ?? [0, 0, 0, 0]) },
            months: months
        )
    }
}

/// The ABH's register: record applications, change their state (never over someone else's change), the backlog on any
/// day. Every call is one transaction acting for the officer's tenant; the applicant's data never leave it.
public struct ResidenceApplications: Sendable {
    let work: TenantWork

    public init(database: Database, policy: Policy) {
        work = TenantWork(database: database, policy: policy, purpose: "residence_register")
    }

    var logger: Logger { work.logger }

    static let notFound = "Diesen Antrag gibt es nicht (oder nicht in Ihrer Ausländerbehörde)."
    static let staleMessage =
        "Der Antrag wurde inzwischen von jemand anderem geändert. Bitte die Seite neu laden, den aktuellen Stand prüfen und Ihre Änderung erneut eintragen."

    /// The officers of the tenant: who may work an application.
    static func officers(of identity: Identity, policy: Policy, on connection: PostgresConnection, logger: Logger) async throws -> [User] {
        try await Accounts.list(tenant: identity.tenant.id, on: connection, logger: logger)
            .filter { $0.active && $0.roles.contains(where: { policy.scope(of: $0, for: .keepApplicationRegister) > .none }) }
            .sorted { $0.displayName < $1.displayName }
    }

    func officer(_ id: UUID?, of identity: Identity, on connection: PostgresConnection) async throws -> UUID? {
        guard let id else { return nil }
        guard try await Self.officers(of: identity, policy: work.policy, on: connection, logger: logger).contains(where: { $0.id == id }) else {
            throw InvalidInput(field: "officer_id", "Bitte eine Sachbearbeiterin oder einen Sachbearbeiter dieser Ausländerbehörde wählen.")
        }
        return id
    }

    public func list(
        _ filter: ApplicationFilter,
        by identity: Identity,
        clientAddress: String?
    ) async throws -> (
        applications: [ResidenceApplication], officers: [User]
    ) {
        try await work.work(identity, clientAddress: clientAddress) { connection, audit in
            let found = try await ApplicationRecords.list(filter, on: connection, logger: logger)
            audit.append(
                AuditEvent("abh_application.listed", tenant: identity.tenant.id, actor: identity.userID, detail: ["results": "\(found.count)"])
            )
            return (found, try await Self.officers(of: identity, policy: work.policy, on: connection, logger: logger))
        }
    }

    /// What the form for a new application needs: the officers, and the pre-check it follows (an audited read), if any.
    public func newForm(
        following precheckID: UUID?,
        by identity: Identity,
        clientAddress: String?
    ) async throws -> (
        officers: [User], precheck: Precheck?
    ) {
        try await work.work(identity, clientAddress: clientAddress) { connection, audit in
            var precheck: Precheck?
            if let precheckID {
                precheck = try await followed(precheckID, by: identity, on: connection)
                audit.append(work.event("precheck.read", identity, "precheck", precheckID))
            }
            return (try await Self.officers(of: identity, policy: work.policy, on: connection, logger: logger), precheck)
        }
    }

    /// A pre-check asked of the officer's ABH whose consent stands.
    func followed(_ id: UUID, by identity: Identity, on connection: PostgresConnection) async throws -> Precheck {
        guard let precheck = try await PrecheckRecords.find(id, actingFor: identity.tenant.id, on: connection, logger: logger),
            precheck.abhTenantID == identity.tenant.id
        else {
            throw InvalidInput(
                field: "precheck_id",
                "Diese Vorprüfung gibt es für Ihre Ausländerbehörde nicht (mehr): der Antrag kann ohne sie erfasst werden."
            )
        }
        return precheck
    }

    public func find(
        _ id: UUID,
        by identity: Identity,
        clientAddress: String?
    ) async throws -> (
        application: ResidenceApplication, officers: [User]
    ) {
        try await work.work(identity, clientAddress: clientAddress) { connection, audit in
            guard let found = try await ApplicationRecords.find(id, on: connection, logger: logger) else {
                throw DomainError.notFound(Self.notFound)
            }
            audit.append(work.event("abh_application.read", identity, "abh_application", id))
            return (found, try await Self.officers(of: identity, policy: work.policy, on: connection, logger: logger))
        }
    }

    /// Records an application received on a day (not in the future), with its applicant; all problems at once.
    public func record(_ new: NewResidenceApplication, by identity: Identity, clientAddress: String?) async throws -> ResidenceApplication {
        var errors: [String: String] = [:]
        let first = new.firstName.trimmingCharacters(in: .whitespacesAndNewlines)
        let last = new.lastName.trimmingCharacters(in: .whitespacesAndNewlines)
        let file = new.fileNumber?.trimmingCharacters(in: .whitespacesAndNewlines)
        let today = Day.today
        if first.isEmpty { errors["first_name"] = "Bitte den Vornamen angeben." }
        if last.isEmpty { errors["last_name"] = "Bitte den Nachnamen angeben." }
        if first.count > 200 || last.count > 200 { errors["last_name"] = "Namen dürfen höchstens 200 Zeichen lang sein." }
        if (file?.count ?? 0) > 100 { errors["file_number"] = "Das Aktenzeichen: höchstens 100 Zeichen." }
        if new.dateOfBirth == nil { errors["date_of_birth"] = "Bitte das Geburtsdatum angeben." }
        if let birth = new.dateOfBirth, birth > today || birth < Day.enterable.lowerBound {
            errors["date_of_birth"] = "Das Geburtsdatum muss zwischen dem \(Day.enterable.lowerBound.german) und heute (\(today.german)) liegen."
        }
        if new.kind == nil { errors["kind"] = "Bitte wählen, welcher Antrag es ist: § 25a, § 25b, § 104c oder Einbürgerung." }
        if new.receivedOn == nil { errors["received_on"] = "Bitte angeben, an welchem Tag der Antrag eingegangen ist." }
        if let received = new.receivedOn, received > today || received < Day("2000-01-01")! {
            errors["received_on"] = "Der Eingang muss zwischen dem 01.01.2000 und heute (\(today.german)) liegen."
        }
        guard errors.isEmpty, let kind = new.kind, let received = new.receivedOn, let birth = new.dateOfBirth else {
            throw InvalidInput(errors: errors)
        }
        return try await work.work(identity, clientAddress: clientAddress) { connection, audit in
            let officer = try await officer(new.officerID, of: identity, on: connection)
            var precheck: Precheck?
            if let followedID = new.precheckID { precheck = try await followed(followedID, by: identity, on: connection) }
            let (applicant, id) = (UUID(), UUID())
            try await connection.query(
                """
                INSERT INTO abh_applicants (tenant_id, id, first_name, last_name, date_of_birth, file_number, created_by)
                VALUES (\(identity.tenant.id), \(applicant), \(first), \(last), \(birth.iso)::date, \(file?.isEmpty == false ? file : nil), \(identity.userID))
                """,
                logger: logger
            )
            try await connection.query(
                """
                INSERT INTO abh_applications (tenant_id, id, applicant_id, kind, received_on, officer_id, created_by, precheck_id)
                VALUES (\(identity.tenant.id), \(id), \(applicant), \(kind.rawValue), \(received.iso)::date, \(officer), \(identity.userID), \(precheck?.id))
                """,
                logger: logger
            )
            try await connection.query(
                """
                INSERT INTO abh_application_states (tenant_id, id, application_id, state, changed_on, changed_by)
                VALUES (\(identity.tenant.id), \(UUID()), \(id), 'received', \(received.iso)::date, \(identity.userID))
                """,
                logger: logger
            )
            audit.append(
                work.event("abh_application.recorded", identity, "abh_application", id, ["kind": kind.rawValue, "received_on": received.iso])
            )
            if let precheck {
                // The case manager who asked learns that the application came in (not its state: that stays the ABH's).
                try await PrecheckRecords.answer(
                    precheck,
                    verdict: .applicationReceived,
                    note: "\(kind.short), eingegangen am \(received.german)",
                    by: identity,
                    on: connection,
                    logger: logger
                )
                audit.append(work.event("precheck.application_linked", identity, "precheck", precheck.id, ["application": id.uuidString]))
            }
            return try await ApplicationRecords.find(id, on: connection, logger: logger)!
        }
    }

    /// Moves an application on to `state` on `day`, if it is still at `version`; who works it may change with it.
    public func change(
        _ id: UUID,
        to state: ResidenceApplication.State?,
        on day: Day?,
        note: String?,
        officerID: UUID?,
        version: Int?,
        by identity: Identity,
        clientAddress: String?
    ) async throws -> ResidenceApplication {
        let note = note?.trimmingCharacters(in: .whitespacesAndNewlines)
        var errors: [String: String] = [:]
        if state == nil { errors["state"] = "Bitte den neuen Stand wählen." }
        if day == nil { errors["changed_on"] = "Bitte den Tag angeben, an dem sich der Stand geändert hat." }
        if let day, day > .today { errors["changed_on"] = "Der Tag liegt in der Zukunft: bitte heute (\(Day.today.german)) oder früher angeben." }
        if (note?.count ?? 0) > 2000 { errors["note"] = "Die Anmerkung: höchstens 2000 Zeichen." }
        guard let version else {
            throw DomainError.versionRequired("Bitte die Version des Antrags mitschicken, auf der die Änderung beruht (Seite neu laden).")
        }
        guard errors.isEmpty, let state, let day else { throw InvalidInput(errors: errors) }
        return try await work.work(identity, clientAddress: clientAddress) { connection, audit in
            guard let current = try await ApplicationRecords.find(id, on: connection, logger: logger) else {
                throw DomainError.notFound(Self.notFound)
            }
            guard current.version == version else { throw DomainError.conflict(Self.staleMessage) }
            if current.state.isDecided {
                throw InvalidInput(
                    field: "state",
                    "Dieser Antrag ist entschieden (\(current.state.label) am \(current.decidedOn?.german ?? "–")): sein Stand ändert sich nicht mehr. Ein neuer Antrag wird neu erfasst."
                )
            }
            if state == current.state && officerID == current.officerID {
                throw InvalidInput(field: "state", "Der Antrag ist bereits „\(state.label)“: bitte einen anderen Stand wählen.")
            }
            let last = current.history.last?.changedOn ?? current.receivedOn
            if day < last {
                throw InvalidInput(field: "changed_on", "Der Tag liegt vor dem letzten Stand (\(last.german)): bitte ein Datum ab dann angeben.")
            }
            let officer = try await officer(officerID, of: identity, on: connection)
            let rows = try await connection.query(
                """
                UPDATE abh_applications SET state = \(state.rawValue), decided_on = \(state.isDecided ? day.iso : nil)::date,
                    officer_id = \(officer), version = version + 1, updated_at = now()
                WHERE id = \(id) AND version = \(version) RETURNING 1
                """,
                logger: logger
            ).collect()
            guard !rows.isEmpty else { throw DomainError.conflict(Self.staleMessage) }
            if state != current.state || note?.isEmpty == false {
                try await connection.query(
                    """
                    INSERT INTO abh_application_states (tenant_id, id, application_id, state, changed_on, note, changed_by)
                    VALUES (\(identity.tenant.id), \(UUID()), \(id), \(state.rawValue), \(day.iso)::date, \(note?.isEmpty == false ? note : nil),
                            \(identity.userID))
                    """,
                    logger: logger
                )
            }
            audit.append(
                work.event("abh_application.state_changed", identity, "abh_application", id, ["from": current.state.rawValue, "to": state.rawValue])
            )
            return try await ApplicationRecords.find(id, on: connection, logger: logger)!
        }
    }

    public func backlog(asOf day: Day, by identity: Identity, clientAddress: String?) async throws -> ApplicationBacklog {
        try await work.work(identity, clientAddress: clientAddress) { connection, _ in
            try await ApplicationRecords.backlog(asOf: day, on: connection, logger: logger)
        }
    }
}
