import Foundation
import Hummingbird

/// The stand-in page (`/vertretungen`): name a colleague as one's stand-in for a period, see whom one stands in for, end
/// a stand-in early; a team lead names one for someone who is absent and sees the tenant's.
struct StandInPages {
    let standIns: StandIns
    let pages: Pages

    static let labels: [String: String] = [
        "absent_id": "Wer ist abwesend?", "stand_in_id": "Wer vertritt?", "starts_on": "Erster Tag", "ends_on": "Letzter Tag",
        "stand_in": "Vertretung",
    ]

    func register(on routes: GuardedRouter) {
        routes.get("/vertretungen", .workCases) { request, context in
            let query = request.uri.queryParameters
            let named = query["eingetragen"].flatMap { UUID(uuidString: String($0)) }
            let ended = query["beendet"].flatMap { UUID(uuidString: String($0)) }
            return try await page(context, about: named ?? ended, ended: ended != nil)
        }

        routes.post("/vertretungen", .workCases) { _, context -> Response in
            let form = context.form
            do {
                var errors: [String: String] = [:]
                func day(_ field: String) -> Day? {
                    do {
                        guard let day = try Day.parse(form[field], field: field, label: Self.labels[field]!) else {
                            errors[field] = "Bitte den \(Self.labels[field]!) der Vertretung angeben."
                            return nil
                        }
                        return day
                    } catch {
                        errors.merge(error.errors) { first, _ in first }
                        return nil
                    }
                }
                let (from, to) = (day("starts_on"), day("ends_on"))
                let standIn = UUID(uuidString: form["stand_in_id"])
                if standIn == nil { errors["stand_in_id"] = "Bitte wählen, wer vertritt." }
                // A team lead chooses who is absent (themselves too); a case manager names their own stand-in.
                var absent: UUID?
                if standIns.mayNameForOthers(context.identity) || !form["absent_id"].isEmpty {
                    absent = UUID(uuidString: form["absent_id"])
                    if absent == nil { errors["absent_id"] = "Bitte wählen, wer abwesend ist (auch wenn Sie es selbst sind)." }
                }
                guard errors.isEmpty, let from, let to, let standIn else { throw InvalidInput(errors: errors) }
                let named = try await standIns.name(
                    standIn,
                    for: absent,
                    from: from,
                    to: to,
                    by: context.identity,
                    clientAddress: context.clientAddress
                )
                return .redirect(to: "/vertretungen?eingetragen=\(named.id.uuidString.lowercased())", type: .normal)
            } catch let error as InvalidInput {
                return try await page(context, form: form, errors: error, status: .unprocessableContent)
            }
        }

        routes.post("/vertretungen/{id}/beenden", .workCases) { _, context -> Response in
            do {
                let ended = try await standIns.end(try context.id(), by: context.identity, clientAddress: context.clientAddress)
                return .redirect(to: "/vertretungen?beendet=\(ended.id.uuidString.lowercased())", type: .normal)
            } catch let error as InvalidInput {
                return try await page(context, errors: error, status: .unprocessableContent)
            }
        }
    }

    /// One stand-in as a row of the page.
    static func row(_ standIn: StandIn, mayEnd: Bool) -> [String: Any] {
        [
            "id": standIn.id.uuidString.lowercased(), "absent": standIn.absentName, "standIn": standIn.standInName,
            "from": standIn.startsOn.german, "until": standIn.endsOn.german, "active": standIn.isActive(),
            "mayEnd": mayEnd && standIn.isCurrent,
        ]
    }

    /// The stand-in's section of "Meine Fälle": the absent colleague's open cases.
    static func section(_ entry: StandInCases) -> [String: Any] {
        let rows = entry.cases.map(CasePages.caseRow)
        let due = rows.filter { $0["overdue"] as? Bool == true }.count
        return [
            "standInID": entry.standIn.id.uuidString.lowercased(), "absent": entry.standIn.absentName, "until": entry.standIn.endsOn.german,
            "cases": rows, "standInCount": GermanFormat.count(rows.count, "offener Fall", "offene Fälle"),
            "standInDue": due > 0 ? due : nil,
        ]
    }

    func page(
        _ context: SignedInContext,
        about: UUID? = nil,
        ended: Bool = false,
        form: Form? = nil,
        errors: InvalidInput? = nil,
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let identity = context.identity
        let overview = try await standIns.overview(by: identity, about: about, clientAddress: context.clientAddress)
        var data: [String: Any] = [
            "mine": overview.mine.map { Self.row($0, mayEnd: true) },
            "standingIn": overview.standingIn.map { Self.row($0, mayEnd: overview.mayNameForOthers) },
            "forOthers": overview.mayNameForOthers, "hasMine": !overview.mine.isEmpty, "hasStandingIn": !overview.standingIn.isEmpty,
        ]
        if let tenant = overview.tenant {
            data["tenant"] = tenant.map { Self.row($0, mayEnd: true) }
            data["hasTenant"] = !tenant.isEmpty
        }
        let absent = form?["absent_id"] ?? ""
        let standIn = form?["stand_in_id"] ?? ""
        data["absentChoices"] = overview.colleagues.map {
            [
                "value": $0.id.uuidString.lowercased(), "label": $0.id == identity.userID ? "\($0.displayName) (ich)" : $0.displayName,
                "selected": $0.id.uuidString.lowercased() == absent.lowercased(),
            ]
        }
        data["standInChoices"] = overview.colleagues.filter { overview.mayNameForOthers || $0.id != identity.userID }.map {
            ["value": $0.id.uuidString.lowercased(), "label": $0.displayName, "selected": $0.id.uuidString.lowercased() == standIn.lowercased()]
        }
        data["noAbsentChosen"] = absent.isEmpty
        data["noStandInChosen"] = standIn.isEmpty
        data["starts_on"] = form?["starts_on"] ?? ""
        data["ends_on"] = form?["ends_on"] ?? ""
        if let errors { data.merge(FormErrors.values(errors.errors, labels: Self.labels)) { $1 } }
        if let done = overview.about {
            data["notice"] =
                ended
                ? "Vertretung beendet: \(done.standInName) vertritt \(done.absentName) nicht mehr; die Fälle stehen wieder nur bei \(done.absentName)."
                : "Vertretung eingetragen: \(done.standInName) vertritt \(done.absentName) vom \(done.startsOn.german) bis \(done.endsOn.german)."
        }
        return pages.render("stand-ins", data, identity: identity, path: "/faelle", status: status)
    }
}
