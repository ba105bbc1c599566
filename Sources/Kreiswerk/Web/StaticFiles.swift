import Foundation
import HTTPTypes
import Hummingbird

/// The stylesheet (and any other static file) under `/static/`, read once at start-up.
struct StaticFiles {
    let files: [String: (ByteBuffer, String)]

    static func load() throws -> StaticFiles {
        guard let folder = Bundle.module.url(forResource: "Static", withExtension: nil) else {
            throw ConfigurationError("the static files are missing from the build (Web/Static)")
        }
        var files: [String: (ByteBuffer, String)] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: folder.path) where name.hasSuffix(".css") {
            let data = try Data(contentsOf: folder.appendingPathComponent(name))
            files[name] = (ByteBuffer(bytes: data), "text/css; charset=utf-8")
        }
        return StaticFiles(files: files)
    }

    func register(on routes: GuardedRouter) {
        let files = files
        routes.open(.get, "/static/{file}") { _, context -> Response in
            guard let (body, type) = files[try context.parameters.decoded("file")] else {
                throw DomainError.notFound("Diese Datei gibt es nicht.")
            }
            return Response(status: .ok, headers: [.contentType: type, .cacheControl: "public, max-age=3600"], body: .init(byteBuffer: body))
        }
    }
}

/// Headers every response carries: no framing, no sniffing, no referrer leaking invitation links.
struct SecurityHeadersMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        response.headers[.contentSecurityPolicy] = "default-src 'self'; frame-ancestors 'none'; form-action 'self'"
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        return response
    }
}
