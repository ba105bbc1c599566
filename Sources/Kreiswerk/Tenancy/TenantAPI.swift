import Foundation
import Hummingbird

/// `/api/v1/tenants`: the tenants one may see, onboarding, and a tenant's security settings.
struct TenantAPI {
    let database: Database
    let policy: Policy
    let onboarding: TenantOnboarding
    let settings: TenantSettings

    struct Security: Codable, Sendable {
        var secondFactorRequired: Bool
        enum CodingKeys: String, CodingKey { case secondFactorRequired = "second_factor_required" }
    }

    func register(on routes: GuardedRouter) {
        routes.get("/api/v1/tenants", .viewTenants) { _, context in
            JSONResponse(try await VisibleTenants(database: database, policy: policy).list(for: context.identity))
        }

        routes.on(.post, "/api/v1/tenants", .onboardTenants) { request, context in
            let body = try await request.json(TenantOnboarding.Request.self, context: context)
            let result = try await onboarding.onboard(body, by: context.identity, clientAddress: context.clientAddress)
            return JSONResponse(result, status: .created)
        }

        routes.get("/api/v1/tenants/{slug}/security", .manageTenantSecurity) { _, context in
            JSONResponse(
                Security(
                    secondFactorRequired: try await settings.secondFactorRequired(of: try context.parameters.decoded("slug"), for: context.identity)
                )
            )
        }

        routes.on(.put, "/api/v1/tenants/{slug}/security", .manageTenantSecurity) { request, context in
            let slug = try context.parameters.decoded("slug")
            let body = try await request.json(Security.self, context: context)
            try await settings.setSecondFactorRequired(
                body.secondFactorRequired,
                of: slug,
                by: context.identity,
                clientAddress: context.clientAddress
            )
            return JSONResponse(body)
        }
    }
}
