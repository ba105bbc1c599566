import Foundation
import Hummingbird

/// `/api/v1/auth`, `/api/v1/me`, `/api/v1/users`, `/api/v1/tokens`.
struct IdentityAPI {
    let database: Database
    let policy: Policy
    let signIn: SignIn
    let credentials: Credentials
    let users: UserAdministration

    struct LoginRequest: Decodable {
        var email: String
        var password: String
        var totp: String?
    }

    struct LoginResult: Encodable, Sendable {
        var token: String
        var tokenType = "Bearer"
        var expiresAt: Date?
        var user: Me
        enum CodingKeys: String, CodingKey { case token, user, tokenType = "token_type", expiresAt = "expires_at" }
    }

    struct Me: Encodable, Sendable {
        var id: UUID
        var email: String
        var displayName: String
        var roles: [Role]
        var homeTenant: TenantRefJSON
        var actingTenants: [TenantRefJSON]
        var secondFactorEnabled: Bool
        var secondFactorRequired: Bool
        enum CodingKeys: String, CodingKey {
            case id, email, roles
            case displayName = "display_name", homeTenant = "home_tenant", actingTenants = "acting_tenants"
            case secondFactorEnabled = "second_factor_enabled", secondFactorRequired = "second_factor_required"
        }
    }

    struct TenantRefJSON: Encodable, Sendable {
        var id: UUID
        var slug: String
        var name: String
        var kind: String
        var district: String?
        init(_ ref: TenantRef) {
            (id, slug, name, kind, district) = (ref.id, ref.slug, ref.name, ref.kind, ref.district)
        }
        init(_ summary: TenantDirectory.Summary) {
            (id, slug, name, kind, district) = (summary.id, summary.slug, summary.name, summary.kind, summary.district)
        }
    }

    struct NewUser: Decodable {
        var email: String
        var displayName: String
        var roles: [String]
        var tenant: String?
        enum CodingKeys: String, CodingKey { case email, roles, tenant, displayName = "display_name" }
    }

    struct UserPatch: Decodable {
        var roles: [String]?
        var active: Bool?
        var displayName: String?
        enum CodingKeys: String, CodingKey { case roles, active, displayName = "display_name" }
    }

    /// A new personal access token: the password (and the code of a second factor) confirm that its owner asks.
    struct NewToken: Decodable {
        var name: String
        var expiresInDays: Int?
        var password: String
        var totp: String?
        enum CodingKeys: String, CodingKey { case name, password, totp, expiresInDays = "expires_in_days" }
    }

    struct CreatedToken: Encodable, Sendable {
        var token: Credentials.PersonalToken
        var secret: String
    }

    func register(on routes: GuardedRouter) {
        routes.open(.post, "/api/v1/auth/login", use: logIn)
        routes.on(.post, "/api/v1/auth/logout", .ownAccount, use: logOut)

        routes.get("/api/v1/me", .ownAccount) { _, context in
            JSONResponse(try await me(context.identity))
        }

        routes.get("/api/v1/users", .viewUsers) { request, context in
            JSONResponse(try await users.list(by: context.identity, tenant: request.uri.queryParameters["tenant"].map(String.init)))
        }

        routes.on(.post, "/api/v1/users", .manageUsers) { request, context in
            let body = try await request.json(NewUser.self, context: context)
            let invited = try await users.create(
                by: context.identity,
                tenant: body.tenant,
                email: body.email,
                displayName: body.displayName,
                roles: try Role.parse(body.roles),
                clientAddress: context.clientAddress
            )
            return JSONResponse(invited, status: .created, headers: [.location: "/api/v1/users/\(invited.user.id)"])
        }

        routes.get("/api/v1/users/{id}", .viewUsers) { _, context in
            let user = try await users.find(by: context.identity, id: try context.id())
            return JSONResponse(user, headers: [.eTag: "\"\(user.version)\""])
        }

        routes.on(.patch, "/api/v1/users/{id}", .manageUsers) { request, context in
            let id = try context.id()
            let version = try request.ifMatchVersion(of: "/api/v1/users/\(id)")
            let patch = try await request.json(UserPatch.self, context: context)
            let changes = UserChanges(roles: try patch.roles.map { try Role.parse($0) }, active: patch.active, displayName: patch.displayName)
            let user = try await users.update(by: context.identity, id: id, version: version, changes: changes, clientAddress: context.clientAddress)
            return JSONResponse(user, headers: [.eTag: "\"\(user.version)\""])
        }

        // A pending account's invitation: sent again (a new link; the old one ends as replaced) or withdrawn.
        routes.on(.post, "/api/v1/users/{id}/invitation", .manageUsers) { _, context in
            let invited = try await users.resendInvitation(by: context.identity, id: try context.id(), clientAddress: context.clientAddress)
            return JSONResponse(invited, status: .created)
        }

        routes.on(.delete, "/api/v1/users/{id}/invitation", .manageUsers) { _, context -> Response in
            _ = try await users.withdrawInvitation(by: context.identity, id: try context.id(), clientAddress: context.clientAddress)
            return Response(status: .noContent)
        }

        let tokens = PersonalTokens(database: database, signIn: signIn, credentials: credentials)
        routes.get("/api/v1/tokens", .ownAccount) { _, context in
            JSONResponse(try await tokens.list(of: context.identity))
        }

        routes.on(.post, "/api/v1/tokens", .ownAccount) { request, context in
            let body = try await request.json(NewToken.self, context: context)
            let (token, secret) = try await tokens.create(
                by: context.identity,
                name: body.name,
                days: body.expiresInDays,
                password: body.password,
                code: body.totp,
                clientAddress: context.clientAddress
            )
            return JSONResponse(CreatedToken(token: token, secret: secret.value), status: .created)
        }

        routes.on(.delete, "/api/v1/tokens/{id}", .ownAccount) { _, context -> Response in
            try await tokens.revoke(
                try context.id(),
                by: context.identity,
                clientAddress: context.clientAddress
            )
            return Response(status: .noContent)
        }
    }

    func logIn(_ request: Request, _ context: AppRequestContext) async throws -> JSONResponse<LoginResult> {
        let body = try await request.json(LoginRequest.self, context: context)
        let (token, secret, identity) = try await sessions.issueLoginToken(
            email: body.email,
            password: body.password,
            code: body.totp,
            clientAddress: context.clientAddress
        )
        return JSONResponse(LoginResult(token: secret.value, expiresAt: token.expiresAt, user: try await me(identity)))
    }

    func logOut(_ request: Request, _ context: SignedInContext) async throws -> Response {
        guard case .token(let id, _) = context.identity.credential else { throw DomainError.unauthorized("Abmelden braucht einen Bearer-Token.") }
        try await sessions.revokeToken(id, of: context.identity, clientAddress: context.clientAddress)
        return Response(status: .noContent)
    }

    var sessions: SignInSessions { SignInSessions(database: database, signIn: signIn, credentials: credentials) }

    func me(_ identity: Identity) async throws -> Me {
        let acting = try await VisibleTenants(database: database, policy: policy).list(for: identity)
        return Me(
            id: identity.userID,
            email: identity.email,
            displayName: identity.displayName,
            roles: identity.roles.sorted(),
            homeTenant: TenantRefJSON(identity.tenant),
            actingTenants: acting.map(TenantRefJSON.init),
            secondFactorEnabled: identity.secondFactorEnabled,
            secondFactorRequired: identity.secondFactorRequired
        )
    }

}
