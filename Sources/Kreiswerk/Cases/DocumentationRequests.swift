import Foundation
import Logging
import PostgresNIO

/// A change request to the district's documentation standard (issue 19, seed 004: "Aushandlungsprozesse über
/// Mindestanforderungen der Dokumentation"): fields to add to and/or remove from one phase, with the proposer's reason,
/// and the coordinators' decision. Never client data.
public struct DocumentationRequest: Sendable, Equatable, Encodable {
    public var id: UUID
    public var proposingTenant: String
    public var proposedBy: String?
    public var phase: String
    public var add: [String]
    public var remove: [String]
    public var reason: String
    public var proposedAt: Date
    /// `accepted` or `declined`; absent while open.
    public var decision: String?
    public var decisionReason: String?
    public var decidedBy: String?
    public var decidedAt: Date?

    public var isOpen: Bool { decision == nil }
}

/// What the page and the API show: the district's standard with its version, and the requests the caller may see.
public struct DocumentationOverview: Sendable {
    public var districtName: String
    public var standard: DocumentationStandard
    /// The standard's version: a coordinator's change made against an older one is refused.
    public var version: Int
    public var requests: [DocumentationRequest]
    /// The caller sets the standard and decides requests (a coordinator of the district).
    public var decides: Bool
    /// The caller proposes changes (a case manager or team lead of a town or carrier of the district).
    public var proposes: Bool
}

enum DocumentationRequestRecords {
    /// The fields of the standard in the order the page lists them.
    static let fieldOrder = [
        "place_of_residence", "social_area", "residence_status", "country_of_origin", "languages", "german_level", "arrival_date", "household",
        "health_situation", "route", "goals", "next_review_on", "closure_reason",
    ]

    /// `fields` in the page's order, without duplicates.
    static func ordered(_ fields: some Sequence<String>) -> [String] {
        let set = Set(fields)
        return fieldOrder.filter { set.contains($0) }
    }

    static func version(district: UUID, on connection: PostgresConnection, logger: Logger) async throws -> Int {
        try await connection.query(
            "SELECT coalesce(sum(version), 0)::integer FROM documentation_standards WHERE district_id = \(district)",
            logger: logger
        ).collect().first?.decode(Int.self) ?? 0
    }

    /// The requests the caller may see (`documentation_requests()` decides), or the one of `id`.
    static func visible(_ id: UUID? = nil, on connection: PostgresConnection, logger: Logger) async throws -> [DocumentationRequest] {
        var found: [DocumentationRequest] = []
        let rows = try await connection.query(
            """
            SELECT id, proposing_tenant, proposed_by, phase, add_fields, remove_fields, reason, proposed_at,
                   decision, decision_reason, decided_by, decided_at
            FROM documentation_requests() WHERE \(id)::uuid IS NULL OR id = \(id)
            """,
            logger: logger
        )
        for try await row in rows.decode((UUID, String, String?, String, [String], [String], String, Date, String?, String?, String?, Date?).self) {
            found.append(
                DocumentationRequest(
                    id: row.0,
                    proposingTenant: row.1,
                    proposedBy: row.2,
                    phase: row.3,
                    add: row.4,
                    remove: row.5,
                    reason: row.6,
                    proposedAt: row.7,
                    decision: row.8,
                    decisionReason: row.9,
                    decidedBy: row.10,
                    decidedAt: row.11
                )
            )
        }
        return found
    }
}

/// The documentation standard as a page and its change requests: one transaction per call, acting for the caller's
/// tenant; the district is the caller's own (404 for anyone else's), deciding the coordinators' (403 for everyone else).
public struct DocumentationRequests: Sendable {
    let work: TenantWork

    public init(database: Database, policy: Policy) {
        work = .coordination(database, policy)
    }

    var logger: Logger { work.logger }
    var policy: Policy { work.policy }

    static let notFound = DomainError.notFound(
        "Einen Dokumentationsstandard gibt es nur für die Stellen eines Kreises; Ihr Kreis hat keinen solchen."
    )
    static let reasonLimit = 2000

    /// A coordinator of the district sets the standard and decides requests.
    func decides(_ identity: Identity) -> Bool {
        identity.tenant.kind == "district" && identity.has(.districtCoordinator)
    }

    /// A case manager or team lead of a town or carrier of a district proposes changes.
    func proposes(_ identity: Identity) -> Bool {
        ["municipality", "carrier"].contains(identity.tenant.kind) && identity.tenant.districtID != nil && policy.allows(identity, .workCases)
    }

    /// The district `slug` names (the caller's own when nil), if the caller belongs to it; 404 otherwise.
    private func district(_ slug: String?, _ identity: Identity, on connection: PostgresConnection) async throws -> TenantRef {
        let tenant: TenantRef?
        if let slug {
            tenant = try await TenantDirectory.find(slug: slug, on: connection, logger: logger)
        } else if let own = identity.tenant.ownDistrictID {
            tenant = try await TenantDirectory.find(id: own, on: connection, logger: logger)
        } else {
            tenant = nil
        }
        guard let tenant, tenant.kind == "district", policy.allows(identity, .viewDocumentationStandard, in: tenant) else {
            throw slug.map { DomainError.notFound("Einen Kreis '\($0)' gibt es in Ihrem Bereich nicht.") } ?? Self.notFound
        }
        return tenant
    }

    private func overview(_ district: TenantRef, _ identity: Identity, on connection: PostgresConnection) async throws -> DocumentationOverview {
        DocumentationOverview(
            districtName: district.name,
            standard: try await DocumentationStandard.of(district: district.id, on: connection, logger: logger),
            version: try await DocumentationRequestRecords.version(district: district.id, on: connection, logger: logger),
            requests: try await DocumentationRequestRecords.visible(on: connection, logger: logger),
            decides: decides(identity) && identity.tenant.id == district.id,
            proposes: proposes(identity) && identity.tenant.districtID == district.id
        )
    }

    /// The standard and the requests the caller sees, of the caller's district (or the district `slug` names).
    public func overview(district slug: String? = nil, by identity: Identity, clientAddress: String?) async throws -> DocumentationOverview {
        try await work.work(identity, clientAddress: clientAddress) { connection, _ in
            try await overview(try await district(slug, identity, on: connection), identity, on: connection)
        }
    }

    /// A coordinator sets the whole standard from the page (every phase: the fields ticked, in `requirements`), based on
    /// `version`; a change made since is refused (409). Returns the overview after the change and what changed, in words.
    public func save(
        _ requirements: [Phase: [String]],
        version: Int?,
        by identity: Identity,
        clientAddress: String?
    ) async throws -> (overview: DocumentationOverview, changes: [String]) {
        guard let version else {
            throw DomainError.versionRequired("Die Fassung des Standards fehlt: bitte die Seite neu laden und die Änderung erneut eintragen.")
        }
        guard decides(identity) else { throw DomainError.forbidden("Den Dokumentationsstandard legen die Koordinierungsstellen des Kreises fest.") }
        return try await work.work(identity, clientAddress: clientAddress) { connection, audit in
            let district = try await district(nil, identity, on: connection)
            _ = try await connection.query(
                "SELECT pg_advisory_xact_lock(hashtext('documentation_standard:' || \(district.id)::text))",
                logger: logger
            )
            .collect()
            guard try await DocumentationRequestRecords.version(district: district.id, on: connection, logger: logger) == version else {
                throw DomainError.conflict(
                    "Der Dokumentationsstandard wurde inzwischen geändert. Nichts wurde gespeichert: bitte die Seite neu laden und die Änderung erneut eintragen."
                )
            }
            let before = try await DocumentationStandard.of(district: district.id, on: connection, logger: logger)
            let after = Dictionary(uniqueKeysWithValues: Phase.allCases.map { ($0, DocumentationRequestRecords.ordered(requirements[$0] ?? [])) })
            let changes = Self.changes(from: before, to: after)
            if !changes.isEmpty {
                try await DocumentationStandard.set(
                    Dictionary(uniqueKeysWithValues: after.map { ($0.key.rawValue, $0.value) }),
                    district: district.id,
                    by: identity.userID,
                    on: connection,
                    logger: logger
                )
                audit.append(
                    AuditEvent(
                        "district.documentation_standard_set",
                        tenant: identity.tenant.id,
                        actor: identity.userID,
                        objectType: "district",
                        objectID: district.slug,
                        detail: Dictionary(uniqueKeysWithValues: after.map { ($0.key.rawValue, $0.value.joined(separator: ",")) })
                    )
                )
            }
            return (try await overview(district, identity, on: connection), changes)
        }
    }

    /// What changed between two standards, per phase in German: "Zielvereinbarung: neu Haushalt und Familie; nicht mehr Sprachen".
    static func changes(from before: DocumentationStandard, to after: [Phase: [String]]) -> [String] {
        Phase.allCases.compactMap { phase in
            let old = Set(before.required(for: phase))
            let new = Set(after[phase] ?? [])
            let added = DocumentationRequestRecords.ordered(new.subtracting(old)).map { DocumentationStandard.fields[$0] ?? $0 }
            let removed = DocumentationRequestRecords.ordered(old.subtracting(new)).map { DocumentationStandard.fields[$0] ?? $0 }
            let parts = [
                added.isEmpty ? nil : "neu " + added.joined(separator: ", "),
                removed.isEmpty ? nil : "nicht mehr " + removed.joined(separator: ", "),
            ].compactMap { $0 }
            return parts.isEmpty ? nil : "\(phase.label): \(parts.joined(separator: "; "))"
        }
    }

    /// The proposal as entered, checked against the standard; every problem at once, each naming its field.
    static func checked(
        phase: String,
        add: [String],
        remove: [String],
        reason: String,
        standard: DocumentationStandard
    ) throws -> (phase: Phase, add: [String], remove: [String], reason: String) {
        var errors: [String: String] = [:]
        let known = DocumentationRequestRecords.fieldOrder.joined(separator: ", ")
        let chosen = Phase(rawValue: phase)
        if chosen == nil {
            errors["phase"] =
                phase.isEmpty
                ? "Bitte die Phase wählen, deren Anforderungen sich ändern sollen."
                : "'\(phase)' ist keine Phase; möglich: \(Phase.allCases.map(\.rawValue).joined(separator: ", "))."
        }
        let required = Set(chosen.map { standard.required(for: $0) } ?? [])
        func name(_ field: String) -> String { DocumentationStandard.fields[field] ?? field }
        if let unknown = add.first(where: { DocumentationStandard.fields[$0] == nil }) {
            errors["add"] = "'\(unknown)' ist kein Feld des Standards; möglich: \(known)."
        } else if chosen != nil, let present = add.first(where: { required.contains($0) }) {
            errors["add"] = "„\(name(present))“ ist für diese Phase schon vorgeschrieben; bitte nur Felder wählen, die noch fehlen."
        }
        if let unknown = remove.first(where: { DocumentationStandard.fields[$0] == nil }) {
            errors["remove"] = "'\(unknown)' ist kein Feld des Standards; möglich: \(known)."
        } else if chosen != nil, let absent = remove.first(where: { !required.contains($0) }) {
            errors["remove"] = "„\(name(absent))“ ist für diese Phase nicht vorgeschrieben und kann daher nicht gestrichen werden."
        }
        if add.isEmpty && remove.isEmpty {
            errors["add"] = "Bitte mindestens ein Feld wählen, das aufgenommen oder gestrichen werden soll."
        } else if let both = add.first(where: { remove.contains($0) }) {
            errors["remove"] = "„\(name(both))“ kann nicht zugleich aufgenommen und gestrichen werden."
        }
        let reason = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        if reason.isEmpty || reason.count > reasonLimit {
            errors["reason"] = "Bitte begründen Sie den Vorschlag (1 bis \(reasonLimit) Zeichen): warum braucht es die Änderung?"
        }
        guard errors.isEmpty, let chosen else { throw InvalidInput(errors: errors) }
        return (chosen, DocumentationRequestRecords.ordered(add), DocumentationRequestRecords.ordered(remove), reason)
    }

    /// A case manager or team lead of a town or carrier proposes a change to their district's standard; the coordinators
    /// are told. Returns the request.
    public func submit(
        district slug: String? = nil,
        phase: String,
        add: [String],
        remove: [String],
        reason: String,
        by identity: Identity,
        clientAddress: String?
    ) async throws -> DocumentationRequest {
        try await work.work(identity, clientAddress: clientAddress) { connection, audit in
            let district = try await district(slug, identity, on: connection)
            guard proposes(identity), identity.tenant.districtID == district.id else {
                throw DomainError.forbidden(
                    "Änderungen am Dokumentationsstandard schlagen Fallmanagerinnen, Fallmanager und Teamleitungen der Städte und Träger vor."
                )
            }
            let standard = try await DocumentationStandard.of(district: district.id, on: connection, logger: logger)
            let proposal = try Self.checked(phase: phase, add: add, remove: remove, reason: reason, standard: standard)
            let id = try await connection.query(
                "SELECT documentation_request_submit(\(proposal.phase.rawValue), \(proposal.add), \(proposal.remove), \(proposal.reason))",
                logger: logger
            ).collect().first?.decode(UUID.self)
            guard let id, let request = try await DocumentationRequestRecords.visible(id, on: connection, logger: logger).first else {
                throw DomainError.conflict("Der Vorschlag konnte nicht gespeichert werden; bitte erneut versuchen.")
            }
            for coordinator in try await Notifier.districtCoordinators(on: connection, logger: logger) {
                try await Notifier.notify(
                    coordinator,
                    .documentationRequest,
                    title: "Änderungsvorschlag zum Dokumentationsstandard von \(identity.tenant.name) (\(proposal.phase.label))",
                    link: "/dokumentationsstandard",
                    dedupeKey: "documentation-request:\(id):submitted",
                    on: connection,
                    logger: logger
                )
            }
            audit.append(
                work.event(
                    "documentation_standard.change_requested",
                    identity,
                    "documentation_standard_request",
                    id,
                    ["phase": proposal.phase.rawValue, "add": proposal.add.joined(separator: ","), "remove": proposal.remove.joined(separator: ",")]
                )
            )
            return request
        }
    }

    /// A coordinator accepts (the change is applied to the standard now) or declines (with a reason) an open request;
    /// the proposer is told. A request decided already is a 409. Returns the request as decided.
    public func decide(
        _ id: UUID,
        district slug: String? = nil,
        accept: Bool?,
        reason: String?,
        by identity: Identity,
        clientAddress: String?
    ) async throws -> DocumentationRequest {
        let reason = reason?.trimmingCharacters(in: .whitespacesAndNewlines).nonEmpty
        guard let accept else {
            throw InvalidInput(field: "decision", "Bitte entscheiden: annehmen (accepted) oder ablehnen (declined).")
        }
        if !accept && reason == nil {
            throw InvalidInput(field: "reason", "Bitte begründen Sie die Ablehnung: die vorschlagende Stelle erfährt die Begründung.")
        }
        if let reason, reason.count > Self.reasonLimit {
            throw InvalidInput(field: "reason", "Die Begründung ist zu lang: höchstens \(Self.reasonLimit) Zeichen.")
        }
        return try await work.work(identity, clientAddress: clientAddress) { connection, audit in
            let district = try await district(slug, identity, on: connection)
            guard decides(identity), identity.tenant.id == district.id else {
                throw DomainError.forbidden("Über Änderungsvorschläge entscheiden die Koordinierungsstellen des Kreises.")
            }
            let decided = try await connection.query(
                """
                UPDATE documentation_standard_requests
                SET decision = \(accept ? "accepted" : "declined"), decision_reason = \(reason), decided_by = \(identity.userID), decided_at = now()
                WHERE id = \(id) AND decision IS NULL
                RETURNING proposed_by, phase, add_fields, remove_fields
                """,
                logger: logger
            ).collect().first?.decode((UUID, String, [String], [String]).self)
            guard let (proposer, phaseName, add, remove) = decided else {
                guard try await DocumentationRequestRecords.visible(id, on: connection, logger: logger).isEmpty else {
                    throw DomainError.conflict("Über diesen Vorschlag ist bereits entschieden; die Entscheidung steht auf der Seite.")
                }
                throw DomainError.notFound("Diesen Änderungsvorschlag gibt es nicht (oder nicht in Ihrem Kreis).")
            }
            if accept, let phase = Phase(rawValue: phaseName) {
                let standard = try await DocumentationStandard.of(district: district.id, on: connection, logger: logger)
                let fields = DocumentationRequestRecords.ordered(Set(standard.required(for: phase)).union(add).subtracting(remove))
                try await DocumentationStandard.set(
                    [phase.rawValue: fields],
                    district: district.id,
                    by: identity.userID,
                    on: connection,
                    logger: logger
                )
            }
            let label = Phase(rawValue: phaseName)?.label ?? phaseName
            try await Notifier.notify(
                proposer,
                .documentationRequest,
                title: accept
                    ? "Ihr Änderungsvorschlag zum Dokumentationsstandard (\(label)) wurde angenommen und gilt jetzt."
                    : "Ihr Änderungsvorschlag zum Dokumentationsstandard (\(label)) wurde abgelehnt.",
                link: "/dokumentationsstandard",
                dedupeKey: "documentation-request:\(id):decided",
                on: connection,
                logger: logger
            )
            audit.append(
                work.event(
                    accept ? "documentation_standard.change_accepted" : "documentation_standard.change_declined",
                    identity,
                    "documentation_standard_request",
                    id,
                    ["phase": phaseName]
                )
            )
            guard let request = try await DocumentationRequestRecords.visible(id, on: connection, logger: logger).first else {
                throw DomainError.notFound("Diesen Änderungsvorschlag gibt es nicht (oder nicht in Ihrem Kreis).")
            }
            return request
        }
    }
}
