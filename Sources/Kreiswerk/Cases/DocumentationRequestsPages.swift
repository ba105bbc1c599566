import Foundation
import Hummingbird

/// The district's documentation standard in the browser (issue 19): `/dokumentationsstandard` shows per phase the fields
/// the district requires; its coordinators change it there and decide the towns' change requests
/// (`/dokumentationsstandard/entscheidung`); a town's or carrier's case workers propose changes
/// (`/dokumentationsstandard/vorschlag`) and follow their tenant's requests.
struct DocumentationRequestsPages {
    let requests: DocumentationRequests
    let pages: Pages

    static let path = "/dokumentationsstandard"
    static let labels: [String: String] = ["phase": "Phase", "add": "Aufnehmen", "remove": "Streichen", "reason": "Begründung"]

    func register(on routes: GuardedRouter) {
        routes.get(Self.path, .viewDocumentationStandard) { request, context -> Response in
            let query = request.uri.queryParameters
            let notice: String? =
                query["vorgeschlagen"] != nil
                ? "Ihr Änderungsvorschlag ist eingereicht. Die Koordinierungsstelle entscheidet; Sie werden benachrichtigt."
                : query["angenommen"] != nil
                    ? "Vorschlag angenommen: der Dokumentationsstandard ist geändert, die vorschlagende Stelle ist benachrichtigt."
                    : query["abgelehnt"] != nil ? "Vorschlag abgelehnt; die vorschlagende Stelle ist mit Ihrer Begründung benachrichtigt." : nil
            return try await page(context, notice: notice)
        }
        routes.post(Self.path, .setDocumentationStandard) { _, context -> Response in
            let form = context.form
            var requirements: [Phase: [String]] = [:]
            for value in form.all("required") {
                let parts = value.split(separator: ":", maxSplits: 1).map(String.init)
                guard parts.count == 2, let phase = Phase(rawValue: parts[0]), DocumentationStandard.fields[parts[1]] != nil else { continue }
                requirements[phase, default: []].append(parts[1])
            }
            do {
                let (overview, changes) = try await requests.save(
                    requirements,
                    version: Int(form["version"]),
                    by: context.identity,
                    clientAddress: context.clientAddress
                )
                let notice =
                    changes.isEmpty
                    ? "Nichts geändert: der Standard war schon so."
                    : "Gespeichert. Geändert: " + changes.joined(separator: " – ")
                return try await page(context, overview: overview, notice: notice)
            } catch DomainError.conflict(let message), DomainError.versionRequired(let message) {
                return try await page(context, message: message, status: .conflict)
            }
        }
        routes.post("\(Self.path)/vorschlag", .workCases) { _, context -> Response in
            let form = context.form
            do {
                _ = try await requests.submit(
                    phase: form["phase"],
                    add: form.all("add"),
                    remove: form.all("remove"),
                    reason: form.raw("reason"),
                    by: context.identity,
                    clientAddress: context.clientAddress
                )
                return .redirect(to: "\(Self.path)?vorgeschlagen=1#feedback", type: .normal)
            } catch let error as InvalidInput {
                return try await page(context, proposal: form, errors: error.errors, status: .unprocessableContent)
            }
        }
        routes.post("\(Self.path)/entscheidung", .setDocumentationStandard) { _, context -> Response in
            let form = context.form
            let accept: Bool? =
                switch form["decision"] {
                case "accept": true
                case "decline": false
                default: nil
                }
            guard let id = UUID(uuidString: form["request"]) else {
                return try await page(
                    context,
                    message: "Dieser Vorschlag ist nicht bekannt; bitte die Seite neu laden.",
                    status: .unprocessableContent
                )
            }
            do {
                _ = try await requests.decide(
                    id,
                    accept: accept,
                    reason: form.raw("reason"),
                    by: context.identity,
                    clientAddress: context.clientAddress
                )
                return .redirect(to: "\(Self.path)?\(accept == true ? "angenommen" : "abgelehnt")=1#feedback", type: .normal)
            } catch let error as InvalidInput {
                return try await page(context, decision: (id, form.raw("reason"), error.errors.values.first ?? ""), status: .unprocessableContent)
            } catch DomainError.conflict(let message) {
                return try await page(context, message: message, status: .conflict)
            }
        }
    }

    static func names(_ fields: [String]) -> String { fields.map { DocumentationStandard.fields[$0] ?? $0 }.joined(separator: ", ") }

    /// The values of one request on the page.
    static func values(_ request: DocumentationRequest, decision: (id: UUID, reason: String, error: String)?) -> [String: Any] {
        let id = request.id.uuidString.lowercased()
        let failed = decision?.id == request.id ? decision : nil
        return [
            "id": id, "tenant": request.proposingTenant, "proposedBy": request.proposedBy as Any,
            "phaseLabel": Phase(rawValue: request.phase)?.label ?? request.phase,
            "adds": request.add.isEmpty ? nil as String? as Any : names(request.add),
            "removes": request.remove.isEmpty ? nil as String? as Any : names(request.remove),
            "reason": request.reason, "proposedOn": GermanFormat.date(request.proposedAt),
            "state": request.decision == "accepted" ? "angenommen" : request.decision == "declined" ? "abgelehnt" : "offen",
            "decidedBy": request.decidedBy as Any, "decidedOn": request.decidedAt.map(GermanFormat.date) as Any,
            "decisionReason": request.decisionReason as Any,
            "decisionText": failed?.reason.nonEmpty as Any, "decisionError": failed?.error.nonEmpty as Any,
        ]
    }

    /// The page, with the overview a change returned or else read now.
    func page(
        _ context: SignedInContext,
        overview: DocumentationOverview? = nil,
        notice: String? = nil,
        message: String? = nil,
        proposal: Form? = nil,
        decision: (id: UUID, reason: String, error: String)? = nil,
        errors: [String: String] = [:],
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let overview = if let overview { overview } else { try await requests.overview(by: context.identity, clientAddress: context.clientAddress) }
        let fields = DocumentationRequestRecords.fieldOrder
        let phases: [[String: Any]] = Phase.allCases.map { phase in
            let required = Set(overview.standard.required(for: phase))
            return [
                "phase": phase.rawValue, "phaseLabel": phase.label,
                "required": required.isEmpty ? nil as String? as Any : Self.names(DocumentationRequestRecords.ordered(required)),
                "choices": fields.map { field in
                    [
                        "value": "\(phase.rawValue):\(field)", "id": "required-\(phase.rawValue)-\(field)",
                        "label": DocumentationStandard.fields[field] ?? field, "checked": required.contains(field),
                    ] as [String: Any]
                },
            ]
        }
        let open = overview.requests.filter(\.isOpen)
        let decided = overview.requests.filter { !$0.isOpen }
        let chosenPhase = proposal?["phase"]
        let adds = Set(proposal?.all("add") ?? [])
        let removes = Set(proposal?.all("remove") ?? [])
        var data: [String: Any] = [
            "districtName": overview.districtName, "phases": phases, "version": overview.version,
            "decides": overview.decides, "proposes": overview.proposes, "seesRequests": overview.decides || overview.proposes,
            "open": open.map { Self.values($0, decision: decision) }, "decided": decided.map { Self.values($0, decision: nil) },
            "hasOpen": !open.isEmpty, "hasDecided": !decided.isEmpty,
            "phaseOptions": Phase.allCases.map { ["value": $0.rawValue, "label": $0.label, "selected": $0.rawValue == chosenPhase] },
            "addOptions": fields.map {
                ["value": $0, "id": "add-\($0)", "label": DocumentationStandard.fields[$0] ?? $0, "checked": adds.contains($0)]
            },
            "removeOptions": fields.map {
                ["value": $0, "id": "remove-\($0)", "label": DocumentationStandard.fields[$0] ?? $0, "checked": removes.contains($0)]
            },
            "reason": proposal?.raw("reason").nonEmpty as Any,
        ]
        data.merge(FormErrors.values(errors, labels: Self.labels)) { $1 }
        if let decision, !decision.error.isEmpty {
            data["message"] = "Nicht entschieden: \(decision.error)"
        }
        if let notice { data["notice"] = notice }
        if let message { data["message"] = message }
        return pages.render("documentation-standard", data, identity: context.identity, path: Self.path, status: status)
    }
}
