import Foundation
import Hummingbird

/// The quality handbook in the browser: `/handbuch` (the released sections for everyone of the district; drafts, review
/// and a new section for the coordinators) and `/handbuch/{id}` (a section with its versions).
struct HandbookPages {
    let handbook: Handbook
    let pages: Pages

    static let labels: [String: String] = ["title": "Titel", "body": "Text"]

    func register(on routes: GuardedRouter) {
        routes.get("/handbuch", .viewDocumentationStandard) { _, context in try await listPage(context) }
        routes.post("/handbuch", .coordinateDistrict) { _, context -> Response in
            let form = context.form
            do {
                let id = try await handbook.create(
                    title: form["title"],
                    body: form.raw("body"),
                    by: context.identity,
                    clientAddress: context.clientAddress
                )
                return .redirect(to: "/handbuch/\(id.uuidString.lowercased())?entwurf=1", type: .normal)
            } catch let error as InvalidInput {
                return try await listPage(context, form: form, errors: error.errors, status: .unprocessableContent)
            }
        }
        routes.get("/handbuch/{id}", .viewDocumentationStandard) { request, context in
            let query = request.uri.queryParameters
            let notice: String? =
                query["entwurf"] != nil
                ? "Entwurf gespeichert. Eine zweite Person der Koordinierungsstelle muss ihn prüfen und freigeben."
                : query["freigegeben"].map { "Freigegeben: Fassung \($0) gilt jetzt für alle im Kreis." }
            return try await sectionPage(context, notice: notice)
        }
        routes.post("/handbuch/{id}", .coordinateDistrict) { _, context -> Response in
            let form = context.form
            let id = try context.id()
            do {
                try await handbook.draft(
                    id,
                    title: form["title"],
                    body: form.raw("body"),
                    version: Int(form["version"]),
                    by: context.identity,
                    clientAddress: context.clientAddress
                )
                return .redirect(to: "/handbuch/\(id.uuidString.lowercased())?entwurf=1", type: .normal)
            } catch let error as InvalidInput {
                return try await sectionPage(context, form: form, errors: error.errors, status: .unprocessableContent)
            } catch DomainError.conflict(let message), DomainError.versionRequired(let message) {
                return try await sectionPage(context, form: form, message: message, status: .conflict)
            }
        }
        routes.post("/handbuch/{id}/freigabe", .coordinateDistrict) { _, context -> Response in
            let form = context.form
            let id = try context.id()
            do {
                let number = try await handbook.release(id, version: Int(form["version"]), by: context.identity, clientAddress: context.clientAddress)
                return .redirect(to: "/handbuch/\(id.uuidString.lowercased())?freigegeben=\(number)", type: .normal)
            } catch DomainError.conflict(let message), DomainError.versionRequired(let message) {
                return try await sectionPage(context, message: message, status: .conflict)
            } catch DomainError.forbidden(let message) {
                return try await sectionPage(context, message: message, status: .forbidden)
            }
        }
    }

    /// A text as paragraphs: a blank line starts a new one.
    static func paragraphs(_ body: String) -> [String] {
        body.replacingOccurrences(of: "\r\n", with: "\n").components(separatedBy: "\n\n")
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
    }

    static func values(_ version: HandbookVersion) -> [String: Any] {
        [
            "number": version.number, "versionTitle": version.title, "paragraphs": paragraphs(version.body), "releasedOn": version.releasedOn,
            "writtenBy": version.writtenBy as Any, "releasedBy": version.releasedBy as Any,
        ]
    }

    func listPage(
        _ context: SignedInContext,
        form: Form? = nil,
        errors: [String: String] = [:],
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let (released, drafts) = try await handbook.overview(by: context.identity, clientAddress: context.clientAddress)
        var data: [String: Any] = [
            "sections": released.map {
                [
                    "id": $0.id.uuidString.lowercased(), "sectionTitle": $0.version.title, "number": $0.version.number,
                    "releasedOn": $0.version.releasedOn,
                ]
            },
            "drafts": drafts.map { ["id": $0.sectionID.uuidString.lowercased(), "draftTitle": $0.title, "author": $0.author ?? "unbekannt"] },
            "edits": handbook.edits(context.identity), "title": form?["title"] ?? "", "body": form?.raw("body") ?? "",
        ]
        data.merge(FormErrors.values(errors, labels: Self.labels)) { $1 }
        return pages.render("handbook", data, identity: context.identity, path: "/handbuch", status: status)
    }

    func sectionPage(
        _ context: SignedInContext,
        notice: String? = nil,
        form: Form? = nil,
        message: String? = nil,
        errors: [String: String] = [:],
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let section = try await handbook.section(try context.id(), by: context.identity, clientAddress: context.clientAddress)
        let edits = handbook.edits(context.identity)
        var data: [String: Any] = [
            "id": section.id.uuidString.lowercased(),
            "heading": section.current?.title ?? section.draft?.title ?? "Neuer Abschnitt",
            "current": section.current.map(Self.values) as Any,
            "older": section.history.dropFirst().map(Self.values), "hasOlder": section.history.count > 1,
            "edits": edits, "version": section.version as Any,
            "draft": section.draft.map {
                [
                    "draftTitle": $0.title, "paragraphs": Self.paragraphs($0.body), "author": $0.author ?? "unbekannt",
                    "ownDraft": $0.authorID == context.identity.userID,
                ]
            } as Any,
            "title": form?["title"] ?? section.draft?.title ?? section.current?.title ?? "",
            "body": form?.raw("body") ?? section.draft?.body ?? section.current?.body ?? "",
        ]
        data.merge(FormErrors.values(errors, labels: Self.labels)) { $1 }
        if let notice { data["notice"] = notice }
        if let message { data["message"] = message }
        return pages.render("handbook-section", data, identity: context.identity, path: "/handbuch", status: status)
    }
}
