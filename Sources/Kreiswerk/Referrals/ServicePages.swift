import Foundation
import Hummingbird

/// *Angebote*: the district's service directory for everyone of the district (`/angebote`, with filters and a search,
/// from a case with its client's town preselected), each service's page (`/angebote/{id}`, from a case with the referral
/// form), and its upkeep by the carrier's administrators and counsellors and the district's coordinators.
struct ServicePages {
    let upkeep: ServiceUpkeep
    let pages: Pages

    static let labels: [String: String] = [
        "name": "Name", "programme": "Programm", "carrier": "Träger", "legal_spheres": "Rechtskreise", "towns": "Städte",
        "languages": "Sprachen", "description": "Beschreibung", "address": "Anschrift", "opening_hours": "Öffnungszeiten",
        "contact_email": "E-Mail", "contact_phone": "Telefon", "takes_new_clients": "Aufnahme", "waiting_weeks": "Wartezeit in Wochen",
    ]

    static func choices(_ options: [(String, String)], _ chosen: String?, none: String) -> [[String: Any]] {
        [["value": "", "label": none, "selected": chosen == nil]] + options.map { ["value": $0.0, "label": $0.1, "selected": $0.0 == chosen] }
    }

    static var programmeOptions: [(String, String)] { CounsellingService.programmes.sorted { $0.value < $1.value }.map { ($0.key, $0.value) } }
    static var languageOptions: [(String, String)] { CounsellingService.languageNames.sorted { $0.value < $1.value }.map { ($0.key, $0.value) } }

    /// A service as the list and its page show it.
    static func values(_ service: ServiceDirectory.Entry, townNames: [String: String]) -> [String: Any] {
        [
            "id": service.id.uuidString.lowercased(), "name": service.name, "programme": service.programmeLabel, "carrier": service.carrierName,
            "towns": service.towns.isEmpty ? "ganzer Kreis" : service.towns.map { townNames[$0] ?? $0 }.joined(separator: ", "),
            "languages": service.languages.map(CounsellingService.languageName).joined(separator: ", "),
            "legalSpheres": service.legalSpheres.joined(separator: ", ").nonEmpty as Any, "takesNewClients": service.takesNewClients,
            "waiting": service.waitingWeeks.map { $0 == 0 ? "keine Wartezeit" : GermanFormat.count($0, "Woche", "Wochen") } as Any,
            "description": service.description as Any, "address": service.address as Any, "openingHours": service.openingHours as Any,
            "contactEmail": service.contactEmail as Any, "contactPhone": service.contactPhone as Any, "retired": !service.active,
            "version": service.version, "changed": GermanFormat.date(service.changedAt),
            "maintainedBy": service.managedBy == "files" ? "aus der Kreisdatei (services.yaml)" : "im Browser oder über die API",
        ]
    }

    func register(on routes: GuardedRouter) {
        routes.get("/angebote", .viewServices, use: directoryPage)
        routes.get("/angebote/{id}", .viewServices, use: servicePage)
        routes.get("/neues-angebot", .maintainServices) { _, context in try await formPage(context) }
        routes.post("/angebote", .maintainServices, use: create)
        routes.get("/angebote/{id}/bearbeiten", .maintainServices) { _, context in try await formPage(context, id: try context.id()) }
        routes.post("/angebote/{id}", .maintainServices, use: change)
        routes.post("/angebote/{id}/beenden", .maintainServices, use: retire)
        routes.post("/angebote/{id}/wieder-anbieten", .maintainServices, use: reactivate)
    }

    // MARK: - Finding

    @Sendable func directoryPage(_ request: Request, _ context: SignedInContext) async throws -> Response {
        let query = request.uri.queryParameters
        func given(_ name: String) -> String? { query[Substring(name)].map(String.init)?.trimmingCharacters(in: .whitespaces).nonEmpty }
        let filter = ServiceDirectory.Filter(
            town: given("ort"),
            language: given("sprache").flatMap { CounsellingService.languageNames[$0] != nil ? $0 : nil },
            programme: given("programm").flatMap { CounsellingService.programmes[$0] != nil ? $0 : nil },
            legalSphere: given("rechtskreis").flatMap { CounsellingService.legalSpheres.contains($0) ? $0 : nil },
            takesNewClients: query["aufnahme"] == "1",
            text: given("suche")
        )
        let caseID = given("fall").flatMap(UUID.init(uuidString:))
        let found = try await upkeep.directory(
            filter,
            townChosen: query["ort"] != nil,
            forCase: caseID,
            by: context.identity,
            clientAddress: context.clientAddress
        )
        let townNames = Dictionary(found.towns.map { ($0.slug, $0.name) }, uniquingKeysWith: { first, _ in first })
        let fromCase = caseID.map { "?fall=\($0.uuidString.lowercased())" } ?? ""
        var data: [String: Any] = [
            "services": found.services.map { service -> [String: Any] in
                var values = Self.values(service, townNames: townNames)
                values["link"] = "/angebote/\(service.id.uuidString.lowercased())\(fromCase)"
                return values
            },
            "count": GermanFormat.count(found.services.count, "Angebot", "Angebote"), "hasServices": !found.services.isEmpty,
            "towns": Self.choices(found.towns.map { ($0.slug, $0.name) }, found.filter.town, none: "alle Städte"),
            "languages": Self.choices(Self.languageOptions, found.filter.language, none: "alle Sprachen"),
            "programmes": Self.choices(Self.programmeOptions, found.filter.programme, none: "alle Programme"),
            "legalSpheres": Self.choices(CounsellingService.legalSpheres.map { ($0, $0) }, found.filter.legalSphere, none: "alle Rechtskreise"),
            "takesNewClients": found.filter.takesNewClients, "search": found.filter.text ?? "", "mayCreate": found.mayCreate,
        ]
        if let caseID, let number = found.caseNumber {
            data["caseID"] = caseID.uuidString.lowercased()
            data["caseNumber"] = number
            data["caseTown"] = found.filter.town.flatMap { townNames[$0] } as Any
        }
        return pages.render("services", data, identity: context.identity, path: "/angebote")
    }

    @Sendable func servicePage(_ request: Request, _ context: SignedInContext) async throws -> Response {
        let query = request.uri.queryParameters
        let detail = try await upkeep.detail(try context.id(), by: context.identity)
        var data = Self.values(detail.service, townNames: [:])
        data["towns"] = detail.townNames.isEmpty ? "ganzer Kreis" : detail.townNames.joined(separator: ", ")
        data["received"] = GermanFormat.count(detail.answers.received, "Verweisung", "Verweisungen")
        data["answered"] = detail.answers.answered
        data["answeredInTime"] = detail.answers.answeredInTime
        data["mayMaintain"] = detail.mayMaintain && detail.service.active
        data["mayReactivate"] = detail.mayMaintain && !detail.service.active
        if let caseID = query["fall"].flatMap({ UUID(uuidString: String($0)) }), detail.service.active,
            context.identity.has(.caseManager)
                || context.identity.has(.teamLead)
        {
            data["referFromCase"] = caseID.uuidString.lowercased()
            data["referralConsentManner"] = CasePages.consentMannerValues(nil, name: "consent_", id: "referral_consent_")
            data["today"] = Day.today.iso
        }
        data["notice"] =
            query["erfasst"] != nil
            ? "Angebot veröffentlicht; es steht jetzt im Versorgungssystem des Kreises."
            : query["gespeichert"] != nil
                ? "Änderungen gespeichert."
                : query["beendet"] != nil
                    ? "Angebot beendet; es wird nicht mehr angeboten, frühere Verweisungen bleiben."
                    : query["wieder-angeboten"] != nil ? "Angebot wird wieder angeboten; es steht wieder im Versorgungssystem des Kreises." : nil
        return pages.render("service", data, identity: context.identity, path: "/angebote")
    }

    // MARK: - Keeping

    /// The form's values: the service as it stands, or what was sent (kept when it was refused).
    func formPage(
        _ context: SignedInContext,
        id: UUID? = nil,
        form: Form? = nil,
        errors: [String: String] = [:],
        message: String? = nil,
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let choices = try await upkeep.choices(for: id, by: context.identity)
        let service = choices.service
        let chosenSpheres = form.map { $0.all("legal_spheres") } ?? service?.legalSpheres ?? []
        let chosenTowns = form.map { $0.all("towns") } ?? service?.towns ?? []
        let chosenLanguages = form.map { $0.all("languages") } ?? service?.languages ?? []
        let takes: String? = form.map { $0["takes_new_clients"].nonEmpty } ?? service.map { $0.takesNewClients ? "1" : "0" }
        func text(_ field: String, _ current: String?) -> String { form.map { $0.raw(field) } ?? current ?? "" }
        let carrier = form?["carrier"].nonEmpty ?? service?.carrier ?? (choices.carriers.count == 1 ? choices.carriers[0].slug : nil)
        var data: [String: Any] = [
            "isNew": id == nil, "action": id.map { "/angebote/\($0.uuidString.lowercased())" } ?? "/angebote",
            "name": text("name", service?.name), "description": text("description", service?.description),
            "address": text("address", service?.address), "opening_hours": text("opening_hours", service?.openingHours),
            "contact_email": text("contact_email", service?.contactEmail), "contact_phone": text("contact_phone", service?.contactPhone),
            "waiting_weeks": form.map { $0["waiting_weeks"] } ?? service?.waitingWeeks.map(String.init) ?? "",
            "version": form.map { $0["version"] } ?? service.map { String($0.version) } ?? "",
            "programmes": Self.choices(Self.programmeOptions, form?["programme"].nonEmpty ?? service?.programme, none: "– bitte wählen –"),
            "carriers": Self.choices(choices.carriers.map { ($0.slug, $0.name) }, carrier, none: "– bitte wählen –"),
            "singleCarrier": (choices.carriers.count == 1 ? choices.carriers[0].name : nil) as Any,
            "singleCarrierSlug": (choices.carriers.count == 1 ? choices.carriers[0].slug : nil) as Any,
            "legalSpheres": CounsellingService.legalSpheres.enumerated().map {
                ["value": $1, "label": $1, "index": $0, "checked": chosenSpheres.contains($1)] as [String: Any]
            },
            "towns": choices.towns.enumerated().map {
                ["value": $1.slug, "label": $1.name, "index": $0, "checked": chosenTowns.contains($1.slug)] as [String: Any]
            },
            "languages": Self.languageOptions.enumerated().map {
                ["value": $1.0, "label": $1.1, "index": $0, "checked": chosenLanguages.contains($1.0)] as [String: Any]
            },
            "takesYes": takes == "1", "takesNo": takes == "0",
        ]
        if let service { data["serviceName"] = service.name }
        data.merge(FormErrors.values(errors, labels: Self.labels)) { $1 }
        if let message { data["message"] = message }
        return pages.render("service-form", data, identity: context.identity, path: "/angebote", status: status)
    }

    /// The draft a form sends, and the problems only the form can have (a waiting time that is no number, no answer on intake).
    static func draft(_ form: Form, _ identity: Identity) -> (ServiceDraft, [String: String]) {
        var problems: [String: String] = [:]
        var weeks: Int?
        if let text = form["waiting_weeks"].nonEmpty {
            if let number = Int(text) {
                weeks = number
            } else {
                problems["waiting_weeks"] = "Bitte die Wartezeit als ganze Zahl von Wochen angeben (0 bis 104)."
            }
        }
        let takes = form["takes_new_clients"]
        if takes != "1" && takes != "0" {
            problems["takes_new_clients"] = "Bitte angeben, ob das Angebot derzeit neue Klientinnen und Klienten aufnimmt."
        }
        let draft = ServiceDraft(
            name: form["name"],
            programme: form["programme"],
            carrier: form["carrier"].nonEmpty ?? identity.tenant.slug,
            legalSpheres: form.all("legal_spheres"),
            towns: form.all("towns"),
            languages: form.all("languages"),
            description: form.raw("description"),
            address: form.raw("address"),
            openingHours: form.raw("opening_hours"),
            contactEmail: form["contact_email"],
            contactPhone: form["contact_phone"],
            takesNewClients: takes != "0",
            waitingWeeks: weeks
        )
        return (draft, problems)
    }

    @Sendable func create(_ request: Request, _ context: SignedInContext) async throws -> Response {
        let (draft, problems) = Self.draft(context.form, context.identity)
        do {
            let service = try await upkeep.create(draft, alsoWrong: problems, by: context.identity, clientAddress: context.clientAddress)
            return .redirect(to: "/angebote/\(service.id.uuidString.lowercased())?erfasst=1", type: .normal)
        } catch let error as InvalidInput {
            return try await formPage(context, form: context.form, errors: error.errors, status: .unprocessableContent)
        }
    }

    @Sendable func change(_ request: Request, _ context: SignedInContext) async throws -> Response {
        let id = try context.id()
        let (draft, problems) = Self.draft(context.form, context.identity)
        do {
            guard let version = Int(context.form["version"]) else {
                throw DomainError.versionRequired("Das Formular ist unvollständig (Version fehlt); bitte die Seite neu laden.")
            }
            _ = try await upkeep.change(
                id,
                version: version,
                to: draft,
                alsoWrong: problems,
                by: context.identity,
                clientAddress: context.clientAddress
            )
            return .redirect(to: "/angebote/\(id.uuidString.lowercased())?gespeichert=1", type: .normal)
        } catch let error as InvalidInput {
            return try await formPage(context, id: id, form: context.form, errors: error.errors, status: .unprocessableContent)
        } catch DomainError.stale(let message), DomainError.versionRequired(let message) {
            // Keeps what was typed; the message says what happened. The version stays the old one until the page is reloaded.
            return try await formPage(context, id: id, form: context.form, message: message, status: .conflict)
        }
    }

    @Sendable func retire(_ request: Request, _ context: SignedInContext) async throws -> Response {
        try await offer(context, active: false)
    }

    @Sendable func reactivate(_ request: Request, _ context: SignedInContext) async throws -> Response {
        try await offer(context, active: true)
    }

    /// Retires or reactivates the service at the form's version, and says so on its page.
    func offer(_ context: SignedInContext, active: Bool) async throws -> Response {
        let id = try context.id()
        do {
            guard let version = Int(context.form["version"]) else {
                throw DomainError.versionRequired("Das Formular ist unvollständig (Version fehlt); bitte die Seite neu laden.")
            }
            _ = try await upkeep.offer(id, version: version, active: active, by: context.identity, clientAddress: context.clientAddress)
            return .redirect(to: "/angebote/\(id.uuidString.lowercased())?\(active ? "wieder-angeboten" : "beendet")=1", type: .normal)
        } catch DomainError.stale(let message), DomainError.versionRequired(let message), DomainError.conflict(let message) {
            return try await formPage(context, id: id, message: message, status: .conflict)
        }
    }
}
