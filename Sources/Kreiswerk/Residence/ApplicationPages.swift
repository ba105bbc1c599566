import Foundation
import Hummingbird

/// The ABH's register for its officers: the list with filters (`/abh/antraege`), recording an application
/// (`/abh/neuer-antrag`), one application with its history and the change of its state, and the backlog on any day
/// (`/abh/rueckstand`).
struct ApplicationPages {
    let applications: ResidenceApplications
    let pages: Pages

    static let labels: [String: String] = [
        "first_name": "Vorname", "last_name": "Nachname", "date_of_birth": "Geburtsdatum", "file_number": "Aktenzeichen",
        "kind": "Antrag", "received_on": "Eingegangen am", "officer_id": "Bearbeitung", "state": "Neuer Stand",
        "changed_on": "Geändert am", "note": "Anmerkung", "stichtag": "Stichtag", "precheck_id": "Vorprüfung",
    ]

    func register(on routes: GuardedRouter) {
        routes.get("/abh/antraege", .keepApplicationRegister) { request, context in
            let query = request.uri.queryParameters
            var filter = ApplicationFilter()
            filter.kind = query["antrag"].flatMap { ResidenceApplication.Kind(rawValue: String($0)) }
            filter.state = query["stand"].flatMap { ResidenceApplication.State(rawValue: String($0)) }
            filter.officerID = query["bearbeitung"].flatMap { UUID(uuidString: String($0)) }
            filter.openOnly = query["offen"] == "1"
            let (found, officers) = try await applications.list(filter, by: context.identity, clientAddress: context.clientAddress)
            let data: [String: Any] = [
                "applications": found.map(Self.row), "count": GermanFormat.count(found.count, "Antrag", "Anträge"), "hasApplications": !found.isEmpty,
                "kinds": Self.choices(ResidenceApplication.Kind.allCases.map { ($0.rawValue, $0.short) }, filter.kind?.rawValue, none: "alle"),
                "states": Self.choices(ResidenceApplication.State.allCases.map { ($0.rawValue, $0.label) }, filter.state?.rawValue, none: "alle"),
                "officers": Self.choices(
                    officers.map { ($0.id.uuidString.lowercased(), $0.displayName) },
                    filter.officerID?.uuidString.lowercased(),
                    none: "alle"
                ),
                "openOnly": filter.openOnly,
            ]
            return pages.render("abh-applications", data, identity: context.identity, path: "/abh/antraege")
        }

        routes.get("/abh/neuer-antrag", .keepApplicationRegister) { request, context in
            let precheck = request.uri.queryParameters["vorpruefung"].map { UUID(uuidString: String($0)) }
            guard let precheck else { return try await newPage(context) }
            guard let precheck else { throw DomainError.notFound("'vorpruefung' ist keine gültige Kennung einer Vorprüfung.") }
            return try await newPage(context, precheckID: precheck)
        }

        routes.post("/abh/antraege", .keepApplicationRegister) { _, context -> Response in
            let form = context.form
            var errors: [String: String] = [:]
            var new = NewResidenceApplication(
                firstName: form["first_name"],
                lastName: form["last_name"],
                dateOfBirth: form.day("date_of_birth", label: "Geburtsdatum", into: &errors),
                fileNumber: form["file_number"],
                kind: ResidenceApplication.Kind(rawValue: form["kind"]),
                receivedOn: form.day("received_on", label: "Eingegangen am", into: &errors),
                officerID: UUID(uuidString: form["officer_id"])
            )
            new.precheckID = UUID(uuidString: form["precheck_id"])
            do {
                if !form["officer_id"].isEmpty && new.officerID == nil { errors["officer_id"] = "Bitte aus der Liste wählen." }
                if !errors.isEmpty { throw InvalidInput(errors: errors) }
                let recorded = try await applications.record(new, by: context.identity, clientAddress: context.clientAddress)
                return .redirect(to: "/abh/antraege/\(recorded.id.uuidString.lowercased())?erfasst=1", type: .normal)
            } catch let error as InvalidInput {
                let merged = error.errors.merging(errors) { first, _ in first }
                return try await newPage(
                    context,
                    precheckID: merged["precheck_id"] == nil ? new.precheckID : nil,
                    form: form,
                    errors: merged,
                    status: .unprocessableContent
                )
            }
        }

        routes.get("/abh/antraege/{id}", .keepApplicationRegister) { request, context in
            let query = request.uri.queryParameters
            let notice: String? =
                query["erfasst"] != nil ? "Antrag erfasst." : query["geaendert"] != nil ? "Stand des Antrags geändert." : nil
            return try await detailPage(context, notice: notice)
        }

        routes.post("/abh/antraege/{id}/stand", .keepApplicationRegister) { _, context -> Response in
            let form = context.form
            var errors: [String: String] = [:]
            var changedOn: Day?
            do { changedOn = try Day.parse(form["changed_on"], field: "changed_on", label: "Geändert am") } catch let error as InvalidInput {
                errors.merge(error.errors) { first, _ in first }
            }
            let id = try context.id()
            do {
                let state = ResidenceApplication.State(rawValue: form["state"])
                if !form["officer_id"].isEmpty && UUID(uuidString: form["officer_id"]) == nil { errors["officer_id"] = "Bitte aus der Liste wählen." }
                if !errors.isEmpty { throw InvalidInput(errors: errors) }
                let changed = try await applications.change(
                    id,
                    to: state,
                    on: changedOn,
                    note: form["note"],
                    officerID: UUID(uuidString: form["officer_id"]),
                    version: Int(form["version"]),
                    by: context.identity,
                    clientAddress: context.clientAddress
                )
                return .redirect(to: "/abh/antraege/\(changed.id.uuidString.lowercased())?geaendert=1", type: .normal)
            } catch let error as InvalidInput {
                return try await detailPage(
                    context,
                    form: form,
                    errors: error.errors.merging(errors) { first, _ in first },
                    status: .unprocessableContent
                )
            } catch DomainError.conflict(let message) {
                return try await detailPage(context, message: message, status: .conflict)
            } catch DomainError.versionRequired(let message) {
                return try await detailPage(context, message: message, status: .conflict)
            }
        }

        routes.get("/abh/rueckstand", .keepApplicationRegister) { request, context -> Response in
            let asked = request.uri.queryParameters["stichtag"].map(String.init) ?? ""
            var day = Day.today
            var errors: [String: String] = [:]
            do {
                if let parsed = try Day.parse(asked, field: "stichtag", label: "Stichtag") { day = parsed }
            } catch let error as InvalidInput { errors = error.errors }
            let backlog = try await applications.backlog(asOf: day, by: context.identity, clientAddress: context.clientAddress)
            var data: [String: Any] = [
                "stichtag": day.iso, "asOf": day.german, "bands": ApplicationBacklog.bands, "total": backlog.total,
                "rows": backlog.rows.map { ["kind": $0.kind.label, "open": $0.open, "total": $0.total] },
                "months": backlog.months.map {
                    [
                        "month": Self.monthInWords($0.month), "received": $0.received, "decided": $0.decided, "granted": $0.granted,
                        "refused": $0.refused, "withdrawn": $0.withdrawn,
                    ]
                },
            ]
            data.merge(FormErrors.values(errors, labels: Self.labels)) { $1 }
            return pages.render(
                "abh-backlog",
                data,
                identity: context.identity,
                path: "/abh/antraege",
                status: errors.isEmpty ? .ok : .unprocessableContent
            )
        }
    }

    static func monthInWords(_ month: String) -> String {
        let names = ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November", "Dezember"]
        let parts = month.split(separator: "-").compactMap { Int($0) }
        guard parts.count == 2, (1...12).contains(parts[1]) else { return month }
        return "\(names[parts[1] - 1]) \(parts[0])"
    }

    static func choices(_ options: [(String, String)], _ chosen: String?, none: String) -> [[String: Any]] {
        [["value": "", "label": none, "selected": chosen == nil || chosen == ""]]
            + options.map { ["value": $0.0, "label": $0.1, "selected": $0.0 == chosen] }
    }

    static func row(_ application: ResidenceApplication) -> [String: Any] {
        [
            "id": application.id.uuidString.lowercased(), "name": application.applicantName, "birth": application.applicantBirth.german,
            "kind": application.kind.short, "received": application.receivedOn.german, "state": application.state.label,
            "officer": application.officerName as Any, "fileNumber": application.fileNumber as Any,
        ]
    }

    func newPage(
        _ context: SignedInContext,
        precheckID: UUID? = nil,
        form: Form? = nil,
        errors: [String: String] = [:],
        status: HTTPResponse.Status = .ok
    ) async throws
        -> Response
    {
        let (officers, precheck) = try await applications.newForm(following: precheckID, by: context.identity, clientAddress: context.clientAddress)
        var data: [String: Any] = [
            "kinds": Self.choices(
                ResidenceApplication.Kind.allCases.map { ($0.rawValue, $0.label) },
                form?["kind"] ?? precheck?.kind.rawValue,
                none: "– bitte wählen –"
            ),
            "officers": Self.choices(
                officers.map { ($0.id.uuidString.lowercased(), $0.displayName) },
                form?["officer_id"].lowercased(),
                none: "– noch niemand –"
            ),
            "first_name": form?["first_name"] ?? precheck?.firstName ?? "", "last_name": form?["last_name"] ?? precheck?.lastName ?? "",
            "date_of_birth": form?["date_of_birth"] ?? precheck?.dateOfBirth.iso ?? "",
            "file_number": form?["file_number"] ?? "", "received_on": form?["received_on"] ?? "",
        ]
        if let precheck {
            data["precheckID"] = precheck.id.uuidString.lowercased()
            data["precheck"] =
                "Folgt der Vorprüfung \(precheck.kind.short), angefragt am \(GermanFormat.date(precheck.sentAt)) von \(precheck.senderName) (\(precheck.askerTenantName))."
        }
        data.merge(FormErrors.values(errors, labels: Self.labels)) { $1 }
        return pages.render("abh-application-new", data, identity: context.identity, path: "/abh/antraege", status: status)
    }

    func detailPage(
        _ context: SignedInContext,
        notice: String? = nil,
        message: String? = nil,
        form: Form? = nil,
        errors: [String: String] = [:],
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let (application, officers) = try await applications.find(try context.id(), by: context.identity, clientAddress: context.clientAddress)
        let officer = form.map { $0["officer_id"].lowercased() } ?? application.officerID?.uuidString.lowercased()
        var data = Self.row(application)
        data.merge([
            "version": application.version, "decided": application.state.isDecided, "decidedOn": application.decidedOn?.german as Any,
            "history": application.history.map {
                ["state": $0.state.label, "on": $0.changedOn.german, "note": $0.note as Any, "by": $0.changedBy] as [String: Any]
            },
            "states": Self.choices(
                ResidenceApplication.State.allCases.filter { $0 != .received }.map { ($0.rawValue, $0.label) },
                form?["state"],
                none: "– bitte wählen –"
            ),
            "officers": Self.choices(officers.map { ($0.id.uuidString.lowercased(), $0.displayName) }, officer, none: "– niemand –"),
            "changed_on": form?["changed_on"] ?? Day.today.iso, "note": form?["note"] ?? "",
        ]) { $1 }
        data.merge(FormErrors.values(errors, labels: Self.labels)) { $1 }
        if let notice { data["notice"] = notice }
        if let message { data["message"] = message }
        return pages.render("abh-application", data, identity: context.identity, path: "/abh/antraege", status: status)
    }
}
