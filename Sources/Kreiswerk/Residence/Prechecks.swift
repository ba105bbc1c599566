import Foundation
import Logging
import PostgresNIO

/// A case manager's question to an Ausländerbehörde: may the client meet the requirements of § 25a, § 25b, § 104c AufenthG
/// or of naturalisation? (issue 21, migrations/0036_abh_prechecks.sql). The ABH sees it only while the client's hand-over
/// consent stands, and only what it needs to answer; the case manager sees the answers.
public struct Precheck: Sendable, Equatable {
    public enum Verdict: String, Sendable, CaseIterable {
        case likelyEligible = "likely_eligible"
        case missing
        case notEligible = "not_eligible"
        /// Written by the register when the ABH records an application that follows the pre-check.
        case applicationReceived = "application_received"

        public var label: String {
            switch self {
            case .likelyEligible: "voraussichtlich erfüllt"
            case .missing: "es fehlt noch etwas"
            case .notEligible: "voraussichtlich nicht erfüllt"
            case .applicationReceived: "Antrag eingegangen"
            }
        }
        /// What an officer may answer.
        public static let answers: [Verdict] = [.likelyEligible, .missing, .notEligible]
    }

    public enum Livelihood: String, Sendable, CaseIterable {
        case secured
        case partly
        case notSecured = "not_secured"

        public var label: String {
            switch self {
            case .secured: "gesichert"
            case .partly: "teilweise gesichert"
            case .notSecured: "nicht gesichert"
            }
        }
    }

    public struct Answer: Sendable, Equatable {
        public var number: Int
        public var verdict: Verdict
        public var note: String?
        public var answererName: String
        public var answeredAt: Date
    }

    public var id: UUID
    /// Only for the asking tenant.
    public var caseID: UUID?
    public var askerTenantID: UUID
    public var askerTenantName: String
    public var abhTenantID: UUID
    public var abhName: String
    public var kind: ResidenceApplication.Kind
    public var firstName: String
    public var lastName: String
    public var dateOfBirth: Day
    public var residence: String?
    public var yearsOfResidence: Int?
    public var languageLevel: String?
    public var livelihood: Livelihood?
    public var schoolOrWork: String?
    public var missing: String?
    public var question: String?
    public var senderName: String
    public var sentAt: Date
    /// Whether the ABH still holds its grant (false after the client withdrew the consent).
    public var grantActive: Bool
    public var answers: [Answer] = []

    /// The answer that counts: the last one.
    public var latest: Answer? { answers.last }
    /// What a new answer must be based on: the number of answers seen.
    public var version: Int { answers.count }
    /// Whether an application that follows it has been recorded.
    public var applied: Bool { answers.contains { $0.verdict == .applicationReceived } }
}

/// What a case manager fills in to ask for a pre-check.
public struct NewPrecheck: Sendable {
    public var abhTenantID: UUID?
    public var kind: ResidenceApplication.Kind?
    public var yearsOfResidence: Int?
    public var languageLevel: String?
    public var livelihood: Precheck.Livelihood?
    public var schoolOrWork: String?
    public var missing: String?
    public var question: String?
    /// The day of the client's consent to hand the data to the ABH; nil without consent.
    public var consentGivenOn: Day?

    public init() {}

    static func trimmed(_ text: String?) -> String? {
        let text = text?.trimmingCharacters(in: .whitespacesAndNewlines)
        return text?.isEmpty == false ? text : nil
    }

    /// Every problem at once, by field.
    func validated() throws(InvalidInput) -> NewPrecheck {
        var new = self
        var errors: [String: String] = [:]
        new.schoolOrWork = Self.trimmed(schoolOrWork)
        new.missing = Self.trimmed(missing)
        new.question = Self.trimmed(question)
        if abhTenantID == nil { errors["abh"] = "Bitte die Ausländerbehörde wählen, die Sie fragen." }
        if kind == nil { errors["kind"] = "Bitte wählen, worum es geht: § 25a, § 25b, § 104c oder Einbürgerung." }
        if let years = yearsOfResidence, !(0...99).contains(years) {
            errors["years_of_residence"] = "Die Aufenthaltsjahre: eine ganze Zahl von 0 bis 99."
        }
        if let level = languageLevel, !ClientData.germanLevels.contains(level) {
            errors["language_level"] = "Das Sprachniveau: \(ClientData.germanLevels.joined(separator: ", "))."
        }
        if (new.schoolOrWork?.count ?? 0) > 500 { errors["school_or_work"] = "Schule oder Arbeit: höchstens 500 Zeichen." }
        if (new.missing?.count ?? 0) > 2000 { errors["missing"] = "Was noch fehlt: höchstens 2000 Zeichen." }
        if (new.question?.count ?? 0) > 2000 { errors["question"] = "Die Frage: höchstens 2000 Zeichen." }
        if let day = consentGivenOn {
            if day > .today { errors["consent_given_on"] = "Das Datum der Einwilligung liegt in der Zukunft: bitte heute oder früher angeben." }
        } else {
            errors["consent"] =
                "Ohne Einwilligung des Klienten in die Übergabe an die Ausländerbehörde kann nicht gefragt werden: bitte die Einwilligung bestätigen."
        }
        guard errors.isEmpty else { throw InvalidInput(errors: errors) }
        return new
    }
}

/// An Ausländerbehörde of the district that a case manager may ask.
public struct AbhOffice: Sendable, Equatable {
    public var id: UUID
    public var slug: String
    public var name: String
}

enum PrecheckRecords {
    static let select = """
        SELECT p.id, p.case_id, p.tenant_id, st.name, p.abh_tenant_id, at.name, p.kind, p.first_name, p.last_name,
               to_char(p.date_of_birth, 'YYYY-MM-DD'), p.residence_title, p.residence_paragraph, to_char(p.residence_valid_until, 'YYYY-MM-DD'),
               p.years_of_residence, p.language_level, p.livelihood, p.school_or_work, p.missing, p.question, p.sender_name, p.sent_at,
               EXISTS (SELECT 1 FROM access_grants g WHERE g.object_type = 'precheck' AND g.object_id = p.id AND g.revoked_at IS NULL)
        FROM abh_prechecks p JOIN tenants st ON st.id = p.tenant_id JOIN tenants at ON at.id = p.abh_tenant_id
        """

    /// The pre-checks of `rows`, each with its answers (in one more query).
    static func decode(
        _ rows: PostgresRowSequence,
        actingFor tenant: UUID,
        on connection: PostgresConnection,
        logger: Logger
    ) async throws -> [Precheck] {
        var found: [Precheck] = []
        for try await row in rows {
            let r = row.makeRandomAccess()
            let asker = try r[2].decode(UUID.self)
            let title = try r[10].decode(String?.self).flatMap(ResidenceTitle.init(rawValue:))
            let (paragraph, until) = (try r[11].decode(String?.self), try r[12].decode(String?.self).flatMap(Day.init))
            found.append(
                Precheck(
                    id: try r[0].decode(UUID.self),
                    caseID: asker == tenant ? try r[1].decode(UUID.self) : nil,
                    askerTenantID: asker,
                    askerTenantName: try r[3].decode(String.self),
                    abhTenantID: try r[4].decode(UUID.self),
                    abhName: try r[5].decode(String.self),
                    kind: ResidenceApplication.Kind(rawValue: try r[6].decode(String.self))!,
                    firstName: try r[7].decode(String.self),
                    lastName: try r[8].decode(String.self),
                    dateOfBirth: Day(try r[9].decode(String.self))!,
                    residence: title.map { $0.words(paragraph: paragraph, until: until, note: nil) },
                    yearsOfResidence: try r[13].decode(Int?.self),
                    languageLevel: try r[14].decode(String?.self),
                    livelihood: try r[15].decode(String?.self).flatMap(Precheck.Livelihood.init(rawValue:)),
                    schoolOrWork: try r[16].decode(String?.self),
                    missing: try r[17].decode(String?.self),
                    question: try r[18].decode(String?.self),
                    senderName: try r[19].decode(String.self),
                    sentAt: try r[20].decode(Date.self),
                    grantActive: try r[21].decode(Bool.self)
                )
            )
        }
        guard !found.isEmpty else { return [] }
        let index = Dictionary(uniqueKeysWithValues: found.enumerated().map { ($1.id, $0) })
        let answers = try await connection.query(
            """
            SELECT precheck_id, number, verdict, note, answerer_name, answered_at FROM abh_precheck_answers
            WHERE precheck_id = ANY(\(found.map(\.id))) ORDER BY number
            """,
            logger: logger
        )
        for try await (precheck, number, verdict, note, name, at) in answers.decode((UUID, Int, String, String?, String, Date).self) {
            guard let position = index[precheck], let verdict = Precheck.Verdict(rawValue: verdict) else { continue }
            found[position].answers.append(.init(number: number, verdict: verdict, note: note, answererName: name, answeredAt: at))
        }
        return found
    }

    static func find(_ id: UUID, actingFor tenant: UUID, on connection: PostgresConnection, logger: Logger) async throws -> Precheck? {
        try await decode(
            connection.query("\(unescaped: select) WHERE p.id = \(id)", logger: logger),
            actingFor: tenant,
            on: connection,
            logger: logger
        )
        .first
    }

    static func offices(on connection: PostgresConnection, logger: Logger) async throws -> [AbhOffice] {
        var offices: [AbhOffice] = []
        for try await (id, slug, name) in try await connection.query("SELECT id, slug, name FROM abh_offices()", logger: logger).decode(
            (UUID, String, String).self
        ) {
            offices.append(AbhOffice(id: id, slug: slug, name: name))
        }
        return offices
    }

    /// Adds the next answer; a concurrent answer with the same number (a stale page) is a conflict.
    static func answer(
        _ precheck: Precheck,
        verdict: Precheck.Verdict,
        note: String?,
        by identity: Identity,
        on connection: PostgresConnection,
        logger: Logger
    ) async throws {
        do {
            try await connection.query(
                """
                INSERT INTO abh_precheck_answers (tenant_id, id, precheck_id, sender_tenant_id, number, verdict, note, answerer_name, answered_by)
                VALUES (\(identity.tenant.id), \(UUID()), \(precheck.id), \(precheck.askerTenantID), \(precheck.version + 1), \(verdict.rawValue), \(note),
                        \(identity.displayName), \(identity.userID))
                """,
                logger: logger
            )
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23505" {
            throw DomainError.conflict(AbhPrechecks.staleMessage)
        }
        let title =
            verdict == .applicationReceived
            ? "Vorprüfung \(precheck.kind.short): Antrag bei der Ausländerbehörde eingegangen"
            : "Vorprüfung \(precheck.kind.short): Antwort der Ausländerbehörde"
        try await notify(precheck, "precheck_answered", title: title, number: precheck.version + 1, on: connection, logger: logger)
    }

    static func notify(
        _ precheck: Precheck,
        _ kind: String,
        title: String,
        number: Int,
        on connection: PostgresConnection,
        logger: Logger
    ) async throws {
        // Drained: a SELECT's error arrives with its rows, and unread it would roll the transaction back unnoticed.
        _ = try await connection.query(
            "SELECT abh_precheck_notify(\(precheck.id), \(kind), \(title), \("precheck:\(precheck.id.uuidString.lowercased()):\(number)"))",
            logger: logger
        ).collect()
    }
}

/// Pre-checks between case managers and the ABH: asked from a case with the client's hand-over consent (one transaction:
/// the consent, the pre-check, the grant, the case's timeline, the ABH's notice, the audit), answered by the ABH's officers
/// while the consent stands, and read by both.
public struct AbhPrechecks: Sendable {
    let cases: CaseWork
    let register: TenantWork

    public init(database: Database, policy: Policy) {
        cases = CaseWork(database: database, policy: policy)
        register = TenantWork(database: database, policy: policy, purpose: "residence_register")
    }

    var logger: Logger { register.logger }

    static let notFound = DomainError.notFound(
        "Diese Vorprüfung gibt es nicht (oder nicht für Ihre Ausländerbehörde) – oder der Klient hat seine Einwilligung widerrufen."
    )
    static let staleMessage =
        "Inzwischen hat jemand anderes diese Vorprüfung beantwortet. Bitte die Seite neu laden, die Antwort lesen und Ihre Antwort dann erneut geben."

    /// What the case's pre-check page shows: the case, its pre-checks with the answers, and the ABHs that may be asked.
    public struct CaseView: Sendable {
        public var file: CaseFile
        public var client: Client
        public var prechecks: [Precheck]
        public var offices: [AbhOffice]
    }

    public func caseView(_ id: UUID, by identity: Identity, clientAddress: String?) async throws -> CaseView {
        try await cases.work(identity, clientAddress: clientAddress) { connection, audit in
            guard let file = try await CaseRecords.find(id, on: connection, logger: logger) else { throw CaseWork.noCase }
            let client = try await ClientRecords.find(file.clientID, on: connection, logger: logger)!
            let prechecks = try await PrecheckRecords.decode(
                connection.query(
                    "\(unescaped: PrecheckRecords.select) WHERE p.tenant_id = \(identity.tenant.id) AND p.case_id = \(id) ORDER BY p.sent_at DESC",
                    logger: logger
                ),
                actingFor: identity.tenant.id,
                on: connection,
                logger: logger
            )
            audit.append(cases.event("precheck.listed", identity, "case", id, ["results": "\(prechecks.count)"]))
            return CaseView(
                file: file,
                client: client,
                prechecks: prechecks,
                offices: try await PrecheckRecords.offices(on: connection, logger: logger)
            )
        }
    }

    /// Asks an ABH of the district for a pre-check of the case's client, recording the client's hand-over consent.
    public func ask(case id: UUID, _ new: NewPrecheck, by identity: Identity, clientAddress: String?) async throws -> Precheck {
        let new = try new.validated()
        return try await cases.work(identity, clientAddress: clientAddress) { connection, audit in
            let file = try await cases.workable(id, on: connection)
            let client = try await ClientRecords.find(file.clientID, on: connection, logger: logger)!
            guard let office = try await PrecheckRecords.offices(on: connection, logger: logger).first(where: { $0.id == new.abhTenantID }) else {
                throw InvalidInput(field: "abh", "Diese Ausländerbehörde gibt es in Ihrem Kreis nicht: bitte aus der Liste wählen.")
            }
            let consent = try await ClientRecords.recordConsent(
                client: client.id,
                tenant: identity.tenant.id,
                scope: .handover,
                recipient: office.name,
                givenOn: new.consentGivenOn!,
                by: identity.userID,
                on: connection,
                logger: logger
            )
            let precheckID = UUID()
            let data = client.data
            try await connection.query(
                """
                INSERT INTO abh_prechecks (tenant_id, id, case_id, client_id, consent_id, abh_tenant_id, kind, first_name, last_name, date_of_birth,
                    residence_title, residence_paragraph, residence_valid_until, years_of_residence, language_level, livelihood, school_or_work,
                    missing, question, sender_name, sent_by)
                VALUES (\(identity.tenant.id), \(precheckID), \(file.id), \(client.id), \(consent), \(office.id), \(new.kind!.rawValue),
                    \(data.firstName), \(data.lastName), \(data.dateOfBirth.iso)::date, \(data.residenceTitle), \(data.residenceParagraph),
                    \(data.residenceValidUntil?.iso)::date, \(new.yearsOfResidence), \(new.languageLevel), \(new.livelihood?.rawValue),
                    \(new.schoolOrWork), \(new.missing), \(new.question), \(identity.displayName), \(identity.userID))
                """,
                logger: logger
            )
            let grant = try await AccessGrants.grant(
                .precheck,
                object: precheckID,
                to: office.id,
                consent: consent,
                by: identity,
                on: connection,
                logger: logger
            )
            try await CaseRecords.addEvent(
                "precheck_asked",
                text: "Vorprüfung \(new.kind!.short) bei der \(office.name) angefragt.",
                case: file.id,
                tenant: identity.tenant.id,
                actor: identity.userID,
                on: connection,
                logger: logger
            )
            let precheck = try await PrecheckRecords.find(precheckID, actingFor: identity.tenant.id, on: connection, logger: logger)!
            try await PrecheckRecords.notify(
                precheck,
                "precheck_asked",
                title: "Neue Anfrage zur Vorprüfung (\(new.kind!.short))",
                number: 0,
                on: connection,
                logger: logger
            )
            audit.append(cases.event("consent.given", identity, "consent", consent, ["client": client.id.uuidString, "scope": "handover"]))
            audit.append(cases.event("grant.created", identity, "grant", grant, ["grantee": office.slug, "precheck": precheckID.uuidString]))
            audit.append(cases.event("precheck.asked", identity, "precheck", precheckID, ["case": file.id.uuidString, "kind": new.kind!.rawValue]))
            return precheck
        }
    }

    /// The ABH's inbox: the pre-checks asked of it whose consent stands (an audited read).
    public func inbox(by identity: Identity, clientAddress: String?) async throws -> [Precheck] {
        try await register.work(identity, clientAddress: clientAddress) { connection, audit in
            let found = try await PrecheckRecords.decode(
                connection.query(
                    """
                    \(unescaped: PrecheckRecords.select)
                    WHERE p.abh_tenant_id = \(identity.tenant.id) AND p.tenant_id <> \(identity.tenant.id) ORDER BY p.sent_at DESC LIMIT 500
                    """,
                    logger: logger
                ),
                actingFor: identity.tenant.id,
                on: connection,
                logger: logger
            )
            audit.append(AuditEvent("precheck.listed", tenant: identity.tenant.id, actor: identity.userID, detail: ["results": "\(found.count)"]))
            return found
        }
    }

    /// One pre-check asked of the officer's ABH (an audited read).
    public func precheck(_ id: UUID, by identity: Identity, clientAddress: String?) async throws -> Precheck {
        try await register.work(identity, clientAddress: clientAddress) { connection, audit in
            guard let found = try await PrecheckRecords.find(id, actingFor: identity.tenant.id, on: connection, logger: logger),
                found.abhTenantID == identity.tenant.id
            else { throw Self.notFound }
            audit.append(register.event("precheck.read", identity, "precheck", id))
            return found
        }
    }

    /// The officer answers, based on the answers seen (`version`); the case manager who asked is notified.
    public func answer(
        _ id: UUID,
        verdict: Precheck.Verdict?,
        note: String?,
        version: Int?,
        by identity: Identity,
        clientAddress: String?
    ) async throws -> Precheck {
        let note = NewPrecheck.trimmed(note)
        var errors: [String: String] = [:]
        if verdict == nil || verdict == .applicationReceived {
            errors["verdict"] = "Bitte die Antwort wählen: voraussichtlich erfüllt, es fehlt noch etwas, oder voraussichtlich nicht erfüllt."
        }
        if verdict == .missing && note == nil { errors["note"] = "Bitte angeben, was noch fehlt (z. B. Sprachnachweis B1)." }
        if verdict == .notEligible && note == nil {
            errors["note"] = "Bitte begründen, warum die Voraussetzungen voraussichtlich nicht erfüllt sind."
        }
        if (note?.count ?? 0) > 2000 { errors["note"] = "Die Anmerkung: höchstens 2000 Zeichen." }
        guard let version else {
            throw DomainError.versionRequired("Bitte die Version der Vorprüfung mitschicken, auf der die Antwort beruht (Seite neu laden).")
        }
        guard errors.isEmpty, let verdict else { throw InvalidInput(errors: errors) }
        return try await register.work(identity, clientAddress: clientAddress) { connection, audit in
            guard let found = try await PrecheckRecords.find(id, actingFor: identity.tenant.id, on: connection, logger: logger),
                found.abhTenantID == identity.tenant.id
            else { throw Self.notFound }
            guard found.version == version else { throw DomainError.conflict(Self.staleMessage) }
            try await PrecheckRecords.answer(found, verdict: verdict, note: note, by: identity, on: connection, logger: logger)
            audit.append(register.event("precheck.answered", identity, "precheck", id, ["verdict": verdict.rawValue]))
            return try await PrecheckRecords.find(id, actingFor: identity.tenant.id, on: connection, logger: logger)!
        }
    }
}
