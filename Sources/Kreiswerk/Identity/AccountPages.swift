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

    var account: OwnAccount { OwnAccount(database: database, passwords: passwords, credentials: tokens.credentials, secrets: secrets) }

    func accountPage(
        _ context: SignedInContext,
        errors: [String: String] = [:],
        notice: String? = nil,
        created: (Credentials.PersonalToken, Secret)? = nil,
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let identity = context.identity
        let overview = try await account.overview(of: identity)
        var data = FormErrors.values(
            errors,
            labels: [
                "current_password": "Bisheriges Passwort", "new_password": "Neues Passwort", "new_password_repeat": "Neues Passwort wiederholen",
                "code": "Code",
            ].merging(Self.tokenLabels(errors)) { $1 }
        )
        data.merge([
            "email": identity.email, "secondFactorEnabled": identity.secondFactorEnabled, "secondFactorRequired": identity.secondFactorRequired,
        ]) { $1 }
        if let pending = overview.pendingSecret, !identity.secondFactorEnabled {
            data["pendingSecret"] = SecondFactor.typedSecret(pending)
            data["authenticatorURL"] = SecondFactor.authenticatorURL(secret: pending, account: identity.email)
        }
        data.merge(tokenValues(overview.tokens, errors: errors, created: created)) { $1 }
        if let notice { data["notice"] = notice }
        if identity.mustSetUpSecondFactor, notice == nil {
            data["notice"] = "Ihr Mandant verlangt einen zweiten Faktor. Bitte richten Sie ihn ein; bis dahin ist nur diese Seite erreichbar."
        }
        return pages.render("account", data, identity: identity, path: "/konto", status: status)
    }

    func register(on routes: GuardedRouter) {
        registerTokens(on: routes)
        routes.get("/konto", .ownAccount, use: show)
        routes.post("/konto/passwort", .ownAccount, use: changePassword)
        routes.post("/konto/zweiter-faktor", .ownAccount, use: beginSecondFactor)
        routes.post("/konto/zweiter-faktor/bestaetigen", .ownAccount, use: confirmSecondFactor)
        routes.post("/konto/zweiter-faktor/entfernen", .ownAccount, use: removeSecondFactor)
    }

    func show(_ request: Request, _ context: SignedInContext) async throws -> Response {
        let query = request.uri.queryParameters
        let notice = query["passwort"] != nil ? Self.passwordChanged : query["gespeichert"] != nil ? "Gespeichert." : nil
        return try await accountPage(context, notice: notice)
    }

    func changePassword(_ request: Request, _ context: SignedInContext) async throws -> Response {
        let form = context.form
        do {
            try await account.changePassword(
                current: form.raw("current_password"),
                new: form.raw("new_password"),
                repeated: form.raw("new_password_repeat"),
                by: context.identity,
                clientAddress: context.clientAddress
            )
        } catch let error as InvalidInput {
            return try await accountPage(context, errors: error.errors, status: .unprocessableContent)
        }
        return .redirect(to: "/konto?passwort=geaendert", type: .normal)
    }

    func beginSecondFactor(_ request: Request, _ context: SignedInContext) async throws -> Response {
        try await account.beginSecondFactor(by: context.identity)
        return .redirect(to: "/konto", type: .normal)
    }

    func confirmSecondFactor(_ request: Request, _ context: SignedInContext) async throws -> Response {
        switch try await account.changeSecondFactor(.confirm, code: context.form["code"], by: context.identity, clientAddress: context.clientAddress)
        {
        case .done: return .redirect(to: "/konto?gespeichert=1", type: .normal)
        case .nothingPending, .requiredByTenant: return .redirect(to: "/konto", type: .normal)
        case .wrongCode:
            return try await accountPage(
                context,
                errors: ["code": "Der Code stimmt nicht. Prüfen Sie die Uhrzeit Ihres Telefons und geben Sie den aktuellen Code ein."],
                status: .unprocessableContent
            )
        }
    }

    func removeSecondFactor(_ request: Request, _ context: SignedInContext) async throws -> Response {
        switch try await account.changeSecondFactor(.remove, code: context.form["code"], by: context.identity, clientAddress: context.clientAddress) {
        case .done: return .redirect(to: "/konto?gespeichert=1", type: .normal)
        case .requiredByTenant:
            return try await accountPage(
                context,
                errors: ["code": "Ihr Mandant verlangt den zweiten Faktor; er kann nicht entfernt werden."],
                status: .unprocessableContent
            )
        case .wrongCode, .nothingPending:
            return try await accountPage(
                context,
                errors: ["code": "Der Code stimmt nicht oder wurde schon verwendet. Bitte den aktuellen Code eingeben."],
                status: .unprocessableContent
            )
        }
    }
}

// MARK: - Personal access tokens

extension AccountPages {
    static let passwordChanged =
        "Das Passwort ist geändert. Alle anderen Anmeldungen dieses Kontos und alle seine Zugriffstokens sind beendet; eine Anbindung braucht einen neuen Token."

    /// Labels of the token forms' fields for the error summary; a revocation's checkbox is named after its token.
    static func tokenLabels(_ errors: [String: String]) -> [String: String] {
        var labels = [
            "name": "Name des Tokens", "expires_in_days": "Gültig für (Tage)", "password": "Passwort zur Bestätigung", "totp": "Code aus der App",
        ]
        for field in errors.keys where field.hasPrefix("confirm-") { labels[field] = "Widerruf bestätigen" }
        return labels
    }

    /// The token list, the limits the form names, and a token just created (its secret is shown this once).
    func tokenValues(_ list: [Credentials.PersonalToken], errors: [String: String], created: (Credentials.PersonalToken, Secret)?) -> [String: Any] {
        let lifetimes = tokens.credentials.lifetimes
        let rows = list.map { token -> [String: Any] in
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
            "tokens": rows, "hasTokens": !rows.isEmpty, "tokenDays": lifetimes.personalTokenDays,
            "tokenMaximumDays": lifetimes.personalTokenMaximumDays,
        ]
        if let (token, secret) = created {
            values["newToken"] = ["name": token.name, "secret": secret.value, "expires": token.expiresAt.map(GermanFormat.dateTime) as Any]
        }
        return values
    }

    func registerTokens(on routes: GuardedRouter) {
        routes.post("/konto/tokens", .ownAccount) { _, context -> Response in
            let form = context.form
            do {
                let text = form["expires_in_days"]
                guard text.isEmpty || Int(text) != nil else {
                    throw InvalidInput(
                        field: "expires_in_days",
                        "Bitte die Gültigkeit als Zahl von Tagen angeben (1 bis \(tokens.credentials.lifetimes.personalTokenMaximumDays))."
                    )
                }
                let created = try await tokens.create(
                    by: context.identity,
                    name: form["name"],
                    days: Int(text),
                    password: form.raw("password"),
                    code: form["totp"],
                    clientAddress: context.clientAddress
                )
                let notice =
                    "Der Token „\(created.0.name)“ ist erstellt und gilt bis \(created.0.expiresAt.map(GermanFormat.dateTime) ?? "?"). "
                    + "Kopieren Sie ihn jetzt: er wird nur dieses eine Mal angezeigt."
                return try await accountPage(context, notice: notice, created: created)
            } catch let error as InvalidInput {
                return try await accountPage(context, errors: error.errors, status: .unprocessableContent)
            }
        }

        routes.post("/konto/tokens/{id}/widerrufen", .ownAccount) { _, context -> Response in
            let id = try context.id()
            guard context.form["confirm"] == "1" else {
                return try await accountPage(
                    context,
                    errors: ["confirm-\(id.uuidString.lowercased())": "Bitte bestätigen Sie, dass dieser Token widerrufen werden soll."],
                    status: .unprocessableContent
                )
            }
            let name = try await tokens.revoke(id, by: context.identity, clientAddress: context.clientAddress)
            return try await accountPage(context, notice: "Der Token „\(name)“ ist widerrufen. Wer ihn noch verwendet, wird ab sofort abgewiesen.")
        }
    }
}
