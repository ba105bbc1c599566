import Foundation
import Hummingbird

/// The web sign-in: `/anmelden` (e-mail and password), `/anmelden/zweiter-faktor` (TOTP), `/abmelden`,
/// and `/einladung/{token}` where an invited person sets their password.
struct SignInPages {
    let database: Database
    let pages: Pages
    let signIn: SignIn
    let credentials: Credentials
    let invitations: Invitations
    let passwords: Passwords
    let secureCookies: Bool

    func sessionCookie(_ secret: Secret) -> Cookie {
        Cookie(name: AuthenticationMiddleware.sessionCookie, value: secret.value, path: "/", secure: secureCookies, httpOnly: true, sameSite: .lax)
    }

    var clearedSessionCookie: Cookie {
        Cookie(name: AuthenticationMiddleware.sessionCookie, value: "", maxAge: 0, path: "/", secure: secureCookies, httpOnly: true, sameSite: .lax)
    }

    func signInPage(_ request: Request, email: String = "", message: String? = nil, notice: String? = nil, status: HTTPResponse.Status = .ok) -> Response {
        let (token, cookie) = CSRF.anonymousToken(request, secure: secureCookies)
        var data: [String: Any] = ["csrf": token, "email": email]
        if let message { data["message"] = message }
        if let notice { data["notice"] = notice }
        return pages.render("sign-in", data, identity: nil, path: "/anmelden", status: status, cookies: cookie.map { [$0] } ?? [])
    }

    func register(on routes: GuardedRouter) {
        routes.open(.get, "/anmelden") { request, context -> Response in
            if context.identity != nil { return .redirect(to: "/", type: .normal) }
            let query = request.uri.queryParameters
            let notice =
                query["abgemeldet"] != nil ? "Sie sind abgemeldet."
                : query["eingeladen"] != nil ? "Ihr Passwort ist festgelegt. Bitte melden Sie sich jetzt an."
                : query["abgelaufen"] != nil ? "Ihre Sitzung ist abgelaufen. Bitte melden Sie sich erneut an." : nil
            return signInPage(request, notice: notice)
        }

        routes.openForm("/anmelden") { request, context, form -> Response in
            let email = form["email"]
            guard !email.isEmpty, !form.raw("password").isEmpty else {
                return signInPage(request, email: email, message: "Bitte E-Mail-Adresse und Passwort eingeben.", status: .unprocessableContent)
            }
            let verified: SignIn.Verified
            do {
                verified = try await signIn.verify(email: email, password: form.raw("password"), code: nil, requireCode: false, clientAddress: context.clientAddress)
            } catch let error as DomainError {
                let status: HTTPResponse.Status = if case .throttled = error { .tooManyRequests } else { .unauthorized }
                return signInPage(request, email: email, message: error.message, status: status)
            }
            // A new session id on every sign-in; an earlier session of this browser ends, whoever's and whatever its tenant.
            let secret = try await database.withTenant(verified.tenantID, user: verified.userID) { connection in
                if let old = request.cookies[AuthenticationMiddleware.sessionCookie]?.value, !old.isEmpty {
                    try await credentials.endSession(cookie: old, on: connection)
                }
                let secret = try await credentials.startSession(
                    tenant: verified.tenantID, user: verified.userID, secondFactorPending: verified.secondFactorPending,
                    clientAddress: context.clientAddress, on: connection)
                if !verified.secondFactorPending {
                    try await AuditLog.record(
                        AuditEvent("auth.sign_in", tenant: verified.tenantID, actor: verified.userID, objectType: "user", objectID: verified.userID.uuidString,
                                   detail: ["via": "web"], clientAddress: context.clientAddress),
                        on: connection, logger: database.logger)
                }
                return secret
            }
            var response = Response.redirect(to: verified.secondFactorPending ? "/anmelden/zweiter-faktor" : "/", type: .normal)
            response.setCookie(sessionCookie(secret))
            return response
        }

        routes.open(.get, "/anmelden/zweiter-faktor") { _, context -> Response in
            guard let pending = context.pendingSecondFactor, case .session(_, let csrf) = pending.credential else {
                return .redirect(to: "/anmelden", type: .normal)
            }
            return pages.render("second-factor", ["csrf": csrf], identity: nil, path: "/anmelden/zweiter-faktor")
        }

        // Open, because the session is not signed in yet; the session's own CSRF token is checked here.
        routes.open(.post, "/anmelden/zweiter-faktor") { request, context -> Response in
            guard let pending = context.pendingSecondFactor, case .session(let sessionID, let csrf) = pending.credential else {
                return .redirect(to: "/anmelden", type: .normal)
            }
            let form = try await Form.read(request, context: context)
            try CSRF.check(form, session: csrf)
            do {
                try await signIn.verifySecondFactor(
                    user: pending.userID, tenant: pending.tenant.id, email: pending.email, code: form["code"], clientAddress: context.clientAddress)
            } catch let error as InvalidInput {
                var data = FormErrors.values(error.errors, labels: ["code": "Code"])
                data["csrf"] = csrf
                return pages.render("second-factor", data, identity: nil, path: "/anmelden/zweiter-faktor", status: .unprocessableContent)
            } catch let error as DomainError {
                return pages.render("second-factor", ["csrf": csrf, "message": error.message], identity: nil, path: "/anmelden/zweiter-faktor", status: .tooManyRequests)
            }
            // The half-signed-in session ends; a fresh one with a new id begins.
            let secret = try await database.withTenant(pending.tenant.id, user: pending.userID) { connection in
                try await credentials.endSession(sessionID, on: connection)
                let secret = try await credentials.startSession(
                    tenant: pending.tenant.id, user: pending.userID, secondFactorPending: false, clientAddress: context.clientAddress, on: connection)
                try await AuditLog.record(
                    AuditEvent("auth.sign_in", tenant: pending.tenant.id, actor: pending.userID, objectType: "user", objectID: pending.userID.uuidString,
                               detail: ["via": "web", "second_factor": "totp"], clientAddress: context.clientAddress),
                    on: connection, logger: database.logger)
                return secret
            }
            var response = Response.redirect(to: "/", type: .normal)
            response.setCookie(sessionCookie(secret))
            return response
        }

        // Open: also ends a session that is still waiting for its second factor.
        routes.open(.post, "/abmelden") { request, context -> Response in
            let form = try await Form.read(request, context: context)
            if let identity = context.identity ?? context.pendingSecondFactor, case .session(let id, let csrf) = identity.credential {
                try CSRF.check(form, session: csrf)
                try await database.withTenant(identity.tenant.id, user: identity.userID) { connection in
                    try await credentials.endSession(id, on: connection)
                    try await AuditLog.record(
                        AuditEvent("auth.sign_out", tenant: identity.tenant.id, actor: identity.userID, objectType: "user",
                                   objectID: identity.userID.uuidString, detail: ["via": "web"], clientAddress: context.clientAddress),
                        on: connection, logger: database.logger)
                }
            }
            var response = Response.redirect(to: "/anmelden?abgemeldet=1", type: .normal)
            response.setCookie(clearedSessionCookie)
            return response
        }

        routes.open(.get, "/einladung/{token}") { request, context -> Response in
            let token = try context.parameters.decoded("token")
            let invitation = try await invitations.pending(token, on: database.client)
            return invitationPage(request, token: token, invitation)
        }

        routes.openForm("/einladung/{token}") { request, context, form -> Response in
            let token = try context.parameters.decoded("token")
            let invitation = try await invitations.pending(token, on: database.client)
            do {
                try Passwords.validate(form.raw("password"), repeated: form.raw("password_repeat"))
            } catch let error as InvalidInput {
                return invitationPage(request, token: token, invitation, errors: error.errors, status: .unprocessableContent)
            }
            let hash = try await passwords.hash(form.raw("password"))
            try await database.withTenant(invitation.tenantID, user: invitation.userID) { connection in
                try await invitations.markUsed(invitation, on: connection)
                try await Accounts.setPasswordHash(hash, of: invitation.userID, on: connection, logger: database.logger)
                try await AuditLog.record(
                    AuditEvent("user.invitation_accepted", tenant: invitation.tenantID, actor: invitation.userID, objectType: "user",
                               objectID: invitation.userID.uuidString, clientAddress: context.clientAddress),
                    on: connection, logger: database.logger)
            }
            return .redirect(to: "/anmelden?eingeladen=1", type: .normal)
        }
    }

    func invitationPage(
        _ request: Request, token: String, _ invitation: Invitations.Pending, errors: [String: String] = [:], status: HTTPResponse.Status = .ok
    ) -> Response {
        let (csrf, cookie) = CSRF.anonymousToken(request, secure: secureCookies)
        var data = FormErrors.values(errors, labels: ["password": "Neues Passwort", "password_repeat": "Passwort wiederholen"])
        data.merge(["csrf": csrf, "token": token, "email": invitation.email, "displayName": invitation.displayName]) { $1 }
        return pages.render("invitation", data, identity: nil, path: "/einladung", status: status, cookies: cookie.map { [$0] } ?? [])
    }
}
