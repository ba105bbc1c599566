import Foundation
import Logging
import PostgresNIO

/// The daily work of case managers, as the API and the pages share it. Every call runs in one
/// transaction acting for the identity's tenant, and records every read and change of personal
/// data in the audit trail with the purpose `case_management`.
public struct CaseWork: Sendable {
    let database: Database
    let policy: Policy

    public init(database: Database, policy: Policy) {
        self.database = database
        self.policy = policy
    }

    /// The platform's seam, for case management.
    var seam: TenantWork { .caseManagement(database, policy) }

    /// Runs `body` acting for the identity's tenant; `audit` entries are written in the same transaction.
    func work<Result: Sendable>(
        _ identity: Identity,
        clientAddress: String?,
        _ body: (PostgresConnection, inout [AuditEvent]) async throws -> Result
    ) async throws -> Result {
        try await seam.work(identity, clientAddress: clientAddress, body)
    }

    func event(_ action: String, _ identity: Identity, _ type: String, _ id: UUID, _ detail: [String: String] = [:]) -> AuditEvent {
        seam.event(action, identity, type, id, detail)
    }

    var logger: Logger { database.logger }

    // MARK: - Clients

    /// Registers a client; with `consent`, also their consent to case management (how and until when it was given).
    /// A client of the same name and date of birth in the tenant is refused unless `allowDuplicate`.
    public func register(
        _ data: ClientData,
        consent: ConsentGiven?,
        allowDuplicate: Bool,
        by identity: Identity,
        clientAddress: String?
    ) async throws -> Client {
        var data = try data.validated()
        let consent = try consent?.validated(prefix: "consent_")
        return try await work(identity, clientAddress: clientAddress) { connection, audit in
            data.extra = try ClientFields.validate(data.extra ?? [:], against: try await ClientFields.list(on: connection, logger: logger))
            if !allowDuplicate, let existing = try await ClientRecords.duplicates(of: data, on: connection, logger: logger).first {
                throw DuplicateClient(existing: existing)
            }
            let id = try await ClientRecords.create(data, tenant: identity.tenant.id, by: identity.userID, on: connection, logger: logger)
            audit.append(event("client.created", identity, "client", id))
            if let consent {
                let consentID = try await ClientRecords.recordConsent(
                    client: id,
                    tenant: identity.tenant.id,
                    scope: .caseManagement,
                    recipient: nil,
                    givenOn: consent.givenOn,
                    expiresOn: consent.expiresOn,
                    givenHow: consent.how,
                    interpreterLanguage: consent.interpreterLanguage,
                    by: identity.userID,
                    on: connection,
                    logger: logger
                )
                audit.append(event("consent.given", identity, "consent", consentID, ["client": id.uuidString, "scope": "case_management"]))
            }
            return try await ClientRecords.find(id, on: connection, logger: logger)!
        }
    }

    /// A client with consents and cases (an audited read).
    public func client(_ id: UUID, by identity: Identity, clientAddress: String?) async throws -> (Client, [Consent], [CaseFile]) {
        try await seam.read(identity, clientAddress: clientAddress) { connection, audit in
            guard let client = try await ClientRecords.find(id, on: connection, logger: logger) else { throw Self.noClient }
            audit.append(event("client.read", identity, "client", id))
            return (
                client, try await ClientRecords.consents(of: id, on: connection, logger: logger),
                try await CaseRecords.of(client: id, on: connection, logger: logger)
            )
        }
    }

    /// What withdrawing a consent in force would end, for its confirmation: the client, the consent, and each referral and
    /// conference whose receiver loses access (an audited read of the client).
    public func withdrawal(
        of consent: UUID,
        client id: UUID,
        by identity: Identity,
        clientAddress: String?
    ) async throws -> (client: Client, consent: Consent, ending: [(what: String, at: Date)]) {
        try await work(identity, clientAddress: clientAddress) { connection, audit in
            guard let client = try await ClientRecords.find(id, on: connection, logger: logger) else { throw Self.noClient }
            guard let found = try await ClientRecords.consents(of: id, on: connection, logger: logger).first(where: { $0.id == consent }),
                found.isActive
            else { throw DomainError.notFound("Eine noch gültige Einwilligung mit dieser Kennung gibt es bei diesem Klienten nicht.") }
            audit.append(event("client.read", identity, "client", id))
            let everything = found.scope == .caseManagement
            let ending = try await AccessGrants.ending(consent: consent, client: id, everything: everything, on: connection, logger: logger)
            return (client, found, ending)
        }
    }

    public func update(client id: UUID, version: Int, with data: ClientData, by identity: Identity, clientAddress: String?) async throws -> Client {
        var data = try data.validated()
        return try await work(identity, clientAddress: clientAddress) { connection, audit in
            guard try await ClientRecords.find(id, on: connection, logger: logger) != nil else { throw Self.noClient }
            data.extra = try ClientFields.validate(data.extra ?? [:], against: try await ClientFields.list(on: connection, logger: logger))
            try await ClientRecords.update(id, version: version, with: data, on: connection, logger: logger)
            audit.append(event("client.updated", identity, "client", id))
            return try await ClientRecords.find(id, on: connection, logger: logger)!
        }
    }

    public func search(_ text: String, by identity: Identity, clientAddress: String?) async throws -> [Client] {
        let text = text.trimmingCharacters(in: .whitespaces)
        guard text.count >= 2 else { throw InvalidInput(field: "q", "Bitte mindestens zwei Zeichen eingeben: Name, Geburtsdatum oder Fallnummer.") }
        return try await seam.read(identity, clientAddress: clientAddress) { connection, audit in
            let found = try await ClientRecords.search(text, on: connection, logger: logger)
            audit.append(AuditEvent("client.searched", tenant: identity.tenant.id, actor: identity.userID, detail: ["results": "\(found.count)"]))
            return found
        }
    }

    public func recordConsent(
        client: UUID,
        scope: Consent.Scope,
        recipient: String?,
        given: ConsentGiven,
        by identity: Identity,
        clientAddress: String?
    ) async throws -> Consent {
        let recipient = recipient?.trimmingCharacters(in: .whitespaces)
        var errors: [String: String] = [:]
        if scope == .handover && (recipient ?? "").isEmpty {
            errors["recipient"] = "Bei einer Übergabe-Einwilligung bitte angeben, an wen übergeben werden darf."
        }
        var checked: ConsentGiven?
        do { checked = try given.validated() } catch { errors.merge(error.errors) { first, _ in first } }
        guard errors.isEmpty, let given = checked else { throw InvalidInput(errors: errors) }
        return try await work(identity, clientAddress: clientAddress) { connection, audit in
            guard try await ClientRecords.find(client, on: connection, logger: logger) != nil else { throw Self.noClient }
            let id = try await ClientRecords.recordConsent(
                client: client,
                tenant: identity.tenant.id,
                scope: scope,
                recipient: scope == .handover ? recipient : nil,
                givenOn: given.givenOn,
                expiresOn: given.expiresOn,
                givenHow: given.how,
                interpreterLanguage: given.interpreterLanguage,
                by: identity.userID,
                on: connection,
                logger: logger
            )
            audit.append(event("consent.given", identity, "consent", id, ["client": client.uuidString, "scope": scope.rawValue]))
            return try await ClientRecords.consents(of: client, on: connection, logger: logger).first { $0.id == id }!
        }
    }

    /// Withdraws a consent from `day`; returns how many hand-over grants it ended.
    @discardableResult
    public func withdrawConsent(_ id: UUID, client: UUID, on day: Day, by identity: Identity, clientAddress: String?) async throws -> Int {
        try await work(identity, clientAddress: clientAddress) { connection, audit in
            // Waits for work on the client's cases that may be granting access on this consent (see `workable`).
            _ = try await connection.query("SELECT 1 FROM clients WHERE id = \(client) FOR UPDATE", logger: logger).collect()
            guard try await ClientRecords.withdrawConsent(id, client: client, on: day, on: connection, logger: logger) else {
                throw DomainError.notFound("Eine noch gültige Einwilligung mit dieser Kennung gibt es bei diesem Klienten nicht.")
            }
            audit.append(event("consent.withdrawn", identity, "consent", id, ["client": client.uuidString, "from": day.iso]))
            // Hand-overs end at once: the receiver's grants rest on this consent (or on case management as a whole).
            let scope = try await connection.query("SELECT scope FROM consents WHERE id = \(id)", logger: logger).collect().first?.decode(String.self)
            let revoked = try await AccessGrants.revoke(
                consent: id,
                client: client,
                everything: scope == Consent.Scope.caseManagement.rawValue,
                by: identity.userID,
                on: connection,
                logger: logger
            )
            if revoked > 0 { audit.append(event("grant.revoked", identity, "consent", id, ["grants": "\(revoked)"])) }
            for file in try await CaseRecords.of(client: client, on: connection, logger: logger) where file.closedOn == nil {
                try await CaseRecords.addEvent(
                    "consent_withdrawn",
                    text: "Einwilligung ab \(day.german) widerrufen.",
                    case: file.id,
                    tenant: identity.tenant.id,
                    actor: identity.userID,
                    on: connection,
                    logger: logger
                )
            }
            return revoked
        }
    }

    // MARK: - The tenant's own fields

    public func fields(by identity: Identity) async throws -> [ClientField] {
        try await database.withTenant(identity.tenant.id, user: identity.userID) { try await ClientFields.list(on: $0, logger: logger) }
    }

    public func define(_ field: ClientField, by identity: Identity, clientAddress: String?) async throws -> ClientField {
        try await work(identity, clientAddress: clientAddress) { connection, audit in
            let field = try await ClientFields.define(field, tenant: identity.tenant.id, on: connection, logger: logger)
            audit.append(
                AuditEvent(
                    "client_field.defined",
                    tenant: identity.tenant.id,
                    actor: identity.userID,
                    objectType: "client_field",
                    objectID: field.key
                )
            )
            return field
        }
    }

    // MARK: - Cases

    /// Opens a case (phase intake) for a client who consented to case management.
    public func openCase(
        client: UUID,
        channel: AccessChannel,
        reason: String?,
        nextReviewOn: Day?,
        owner: UUID?,
        by identity: Identity,
        clientAddress: String?
    ) async throws -> CaseFile {
        try await work(identity, clientAddress: clientAddress) { connection, audit in
            guard let record = try await ClientRecords.find(client, on: connection, logger: logger) else { throw Self.noClient }
            guard record.hasCaseManagementConsent else { throw Self.noConsent }
            let owner = owner ?? identity.userID
            guard try await Accounts.find(owner, on: connection, logger: logger)?.active == true else {
                throw InvalidInput(field: "owner_id", "Die zuständige Person muss ein aktives Konto dieses Mandanten haben.")
            }
            let id = try await CaseRecords.open(
                client: client,
                tenant: identity.tenant,
                owner: owner,
                channel: channel,
                reason: reason?.trimmingCharacters(in: .whitespaces),
                nextReviewOn: nextReviewOn,
                on: connection,
                logger: logger
            )
            try await CaseRecords.addEvent(
                "opened",
                text: "Fall eröffnet (\(channel.label)).",
                case: id,
                tenant: identity.tenant.id,
                actor: identity.userID,
                on: connection,
                logger: logger
            )
            audit.append(event("case.opened", identity, "case", id, ["client": client.uuidString, "channel": channel.rawValue]))
            return try await CaseRecords.find(id, on: connection, logger: logger)!
        }
    }

    /// Everything the case page shows (an audited read).
    public struct CaseView: Sendable {
        public var file: CaseFile
        public var client: Client
        public var goals: [Goal]
        public var timeline: [CaseEvent]
    }

    public func caseView(_ id: UUID, by identity: Identity, clientAddress: String?) async throws -> CaseView {
        try await seam.read(identity, clientAddress: clientAddress) { connection, audit in
            try await read(id, by: identity, on: connection, audit: &audit)
        }
    }

    private func read(_ id: UUID, by identity: Identity, on connection: PostgresConnection, audit: inout [AuditEvent]) async throws -> CaseView {
        guard let view = try await CaseRecords.view(id, on: connection, logger: logger) else { throw Self.noCase }
        audit.append(event("case.read", identity, "case", id))
        return view
    }

    /// Everything the case page shows and offers, in one transaction: the case, its referrals, the district's services
    /// to refer to, the tenants a conference can invite, and to whom the identity may hand the case over (none when
    /// `mayHandOver` says no or the case is closed).
    public struct CasePage: Sendable {
        public var view: CaseView
        public var referrals: [Referral]
        public var services: [ServiceDirectory.Entry]
        public var conferenceTenants: [(slug: String, name: String)]
        public var handOverTo: [User]
    }

    public func casePage(_ id: UUID, by identity: Identity, clientAddress: String?) async throws -> CasePage {
        try await seam.read(identity, clientAddress: clientAddress) { connection, audit in
            let view = try await read(id, by: identity, on: connection, audit: &audit)
            let handOver = view.file.closedOn == nil && mayHandOver(view.file, by: identity)
            return CasePage(
                view: view,
                referrals: try await Referrals.of(case: id, tenant: identity.tenant.id, on: connection, logger: logger),
                services: try await ServiceDirectory.offered(to: view.client, by: identity, on: connection, logger: logger),
                conferenceTenants: try await Conferences.invitableTenants(of: identity, on: connection, logger: logger),
                handOverTo: handOver
                    ? try await Self.caseWorkers(of: identity, policy: policy, on: connection, logger: logger).filter { $0.id != view.file.ownerID }
                    : []
            )
        }
    }

    /// Who may hand a case over: whoever works it, or a team lead (the rule `handOver` enforces and the case page offers).
    func mayHandOver(_ file: CaseFile, by identity: Identity) -> Bool {
        file.ownerID == identity.userID || policy.allows(identity, .overseeCaseload)
    }

    /// The identity's open cases, what is due first (an audited read of the list); `workQueue` adds the stand-ins'.
    public func myCases(by identity: Identity, wholeTenant: Bool = false, clientAddress: String?) async throws -> [CaseFile] {
        try await workQueue(by: identity, wholeTenant: wholeTenant, standIns: false, clientAddress: clientAddress).cases
    }

    /// A phase change: allowed transitions only, with consent, and meeting the district's documentation standard.
    public struct PhaseChange: Sendable, Decodable {
        public var phase: Phase
        public var route: CaseRoute?
        public var closureReason: String?
        public var nextReviewOn: Day?

        public init(phase: Phase, route: CaseRoute? = nil, closureReason: String? = nil, nextReviewOn: Day? = nil) {
            self.phase = phase
            self.route = route
            self.closureReason = closureReason
            self.nextReviewOn = nextReviewOn
        }
    }

    public func change(case id: UUID, version: Int, to change: PhaseChange, by identity: Identity, clientAddress: String?) async throws -> CaseFile {
        try await work(identity, clientAddress: clientAddress) { connection, audit in
            guard var file = try await CaseRecords.find(id, on: connection, logger: logger) else { throw Self.noCase }
            guard file.version == version else { throw Self.staleCase }
            let client = try await ClientRecords.find(file.clientID, on: connection, logger: logger)!
            guard client.hasCaseManagementConsent || change.phase == .closure else { throw Self.noConsent }
            let from = file.phase
            let allowed = from.next(route: change.route ?? file.route)
            guard allowed.contains(change.phase) else {
                throw InvalidInput(
                    field: "phase",
                    from == .closure
                        ? "Der Fall ist abgeschlossen."
                        : "Von „\(from.label)“ geht es nur weiter zu: \(allowed.map { "„\($0.label)“" }.joined(separator: ", "))."
                )
            }
            if let route = change.route { file.route = route }
            if let next = change.nextReviewOn { file.nextReviewOn = next }
            if let reason = change.closureReason?.trimmingCharacters(in: .whitespaces), !reason.isEmpty { file.closureReason = reason }
            if from == .assessment && change.phase != .closure && file.route == nil {
                throw InvalidInput(
                    field: "route",
                    "Nach der Bedarfsklärung bitte den Weg wählen: \(CaseRoute.allCases.map(\.label).joined(separator: ", "))."
                )
            }
            if from == .assessment, change.phase == .goalAgreement, file.route?.endsAfterAssessment == true {
                throw InvalidInput(field: "phase", "Bei „\(file.route!.label)“ endet der Fall nach der Bedarfsklärung: bitte abschließen.")
            }
            let goals = try await CaseRecords.goals(of: id, on: connection, logger: logger)
            let standard = try await DocumentationStandard.of(district: identity.tenant.ownDistrictID, on: connection, logger: logger)
            let filled = Self.filledFields(client: client.data, file: file, goals: goals)
            // Straight from the assessment to monitoring (a referral): what the goal agreement would have asked for is asked here.
            let skipped = from == .assessment && change.phase == .monitoring ? standard.missing(for: .goalAgreement, filled: filled) : []
            let missing = skipped + standard.missing(for: change.phase, filled: filled).filter { !skipped.contains($0) }
            guard missing.isEmpty else {
                throw InvalidInput(
                    field: "phase",
                    "Für „\(change.phase.label)“ verlangt der Dokumentationsstandard des Kreises noch: \(missing.joined(separator: ", "))."
                )
            }
            file.phase = change.phase
            if change.phase == .closure { file.closedOn = .today }
            try await CaseRecords.save(file, expecting: version, on: connection, logger: logger)
            var text = "Phase: \(from.label) → \(change.phase.label)"
            if let route = change.route { text += "; Weg: \(route.label)" }
            if change.phase == .closure, let reason = file.closureReason { text += "; Grund: \(reason)" }
            try await CaseRecords.addEvent(
                "phase_changed",
                text: text + ".",
                case: id,
                tenant: identity.tenant.id,
                actor: identity.userID,
                on: connection,
                logger: logger
            )
            audit.append(event("case.phase_changed", identity, "case", id, ["from": from.rawValue, "to": change.phase.rawValue]))
            return try await CaseRecords.find(id, on: connection, logger: logger)!
        }
    }

    /// Hands an open case over to a colleague of the tenant who works cases (if still at `version`): the case manager
    /// who owns it may, and a team lead may for any case. The new owner is notified.
    public func handOver(case id: UUID, version: Int, to owner: UUID, by identity: Identity, clientAddress: String?) async throws -> CaseFile {
        try await work(identity, clientAddress: clientAddress) { connection, audit in
            guard var file = try await CaseRecords.find(id, on: connection, logger: logger) else { throw Self.noCase }
            guard mayHandOver(file, by: identity) else {
                throw DomainError.forbidden("Einen Fall übergibt, wer ihn führt – oder die Teamleitung.")
            }
            guard file.version == version else { throw Self.staleCase }
            guard file.closedOn == nil else { throw InvalidInput(field: "case", "Der Fall ist abgeschlossen; er wird nicht mehr übergeben.") }
            guard let colleague = try await Accounts.find(owner, on: connection, logger: logger), colleague.tenant == identity.tenant.slug,
                colleague.active, colleague.roles.contains(where: { policy.scope(of: $0, for: .workCases) > .none })
            else {
                throw InvalidInput(field: "owner_id", "Bitte eine Kollegin oder einen Kollegen dieses Mandanten wählen, die oder der Fälle führt.")
            }
            guard owner != file.ownerID else { throw InvalidInput(field: "owner_id", "Der Fall liegt bereits bei \(colleague.displayName).") }
            let previous = file.ownerName
            file.ownerID = owner
            try await CaseRecords.save(file, expecting: version, on: connection, logger: logger)
            try await CaseRecords.addEvent(
                "handed_over",
                text: "Fall von \(previous) an \(colleague.displayName) übergeben.",
                case: id,
                tenant: identity.tenant.id,
                actor: identity.userID,
                on: connection,
                logger: logger
            )
            audit.append(event("case.handed_over", identity, "case", id, ["to": owner.uuidString]))
            if owner != identity.userID {
                try await Notifier.notify(
                    owner,
                    .caseHandedOver,
                    title: "\(identity.displayName) hat Ihnen einen Fall übergeben",
                    link: "/faelle/\(id.uuidString.lowercased())",
                    dedupeKey: "case-handed-over:\(id.uuidString.lowercased()):\(version + 1)",
                    on: connection,
                    logger: logger
                )
            }
            return try await CaseRecords.find(id, on: connection, logger: logger)!
        }
    }

    /// The tenant's active colleagues who work cases, by name: to whom a case can be handed over.
    static func caseWorkers(of identity: Identity, policy: Policy, on connection: PostgresConnection, logger: Logger) async throws -> [User] {
        try await Accounts.list(tenant: identity.tenant.id, on: connection, logger: logger)
            .filter { $0.active && $0.roles.contains(where: { policy.scope(of: $0, for: .workCases) > .none }) }
            .sorted { $0.displayName < $1.displayName }
    }

    static func filledFields(client: ClientData, file: CaseFile, goals: [Goal]) -> Set<String> {
        var filled = Set<String>()
        let texts: [(String, String?)] = [
            ("place_of_residence", client.placeOfResidence), ("social_area", client.socialArea), ("residence_status", client.residenceInWords),
            ("country_of_origin", client.countryOfOrigin), ("german_level", client.germanLevel), ("household", client.household),
            ("health_situation", client.healthSituation), ("arrival_date", client.arrivalDate?.iso), ("route", file.route?.rawValue),
            ("next_review_on", file.nextReviewOn?.iso), ("closure_reason", file.closureReason),
        ]
        for (field, value) in texts where value?.isEmpty == false { filled.insert(field) }
        if client.languages?.isEmpty == false { filled.insert("languages") }
        if !goals.isEmpty { filled.insert("goals") }
        return filled
    }

    /// Notes, goals and reviews need the case to be open and the client's consent in force.
    func workable(_ id: UUID, on connection: PostgresConnection) async throws -> CaseFile {
        guard let file = try await CaseRecords.find(id, on: connection, logger: logger) else { throw Self.noCase }
        guard file.closedOn == nil else { throw InvalidInput(field: "case", "Der Fall ist abgeschlossen; es kann nichts mehr eingetragen werden.") }
        // Held until the end of the transaction: a withdrawal of consent (which locks the client for update) waits for
        // this work, then revokes any grant it made; or this waits for the withdrawal, and the check below sees it.
        _ = try await connection.query("SELECT 1 FROM clients WHERE id = \(file.clientID) FOR SHARE", logger: logger).collect()
        guard try await ClientRecords.find(file.clientID, on: connection, logger: logger)!.hasCaseManagementConsent else { throw Self.noConsent }
        return file
    }

    public func addNote(case id: UUID, text: String, by identity: Identity, clientAddress: String?) async throws {
        let text = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty, text.count <= 10_000 else {
            throw InvalidInput(field: "text", "Bitte einen Vermerk von 1 bis 10.000 Zeichen schreiben.")
        }
        try await work(identity, clientAddress: clientAddress) { connection, audit in
            _ = try await workable(id, on: connection)
            try await CaseRecords.addEvent(
                "note",
                text: text,
                case: id,
                tenant: identity.tenant.id,
                actor: identity.userID,
                on: connection,
                logger: logger
            )
            audit.append(event("case.note_added", identity, "case", id))
        }
    }

    public struct NewGoal: Sendable, Decodable {
        public var area: GoalArea
        public var text: String
        public var agreedOn: Day
        public var reviewOn: Day
        public init(area: GoalArea, text: String, agreedOn: Day, reviewOn: Day) {
            (self.area, self.text, self.agreedOn, self.reviewOn) = (area, text, agreedOn, reviewOn)
        }
    }

    public func addGoal(case id: UUID, _ goal: NewGoal, by identity: Identity, clientAddress: String?) async throws -> Goal {
        let text = goal.text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty, text.count <= 2000 else { throw InvalidInput(field: "text", "Bitte das Ziel in 1 bis 2000 Zeichen beschreiben.") }
        guard goal.reviewOn >= goal.agreedOn else { throw InvalidInput(field: "review_on", "Der Prüftermin liegt vor dem Datum der Vereinbarung.") }
        return try await work(identity, clientAddress: clientAddress) { connection, audit in
            _ = try await workable(id, on: connection)
            let goalID = try await CaseRecords.addGoal(
                case: id,
                tenant: identity.tenant.id,
                area: goal.area,
                text: text,
                agreedOn: goal.agreedOn,
                reviewOn: goal.reviewOn,
                on: connection,
                logger: logger
            )
            try await CaseRecords.addEvent(
                "goal_added",
                text: "Ziel (\(goal.area.label)): \(text); Prüfung am \(goal.reviewOn.german).",
                case: id,
                tenant: identity.tenant.id,
                actor: identity.userID,
                on: connection,
                logger: logger
            )
            audit.append(event("goal.added", identity, "goal", goalID, ["case": id.uuidString]))
            return try await CaseRecords.goals(of: id, on: connection, logger: logger).first { $0.id == goalID }!
        }
    }

    public func reviewGoal(
        _ goal: UUID,
        case id: UUID,
        version: Int,
        outcome: GoalOutcome,
        note: String?,
        by identity: Identity,
        clientAddress: String?
    ) async throws -> Goal {
        try await work(identity, clientAddress: clientAddress) { connection, audit in
            _ = try await workable(id, on: connection)
            try await CaseRecords.reviewGoal(
                goal,
                case: id,
                version: version,
                outcome: outcome,
                note: note,
                on: .today,
                on: connection,
                logger: logger
            )
            try await CaseRecords.addEvent(
                "goal_reviewed",
                text: "Ziel geprüft: \(outcome.label).\(note.map { " \($0)" } ?? "")",
                case: id,
                tenant: identity.tenant.id,
                actor: identity.userID,
                on: connection,
                logger: logger
            )
            audit.append(event("goal.reviewed", identity, "goal", goal, ["case": id.uuidString, "outcome": outcome.rawValue]))
            return try await CaseRecords.goals(of: id, on: connection, logger: logger).first { $0.id == goal }!
        }
    }

    /// Moves the review of an open goal to a later day (if the goal is still at `version`), without an outcome: the
    /// reminders follow the new date.
    public func postponeGoal(
        _ goal: UUID,
        case id: UUID,
        version: Int,
        to day: Day,
        reason: String?,
        by identity: Identity,
        clientAddress: String?
    ) async throws -> Goal {
        guard day >= .today else {
            throw InvalidInput(field: "review_on", "Der neue Prüftermin liegt in der Vergangenheit; bitte heute oder später wählen.")
        }
        let reason = reason.map { $0.trimmingCharacters(in: .whitespaces) }.flatMap { $0.isEmpty ? nil : $0 }
        return try await work(identity, clientAddress: clientAddress) { connection, audit in
            _ = try await workable(id, on: connection)
            guard let before = try await CaseRecords.goals(of: id, on: connection, logger: logger).first(where: { $0.id == goal }) else {
                throw DomainError.notFound("Dieses Ziel gibt es in diesem Fall nicht.")
            }
            guard before.outcome == nil else {
                throw InvalidInput(field: "review_on", "Das Ziel ist bereits geprüft; ein neuer Prüftermin braucht ein neues Ziel.")
            }
            guard before.version == version else { throw DomainError.stale("Das Ziel wurde inzwischen geändert. Bitte neu laden.") }
            guard day >= before.agreedOn else {
                throw InvalidInput(field: "review_on", "Der Prüftermin kann nicht vor der Vereinbarung (\(before.agreedOn.german)) liegen.")
            }
            // The version again in the write: a review saved meanwhile must not get a new date.
            let moved = try await connection.query(
                """
                UPDATE goals SET review_on = \(day.iso)::date, version = version + 1
                WHERE id = \(goal) AND case_id = \(id) AND version = \(version) AND outcome IS NULL RETURNING 1
                """,
                logger: logger
            ).collect()
            guard !moved.isEmpty else { throw DomainError.stale("Das Ziel wurde inzwischen geändert. Bitte neu laden.") }
            try await CaseRecords.addEvent(
                "goal_postponed",
                text:
                    "Prüfung des Ziels „\(before.text)“ vom \(before.reviewOn.german) auf den \(day.german) verschoben.\(reason.map { " \($0)" } ?? "")",
                case: id,
                tenant: identity.tenant.id,
                actor: identity.userID,
                on: connection,
                logger: logger
            )
            audit.append(event("goal.postponed", identity, "goal", goal, ["case": id.uuidString, "review_on": day.iso]))
            return try await CaseRecords.goals(of: id, on: connection, logger: logger).first { $0.id == goal }!
        }
    }

    // MARK: - Errors

    static let staleCase = DomainError.stale(
        "Der Fall wurde inzwischen von jemand anderem geändert. Bitte neu laden und die Änderung erneut vornehmen."
    )
    static let noClient = DomainError.notFound("Diesen Klienten gibt es nicht (oder nicht in Ihrem Mandanten).")
    static let noCase = DomainError.notFound("Diesen Fall gibt es nicht (oder nicht in Ihrem Mandanten).")
    static let noConsent = InvalidInput(
        field: "consent",
        "Ohne Einwilligung in das Case Management kann der Klient nur registriert werden. Bitte zuerst die Einwilligung erfassen."
    )
}

/// A client of the same name and date of birth exists already in the tenant.
public struct DuplicateClient: ProblemConvertible, Sendable {
    public var existing: UUID
    public var message: String {
        "Es gibt bereits einen Klienten mit diesem Namen und Geburtsdatum (\(existing.uuidString.lowercased())). Bitte prüfen Sie, ob es dieselbe Person ist; wenn nicht, bestätigen Sie die Neuaufnahme ausdrücklich."
    }
    public var problem: Problem {
        Problem(.conflict, detail: message + " (API: allow_duplicate: true)", errors: ["existing_client": existing.uuidString.lowercased()])
    }
}
