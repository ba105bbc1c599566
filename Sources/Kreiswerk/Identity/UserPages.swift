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
        notice: String? = nil,
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
            "canManage": !grantable.isEmpty || list.contains { !$0.grantable.isEmpty || ($0.mayChangeStatus && $0.invitation != nil) },
            "canCreate": !grantable.isEmpty,
            "users": list.map { entry -> [String: Any] in
                let user = entry.user
                // Roles the viewer may not change stay as they are; the form says so.
                let kept = user.roles.filter { !entry.grantable.contains($0) }
                var row: [String: Any] = [
                    "id": user.id.uuidString, "userID": user.id.uuidString.prefix(8).lowercased(), "displayName": user.displayName,
                    "email": user.email,
                    "tenant": entry.tenant?.name ?? user.tenant, "roleLabels": user.roles.map(\.label).joined(separator: ", "),
                    "version": user.version,
                    "active": user.active,
                    "status": Self.status(user, entry.invitation), "own": user.id == identity.userID,
                    "roleForm": !entry.grantable.isEmpty, "statusForm": entry.mayChangeStatus,
                    "roleOptions": entry.grantable.map { ["value": $0.rawValue, "label": $0.label, "checked": user.roles.contains($0)] },
                ]
                if !kept.isEmpty { row["keptRoles"] = kept.map(\.label).joined(separator: ", ") }
                if entry.mayChangeStatus, user.active, let invitation = entry.invitation {
                    row["invitationForms"] = ["withdrawable": invitation.isPending]
                }
                return row
            },
            "newRoleOptions": grantable.map { ["value": $0.rawValue, "label": $0.label] },
        ]) { $1 }
        if let message { data["message"] = message }
        if let notice { data["notice"] = notice }
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
        routes.post("/benutzer/{id}/einladung", .manageUsers, use: resendInvitation)
        routes.post("/benutzer/{id}/einladung/zurueckziehen", .manageUsers, use: withdrawInvitation)
    }

    /// An account's status in words: deactivated, where its invitation stands, or active.
    static func status(_ user: User, _ invitation: Invitations.State?) -> String {
        guard user.active else { return "deaktiviert" }
        switch invitation {
        case .open(let sent, let expires): return "Einladung offen seit \(GermanFormat.date(sent)), gültig bis \(GermanFormat.deadline(expires))"
        case .expired(let sent, let expired):
            return "Einladung vom \(GermanFormat.date(sent)) abgelaufen am \(GermanFormat.date(expired)); bitte erneut senden"
        case .withdrawn(let at): return "Einladung zurückgezogen am \(GermanFormat.date(at))"
        case nil: return "aktiv"
        }
    }

    /// The tenant slug an account form came from (`mandant`), to show the same list again.
    func returnSlug(_ context: SignedInContext) -> String? {
        context.form["mandant"].isEmpty ? nil : context.form["mandant"]
    }

    func resendInvitation(_ request: Request, _ context: SignedInContext) async throws -> Response {
        let slug = returnSlug(context)
        do {
            let invited = try await users.resendInvitation(by: context.identity, id: try context.id(), clientAddress: context.clientAddress)
            return try await usersPage(
                context,
                slug: slug,
                invited: invited,
                notice: "Neue Einladung für \(invited.user.displayName) erstellt. Der bisherige Link gilt nicht mehr.",
                status: .created
            )
        } catch DomainError.conflict(let message) {
            return try await usersPage(context, slug: slug, message: message, status: .conflict)
        } catch DomainError.forbidden(let message) {
            return try await usersPage(context, slug: slug, message: message, status: .forbidden)
        }
    }

    func withdrawInvitation(_ request: Request, _ context: SignedInContext) async throws -> Response {
        let slug = returnSlug(context)
        let id = try context.id()
        guard context.form["confirm"] == "1" else {
            // Found first, so that an account outside the viewer's scope stays a 404.
            _ = try await users.find(by: context.identity, id: id)
            return try await usersPage(
                context,
                slug: slug,
                message: "Die Einladung ist nicht zurückgezogen: Bitte das Kästchen „Ja, Einladung zurückziehen“ ankreuzen und erneut absenden.",
                status: .unprocessableContent
            )
        }
        do {
            let user = try await users.withdrawInvitation(by: context.identity, id: id, clientAddress: context.clientAddress)
            return try await usersPage(
                context,
                slug: slug,
                notice: "Einladung für \(user.displayName) (\(user.email)) zurückgezogen: Der Link gilt nicht mehr. "
                    + "Das Konto bleibt ohne Zugang, bis Sie die Einladung erneut senden."
            )
        } catch DomainError.conflict(let message) {
            return try await usersPage(context, slug: slug, message: message, status: .conflict)
        } catch DomainError.forbidden(let message) {
            return try await usersPage(context, slug: slug, message: message, status: .forbidden)
        }
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
