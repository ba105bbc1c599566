import Foundation
import Hummingbird

/// `/benutzer`: accounts of one's scope, and for administrators creating accounts and changing roles.
struct UserPages {
    let database: Database
    let policy: Policy
    let pages: Pages
    let users: UserAdministration

    func usersPage(
        _ context: SignedInContext,
        slug: String?,
        invited: UserAdministration.Invited? = nil,
        errors: [String: String] = [:],
        message: String? = nil,
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let identity = context.identity
        let overview = try await users.overview(by: identity, tenant: slug)
        let (target, list) = (overview.target, overview.accounts)
        // New accounts: the roles the target's kind has and the viewer may grant (none: no form).
        let grantable = overview.newAccountRoles
        var data = FormErrors.values(errors, labels: ["email": "E-Mail-Adresse", "display_name": "Name", "roles": "Rollen", "active": "Status"])
        data.merge([
            "scopeName": overview.districtWide ? "\(identity.tenant.name) und seine Mandanten" : target.name,
            "scopeSlug": target.slug,
            "count": list.count,
            "canManage": !grantable.isEmpty || list.contains { !$0.grantable.isEmpty },
            "canCreate": !grantable.isEmpty,
            "users": list.map { entry -> [String: Any] in
                let user = entry.user
                // Roles the viewer may not change stay as they are; the form says so.
                let kept = user.roles.filter { !entry.grantable.contains($0) }
                var row: [String: Any] = [
                    "id": user.id.uuidString, "userID": user.id.uuidString.prefix(8).lowercased(), "displayName": user.displayName,
                    "email": user.email,
                    "tenant": user.tenant, "roleLabels": user.roles.map(\.label).joined(separator: ", "), "version": user.version,
                    "active": user.active,
                    "status": user.active ? "aktiv" : "deaktiviert", "own": user.id == identity.userID,
                    "roleForm": !entry.grantable.isEmpty, "statusForm": entry.mayChangeStatus,
                    "roleOptions": entry.grantable.map { ["value": $0.rawValue, "label": $0.label, "checked": user.roles.contains($0)] },
                ]
                if !kept.isEmpty { row["keptRoles"] = kept.map(\.label).joined(separator: ", ") }
                return row
            },
            "newRoleOptions": grantable.map { ["value": $0.rawValue, "label": $0.label] },
        ]) { $1 }
        if let message { data["message"] = message }
        if let tenants = overview.tenantChoices {
            data["tenantChoices"] =
                ([["slug": identity.tenant.slug, "name": identity.tenant.name, "selected": target.id == identity.tenant.id]]
                + tenants.map { ["slug": $0.slug, "name": $0.name, "selected": $0.id == target.id] }) as [[String: Any]]
        }
        if let invited {
            data.merge(InvitationView.values(url: invited.invitationURL, expires: invited.invitationExpiresAt, user: invited.user)) { $1 }
        }
        return pages.render("users", data, identity: identity, path: "/benutzer", status: status)
    }

    func register(on routes: GuardedRouter) {
        routes.get("/benutzer", .viewUsers) { request, context in
            try await usersPage(context, slug: request.uri.queryParameters["mandant"].map(String.init))
        }
        routes.post("/benutzer", .manageUsers, use: create)
        routes.post("/benutzer/{id}", .manageUsers, use: change)
    }

    func create(_ request: Request, _ context: SignedInContext) async throws -> Response {
        let form = context.form
        let slug = form["mandant"].isEmpty ? nil : form["mandant"]
        do {
            let invited = try await users.create(
                by: context.identity,
                tenant: slug,
                email: form["email"],
                displayName: form["display_name"],
                roles: try Role.parse(form.all("roles")),
                clientAddress: context.clientAddress
            )
            return try await usersPage(context, slug: slug, invited: invited, status: .created)
        } catch let error as InvalidInput {
            return try await usersPage(context, slug: slug, errors: error.errors, status: .unprocessableContent)
        } catch let conflict as FieldConflict {
            return try await usersPage(context, slug: slug, errors: [conflict.field: conflict.message], status: .conflict)
        } catch DomainError.forbidden(let message) {
            return try await usersPage(context, slug: slug, errors: ["roles": message], status: .forbidden)
        }
    }

    func change(_ request: Request, _ context: SignedInContext) async throws -> Response {
        let form = context.form
        let id = try context.id()
        guard let version = Int(form["version"]) else {
            throw InvalidInput(field: "version", "Das Formular ist unvollständig; bitte die Seite neu laden.")
        }
        let (slug, outcome) = try await users.changeOnPage(
            by: context.identity,
            id: id,
            version: version,
            ticked: form.all("roles"),
            active: form["active"] == "1",
            clientAddress: context.clientAddress
        )
        do {
            _ = try outcome.get()
        } catch let error as InvalidInput {
            return try await usersPage(context, slug: slug, errors: error.errors, status: .unprocessableContent)
        } catch DomainError.stale(let message) {
            return try await usersPage(context, slug: slug, message: message, status: .conflict)
        } catch DomainError.forbidden(let message) {
            return try await usersPage(context, slug: slug, errors: ["roles": message], status: .forbidden)
        }
        return .redirect(to: "/benutzer?mandant=\(slug)", type: .normal)
    }
}
