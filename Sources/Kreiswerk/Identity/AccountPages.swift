import Foundation
import Hummingbird

/// `/konto`: one's own account — change the password, set up or remove the second factor.
struct AccountPages {
    let database: Database
    let pages: Pages
    let passwords: Passwords

    func accountPage(_ context: SignedInContext, errors: [String: String] = [:], notice: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        let identity = context.identity
        let pending = try await totpSecret(of: identity, pendingOnly: true)
        var data = FormErrors.values(
            errors,
            labels: ["current_password": "Bisheriges Passwort", "new_password": "Neues Passwort", "new_password_repeat": "Neues Passwort wiederholen",
                     "code": "Code"])
        data.merge([
            "email": identity.email, "secondFactorEnabled": identity.secondFactorEnabled, "secondFactorRequired": identity.secondFactorRequired,
        ]) { $1 }
        if let pending, !identity.secondFactorEnabled {
            data["pendingSecret"] = SecondFactor.typedSecret(pending)
            data["authenticatorURL"] = SecondFactor.authenticatorURL(secret: pending, account: identity.email)
        }
        if let notice { data["notice"] = notice }
        if identity.mustSetUpSecondFactor, notice == nil {
            data["notice"] = "Ihr Mandant verlangt einen zweiten Faktor. Bitte richten Sie ihn ein; bis dahin ist nur diese Seite erreichbar."
        }
        return pages.render("account", data, identity: identity, path: "/konto", status: status)
    }

    /// The account's TOTP secret; with `pendingOnly`, only while it is being set up (not yet confirmed).
    func totpSecret(of identity: Identity, pendingOnly: Bool) async throws -> String? {
        try await database.withTenant(identity.tenant.id, user: identity.userID) { connection in
            try await connection.query(
                "SELECT totp_secret FROM users WHERE id = \(identity.userID) AND (NOT \(pendingOnly) OR totp_enabled_at IS NULL)", logger: database.logger
            ).collect().first?.decode(String?.self)
        }
    }

    func register(on routes: GuardedRouter) {
        routes.get("/konto", .ownAccount) { request, context in
            let notice = request.uri.queryParameters["gespeichert"] != nil ? "Gespeichert." : nil
            return try await accountPage(context, notice: notice)
        }

        routes.post("/konto/passwort", .ownAccount) { _, context -> Response in
            let form = context.form, identity = context.identity
            let current = try await database.withTenant(identity.tenant.id, user: identity.userID) {
                try await Accounts.passwordHash(of: identity.userID, on: $0, logger: database.logger)
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
                // Other sessions and login tokens of the account end; this session stays.
                if case .session(let id, _) = identity.credential {
                    try await connection.query(
                        "UPDATE sessions SET ended_at = now() WHERE user_id = \(identity.userID) AND id <> \(id) AND ended_at IS NULL", logger: database.logger)
                }
                try await connection.query(
                    "UPDATE api_tokens SET revoked_at = now() WHERE user_id = \(identity.userID) AND kind = 'login' AND revoked_at IS NULL",
                    logger: database.logger)
                try await AuditLog.record(context.audit("auth.password_changed", objectType: "user", objectID: identity.userID.uuidString),
                                          on: connection, logger: database.logger)
            }
            return .redirect(to: "/konto?gespeichert=1", type: .normal)
        }

        routes.post("/konto/zweiter-faktor", .ownAccount) { _, context -> Response in
            let identity = context.identity
            guard !identity.secondFactorEnabled else { return .redirect(to: "/konto", type: .normal) }
            try await database.withTenant(identity.tenant.id, user: identity.userID) { connection in
                try await connection.query(
                    "UPDATE users SET totp_secret = \(SecondFactor.newSecret()), updated_at = now() WHERE id = \(identity.userID) AND totp_enabled_at IS NULL",
                    logger: database.logger)
            }
            return .redirect(to: "/konto", type: .normal)
        }

        routes.post("/konto/zweiter-faktor/bestaetigen", .ownAccount) { _, context -> Response in
            let identity = context.identity
            guard let secret = try await totpSecret(of: identity, pendingOnly: true) else { return .redirect(to: "/konto", type: .normal) }
            guard SecondFactor.verify(context.form["code"], secret: secret) else {
                return try await accountPage(
                    context, errors: ["code": "Der Code stimmt nicht. Prüfen Sie die Uhrzeit Ihres Telefons und geben Sie den aktuellen Code ein."],
                    status: .unprocessableContent)
            }
            try await database.withTenant(identity.tenant.id, user: identity.userID) { connection in
                try await connection.query(
                    "UPDATE users SET totp_enabled_at = now(), version = version + 1, updated_at = now() WHERE id = \(identity.userID)", logger: database.logger)
                try await AuditLog.record(context.audit("auth.second_factor_enabled", objectType: "user", objectID: identity.userID.uuidString),
                                          on: connection, logger: database.logger)
            }
            return .redirect(to: "/konto?gespeichert=1", type: .normal)
        }

        routes.post("/konto/zweiter-faktor/entfernen", .ownAccount) { _, context -> Response in
            let identity = context.identity
            guard !identity.secondFactorRequired else {
                return try await accountPage(context, errors: ["code": "Ihr Mandant verlangt den zweiten Faktor; er kann nicht entfernt werden."], status: .unprocessableContent)
            }
            let secret = try await totpSecret(of: identity, pendingOnly: false)
            guard let secret, SecondFactor.verify(context.form["code"], secret: secret) else {
                return try await accountPage(context, errors: ["code": "Der Code stimmt nicht."], status: .unprocessableContent)
            }
            try await database.withTenant(identity.tenant.id, user: identity.userID) { connection in
                try await connection.query(
                    "UPDATE users SET totp_secret = NULL, totp_enabled_at = NULL, version = version + 1, updated_at = now() WHERE id = \(identity.userID)",
                    logger: database.logger)
                try await AuditLog.record(context.audit("auth.second_factor_disabled", objectType: "user", objectID: identity.userID.uuidString),
                                          on: connection, logger: database.logger)
            }
            return .redirect(to: "/konto?gespeichert=1", type: .normal)
        }
    }
}
