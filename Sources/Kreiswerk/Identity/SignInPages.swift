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

    func signInPage(
        _ request: Request,
        email: String = "",
        message: String? = nil,
        notice: String? = nil,
        status: HTTPResponse.Status = .ok
    ) -> Response {
        let (token, cookie) = CSRF.anonymousToken(request, secure: secureCookies)
        var data: [String: Any] = ["csrf": token, "email": email]
        if let message { data["message"] = message }
        if let notice { data["notice"] = notice }
        return pages.render("sign-in", data, identity: nil, path: "/anmelden", status: status, cookies: cookie.map { [$0] } ?? [])
    }

    var sessions: SignInSessions { SignInSessions(database: database, signIn: signIn, credentials: credentials) }
    var acceptance: InvitationAcceptance { InvitationAcceptance(database: database, invitations: invitations, passwords: passwords) }

    func register(on routes: GuardedRouter) {
        routes.open(.get, "/anmelden", use: showSignIn)
        routes.openForm("/anmelden", use: signInWithPassword)
        routes.open(.get, "/anmelden/zweiter-faktor", use: showSecondFactor)
        // Open, because the session is not signed in yet; the session's own CSRF token is checked here.
        routes.open(.post, "/anmelden/zweiter-faktor", use: signInWithSecondFactor)
        // Open: also ends a session that is still waiting for its second factor.
        routes.open(.post, "/abmelden", use: signOut)
        routes.open(.get, "/einladung/{token}", use: showInvitation)
        routes.openForm("/einladung/{token}", use: acceptInvitation)
    }

    func showSignIn(_ request: Request, _ context: AppRequestContext) -> Response {
        if context.identity != nil { return .redirect(to: "/", type: .normal) }
        let query = request.uri.queryParameters
        let notice =
            query["abgemeldet"] != nil
            ? "Sie sind abgemeldet."
            : query["eingeladen"] != nil
                ? "Ihr Passwort ist festgelegt. Bitte melden Sie sich jetzt an."
                : query["abgelaufen"] != nil ? "Ihre Sitzung ist abgelaufen. Bitte melden Sie sich erneut an." : nil
        return signInPage(request, notice: notice)
    }

    func signInWithPassword(_ request: Request, _ context: AppRequestContext, _ form: Form) async throws -> Response {
        let email = form["email"]
        guard !email.isEmpty, !form.raw("password").isEmpty else {
            return signInPage(request, email: email, message: "Bitte E-Mail-Adresse und Passwort eingeben.", status: .unprocessableContent)
        }
        let started: SignInSessions.Started
        do {
            started = try await sessions.startWebSession(
                email: email,
                password: form.raw("password"),
                replacing: request.cookies[AuthenticationMiddleware.sessionCookie]?.value,
                clientAddress: context.clientAddress
            )
        } catch let error as DomainError {
            let status: HTTPResponse.Status = if case .throttled = error { .tooManyRequests } else { .unauthorized }
            return signInPage(request, email: email, message: error.message, status: status)
        }
        return signedIn(started)
    }

    /// Where a started web session goes, with its cookie: the second factor if the account needs one, else the start page.
    func signedIn(_ started: SignInSessions.Started) -> Response {
        var response = Response.redirect(to: started.secondFactorPending ? "/anmelden/zweiter-faktor" : "/", type: .normal)
        response.setCookie(sessionCookie(started.secret))
        return response
    }

    func showSecondFactor(_ request: Request, _ context: AppRequestContext) -> Response {
        guard let pending = context.pendingSecondFactor, case .session(_, let csrf) = pending.credential else {
            return .redirect(to: "/anmelden", type: .normal)
        }
        return pages.render("second-factor", ["csrf": csrf], identity: nil, path: "/anmelden/zweiter-faktor")
    }

    func signInWithSecondFactor(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        guard let pending = context.pendingSecondFactor, case .session(let sessionID, let csrf) = pending.credential else {
            return .redirect(to: "/anmelden", type: .normal)
        }
        let form = try await Form.read(request, context: context)
        try CSRF.check(form, session: csrf)
        let secret: Secret
        do {
            secret = try await sessions.completeWebSession(sessionID, of: pending, code: form["code"], clientAddress: context.clientAddress)
        } catch let error as InvalidInput {
            var data = FormErrors.values(error.errors, labels: ["code": "Code"])
            data["csrf"] = csrf
            return pages.render("second-factor", data, identity: nil, path: "/anmelden/zweiter-faktor", status: .unprocessableContent)
        } catch let error as DomainError {
            return pages.render(
                "second-factor",
                ["csrf": csrf, "message": error.message],
                identity: nil,
                path: "/anmelden/zweiter-faktor",
                status: .tooManyRequests
            )
        }
        var response = Response.redirect(to: "/", type: .normal)
        response.setCookie(sessionCookie(secret))
        return response
    }

    func signOut(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let form = try await Form.read(request, context: context)
        if let identity = context.identity ?? context.pendingSecondFactor, case .session(let id, let csrf) = identity.credential {
            try CSRF.check(form, session: csrf)
            try await sessions.endWebSession(id, of: identity, clientAddress: context.clientAddress)
        }
        var response = Response.redirect(to: "/anmelden?abgemeldet=1", type: .normal)
        response.setCookie(clearedSessionCookie)
        return response
    }

    func showInvitation(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let token = try context.parameters.decoded("token")
        return invitationPage(request, token: token, try await acceptance.pending(token))
    }

    func acceptInvitation(_ request: Request, _ context: AppRequestContext, _ form: Form) async throws -> Response {
        let token = try context.parameters.decoded("token")
        switch try await acceptance.accept(
            token,
            password: form.raw("password"),
            repeated: form.raw("password_repeat"),
            clientAddress: context.clientAddress
        ) {
        case .accepted(let email):
            // Signed in with the password just set, as the sign-in form would (with the second factor still to come if the
            // account needs one); only if that fails, to the sign-in page.
            guard
                let started = try? await sessions.startWebSession(
                    email: email,
                    password: form.raw("password"),
                    replacing: request.cookies[AuthenticationMiddleware.sessionCookie]?.value,
                    clientAddress: context.clientAddress
                )
            else { return .redirect(to: "/anmelden?eingeladen=1", type: .normal) }
            // The start page welcomes them (issue 17); with a second factor still to come, that comes first.
            var response = signedIn(started)
            if !started.secondFactorPending { response.headers[.location] = "/?willkommen" }
            return response
        case .refused(let invitation, let errors):
            return invitationPage(request, token: token, invitation, errors: errors, status: .unprocessableContent)
        }
    }

    func invitationPage(
        _ request: Request,
        token: String,
        _ invitation: Invitations.Pending,
        errors: [String: String] = [:],
        status: HTTPResponse.Status = .ok
    ) -> Response {
        let (csrf, cookie) = CSRF.anonymousToken(request, secure: secureCookies)
        var data = FormErrors.values(errors, labels: ["password": "Neues Passwort", "password_repeat": "Passwort wiederholen"])
        data.merge(["csrf": csrf, "token": token, "email": invitation.email, "displayName": invitation.displayName]) { $1 }
        return pages.render("invitation", data, identity: nil, path: "/einladung", status: status, cookies: cookie.map { [$0] } ?? [])
    }
}
