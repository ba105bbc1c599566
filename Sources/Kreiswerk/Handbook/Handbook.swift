import Foundation
import Logging
import PostgresNIO

/// The district's quality handbook (issue 21, seed 000; migrations/0041_quality_handbook.sql): sections of the district
/// tenant, drafted by its coordinators, released only after review by a second coordinator, each release a new version
/// kept for good; everyone of the district's tenants reads the released versions.
public struct HandbookVersion: Sendable, Equatable {
    public var number: Int
    public var title: String
    public var body: String
    public var writtenBy: String?
    public var releasedBy: String?
    public var releasedOn: String
}

/// A section's pending draft, seen by the coordinators only.
public struct HandbookDraft: Sendable, Equatable {
    public var sectionID: UUID
    public var title: String
    public var body: String
    public var author: String?
    public var authorID: UUID
    public var version: Int
}

/// One section as its reader sees it: the released version and its history, and for the coordinators the draft.
public struct HandbookSection: Sendable, Equatable {
    public var id: UUID
    public var history: [HandbookVersion]
    public var draft: HandbookDraft?
    /// The section's edit counter (coordinators only): a change against an older one is stale.
    public var version: Int?
    public var current: HandbookVersion? { history.first }
}

enum HandbookRecords {
    /// The current released version of every section of the reader's district, by title.
    static func released(on connection: PostgresConnection, logger: Logger) async throws -> [(id: UUID, version: HandbookVersion)] {
        var found: [(id: UUID, version: HandbookVersion)] = []
        let rows = try await connection.query(
            """
            SELECT section_id, number, title, body, to_char(released_at AT TIME ZONE 'Europe/Berlin', 'DD.MM.YYYY')
            FROM handbook_released() ORDER BY title, section_id
            """,
            logger: logger
        )
        for try await (id, number, title, body, on) in rows.decode((UUID, Int, String, String, String).self) {
            found.append((id, HandbookVersion(number: number, title: title, body: body, releasedOn: on)))
        }
        return found
    }

    static func history(_ id: UUID, on connection: PostgresConnection, logger: Logger) async throws -> [HandbookVersion] {
        var found: [HandbookVersion] = []
        let rows = try await connection.query(
            """
            SELECT number, title, body, written_by, released_by, to_char(released_at AT TIME ZONE 'Europe/Berlin', 'DD.MM.YYYY')
            FROM handbook_history(\(id))
            """,
            logger: logger
        )
        for try await (number, title, body, writer, releaser, on) in rows.decode((Int, String, String, String?, String?, String).self) {
            found.append(HandbookVersion(number: number, title: title, body: body, writtenBy: writer, releasedBy: releaser, releasedOn: on))
        }
        return found
    }

    /// The pending drafts of the acting (district) tenant, or the one of section `id`.
    static func drafts(_ id: UUID? = nil, on connection: PostgresConnection, logger: Logger) async throws -> [HandbookDraft] {
        var found: [HandbookDraft] = []
        let rows = try await connection.query(
            """
            SELECT s.id, s.draft_title, s.draft_body, u.display_name, s.draft_by, s.version
            FROM handbook_sections s LEFT JOIN users u ON u.id = s.draft_by
            WHERE s.draft_title IS NOT NULL AND (\(id)::uuid IS NULL OR s.id = \(id))
            ORDER BY s.draft_title, s.id
            """,
            logger: logger
        )
        for try await (section, title, body, author, authorID, version) in rows.decode((UUID, String, String, String?, UUID, Int).self) {
            found.append(HandbookDraft(sectionID: section, title: title, body: body, author: author, authorID: authorID, version: version))
        }
        return found
    }

    /// The section's edit counter in the acting tenant, if the section is its own.
    static func version(_ id: UUID, on connection: PostgresConnection, logger: Logger) async throws -> Int? {
        try await connection.query("SELECT version FROM handbook_sections WHERE id = \(id)", logger: logger).collect().first?.decode(Int.self)
    }
}

/// The handbook's service: one transaction per call, acting for the caller's tenant.
public struct Handbook: Sendable {
    let work: TenantWork

    public init(database: Database, policy: Policy) {
        work = .coordination(database, policy)
    }

    var logger: Logger { work.logger }
    static let notFound = DomainError.notFound("Diesen Abschnitt des Qualitätshandbuchs gibt es nicht (oder nicht für Ihren Kreis).")

    /// Whether the identity writes and reviews the handbook (the district's coordinators).
    public func edits(_ identity: Identity) -> Bool {
        work.policy.allows(identity, .coordinateDistrict) && identity.tenant.kind == "district"
    }

    /// The title and text a coordinator entered, checked; every problem at once.
    static func checked(title: String, body: String) throws -> (title: String, body: String) {
        let title = title.trimmingCharacters(in: .whitespacesAndNewlines)
        let body = body.trimmingCharacters(in: .whitespacesAndNewlines)
        var errors: [String: String] = [:]
        if title.isEmpty || title.count > 200 { errors["title"] = "Bitte dem Abschnitt einen Titel von 1 bis 200 Zeichen geben." }
        if body.isEmpty || body.count > 50_000 { errors["body"] = "Bitte den Text des Abschnitts in 1 bis 50.000 Zeichen angeben." }
        guard errors.isEmpty else { throw InvalidInput(errors: errors) }
        return (title, body)
    }

    /// The released sections, and for the coordinators the drafts waiting for review.
    public func overview(
        by identity: Identity,
        clientAddress: String?
    ) async throws -> (released: [(id: UUID, version: HandbookVersion)], drafts: [HandbookDraft]) {
        let edits = edits(identity)
        return try await work.work(identity, clientAddress: clientAddress) { connection, _ in
            let released = try await HandbookRecords.released(on: connection, logger: logger)
            return (released, edits ? try await HandbookRecords.drafts(on: connection, logger: logger) : [])
        }
    }

    /// One section: its released versions (newest first) and, for the coordinators, its draft.
    public func section(_ id: UUID, by identity: Identity, clientAddress: String?) async throws -> HandbookSection {
        let edits = edits(identity)
        return try await work.work(identity, clientAddress: clientAddress) { connection, audit in
            let history = try await HandbookRecords.history(id, on: connection, logger: logger)
            let version = edits ? try await HandbookRecords.version(id, on: connection, logger: logger) : nil
            guard !history.isEmpty || version != nil else { throw Self.notFound }
            let draft = edits ? try await HandbookRecords.drafts(id, on: connection, logger: logger).first : nil
            audit.append(work.event("handbook.read", identity, "handbook_section", id))
            return HandbookSection(id: id, history: history, draft: draft, version: version)
        }
    }

    /// Starts a section with its first draft.
    public func create(title: String, body: String, by identity: Identity, clientAddress: String?) async throws -> UUID {
        let (title, body) = try Self.checked(title: title, body: body)
        return try await work.work(identity, clientAddress: clientAddress) { connection, audit in
            let id = UUID()
            try await connection.query(
                """
                INSERT INTO handbook_sections (tenant_id, id, draft_title, draft_body, draft_by, drafted_at, created_by)
                VALUES (\(identity.tenant.id), \(id), \(title), \(body), \(identity.userID), now(), \(identity.userID))
                """,
                logger: logger
            )
            audit.append(work.event("handbook.drafted", identity, "handbook_section", id))
            return id
        }
    }

    /// Writes the section's draft (a new one, or a change to the pending one): its author is now the identity.
    /// `version` is the edit counter the form was read with; a change made since is a stale edit.
    public func draft(_ id: UUID, title: String, body: String, version: Int?, by identity: Identity, clientAddress: String?) async throws {
        let (title, body) = try Self.checked(title: title, body: body)
        guard let version else {
            throw DomainError.versionRequired("Die Fassung fehlt: bitte den Abschnitt neu laden und die Änderung erneut eintragen.")
        }
        try await work.work(identity, clientAddress: clientAddress) { connection, audit in
            let changed = try await connection.query(
                """
                UPDATE handbook_sections SET draft_title = \(title), draft_body = \(body), draft_by = \(identity.userID), drafted_at = now(),
                       version = version + 1
                WHERE id = \(id) AND version = \(version) RETURNING 1
                """,
                logger: logger
            ).collect()
            if changed.isEmpty { try await Self.refuseStale(id, on: connection, logger: logger) }
            audit.append(work.event("handbook.drafted", identity, "handbook_section", id))
        }
    }

    /// Releases the section's draft as its next version; only a coordinator other than the draft's author may.
    public func release(_ id: UUID, version: Int?, by identity: Identity, clientAddress: String?) async throws -> Int {
        guard let version else { throw DomainError.versionRequired("Die Fassung fehlt: bitte den Abschnitt neu laden und erneut freigeben.") }
        return try await work.work(identity, clientAddress: clientAddress) { connection, audit in
            guard let draft = try await HandbookRecords.drafts(id, on: connection, logger: logger).first, draft.version == version else {
                try await Self.refuseStale(id, on: connection, logger: logger)
                throw DomainError.conflict("Zu diesem Abschnitt liegt kein Entwurf zur Prüfung vor.")
            }
            if draft.authorID == identity.userID {
                throw DomainError.forbidden(
                    "Sie haben diesen Entwurf selbst geschrieben: freigeben kann ihn nur eine zweite Person der Koordinierungsstelle (Vier-Augen-Prinzip)."
                )
            }
            let number = try await connection.query(
                """
                INSERT INTO handbook_versions (tenant_id, section_id, number, title, body, written_by, released_by)
                SELECT \(identity.tenant.id), \(id), coalesce(max(number), 0) + 1, \(draft.title), \(draft.body), \(draft.authorID), \(identity.userID)
                FROM handbook_versions WHERE section_id = \(id)
                RETURNING number
                """,
                logger: logger
            ).collect().first!.decode(Int.self)
            try await connection.query(
                """
                UPDATE handbook_sections SET draft_title = NULL, draft_body = NULL, draft_by = NULL, drafted_at = NULL, version = version + 1
                WHERE id = \(id)
                """,
                logger: logger
            )
            audit.append(work.event("handbook.released", identity, "handbook_section", id, ["version": String(number)]))
            return number
        }
    }

    /// After a change matched no row: the section is not the tenant's (404), or it was changed since it was read (409).
    static func refuseStale(_ id: UUID, on connection: PostgresConnection, logger: Logger) async throws {
        guard try await HandbookRecords.version(id, on: connection, logger: logger) != nil else { throw notFound }
        throw DomainError.conflict(
            "Jemand hat diesen Abschnitt geändert, seit Sie ihn geöffnet haben: bitte die aktuelle Fassung unten lesen und Ihre Änderung erneut eintragen."
        )
    }
}
