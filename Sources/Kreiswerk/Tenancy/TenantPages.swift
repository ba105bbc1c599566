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

    func startPage(
        _ context: SignedInContext,
        form: Form = Form(),
        errors: [String: String] = [:],
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let identity = context.identity
        let start = try await visible.start(for: identity)
        let (tenants, scope, canOnboard) = (start.tenants, start.scope, start.mayOnboard)
        var data = FormErrors.values(
            errors,
            labels: [
                "slug": "Kürzel", "name": "Name", "kind": "Art", "district": "Kreis", "email": "E-Mail-Adresse",
                "display_name": "Name der Administration",
            ]
        )
        data.merge([
            "tenantHeading": scope == .all ? "Alle Kreise und Mandanten" : scope == .district ? "Die Mandanten Ihres Kreises" : "Ihr Mandant",
            "tenantCaption": "\(tenants.count) Mandant\(tenants.count == 1 ? "" : "en")",
            "tenants": tenants.map { tenant -> [String: Any] in
                [
                    "slug": tenant.slug, "name": tenant.name, "kindLabel": Self.kindLabel(tenant.kind), "district": tenant.district ?? "–",
                    "status": tenant.active ? "aktiv" : "inaktiv", "canOpen": canOnboard,
                ]
            },
            "canOnboard": canOnboard,
            "canWorkCases": start.mayWorkCases,
            "setUpSecondFactor": identity.mustSetUpSecondFactor,
            "form": ["slug": form["slug"], "name": form["name"], "admin_email": form["admin_email"], "admin_name": form["admin_name"]],
        ]) { $1 }
        if canOnboard {
            let chosenKind = form["kind"].isEmpty ? "carrier" : form["kind"]
            data["kinds"] = ["carrier", "municipality", "authority", "district"].map {
                ["value": $0, "label": Self.kindLabel($0), "selected": $0 == chosenKind]
            }
            data["districts"] = tenants.filter { $0.kind == "district" }.map {
                ["slug": $0.slug, "name": $0.name, "selected": $0.slug == form["district"]]
            }
        }
        return pages.render("start", data, identity: identity, path: "/", status: status)
    }

    func register(on routes: GuardedRouter) {
        routes.get("/", .viewTenants) { _, context in try await startPage(context) }
        routes.post("/mandanten", .onboardTenants, use: onboard)
        routes.get("/mandanten/{slug}", .onboardTenants, use: show)
    }

    func onboard(_ request: Request, _ context: SignedInContext) async throws -> Response {
        let form = context.form
        let asked = TenantOnboarding.Request(
            slug: form["slug"],
            name: form["name"],
            kind: form["kind"],
            district: form["district"],
            admin: .init(email: form["admin_email"], displayName: form["admin_name"])
        )
        let result: TenantOnboarding.Result
        do {
            result = try await onboarding.onboard(asked, by: context.identity, clientAddress: context.clientAddress)
        } catch let error as InvalidInput {
            return try await startPage(context, form: form, errors: error.errors, status: .unprocessableContent)
        } catch let conflict as FieldConflict {
            return try await startPage(context, form: form, errors: [conflict.field: conflict.message], status: .conflict)
        }
        return tenantPage(result.tenant, identity: context.identity, invited: result)
    }

    func show(_ request: Request, _ context: SignedInContext) async throws -> Response {
        tenantPage(try await visible.find(try context.parameters.decoded("slug"), for: context.identity), identity: context.identity, invited: nil)
    }

    func tenantPage(_ tenant: TenantDirectory.Summary, identity: Identity, invited: TenantOnboarding.Result?) -> Response {
        var data: [String: Any] = [
            "tenant": ["slug": tenant.slug, "name": tenant.name, "district": tenant.district as Any],
            "kindLabel": Self.kindLabel(tenant.kind),
            "managedLabel": tenant.managedBy == "files"
                ? "in den Mandanten-Dateien (tenants/); Änderungen dort" : "hier in der Plattform, von der Plattform-Administration",
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
