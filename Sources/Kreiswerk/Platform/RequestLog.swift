import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Synchronization

/// What the request's inner layers learn for its log line: the tenant of the signed-in identity. A reference, so the
/// `RequestLog` outside the router sees what `AuthenticationMiddleware` found inside it.
public final class RequestTrace: Sendable {
    private let tenantSlug = Mutex<String?>(nil)

    public init() {}

    public var tenant: String? {
        get { tenantSlug.withLock { $0 } }
        set { tenantSlug.withLock { $0 = newValue } }
    }
}

/// The outermost layer of every request: it decides who the client is (`TrustedProxies`), gives the request its id,
/// and when the answer is out writes one log line and the HTTP metrics for it.
///
/// The request id comes from a trusted proxy's `X-Request-Id` (so the proxy's access log and ours share it) or is made
/// here; it goes back in the response's `X-Request-Id` and is in the logger metadata of everything the request logs
/// (`hb.request.id`, written `request_id` in JSON). The log line names the route pattern (`/faelle/{id}`), never the
/// raw path or its query: paths hold ids and queries can hold names.
struct RequestLog<Inner: HTTPResponder>: HTTPResponder where Inner.Context == AppRequestContext {
    typealias Context = AppRequestContext
    static var requestIDHeader: HTTPField.Name { HTTPField.Name("X-Request-Id")! }
    static var forwardedForHeader: HTTPField.Name { HTTPField.Name("X-Forwarded-For")! }
    /// Probes that come every few seconds: logged at debug, not info.
    static var probes: Set<String> { ["/healthz", "/readyz", "/metrics"] }

    let inner: Inner
    let proxies: TrustedProxies
    let metrics: HTTPMetrics

    init(_ inner: Inner, proxies: TrustedProxies, metrics: HTTPMetrics) {
        self.inner = inner
        self.proxies = proxies
        self.metrics = metrics
    }

    func respond(to request: Request, context: Context) async throws -> Response {
        let started = ContinuousClock.now
        var context = context
        let peer = context.clientAddress
        let fromProxy = proxies.trusts(peer)
        if fromProxy {
            context.clientAddress = proxies.clientAddress(peer: peer, forwardedFor: request.headers[values: Self.forwardedForHeader])
        }
        let id = (fromProxy ? RequestIDs.acceptable(request.headers[Self.requestIDHeader]) : nil) ?? RequestIDs.make()
        context.logger[metadataKey: "hb.request.id"] = .string(id)
        let trace = context.trace
        let logger = context.logger
        metrics.started()
        var response: Response
        do {
            response = try await RequestIDs.$current.withValue(RequestID(value: id)) { try await inner.respond(to: request, context: context) }
        } catch let error as any HTTPResponseError {
            response = try error.response(from: request, context: context)
        } catch {
            finish(request, context, status: 500, trace: trace, logger: logger, since: started)
            throw error
        }
        response.headers[Self.requestIDHeader] = id
        finish(request, context, status: Int(response.status.code), trace: trace, logger: logger, since: started)
        return response
    }

    private func finish(
        _ request: Request,
        _ context: Context,
        status: Int,
        trace: RequestTrace,
        logger: Logger,
        since started: ContinuousClock.Instant
    ) {
        let duration = ContinuousClock.now - started
        let route = context.endpointPath ?? "NotFound"
        metrics.finished(method: request.method.rawValue, route: route, status: status, duration: duration)
        var metadata: Logger.Metadata = [
            "method": .string(request.method.rawValue),
            "route": .string(route),
            "status": .stringConvertible(status),
            "duration_ms": .stringConvertible((duration / .milliseconds(1) * 10).rounded() / 10),
        ]
        if let tenant = trace.tenant { metadata["tenant"] = .string(tenant) }
        let level: Logger.Level = status >= 500 ? .warning : (Self.probes.contains(route) && status < 400 ? .debug : .info)
        logger.log(level: level, "request", metadata: metadata)
    }
}

/// A request's id: a trusted proxy's, or 16 random bytes in hex.
/// A request's id, as the task-local `RequestIDs.current` holds it (a class: see `DatabaseDeadline.abandon`).
final class RequestID: Sendable {
    let value: String
    init(value: String) { self.value = value }
}

enum RequestIDs {
    /// The id of the request being answered: its audit entries carry it (`AuditLog.Entries`).
    @TaskLocal static var current: RequestID?

    /// A proxy's request id, if it is one: 1 to 128 letters, digits and `-_.:` (nothing that could forge a log line).
    static func acceptable(_ value: String?) -> String? {
        guard let value, (1...128).contains(value.utf8.count) else { return nil }
        let allowed = value.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || "-_.:".utf8.contains(byte)
        }
        return allowed ? value : nil
    }

    /// 16 random bytes in hex.
    static func make() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<2).map { _ in
            let half = String(generator.next() as UInt64, radix: 16)
            return String(repeating: "0", count: 16 - half.count) + half
        }.joined()
    }
}
