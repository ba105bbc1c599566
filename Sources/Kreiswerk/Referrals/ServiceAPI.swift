import Foundation
import Hummingbird

/// `/api/v1/services…`: the district's service directory for everyone of the district, and its upkeep by the carriers'
/// administrators and counsellors and the district's coordinators (changes with If-Match).
struct ServiceAPI {
    let upkeep: ServiceUpkeep

    /// A service's fields as the API takes them (snake_case); a missing carrier is the caller's own tenant.
    struct Body: Decodable {
        var name: String?
        var programme: String?
        var carrier: String?
        var legalSpheres: [String]?
        var towns: [String]?
        var languages: [String]?
        var description: String?
        var address: String?
        var openingHours: String?
        var contactEmail: String?
        var contactPhone: String?
        var takesNewClients: Bool?
        var waitingWeeks: Int?

        func draft(_ identity: Identity) -> ServiceDraft {
            ServiceDraft(
                name: name ?? "",
                programme: programme ?? "",
                carrier: carrier ?? identity.tenant.slug,
                legalSpheres: legalSpheres ?? [],
                towns: towns ?? [],
                languages: languages ?? [],
                description: description,
                address: address,
                openingHours: openingHours,
                contactEmail: contactEmail,
                contactPhone: contactPhone,
                takesNewClients: takesNewClients ?? true,
                waitingWeeks: waitingWeeks
            )
        }
    }

    /// The directory's filter from the query (`town`, `language`, `programme`, `legal_sphere`, `takes_new_clients`, `q`,
    /// `include_retired`); a value that names nothing is a 422 naming the parameter.
    static func filter(_ query: [String: String]) throws -> ServiceDirectory.Filter {
        let filter = ServiceDirectory.Filter(
            town: query["town"],
            language: query["language"],
            programme: query["programme"],
            legalSphere: query["legal_sphere"],
            takesNewClients: query["takes_new_clients"] == "true",
            text: query["q"],
            includeRetired: query["include_retired"] == "true"
        )
        var problems: [String: String] = [:]
        if let programme = filter.programme, CounsellingService.programmes[programme] == nil {
            problems["programme"] =
                "„\(programme)“ ist kein Programm; möglich sind \(CounsellingService.programmes.keys.sorted().joined(separator: ", "))."
        }
        if let sphere = filter.legalSphere, !CounsellingService.legalSpheres.contains(sphere) {
            problems["legal_sphere"] = "„\(sphere)“ ist kein Rechtskreis; möglich sind \(CounsellingService.legalSpheres.joined(separator: ", "))."
        }
        if let language = filter.language, CounsellingService.languageNames[language] == nil {
            problems["language"] =
                "„\(language)“ ist keine bekannte Sprache; möglich sind \(CounsellingService.languageNames.keys.sorted().joined(separator: ", "))."
        }
        for flag in ["takes_new_clients", "include_retired"] where query[flag].map({ $0 != "true" && $0 != "false" }) == true {
            problems[flag] = "Bitte true oder false angeben."
        }
        if !problems.isEmpty { throw InvalidInput(errors: problems) }
        return filter
    }

    func register(on routes: GuardedRouter) {
        routes.get("/api/v1/services", .viewServices) { request, context in
            var query: [String: String] = [:]
            for (name, value) in request.uri.queryParameters { query[String(name)] = String(value) }
            return JSONResponse(try await upkeep.search(try Self.filter(query), by: context.identity), snakeCase: true)
        }

        routes.get("/api/v1/services/{id}", .viewServices) { _, context in
            let detail = try await upkeep.detail(try context.id(), by: context.identity)
            return JSONResponse(detail, headers: [.eTag: "\"\(detail.service.version)\""], snakeCase: true)
        }

        routes.on(.post, "/api/v1/services", .maintainServices) { request, context in
            let body = try await request.json(Body.self, context: context, snakeCase: true)
            let service = try await upkeep.create(body.draft(context.identity), by: context.identity, clientAddress: context.clientAddress)
            return JSONResponse(
                service,
                status: .created,
                headers: [.location: "/api/v1/services/\(service.id.uuidString.lowercased())", .eTag: "\"\(service.version)\""],
                snakeCase: true
            )
        }

        routes.on(.put, "/api/v1/services/{id}", .maintainServices) { request, context in
            let id = try context.id()
            let version = try request.ifMatchVersion(of: "/api/v1/services/\(id.uuidString.lowercased())")
            let body = try await request.json(Body.self, context: context, snakeCase: true)
            let service = try await upkeep.change(
                id,
                version: version,
                to: body.draft(context.identity),
                by: context.identity,
                clientAddress: context.clientAddress
            )
            return JSONResponse(service, headers: [.eTag: "\"\(service.version)\""], snakeCase: true)
        }

        routes.on(.post, "/api/v1/services/{id}/retire", .maintainServices) { request, context in
            try await offer(request, context, active: false)
        }

        routes.on(.post, "/api/v1/services/{id}/reactivate", .maintainServices) { request, context in
            try await offer(request, context, active: true)
        }
    }

    /// Retires or reactivates the service at the version `If-Match` names.
    func offer(_ request: Request, _ context: SignedInContext, active: Bool) async throws -> JSONResponse<ServiceDirectory.Entry> {
        let id = try context.id()
        let version = try request.ifMatchVersion(of: "/api/v1/services/\(id.uuidString.lowercased())")
        let service = try await upkeep.offer(id, version: version, active: active, by: context.identity, clientAddress: context.clientAddress)
        return JSONResponse(service, headers: [.eTag: "\"\(service.version)\""], snakeCase: true)
    }
}
