import Foundation
import Logging
import PostgresNIO

/// A stand-in (Vertretung): for a period, a colleague works the open cases of someone who is absent, without owning
/// them. Every case worker of a tenant reads all its cases already; a stand-in moves the absent person's cases into the
/// stand-in's work queue and reminders, and what the stand-in does on them is recorded as done in stand-in
/// (migrations/0025_stand_ins.sql marks the timeline and the audit trail). It ends by itself after its last day.
public struct StandIn: Sendable, Equatable {
    public var id: UUID
    public var absentID: UUID
    public var absentName: String
    public var standInID: UUID
    public var standInName: String
    public var startsOn: Day
    public var endsOn: Day
    /// Ended before its last day.
    public var endedAt: Date?

    /// In force on `day`.
    public func isActive(on day: Day = .today) -> Bool { endedAt == nil && startsOn <= day && day <= endsOn }
    /// Not yet over: in force now or later.
    public var isCurrent: Bool { endedAt == nil && Day.today <= endsOn }
}

/// The absent colleague's open cases, as the stand-in's work queue lists them.
public struct StandInCases: Sendable {
    public var standIn: StandIn
    public var cases: [CaseFile]
}

/// Stand-ins in PostgreSQL; every function runs in a transaction acting for the tenant.
enum StandInRecords {
    static let select = """
        SELECT s.id, s.absent_id, a.display_name, s.stand_in_id, b.display_name, to_char(s.starts_on, 'YYYY-MM-DD'), to_char(s.ends_on, 'YYYY-MM-DD'),
               s.ended_at
        FROM stand_ins s JOIN users a ON a.tenant_id = s.tenant_id AND a.id = s.absent_id
        JOIN users b ON b.tenant_id = s.tenant_id AND b.id = s.stand_in_id
        """

    static func decode(_ rows: PostgresRowSequence) async throws -> [StandIn] {
        var found: [StandIn] = []
        for try await row in rows {
            let (id, absent, absentName, standIn, standInName, starts, ends, ended) = try row.decode(
                (UUID, UUID, String, UUID, String, String, String, Date?).self
            )
            found.append(
                StandIn(
                    id: id,
                    absentID: absent,
                    absentName: absentName,
                    standInID: standIn,
                    standInName: standInName,
                    startsOn: Day(starts)!,
                    endsOn: Day(ends)!,
                    endedAt: ended
                )
            )
        }
        return found
    }

    static func find(_ id: UUID, on connection: PostgresConnection, logger: Logger) async throws -> StandIn? {
        try await decode(connection.query("\(unescaped: select) WHERE s.id = \(id)", logger: logger)).first
    }

    /// Stand-ins not yet over (ended early or past their last day are left out), optionally of one person, absent or standing in.
    static func current(involving person: UUID?, on connection: PostgresConnection, logger: Logger) async throws -> [StandIn] {
        try await decode(
            connection.query(
                """
                \(unescaped: select)
                WHERE s.ended_at IS NULL AND s.ends_on >= app_today()
                  AND (\(person)::uuid IS NULL OR s.absent_id = \(person) OR s.stand_in_id = \(person))
                ORDER BY s.starts_on, a.display_name
                """,
                logger: logger
            )
        )
    }

    /// Those in force that overlap `from`…`to` and involve `person` as `column` (`absent_id` or `stand_in_id`).
    static func overlapping(
        _ column: Column,
        _ person: UUID,
        from: Day,
        to: Day,
        on connection: PostgresConnection,
        logger: Logger
    ) async throws -> [StandIn] {
        try await decode(
            connection.query(
                """
                \(unescaped: select)
                WHERE s.ended_at IS NULL AND s.\(unescaped: column.rawValue) = \(person)
                  AND daterange(s.starts_on, s.ends_on, '[]') && daterange(\(from.iso)::date, \(to.iso)::date, '[]')
                ORDER BY s.starts_on
                """,
                logger: logger
            )
        )
    }

    enum Column: String {
        case absent = "absent_id"
        case standIn = "stand_in_id"
    }
}

/// Naming, listing and ending stand-ins. The absent person names their own; a team lead (`overseeCaseload`) names one
/// for anyone of the tenant who works cases, and ends any. Every call is one transaction through the case-work seam.
public struct StandIns: Sendable {
    let work: CaseWork

    public init(work: CaseWork) { self.work = work }

    var logger: Logger { work.logger }

    /// The longest period one stand-in covers; a longer absence is a hand-over of the cases.
    static let longestDays = 366

    /// What the stand-in page shows: the identity's own absences, whom it stands in for, the tenant's current stand-ins
    /// (for a team lead), and the colleagues one may name.
    public struct Overview: Sendable {
        public var mine: [StandIn]
        public var standingIn: [StandIn]
        /// The tenant's current stand-ins: only for whoever may name them for others.
        public var tenant: [StandIn]?
        public var colleagues: [User]
        public var mayNameForOthers: Bool
        /// The stand-in asked `about` (just named or ended), for the message that says so.
        public var about: StandIn?
    }

    public func overview(by identity: Identity, about: UUID? = nil, clientAddress: String?) async throws -> Overview {
        let forOthers = mayNameForOthers(identity)
        return try await work.work(identity, clientAddress: clientAddress) { connection, _ in
            var asked: StandIn?
            if let about, let found = try await StandInRecords.find(about, on: connection, logger: logger),
                forOthers || found.absentID == identity.userID || found.standInID == identity.userID
            {
                asked = found
            }
            let all = try await StandInRecords.current(involving: forOthers ? nil : identity.userID, on: connection, logger: logger)
            return Overview(
                mine: all.filter { $0.absentID == identity.userID },
                standingIn: all.filter { $0.standInID == identity.userID },
                tenant: forOthers ? all : nil,
                colleagues: try await CaseWork.caseWorkers(of: identity, policy: work.policy, on: connection, logger: logger),
                mayNameForOthers: forOthers,
                about: asked
            )
        }
    }

    func mayNameForOthers(_ identity: Identity) -> Bool { work.policy.allows(identity, .overseeCaseload) }

    /// Names `standIn` to stand in for `absent` (nil: the identity itself) from `from` to `to`, both days included.
    public func name(
        _ standIn: UUID,
        for absent: UUID?,
        from: Day,
        to: Day,
        by identity: Identity,
        clientAddress: String?
    ) async throws -> StandIn {
        let absent = absent ?? identity.userID
        if absent != identity.userID && !mayNameForOthers(identity) {
            throw DomainError.forbidden(
                "Eine Vertretung für eine andere Person trägt die Amts- oder Teamleitung ein; Sie können Ihre eigene eintragen."
            )
        }
        guard to >= from else {
            throw InvalidInput(field: "ends_on", "Das Ende der Vertretung liegt vor ihrem Beginn: bitte ein Datum ab \(from.german) angeben.")
        }
        guard to >= .today else {
            throw InvalidInput(field: "ends_on", "Das Ende der Vertretung liegt in der Vergangenheit: bitte heute oder später angeben.")
        }
        guard Self.days(from: from, to: to) <= Self.longestDays else {
            throw InvalidInput(
                field: "ends_on",
                "Eine Vertretung gilt höchstens ein Jahr. Bei längerer Abwesenheit bitte die Fälle übergeben (auf der Seite des Falls)."
            )
        }
        guard standIn != absent else {
            throw InvalidInput(
                field: "stand_in_id",
                absent == identity.userID
                    ? "Sie können sich nicht selbst vertreten: bitte eine Kollegin oder einen Kollegen wählen."
                    : "Niemand vertritt sich selbst: bitte eine andere Person als Vertretung wählen."
            )
        }
        return try await work.work(identity, clientAddress: clientAddress) { connection, audit in
            try await lockStandIns(of: identity, on: connection)
            let workers = try await CaseWork.caseWorkers(of: identity, policy: work.policy, on: connection, logger: logger)
            guard let absentPerson = workers.first(where: { $0.id == absent }) else {
                throw InvalidInput(field: "absent_id", "Bitte eine Person dieses Mandanten wählen, die Fälle führt.")
            }
            guard let colleague = workers.first(where: { $0.id == standIn }) else {
                throw InvalidInput(
                    field: "stand_in_id",
                    "Diese Person kann nicht vertreten: bitte eine Kollegin oder einen Kollegen dieses Mandanten wählen, die oder der Fälle führt."
                )
            }
            if let taken = try await StandInRecords.overlapping(.absent, absent, from: from, to: to, on: connection, logger: logger).first {
                throw InvalidInput(
                    field: "starts_on",
                    "Für \(absentPerson.displayName) ist vom \(taken.startsOn.german) bis \(taken.endsOn.german) bereits \(taken.standInName) als Vertretung eingetragen. Bitte diese Vertretung zuerst beenden oder einen anderen Zeitraum wählen."
                )
            }
            if let away = try await StandInRecords.overlapping(.absent, standIn, from: from, to: to, on: connection, logger: logger).first {
                throw InvalidInput(
                    field: "stand_in_id",
                    "\(colleague.displayName) ist vom \(away.startsOn.german) bis \(away.endsOn.german) selbst abwesend (vertreten durch \(away.standInName)). Bitte eine andere Vertretung wählen."
                )
            }
            if let covering = try await StandInRecords.overlapping(.standIn, absent, from: from, to: to, on: connection, logger: logger).first {
                throw InvalidInput(
                    field: "starts_on",
                    "\(absentPerson.displayName) vertritt vom \(covering.startsOn.german) bis \(covering.endsOn.german) \(covering.absentName). Bitte diese Vertretung zuerst beenden, damit die Fälle von \(covering.absentName) nicht bei einer abwesenden Person liegen."
                )
            }
            let id = UUID()
            try await connection.query(
                """
                INSERT INTO stand_ins (tenant_id, id, absent_id, stand_in_id, starts_on, ends_on, created_by)
                VALUES (\(identity.tenant.id), \(id), \(absent), \(standIn), \(from.iso)::date, \(to.iso)::date, \(identity.userID))
                """,
                logger: logger
            )
            audit.append(
                work.event(
                    "stand_in.named",
                    identity,
                    "stand_in",
                    id,
                    ["absent": absent.uuidString, "stand_in": standIn.uuidString, "from": from.iso, "to": to.iso]
                )
            )
            if standIn != identity.userID {
                let namedBy = absent == identity.userID ? nil : identity.displayName
                try await Notifier.notify(
                    standIn,
                    .standIn,
                    title: Self.noticeTitle(absent: absentPerson.displayName, from: from, to: to, namedBy: namedBy),
                    link: "/faelle",
                    dedupeKey: "stand-in:\(id.uuidString.lowercased())",
                    on: connection,
                    logger: logger
                )
            }
            return try await StandInRecords.find(id, on: connection, logger: logger)!
        }
    }

    /// Ends a stand-in that is not over yet, at once: the absent person may, and a team lead.
    public func end(_ id: UUID, by identity: Identity, clientAddress: String?) async throws -> StandIn {
        try await work.work(identity, clientAddress: clientAddress) { connection, audit in
            try await lockStandIns(of: identity, on: connection)
            guard let found = try await StandInRecords.find(id, on: connection, logger: logger) else {
                throw DomainError.notFound("Diese Vertretung gibt es nicht (oder nicht in Ihrem Mandanten).")
            }
            guard found.absentID == identity.userID || mayNameForOthers(identity) else {
                throw DomainError.forbidden("Eine Vertretung beendet, wer vertreten wird – oder die Amts- oder Teamleitung.")
            }
            guard found.isCurrent else {
                throw InvalidInput(field: "stand_in", "Diese Vertretung ist bereits beendet.")
            }
            try await connection.query(
                "UPDATE stand_ins SET ended_at = now(), ended_by = \(identity.userID) WHERE id = \(id) AND ended_at IS NULL",
                logger: logger
            )
            audit.append(work.event("stand_in.ended", identity, "stand_in", id, ["absent": found.absentID.uuidString]))
            return try await StandInRecords.find(id, on: connection, logger: logger)!
        }
    }

    /// The notice to the colleague named as stand-in: whom, for how long, and who named them if not the absent person.
    static func noticeTitle(absent: String, from: Day, to: Day, namedBy: String?) -> String {
        let period = from == to ? "am \(from.german)" : "vom \(from.german) bis \(to.german)"
        let who = namedBy.map { " (eingetragen von \($0))" } ?? ""
        return "Sie vertreten \(absent) \(period)\(who): die offenen Fälle stehen in dieser Zeit unter „Meine Fälle“."
    }

    /// One change of a tenant's stand-ins at a time, until the transaction ends: the checks of each see every stand-in named before.
    func lockStandIns(of identity: Identity, on connection: PostgresConnection) async throws {
        _ = try await connection.query(
            "SELECT pg_advisory_xact_lock(hashtextextended('stand_ins:' || \(identity.tenant.id)::text, 0))",
            logger: logger
        ).collect()
    }

    static func days(from: Day, to: Day) -> Int {
        let calendar = Calendar(identifier: .gregorian)
        func date(_ day: Day) -> Date {
            let parts = day.iso.split(separator: "-").compactMap { Int($0) }
            return calendar.date(from: DateComponents(timeZone: TimeZone(identifier: "UTC"), year: parts[0], month: parts[1], day: parts[2]))!
        }
        return (calendar.dateComponents([.day], from: date(from), to: date(to)).day ?? 0) + 1
    }
}

extension CaseWork {
    /// The identity's work queue: its own open cases (the whole tenant's for a team lead who asks) and, with `standIns`, in
    /// sections of their own, those of each colleague it stands in for today (an audited read of the list).
    public func workQueue(
        by identity: Identity,
        wholeTenant: Bool = false,
        standIns: Bool = true,
        clientAddress: String?
    ) async throws -> (
        cases: [CaseFile], standingIn: [StandInCases]
    ) {
        if wholeTenant && !policy.allows(identity, .overseeCaseload) {
            throw DomainError.forbidden("Alle Fälle des Mandanten sieht die Amts- oder Teamleitung.")
        }
        return try await seam.read(identity, clientAddress: clientAddress) { connection, audit in
            let cases = try await CaseRecords.open(ownedBy: wholeTenant ? nil : identity.userID, on: connection, logger: logger)
            var standingIn: [StandInCases] = []
            if standIns && !wholeTenant {
                let today = Day.today
                for standIn in try await StandInRecords.current(involving: identity.userID, on: connection, logger: logger)
                where standIn.standInID == identity.userID && standIn.isActive(on: today) {
                    standingIn.append(
                        StandInCases(standIn: standIn, cases: try await CaseRecords.open(ownedBy: standIn.absentID, on: connection, logger: logger))
                    )
                }
            }
            var detail = ["results": "\(cases.count)", "scope": wholeTenant ? "tenant" : "mine"]
            if !standingIn.isEmpty {
                detail["stand_in_results"] = "\(standingIn.map(\.cases.count).reduce(0, +))"
                detail["stand_in_for"] = standingIn.map(\.standIn.absentID.uuidString).joined(separator: ",")
            }
            audit.append(AuditEvent("case.listed", tenant: identity.tenant.id, actor: identity.userID, detail: detail))
            return (cases, standingIn)
        }
    }
}
