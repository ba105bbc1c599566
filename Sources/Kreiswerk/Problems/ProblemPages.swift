import Foundation
import Hummingbird

/// The pages of structural problems: `/probleme` (list, raising form, good practice), `/probleme/{id}`
/// (history, polls, the coordinators' steps on the ladder), `/probleme/{id}/anliegen` (the printable
/// submission to the state) and `/umfragen` (polls a town was asked in).
struct ProblemPages {
    let problems: Problems
    let groups: ProjectGroups
    let pages: Pages
    let policy: Policy

    static let labels = [
        "title": "Titel", "category": "Kategorie", "description": "Beschreibung", "legal_spheres": "Rechtskreise", "case_ids": "Fälle",
        "reason": "Begründung", "solution": "Lösung", "question": "Frage", "text": "Anliegen", "group_id": "Projektgruppe", "answer": "Antwort",
        "status": "Stand", "level": "Ebene", "known": "Bekannt?", "source_kind": "Eingebracht von (Art)", "source_name": "Eingebracht von (Name)",
        "town": "Betrifft", "deadline": "Neue Frist", "deadline_reason": "Begründung der neuen Frist",
    ]

    func register(on routes: GuardedRouter) {
        routes.get("/probleme", .ownAccount) { request, context in
            try await listPage(context, preselected: request.uri.queryParameters["fall"].map { String($0).lowercased() })
        }
        routes.post("/probleme", .raiseProblems) { _, context -> Response in
            let form = context.form
            do {
                let new = NewProblem(
                    title: form["title"],
                    category: form["category"],
                    description: form.raw("description"),
                    legalSpheres: form.all("legal_spheres"),
                    districtWideActor: form["district_wide_actor"] == "1",
                    caseIDs: form.all("case_ids").compactMap { UUID(uuidString: $0) }
                )
                let problem = try await problems.raise(new, by: context.identity, clientAddress: context.clientAddress)
                return .redirect(to: Problems.link(problem.id), type: .normal)
            } catch let error as InvalidInput {
                return try await listPage(context, form: form, errors: error, status: .unprocessableContent)
            }
        }
        routes.post("/probleme/erfassen", .coordinateDistrict) { _, context -> Response in
            let form = context.form
            do {
                guard let town = form["town"].nonEmpty else {
                    throw InvalidInput(field: "town", "Bitte wählen, welche Stadt das Problem betrifft, oder „den ganzen Kreis“.")
                }
                let recorded = RecordedProblem(
                    title: form["title"],
                    category: form["category"],
                    description: form.raw("description"),
                    legalSpheres: form.all("legal_spheres"),
                    sourceKind: form["source_kind"],
                    sourceName: form["source_name"],
                    town: town == Self.wholeDistrict ? nil : town
                )
                let problem = try await problems.recordFromOutside(recorded, by: context.identity, clientAddress: context.clientAddress)
                return .redirect(to: "\(Problems.link(problem.id))?erledigt=erfassen", type: .normal)
            } catch let error as InvalidInput {
                return try await listPage(context, form: form, errors: error, status: .unprocessableContent)
            }
        }
        routes.get("/probleme/{id}", .ownAccount) { request, context in
            try await problemPage(context, id: try context.id(), done: request.uri.queryParameters["erledigt"].map(String.init))
        }
        routes.get("/probleme/{id}/anliegen", .coordinateDistrict) { _, context in
            let problem = try await problems.problem(try context.id(), by: context.identity, clientAddress: context.clientAddress)
            var data = Self.values(problem)
            data["district"] = context.identity.tenant.name
            data["today"] = GermanFormat.date(Date())
            return pages.render("problem-submission", data, identity: context.identity, path: "/probleme")
        }
        step(routes, "eskalieren") { id, version, form, context in
            _ = try await problems.escalate(
                id,
                version: version,
                reason: form.raw("reason"),
                by: context.identity,
                clientAddress: context.clientAddress
            )
        }
        step(routes, "frist") { id, version, form, context in
            _ = try await problems.setDeadline(
                id,
                version: version,
                deadline: form["deadline"],
                reason: form.raw("deadline_reason"),
                by: context.identity,
                clientAddress: context.clientAddress
            )
        }
        step(routes, "zuweisen") { id, version, form, context in
            guard let group = UUID(uuidString: form["group_id"]) else { throw InvalidInput(field: "group_id", "Bitte eine Projektgruppe wählen.") }
            _ = try await problems.assign(id, version: version, group: group, by: context.identity, clientAddress: context.clientAddress)
        }
        step(routes, "loesen") { id, version, form, context in
            _ = try await problems.solve(
                id,
                version: version,
                solution: form.raw("solution"),
                publish: form["publish"] == "1",
                by: context.identity,
                clientAddress: context.clientAddress
            )
        }
        step(routes, "veroeffentlichen") { id, version, _, context in
            _ = try await problems.publish(id, version: version, by: context.identity, clientAddress: context.clientAddress)
        }
        step(routes, "anliegen") { id, version, form, context in
            _ = try await problems.submitToState(
                id,
                version: version,
                text: form.raw("text"),
                by: context.identity,
                clientAddress: context.clientAddress
            )
        }
        step(routes, "umfrage") { id, _, form, context in
            _ = try await problems.poll(
                id,
                question: form.raw("question"),
                includeCarriers: form["include_carriers"] == "1",
                by: context.identity,
                clientAddress: context.clientAddress
            )
        }

        routes.get("/umfragen", .raiseProblems) { request, context in
            let answered = request.uri.queryParameters["beantwortet"] != nil
            return try await pollsPage(
                context,
                notice: answered ? "Antwort gesendet; die Koordinierungsstelle des Kreises sieht sie beim Problem." : nil
            )
        }
        routes.post("/umfragen/{id}/antwort", .raiseProblems) { _, context -> Response in
            let poll = try context.id()
            do {
                try await problems.answer(
                    poll: poll,
                    known: ["1": true, "0": false][context.form["known"]],
                    answer: context.form.raw("answer"),
                    by: context.identity,
                    clientAddress: context.clientAddress
                )
            } catch let error as InvalidInput {
                // Each poll has its own form: the errors point at that poll's fields.
                let id = poll.uuidString.lowercased()
                let errors = InvalidInput(errors: Dictionary(uniqueKeysWithValues: error.errors.map { ("\($0.key)-\(id)", $0.value) }))
                return try await pollsPage(context, errors: errors, status: .unprocessableContent)
            }
            return .redirect(to: "/umfragen?beantwortet=1", type: .normal)
        }
    }

    /// A coordinator's form on the problem page: `POST /probleme/{id}/<action>`; errors show on the page.
    private func step(
        _ routes: GuardedRouter,
        _ action: String,
        _ perform: @escaping @Sendable (UUID, Int, Form, SignedInContext) async throws -> Void
    ) {
        routes.post("/probleme/{id}/\(action)", .coordinateDistrict) { _, context -> Response in
            let id = try context.id()
            do {
                try await perform(id, Int(context.form["version"]) ?? -1, context.form, context)
            } catch let error as InvalidInput {
                return try await problemPage(context, id: id, errors: error, status: .unprocessableContent)
            } catch DomainError.stale(let message) {
                return try await problemPage(context, id: id, message: message, status: .conflict)
            }
            return .redirect(to: "\(Problems.link(id))?erledigt=\(action)", type: .normal)
        }
    }

    /// What the problem page says after a coordinator's step: what was done, in the terms of the ladder.
    static func doneMessage(_ action: String, _ problem: StructuralProblem) -> String? {
        switch action {
        case "eskalieren": "Problem weitergegeben: Es liegt jetzt auf der Ebene „\(problem.level.label)“."
        case "zuweisen": problem.groupName.map { "Problem an die Projektgruppe „\($0)“ übergeben." } ?? "Problem übergeben."
        case "umfrage": problem.polls.last.map { "Umfrage an \($0.audience) gesendet; ihre Antworten erscheinen hier." }
        case "frist":
            problem.levelDeadline.map { "Neue Frist gesetzt: \(GermanFormat.date($0)); das Problem bleibt auf der Ebene „\(problem.level.label)“." }
        case "erfassen": "Problem erfasst: Es liegt auf der Ebene „\(problem.level.label)“."
        case "loesen":
            problem.publishedAt == nil ? "Lösung gespeichert; das Problem ist gelöst." : "Lösung gespeichert und als gute Praxis veröffentlicht."
        case "veroeffentlichen": "Als gute Praxis veröffentlicht."
        case "anliegen": "Anliegen an das Land gespeichert."
        default: nil
        }
    }

    // MARK: - Pages

    /// The value of the "Betrifft" choice for a problem that concerns no single town.
    static let wholeDistrict = "kreis"

    func listPage(
        _ context: SignedInContext,
        form: Form? = nil,
        preselected: String? = nil,
        errors: InvalidInput? = nil,
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let identity = context.identity
        try ProblemAPI.mayReadProblems(identity, policy)
        let (all, towns) = try await problems.overview(by: identity, clientAddress: context.clientAddress)
        let canRaise = policy.allows(identity, .raiseProblems)
        let coordinating = policy.allows(identity, .coordinateDistrict)
        var data: [String: Any] = ["canRaise": canRaise, "coordinating": coordinating]
        let own = all.filter { coordinating || $0.raisedBy == identity.tenant.name }
        data["problems"] = own.map(Self.values)
        data["count"] = own.count
        data["goodPractice"] = all.filter { !coordinating && $0.raisedBy != identity.tenant.name }.map(Self.values)
        data["levels"] = LadderLevel.allCases.map { level in
            ["label": level.label, "open": own.filter { $0.level == level && $0.status == .open }.count]
        }
        let overdue = own.filter { $0.status == .open && $0.overdueSince != nil }.count
        if overdue > 0 {
            data["overdueCount"] = GermanFormat.count(overdue, "Problem mit überschrittener Frist", "Probleme mit überschrittener Frist")
        }
        data["categories"] = ProblemCategory.allCases.map {
            ["value": $0.rawValue, "label": $0.label, "selected": $0.rawValue == form?["category"]]
        }
        data["spheres"] = LegalSphere.all.map {
            ["value": $0, "slug": $0.replacingOccurrences(of: " ", with: "-"), "checked": form?.all("legal_spheres").contains($0) ?? false]
        }
        data["form"] = [
            "title": form?["title"] ?? "", "description": form?.raw("description") ?? "", "districtWide": form?["district_wide_actor"] == "1",
            "sourceName": form?["source_name"] ?? "",
        ]
        if coordinating {
            data["sources"] = ProblemSource.outside.map { ["value": $0.rawValue, "label": $0.label, "checked": $0.rawValue == form?["source_kind"]] }
            data["towns"] =
                towns.map { ["value": $0.0, "label": $0.1, "selected": $0.0 == form?["town"]] }
                + [
                    [
                        "value": Self.wholeDistrict, "label": "den ganzen Kreis (beginnt auf Kreisebene)",
                        "selected": form?["town"] == Self.wholeDistrict,
                    ]
                ]
        }
        if canRaise {
            let chosen = Set(form?.all("case_ids") ?? [preselected].compactMap { $0 })
            data["cases"] = try await problems.cases.myCases(
                by: identity,
                wholeTenant: policy.allows(identity, .overseeCaseload),
                clientAddress: context.clientAddress
            )
            .map {
                [
                    "id": $0.id.uuidString.lowercased(), "number": $0.caseNumber, "client": $0.clientName,
                    "checked": chosen.contains($0.id.uuidString.lowercased()),
                ]
            }
        }
        if let errors { data.merge(FormErrors.values(errors.errors, labels: Self.labels)) { $1 } }
        return pages.render("problems", data, identity: identity, path: "/probleme", status: status)
    }

    func problemPage(
        _ context: SignedInContext,
        id: UUID,
        errors: InvalidInput? = nil,
        message: String? = nil,
        done: String? = nil,
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let identity = context.identity
        try ProblemAPI.mayReadProblems(identity, policy)
        let problem = try await problems.problem(id, by: identity, clientAddress: context.clientAddress)
        var data = Self.values(problem)
        data["notice"] = done.flatMap { Self.doneMessage($0, problem) }
        let coordinating = policy.allows(identity, .coordinateDistrict)
        data["coordinating"] = coordinating
        if coordinating {
            let open = problem.status == .open
            data["canEscalate"] = open && problem.level.next != nil
            data["nextLevel"] = problem.level.next?.label
            // The steering group receives written proposals: a decision paper drafted from this problem's history.
            data["toSteering"] = open && problem.level.next == .steering
            data["canPoll"] = open && problem.level <= .district
            data["canSolve"] = open
            data["canSetDeadline"] = open && problem.level != .state
            data["canPublish"] = problem.status == .solved && problem.publishedAt == nil
            data["canSubmit"] = open && problem.level == .state
            let fitting = try await groups.list(by: identity, clientAddress: context.clientAddress)
                .filter { $0.level == problem.level.rawValue && ($0.level == "district" || $0.town == problem.raisedBy) }
            data["groups"] = fitting.map { ["id": $0.id.uuidString.lowercased(), "name": $0.name, "selected": $0.id == problem.groupID] }
            data["hasGroups"] = !fitting.isEmpty
        }
        if let errors { data.merge(FormErrors.values(errors.errors, labels: Self.labels)) { $1 } }
        if let message { data["message"] = message }
        return pages.render("problem", data, identity: identity, path: "/probleme", status: status)
    }

    func pollsPage(
        _ context: SignedInContext,
        errors: InvalidInput? = nil,
        notice: String? = nil,
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let polls = try await problems.askedPolls(by: context.identity, clientAddress: context.clientAddress)
        let open = polls.filter { !$0.answered }
        func values(_ poll: ProblemPoll) -> [String: Any] {
            [
                "id": poll.id.uuidString.lowercased(), "title": poll.title, "category": poll.category.label, "description": poll.description,
                "question": poll.question, "by": poll.askedBy, "when": GermanFormat.date(poll.askedAt), "answered": poll.answered,
                "answers": poll.answers.map {
                    ["by": $0.answeredBy, "known": $0.known, "answer": $0.answer.nonEmpty as Any, "when": GermanFormat.date($0.answeredAt)]
                },
            ]
        }
        var data: [String: Any] = [
            "openPolls": open.map(values),
            "answeredPolls": polls.filter(\.answered).map(values), "hasAnswered": polls.contains(where: \.answered),
            "count": (open.isEmpty ? nil : GermanFormat.count(open.count, "offene Umfrage", "offene Umfragen")) as String? as Any,
        ]
        if let errors {
            let labels = Dictionary(
                uniqueKeysWithValues: polls.flatMap { poll in
                    let id = poll.id.uuidString.lowercased()
                    return [("known-\(id)", "Bekannt? (\(poll.title))"), ("answer-\(id)", "Antwort (\(poll.title))")]
                }
            )
            data.merge(FormErrors.values(errors.errors, labels: labels)) { $1 }
        }
        data["notice"] = notice
        return pages.render("polls", data, identity: context.identity, path: "/umfragen", status: status)
    }

    static func values(_ problem: StructuralProblem) -> [String: Any] {
        let outside = problem.source != .caseWork
        return [
            "id": problem.id.uuidString.lowercased(), "number": problem.number, "title": problem.title, "category": problem.category.label,
            "description": problem.description, "spheres": problem.legalSpheres.joined(separator: ", ").nonEmpty as Any,
            "districtWide": problem.districtWideActor,
            "caseCount": problem.caseCount, "caseCountText": GermanFormat.count(problem.caseCount, "Fall", "Fälle"), "level": problem.level.label,
            "levelSince": GermanFormat.date(problem.levelSince),
            "deadline": problem.levelDeadline.map(GermanFormat.date) as Any,
            "overdueSince": (problem.status == .open ? problem.overdueSince.map(GermanFormat.date) : nil) as Any,
            "group": problem.groupName?.nonEmpty as Any, "status": problem.status.label, "open": problem.status == .open,
            "solution": problem.solution?.nonEmpty as Any, "published": problem.publishedAt != nil,
            "submission": problem.stateSubmission?.nonEmpty as Any, "raisedBy": problem.raisedBy,
            "raisedByName": problem.raisedByName, "created": GermanFormat.date(problem.createdAt), "version": problem.version,
            "fromCases": !outside, "outside": outside, "sourceName": problem.sourceName as Any, "sourceLabel": problem.source.label,
            // Who brought it, by name: the outside source, or the raising town or carrier.
            "broughtBy": problem.sourceName ?? problem.raisedBy,
            "cases": problem.cases.map { ["id": $0.id.uuidString.lowercased(), "number": $0.caseNumber] },
            "events": problem.events.map { event in
                [
                    "when": GermanFormat.dateTime(event.at), "what": Self.eventLabel(event), "text": event.text, "actor": event.actorName,
                    "scheduler": event.byScheduler,
                ] as [String: Any]
            },
            "polls": problem.polls.map { poll in
                let answers = Dictionary(grouping: poll.answers, by: \.tenant)
                let answered = poll.asked.count > poll.waitingFor.count ? poll.asked.count - poll.waitingFor.count : nil
                return [
                    "question": poll.question, "when": GermanFormat.date(poll.askedAt), "audience": poll.audience,
                    "answeredCount": answered.map { GermanFormat.count($0, "Antwort", "Antworten") } as Any,
                    "waiting": poll.waitingFor.isEmpty ? nil : poll.waitingFor.joined(separator: ", "),
                    "tenants": poll.asked.map { tenant in
                        [
                            "tenant": tenant, "carrier": poll.askedCarriers.contains(tenant),
                            "answers": (answers[tenant] ?? []).map {
                                [
                                    "by": $0.answeredBy, "known": $0.known, "answer": $0.answer.nonEmpty as Any,
                                    "when": GermanFormat.date($0.answeredAt),
                                ]
                            },
                        ] as [String: Any]
                    },
                ] as [String: Any]
            },
        ]
    }

    static func eventLabel(_ event: StructuralProblem.Event) -> String {
        switch event.kind {
        case "raised": event.toLevel.map { "Gemeldet (\($0.label))" } ?? "Gemeldet"
        case "assigned": "Übergeben"
        case "polled": "Umfrage"
        case "escalated":
            [event.fromLevel, event.toLevel].contains(nil) ? "Weitergegeben" : "Weitergegeben: \(event.fromLevel!.label) → \(event.toLevel!.label)"
        case "overdue": "Frist überschritten"
        case "deadline_set": "Neue Frist"
        case "solved": "Gelöst"
        case "published": "Als gute Praxis veröffentlicht"
        case "submitted": "Anliegen an das Land"
        default: event.kind
        }
    }
}
