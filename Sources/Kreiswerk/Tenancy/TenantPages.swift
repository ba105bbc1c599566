import Foundation
import Hummingbird

/// The start page per role (`/`), the onboarding form (`POST /mandanten`) and a tenant's page.
struct TenantPages {
    let database: Database
    let policy: Policy
    let pages: Pages
    let onboarding: TenantOnboarding

    static func kindLabel(_ kind: String) -> String {
        switch kind {
        case "district": "Kreis"
        case "municipality": "Stadt/Gemeinde"
        case "carrier": "Träger"
        case "authority": "Behörde"
        case "platform": "Betrieb"
        default: kind
        }
    }

    var visible: VisibleTenants { VisibleTenants(database: database, policy: policy) }

    /// How many staff-share rows the onboarding form offers.
    static let shareRows = 3

    func startPage(
        _ context: SignedInContext,
        form: Form = Form(),
        errors: [String: String] = [:],
        similarName: Bool = false,
        welcome: Bool = false,
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let identity = context.identity
        let start = try await WorkQueue(database: database, policy: policy).start(for: identity)
        let (tenants, scope, canOnboard) = (start.tenants, start.scope, start.mayOnboard)
        var labels = [
            "slug": "Kürzel", "name": "Name", "kind": "Art", "district": "Kreis", "email": "E-Mail-Adresse",
            "display_name": "Name der Administration", "organisational_unit": "Verortung", "case_management_by": "Case Management durch",
            "contact_email": "Kontakt-E-Mail", "contact_phone": "Kontakt-Telefon", "confirm_similar_name": "Ähnlicher Name",
        ]
        for row in 0..<Self.shareRows { labels["staff_fte_\(row)"] = "Stellenanteil, Zeile \(row + 1)" }
        var data = FormErrors.values(errors, labels: labels)
        data.merge([
            "tenantHeading": scope == .all ? "Alle Kreise und Mandanten" : scope == .district ? "Die Mandanten Ihres Kreises" : "Ihr Mandant",
            "tenantCaption": "\(tenants.count) Mandant\(tenants.count == 1 ? "" : "en")",
            "tenants": tenants.map { tenant -> [String: Any] in
                [
                    "slug": tenant.slug, "name": tenant.name, "kindLabel": Self.kindLabel(tenant.kind), "district": tenant.districtName ?? "–",
                    "status": tenant.active ? "aktiv" : "inaktiv", "canOpen": canOnboard,
                ]
            },
            "canOnboard": canOnboard,
            "canWorkCases": start.mayWorkCases,
            "queue": WorkQueuePage.sections(start.items, coordinator: identity.has(.districtCoordinator)),
            "hasQueue": WorkQueue.queue(for: identity, policy: policy, now: Date()) != nil,
            "setUpSecondFactor": identity.mustSetUpSecondFactor,
            "form": [
                "slug": form["slug"], "name": form["name"], "admin_email": form["admin_email"], "admin_name": form["admin_name"],
                "organisational_unit": form["organisational_unit"], "contact_email": form["contact_email"], "contact_phone": form["contact_phone"],
            ],
        ]) { $1 }
        if canOnboard {
            let platform = scope == .all
            // A coordinator onboards carriers and authorities of their own district only.
            let kinds = platform ? ["carrier", "authority", "municipality", "district"] : ["carrier", "authority"]
            let chosenKind = form["kind"].isEmpty ? "carrier" : form["kind"]
            data["kinds"] = kinds.map { ["value": $0, "label": Self.kindLabel($0), "selected": $0 == chosenKind] }
            data["platformOnboards"] = platform
            let districts = tenants.filter { $0.kind == "district" && (platform || $0.id == identity.tenant.id) }
            data["districts"] = districts.map {
                ["slug": $0.slug, "name": $0.name, "selected": $0.slug == form["district"] || (!platform && districts.count == 1)]
            }
            data["carriers"] = tenants.filter { $0.kind == "carrier" && $0.active }.map {
                ["slug": $0.slug, "name": "\($0.name)\($0.districtName.map { " (\($0))" } ?? "")", "selected": $0.slug == form["case_management_by"]]
            }
            data["hasOwn"] = [
                ("foreigners_authority", "Eigene Ausländerbehörde"), ("youth_office", "Eigenes Jugendamt"),
                ("integration_council", "Integrationsrat"),
            ]
            .map { field, label -> [String: Any] in
                let chosen = form["has_own_\(field)"]
                return [
                    "field": field, "label": label,
                    "options": [("", "nicht bekannt"), ("1", "ja"), ("0", "nein")].map { value, text in
                        ["value": value, "label": text, "checked": chosen == value, "id": "has_own_\(field)_\(value.isEmpty ? "unknown" : value)"]
                    },
                ]
            }
            let thisYear = Calendar(identifier: .gregorian).component(.year, from: Date())
            data["shareRows"] = (0..<Self.shareRows).map { row -> [String: Any] in
                let chosen = form["staff_programme_\(row)"]
                var values: [String: Any] = [
                    "row": row, "number": row + 1, "year": form["staff_year_\(row)"].isEmpty ? "" : form["staff_year_\(row)"],
                    "fte": form["staff_fte_\(row)"], "yearHint": "z. B. \(thisYear)",
                    "programmes": StaffProgramme.allCases.map {
                        ["value": $0.rawValue, "label": TenantOnboarding.programmeLabel($0), "selected": $0.rawValue == chosen]
                    },
                ]
                if let error = errors["staff_fte_\(row)"] { values["error"] = error }
                return values
            }
            if similarName {
                data["similarName"] = true
            }
        }
        if welcome {
            // After accepting an invitation: the password is set and they are signed in (issue 17).
            data["welcome"] =
                "Willkommen bei Kreiswerk, \(identity.displayName)! Ihr Passwort ist gespeichert und Sie sind angemeldet. "
                + "Unter „Mein Konto“ ändern Sie es und richten einen zweiten Faktor ein."
        }
        return pages.render("start", data, identity: identity, path: "/", status: status)
    }

    func register(on routes: GuardedRouter) {
        routes.get("/", .viewTenants) { request, context in
            try await startPage(context, welcome: request.uri.queryParameters["willkommen"] != nil)
        }
        routes.post("/mandanten", .onboardTenants, use: onboard)
        routes.get("/mandanten/{slug}", .onboardTenants, use: show)
    }

    /// The onboarding form as a request; staff-share rows left empty are left out, a flag "nicht bekannt" is nil.
    static func request(from form: Form) -> TenantOnboarding.Request {
        func flag(_ field: String) -> Bool? {
            switch form["has_own_\(field)"] {
            case "1": true
            case "0": false
            default: nil
            }
        }
        let shares = (0..<shareRows).compactMap { row -> TenantOnboarding.Request.StaffShare? in
            let (programme, year, fte) = (form["staff_programme_\(row)"], form["staff_year_\(row)"], form["staff_fte_\(row)"])
            guard !(year.isEmpty && fte.isEmpty) else { return nil }
            return .init(programme: programme, year: Int(year.trimmingCharacters(in: .whitespaces)) ?? -1, fte: fte)
        }
        return TenantOnboarding.Request(
            slug: form["slug"],
            name: form["name"],
            kind: form["kind"],
            district: form["district"],
            organisationalUnit: form["organisational_unit"],
            contactEmail: form["contact_email"],
            contactPhone: form["contact_phone"],
            caseManagementBy: form["case_management_by"],
            hasOwn: .init(
                foreignersAuthority: flag("foreigners_authority"),
                youthOffice: flag("youth_office"),
                integrationCouncil: flag("integration_council")
            ),
            staffShares: shares,
            confirmSimilarName: form["confirm_similar_name"] == "1",
            admin: .init(email: form["admin_email"], displayName: form["admin_name"])
        )
    }

    func onboard(_ request: Request, _ context: SignedInContext) async throws -> Response {
        let form = context.form
        let asked = Self.request(from: form)
        let result: TenantOnboarding.Result
        do {
            result = try await onboarding.onboard(asked, by: context.identity, clientAddress: context.clientAddress)
        } catch let error as InvalidInput {
            // A staff-share row's problem is shown at its share field; the rows that were filled in are numbered as on the form.
            let filled = (0..<Self.shareRows).filter { !(form["staff_year_\($0)"].isEmpty && form["staff_fte_\($0)"].isEmpty) }
            let errors = Dictionary(
                error.errors.map { key, message -> (String, String) in
                    guard key.hasPrefix("staff_shares["), let index = Int(key.dropFirst(13).dropLast()), index < filled.count else {
                        return (key, message)
                    }
                    return ("staff_fte_\(filled[index])", message)
                }
            ) { first, _ in first }
            return try await startPage(context, form: form, errors: errors, status: .unprocessableContent)
        } catch let conflict as FieldConflict {
            return try await startPage(
                context,
                form: form,
                errors: [conflict.field: conflict.message],
                similarName: conflict.field == "confirm_similar_name",
                status: .conflict
            )
        } catch DomainError.forbidden(let message) {
            return try await startPage(context, form: form, errors: ["kind": message], status: .forbidden)
        }
        let detail = try await visible.detail(result.tenant.slug, for: context.identity)
        return tenantPage(detail, identity: context.identity, invited: result)
    }

    func show(_ request: Request, _ context: SignedInContext) async throws -> Response {
        tenantPage(try await visible.detail(try context.parameters.decoded("slug"), for: context.identity), identity: context.identity, invited: nil)
    }

    func tenantPage(_ detail: TenantDirectory.Detail, identity: Identity, invited: TenantOnboarding.Result?) -> Response {
        let (tenant, file) = (detail.summary, detail.file)
        func yesNo(_ flag: Bool?) -> String { flag.map { $0 ? "ja" : "nein" } ?? "nicht bekannt" }
        var data: [String: Any] = [
            "tenant": ["slug": tenant.slug, "name": tenant.name, "district": tenant.districtName as Any],
            "kindLabel": Self.kindLabel(tenant.kind),
            "managedLabel": tenant.managedBy == "files"
                ? "in den Mandanten-Dateien (tenants/); Änderungen dort"
                : "hier in der Plattform; mit „kreiswerk tenants export \(tenant.district ?? tenant.slug) \(tenant.slug)“ als Mandanten-Datei zu übernehmen",
            "unit": file.organisationalUnit as Any,
            "caseManagementBy": tenant.caseManagementByName as Any,
            "hasOwn": [
                ["label": "Eigene Ausländerbehörde", "value": yesNo(file.hasOwnForeignersAuthority)],
                ["label": "Eigenes Jugendamt", "value": yesNo(file.hasYouthOffice)],
                ["label": "Integrationsrat", "value": yesNo(file.hasIntegrationCouncil)],
            ],
            "showHasOwn": tenant.kind == "municipality" || file.hasOwnForeignersAuthority != nil || file.hasYouthOffice != nil
                || file.hasIntegrationCouncil != nil,
            "contactEmail": file.contactEmail as Any,
            "contactPhone": file.contactPhone as Any,
            "hasShares": !file.staffShares.isEmpty,
            "shares": file.staffShares.sorted { $0.key < $1.key }.map {
                [
                    "programme": TenantOnboarding.programmeLabel($0.key.programme), "year": "\($0.key.year)",
                    "fte": $0.value.description.replacingOccurrences(of: ".", with: ","),
                ]
            },
        ]
        if let invited {
            data.merge(InvitationView.values(url: invited.invitationURL, expires: invited.invitationExpiresAt, user: invited.admin)) { $1 }
        }
        return pages.render("tenant", data, identity: identity, path: "/mandanten/\(tenant.slug)", status: invited == nil ? .ok : .created)
    }
}

/// The invitation link as pages show it once, right after the account was created.
enum InvitationView {
    static func values(url: String, expires: Date, user: User) -> [String: Any] {
        ["invitationURL": url, "invitationExpires": GermanFormat.deadline(expires), "invitedName": user.displayName, "invitedEmail": user.email]
    }
}
