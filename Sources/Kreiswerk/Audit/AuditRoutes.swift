import Foundation
import Hummingbird

/// Reading the audit trail: `GET /api/v1/audit` and the page `/protokoll`.
/// Tenant administrators read their tenant, district coordinators their district, platform administrators all.
struct AuditRoutes {
    let database: Database
    let policy: Policy
    let users: UserAdministration
    let pages: Pages

    var trail: AuditTrail { AuditTrail(database: database, policy: policy, users: users) }

    func register(on routes: GuardedRouter) {
        routes.get("/api/v1/audit", .readAudit) { request, context in
            let limit = request.uri.queryParameters["limit"].map { Int(String($0)) } ?? 100
            guard let limit, (1...500).contains(limit) else {
                throw InvalidInput(field: "limit", "limit muss eine Zahl von 1 bis 500 sein.")
            }
            return JSONResponse(
                try await trail.entries(for: context.identity, tenant: request.uri.queryParameters["tenant"].map(String.init), limit: limit)
            )
        }

        routes.get("/protokoll", .readAudit) { request, context in
            let entries = try await trail.entries(for: context.identity, tenant: request.uri.queryParameters["mandant"].map(String.init), limit: 200)
            let rows: [[String: Any]] = entries.map { entry in
                [
                    "id": entry.id, "time": GermanFormat.timestamp(entry.occurredAt), "tenant": entry.tenant ?? "Plattform",
                    "action": entry.action, "object": [entry.objectType, entry.objectID].compactMap { $0 }.joined(separator: " "),
                    "sealed": entry.sealed ? "ja" : "noch nicht",
                ]
            }
            return pages.render("audit", ["entries": rows, "count": rows.count], identity: context.identity, path: "/protokoll")
        }
    }
}
