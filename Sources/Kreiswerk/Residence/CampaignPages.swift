import Foundation
import Hummingbird

/// The naturalisation campaign in the browser: the coordinators' `/kampagnen` (plan, events, letters, counts per town) and
/// the participating towns' `/kampagne` (read the letters and events, record a client informed).
struct CampaignPages {
    let campaigns: Campaigns
    let pages: Pages

    static let labels: [String: String] = [
        "title": "Titel", "starts_on": "Beginn", "ends_on": "Ende", "description": "Beschreibung", "towns": "Teilnehmende Städte",
        "services": "Teilnehmende Beratungsstellen", "held_on": "Tag", "event_title": "Veranstaltung", "place": "Ort", "town_id": "Stadt",
        "language": "Sprache", "body": "Text des Schreibens", "case_number": "Fallnummer", "informed_on": "Informiert am", "how": "Wie",
    ]
    static let ways: [(String, String)] = [("handed", "Schreiben übergeben"), ("sent", "Schreiben geschickt"), ("event", "bei einer Veranstaltung")]

    func register(on routes: GuardedRouter) {
        routes.get("/kampagnen", .coordinateDistrict) { _, context in try await listPage(context) }
        routes.post("/kampagnen", .coordinateDistrict, use: create)
        routes.get("/kampagnen/{id}", .coordinateDistrict) { request, context in
            let query = request.uri.queryParameters
            let notice: String? =
                query["angelegt"] != nil
                ? "Kampagne angelegt."
                : query["veranstaltung"] != nil ? "Veranstaltung eingetragen." : query["schreiben"] != nil ? "Schreiben gespeichert." : nil
            return try await detailPage(context, notice: notice)
        }
        routes.post("/kampagnen/{id}/veranstaltungen", .coordinateDistrict) { _, context -> Response in
            let form = context.form
            let id = try context.id()
            do {
                var errors: [String: String] = [:]
                let day = form.day("held_on", label: "Tag", into: &errors)
                if !errors.isEmpty { throw InvalidInput(errors: errors) }
                try await campaigns.addEvent(
                    to: id,
                    heldOn: day,
                    title: form["event_title"],
                    place: form["place"],
                    town: UUID(uuidString: form["town_id"]),
                    by: context.identity,
                    clientAddress: context.clientAddress
                )
                return .redirect(to: "/kampagnen/\(id.uuidString.lowercased())?veranstaltung=1", type: .normal)
            } catch let error as InvalidInput {
                return try await detailPage(context, form: form, errors: error.errors, status: .unprocessableContent)
            }
        }
        routes.post("/kampagnen/{id}/schreiben", .coordinateDistrict) { _, context -> Response in
            let form = context.form
            let id = try context.id()
            do {
                try await campaigns.addLetter(
                    to: id,
                    language: form["language"],
                    body: form.raw("body"),
                    by: context.identity,
                    clientAddress: context.clientAddress
                )
                return .redirect(to: "/kampagnen/\(id.uuidString.lowercased())?schreiben=1", type: .normal)
            } catch let error as InvalidInput {
                return try await detailPage(context, form: form, errors: error.errors, status: .unprocessableContent)
            }
        }

        routes.get("/kampagne", .workCases) { _, context in
            let found = try await campaigns.ofTown(by: context.identity, clientAddress: context.clientAddress)
            return pages.render(
                "campaigns-town",
                ["campaigns": found.map(Self.values), "hasCampaigns": !found.isEmpty],
                identity: context.identity,
                path: "/kampagne"
            )
        }
        routes.get("/kampagne/{id}", .workCases) { request, context in
            let notice = request.uri.queryParameters["informiert"] != nil ? "Eingetragen: Klient informiert." : nil
            return try await townPage(context, notice: notice)
        }
        routes.post("/kampagne/{id}/informiert", .workCases) { _, context -> Response in
            let form = context.form
            let id = try context.id()
            do {
                let day = try Day.parse(form["informed_on"], field: "informed_on", label: "Informiert am")
                try await campaigns.inform(
                    id,
                    caseNumber: form["case_number"],
                    on: day,
                    how: form["how"],
                    by: context.identity,
                    clientAddress: context.clientAddress
                )
                return .redirect(to: "/kampagne/\(id.uuidString.lowercased())?informiert=1", type: .normal)
            } catch let error as InvalidInput {
                return try await townPage(context, form: form, errors: error.errors, status: .unprocessableContent)
            }
        }
    }

    static func values(_ campaign: NaturalisationCampaign) -> [String: Any] {
        [
            "id": campaign.id.uuidString.lowercased(), "title": campaign.title, "starts": campaign.startsOn.german, "ends": campaign.endsOn.german,
            "description": campaign.description as Any, "towns": campaign.towns.joined(separator: ", "),
            "services": campaign.services.isEmpty ? nil : campaign.services.joined(separator: ", ") as Any,
            "events": campaign.events.map {
                ["day": $0.heldOn.german, "title": $0.title, "eventPlace": $0.place as Any, "town": $0.town ?? "im ganzen Kreis"]
            },
            "letters": campaign.letters.map { ["language": $0.languageName, "code": $0.language, "body": $0.body] },
            "hasLetters": !campaign.letters.isEmpty, "hasEvents": !campaign.events.isEmpty,
        ]
    }

    static func checkboxes(_ options: [(id: UUID, name: String)], chosen: [String]) -> [[String: Any]] {
        options.map { ["value": $0.id.uuidString.lowercased(), "label": $0.name, "checked": chosen.contains($0.id.uuidString.lowercased())] }
    }

    // MARK: - The coordinators

    @Sendable func create(_ request: Request, _ context: SignedInContext) async throws -> Response {
        let form = context.form
        var errors: [String: String] = [:]
        let new = NewCampaign(
            title: form["title"],
            startsOn: form.day("starts_on", label: "Beginn", into: &errors),
            endsOn: form.day("ends_on", label: "Ende", into: &errors),
            description: form.raw("description"),
            towns: form.all("towns").compactMap { UUID(uuidString: $0) },
            services: form.all("services").compactMap { UUID(uuidString: $0) }
        )
        do {
            if !errors.isEmpty { throw InvalidInput(errors: errors) }
            let created = try await campaigns.create(new, by: context.identity, clientAddress: context.clientAddress)
            return .redirect(to: "/kampagnen/\(created.id.uuidString.lowercased())?angelegt=1", type: .normal)
        } catch let error as InvalidInput {
            return try await listPage(context, form: form, errors: error.errors.merging(errors) { first, _ in first }, status: .unprocessableContent)
        }
    }

    func listPage(
        _ context: SignedInContext,
        form: Form? = nil,
        errors: [String: String] = [:],
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let (found, choices) = try await campaigns.overview(by: context.identity, clientAddress: context.clientAddress)
        var data: [String: Any] = [
            "campaigns": found.map(Self.values), "hasCampaigns": !found.isEmpty,
            "townChoices": Self.checkboxes(choices.towns, chosen: form?.all("towns") ?? []),
            "serviceChoices": Self.checkboxes(choices.services, chosen: form?.all("services") ?? []),
            "title": form?["title"] ?? "", "starts_on": form?["starts_on"] ?? "", "ends_on": form?["ends_on"] ?? "",
            "description": form?.raw("description") ?? "",
        ]
        data.merge(FormErrors.values(errors, labels: Self.labels)) { $1 }
        return pages.render("campaigns", data, identity: context.identity, path: "/kampagnen", status: status)
    }

    func detailPage(
        _ context: SignedInContext,
        notice: String? = nil,
        form: Form? = nil,
        errors: [String: String] = [:],
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let (campaign, counts, _) = try await campaigns.campaign(try context.id(), by: context.identity, clientAddress: context.clientAddress)
        var data = Self.values(campaign)
        data.merge([
            "counts": counts.map {
                [
                    "town": $0.town, "informed": $0.informed.description, "prechecks": $0.prechecks.description,
                    "applications": $0.applications.description,
                ]
            },
            "eventTowns": [["value": "", "label": "im ganzen Kreis", "selected": (form?["town_id"] ?? "").isEmpty]]
                + zip(campaign.townIDs, campaign.towns).map { id, name in
                    ["value": id.uuidString.lowercased(), "label": name, "selected": form?["town_id"] == id.uuidString.lowercased()]
                },
            "languages": [["value": "", "label": "– bitte wählen –", "selected": (form?["language"] ?? "").isEmpty]]
                + Campaigns.languages.sorted { $0.value < $1.value }.map {
                    ["value": $0.key, "label": $0.value, "selected": form?["language"] == $0.key]
                },
            "held_on": form?["held_on"] ?? "", "event_title": form?["event_title"] ?? "", "place": form?["place"] ?? "",
            "body": form?.raw("body") ?? "",
        ]) { $1 }
        data.merge(FormErrors.values(errors, labels: Self.labels)) { $1 }
        if let notice { data["notice"] = notice }
        return pages.render("campaign", data, identity: context.identity, path: "/kampagnen", status: status)
    }

    // MARK: - The towns

    func townPage(
        _ context: SignedInContext,
        notice: String? = nil,
        form: Form? = nil,
        errors: [String: String] = [:],
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let (campaign, informed) = try await campaigns.forTown(try context.id(), by: context.identity, clientAddress: context.clientAddress)
        var data = Self.values(campaign)
        data.merge([
            "informed": GermanFormat.count(informed, "Klient", "Klienten"),
            "ways": [["value": "", "label": "– bitte wählen –", "selected": (form?["how"] ?? "").isEmpty]]
                + Self.ways.map { ["value": $0.0, "label": $0.1, "selected": form?["how"] == $0.0] },
            "case_number": form?["case_number"] ?? "", "informed_on": form?["informed_on"] ?? Day.today.iso,
        ]) { $1 }
        data.merge(FormErrors.values(errors, labels: Self.labels)) { $1 }
        if let notice { data["notice"] = notice }
        return pages.render("campaign-town", data, identity: context.identity, path: "/kampagne", status: status)
    }
}
