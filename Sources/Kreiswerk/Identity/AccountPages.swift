import Foundation
import Hummingbird

/// `/konto`: one's own account — change the password, set up or remove the second factor, create, list and revoke
/// personal access tokens.
struct AccountPages {
    let database: Database
    let pages: Pages
    let passwords: Passwords
    let tokens: PersonalTokens
    /// Seals the TOTP secret set up here (`account_totp_*` keep it, sealed, in the database).
    let secrets: SecretBox

    func accountPage(
        _ context: SignedInContext, errors: [String: String] = [:], notice: String? = nil, created: (Credentials.PersonalToken, Secret)? = nil,
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let identity = context.identity
        let pending = try await totpSecret(of: identity, pendingOnly: true)
        var data = FormErrors.values(
            errors,
            labels: ["current_password": "Bisheriges Passwort", "new_password": "Neues Passwort", "new_password_repeat": "Neues Passwort wiederholen",
                     "code": "Code"].merging(Self.tokenLabels(errors)) { $1 })
        data.merge([
            "email": identity.email, "secondFactorEnabled": identity.secondFactorEnabled, "secondFactorRequired": identity.secondFactorRequired,
        ]) { $1 }
        if let pending, !identity.secondFactorEnabled {
            data["pendingSecret"] = SecondFactor.typedSecret(pending)
            data["authenticatorURL"] = SecondFactor.authenticatorURL(secret: pending, account: identity.email)
        }
        data.merge(try await tokenValues(identity, errors: errors, created: created)) { $1 }
        if let notice { data["notice"] = notice }
        if identity.mustSetUpSecondFactor, notice == nil {
            data["notice"] = "Ihr Mandant verlangt einen zweiten Faktor. Bitte richten Sie ihn ein; bis dahin ist nur diese Seite erreichbar."
        }
        return pages.render("account", data, identity: identity, path: "/konto", status: status)
    }

    /// The account's TOTP secret, opened; with `pendingOnly`, only while it is being set up (not yet confirmed).
    func totpSecret(of identity: Identity, pendingOnly: Bool) async throws -> String? {
        let row = try await database.withTenant(identity.tenant.id, user: identity.userID) { connection in
            try await connection.query("SELECT secret, enabled FROM account_totp_secret()", logger: database.logger).collect().first?.decode((String, Bool).self)
        }
        guard let (sealed, enabled) = row, !(pendingOnly && enabled) else { return nil }
        return try secrets.open(sealed, account: identity.userID).secret
    }

    /// Confirms (`confirm`) or removes (`remove`) the second factor with the form's code, taking the code's step so that
    /// it signs in nowhere else, and audits it as `auditAction`, in one transaction: false if the code is wrong or was used.
    func changeSecondFactor(_ context: SignedInContext, action: String, auditAction: String) async throws -> Bool {
        let identity = context.identity
        guard let secret = try await totpSecret(of: identity, pendingOnly: action == "confirm"),
            let step = SecondFactor.verify(context.form["code"], secret: secret)
        else { return false }
        return try await database.withTenant(identity.tenant.id, user: identity.userID) { connection in
            let taken = try await connection.query("SELECT account_totp_use(\(step), \(action))", logger: database.logger).collect().first?
                .decode(Bool?.self)
            guard taken == true else { return false }
            try await AuditLog.record(context.audit(auditAction, objectType: "user", objectID: identity.userID.uuidString), on: connection, logger: database.logger)
            return true
        }
    }

    func register(on routes: GuardedRouter) {
        registerTokens(on: routes)
        routes.get("/konto", .ownAccount) { request, context in
            let notice =
                request.uri.queryParameters["passwort"] != nil ? Self.passwordChanged : request.uri.queryParameters["gespeichert"] != nil ? "Gespeichert." : nil
            return try await accountPage(context, notice: notice)
        }

        routes.post("/konto/passwort", .ownAccount) { _, context -> Response in
            let form = context.form, identity = context.identity
            let current = try await database.withTenant(identity.tenant.id, user: identity.userID) {
                try await Accounts.passwordHash(on: $0, logger: database.logger)
            }
            guard try await passwords.verify(form.raw("current_password"), against: current) else {
                return try await accountPage(context, errors: ["current_password": "Das bisherige Passwort stimmt nicht."], status: .unprocessableContent)
            }
            do {
                try Passwords.validate(form.raw("new_password"), repeated: form.raw("new_password_repeat"), field: "new_password")
            } catch let error as InvalidInput {
                return try await accountPage(context, errors: error.errors, status: .unprocessableContent)
            }
            let hash = try await passwords.hash(form.raw("new_password"))
            try await database.withTenant(identity.tenant.id, user: identity.userID) { connection in
                try await Accounts.setPasswordHash(hash, of: identity.userID, on: connection, logger: database.logger)
                // Everything issued under the old password ends: other sessions, login tokens, personal access tokens.
                try await tokens.credentials.endAll(of: identity.userID, keeping: identity.credential, on: connection)
                try await AuditLog.record(context.audit("auth.password_changed", objectType: "user", objectID: identity.userID.uuidString),
                                          on: connection, logger: database.logger)
            }
            return .redirect(to: "/konto?passwort=geaendert", type: .normal)
        }

        routes.post("/konto/zweiter-faktor", .ownAccount) { _, context -> Response in
            let identity = context.identity
            guard !identity.secondFactorEnabled else { return .redirect(to: "/konto", type: .normal) }
            let sealed = try secrets.seal(SecondFactor.newSecret(), account: identity.userID)
            try await database.withTenant(identity.tenant.id, user: identity.userID) { connection in
                try await connection.query("SELECT account_totp_begin(\(sealed))", logger: database.logger)
            }
            return .redirect(to: "/konto", type: .normal)
        }

        routes.post("/konto/zweiter-faktor/bestaetigen", .ownAccount) { _, context -> Response in
            let identity = context.identity
            guard try await totpSecret(of: identity, pendingOnly: true) != nil else { return .redirect(to: "/konto", type: .normal) }
            guard try await changeSecondFactor(context, action: "confirm", auditAction: "auth.second_factor_enabled") else {
                return try await accountPage(
                    context, errors: ["code": "Der Code stimmt nicht. Prüfen Sie die Uhrzeit Ihres Telefons und geben Sie den aktuellen Code ein."],
                    status: .unprocessableContent)
            }
            return .redirect(to: "/konto?gespeichert=1", type: .normal)
        }

        routes.post("/konto/zweiter-faktor/entfernen", .ownAccount) { _, context -> Response in
            let identity = context.identity
            guard !identity.secondFactorRequired else {
                return try await accountPage(context, errors: ["code": "Ihr Mandant verlangt den zweiten Faktor; er kann nicht entfernt werden."], status: .unprocessableContent)
            }
            guard try await changeSecondFactor(context, action: "remove", auditAction: "auth.second_factor_disabled") else {
                return try await accountPage(
                    context, errors: ["code": "Der Code stimmt nicht oder wurde schon verwendet. Bitte den aktuellen Code eingeben."], status: .unprocessableContent)
            }
            return .redirect(to: "/konto?gespeichert=1", type: .normal)
        }
    }
}

// MARK: - Personal access tokens

extension AccountPages {
    static let passwordChanged =
        "Das Passwort ist geändert. Alle anderen Anmeldungen dieses Kontos und alle seine Zugriffstokens sind beendet; eine Anbindung braucht einen neuen Token."

    /// Labels of the token forms' fields for the error summary; a revocation's checkbox is named after its token.
    static func tokenLabels(_ errors: [String: String]) -> [String: String] {
        var labels = ["name": "Name des Tokens", "expires_in_days": "Gültig für (Tage)", "password": "Passwort zur Bestätigung", "totp": "Code aus der App"]
        for field in errors.keys where field.hasPrefix("confirm-") { labels[field] = "Widerruf bestätigen" }
        return labels
    }

    /// The token list, the limits the form names, and a token just created (its secret is shown this once).
    func tokenValues(_ identity: Identity, errors: [String: String], created: (Credentials.PersonalToken, Secret)?) async throws -> [String: Any] {
        let lifetimes = tokens.credentials.lifetimes
        let rows = try await tokens.list(of: identity).map { token -> [String: Any] in
            let id = token.id.uuidString.lowercased()
            var row: [String: Any] = [
                "id": id, "name": token.name, "created": GermanFormat.dateTime(token.createdAt),
                "lastUsed": token.lastUsedAt.map(GermanFormat.dateTime) ?? "noch nie",
            ]
            if let expires = token.expiresAt { row["expires"] = GermanFormat.dateTime(expires) }
            if let error = errors["confirm-\(id)"] { row["error"] = error }
            return row
        }
        var values: [String: Any] = [
            "tokens": rows, "hasTokens": !rows.isEmpty, "tokenDays": lifetimes.personalTokenDays, "tokenMaximumDays": lifetimes.personalTokenMaximumDays,
        ]
        if let (token, secret) = created {
            values["newToken"] = ["name": token.name, "secret": secret.value, "expires": token.expiresAt.map(GermanFormat.dateTime) ?? ""]
        }
        return values
    }

    func registerTokens(on routes: GuardedRouter) {
        routes.post("/konto/tokens", .ownAccount) { _, context -> Response in
            let form = context.form
            do {
                let text = form["expires_in_days"]
                guard text.isEmpty || Int(text) != nil else {
                    throw InvalidInput(field: "expires_in_days", "Bitte die Gültigkeit als Zahl von Tagen angeben (1 bis \(tokens.credentials.lifetimes.personalTokenMaximumDays)).")
                }
                let created = try await tokens.create(
                    by: context.identity, name: form["name"], days: Int(text), password: form.raw("password"), code: form["totp"],
                    clientAddress: context.clientAddress)
                let notice =
                    "Der Token „\(created.0.name)“ ist erstellt und gilt bis \(created.0.expiresAt.map(GermanFormat.dateTime) ?? "?"). "
                    + "Kopieren Sie ihn jetzt: er wird nur dieses eine Mal angezeigt."
                return try await accountPage(context, notice: notice, created: created)
            } catch let error as InvalidInput {
                return try await accountPage(context, errors: error.errors, status: .unprocessableContent)
            }
        }

        routes.post("/konto/tokens/{id}/widerrufen", .ownAccount) { _, context -> Response in
            let id = try IdentityAPI.uuid(context.parameters.decoded("id"), "token")
            guard context.form["confirm"] == "1" else {
                return try await accountPage(
                    context, errors: ["confirm-\(id.uuidString.lowercased())": "Bitte bestätigen Sie, dass dieser Token widerrufen werden soll."],
                    status: .unprocessableContent)
            }
            let name = try await tokens.revoke(id, by: context.identity, clientAddress: context.clientAddress)
            return try await accountPage(context, notice: "Der Token „\(name)“ ist widerrufen. Wer ihn noch verwendet, wird ab sofort abgewiesen.")
        }
    }
}
