import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import PostgresNIO
import Synchronization

/// A change request's `Idempotency-Key`: claimed in the change's own transaction (`TenantWork.work`), so that the
/// change and its key commit together or not at all. A client that lost the answer — a COMMIT whose answer never
/// came, a dropped connection — sends the request again with the same key and gets the first answer back instead of
/// making the change twice (`IdempotencyMiddleware`).
final class IdempotencyClaim: Sendable {
    @TaskLocal static var current: IdempotencyClaim?

    let key: String
    /// Method, path and the body's SHA-256: the same key with another request is refused.
    let fingerprint: String
    private let taken = Mutex(false)

    init(key: String, fingerprint: String) {
        self.key = key
        self.fingerprint = fingerprint
    }

    /// The claim for the next transaction of the request, or nil when an earlier one holds it already.
    func take() -> IdempotencyClaim? {
        taken.withLock { taken in
            defer { taken = true }
            return taken ? nil : self
        }
    }

    /// Its transaction did not commit: the next one of the request claims the key.
    func release() { taken.withLock { $0 = false } }

    /// Whether a transaction of the request committed with the key.
    var committed: Bool { taken.withLock { $0 } }

    /// The transaction's audit events and the key, in one statement (`idempotency_claim`, migration 0039).
    func claim(with events: [AuditEvent], on connection: PostgresConnection, logger: Logger) async throws {
        _ = try await connection.query(
            "SELECT audit_append(\(AuditLog.Entries(events).json)::jsonb), idempotency_claim(\(key), \(fingerprint))",
            logger: logger
        ).collect()
    }

    /// A transaction that met its key claimed by another — one that committed, or one running in parallel.
    static func refusal(_ error: any Error) -> (any Error)? {
        guard let error = error as? PSQLError, error.serverInfo?[.sqlState] == "23505",
            error.serverInfo?[.constraintName] == "idempotency_keys_pkey"
        else { return nil }
        return alreadyClaimed
    }

    /// 409: a request with the key ran (its answer is not stored) or runs right now.
    static let alreadyClaimed = DomainError.conflict(
        "Eine Anfrage mit diesem Idempotency-Key wurde bereits ausgeführt oder läuft gerade. Bitte etwas später wiederholen "
            + "oder den aktuellen Stand abrufen."
    )
}

/// Requests that change something (POST, PUT, PATCH, DELETE) by a signed-in identity may carry `Idempotency-Key`
/// (1 to 200 visible ASCII characters). The first such request runs and its answer is stored with the key for a
/// day; the same request again gets that answer (header `Idempotent-Replayed: true`), the same key with another
/// request a 422, and while the first runs — or when it committed and its answer could not be stored — a 409.
struct IdempotencyMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    static let header = HTTPField.Name("Idempotency-Key")!
    static let replayed = HTTPField.Name("Idempotent-Replayed")!
    /// Answers larger than this are not stored (a repeat then gets the 409).
    static let largestStoredAnswer = 1 << 20

    let database: Database

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard [.post, .put, .patch, .delete].contains(request.method), let key = request.headers[Self.header], let identity = context.identity
        else { return try await next(request, context) }
        guard (1...200).contains(key.count), key.unicodeScalars.allSatisfy({ (0x21...0x7E).contains($0.value) }) else {
            throw InvalidInput(field: "Idempotency-Key", "Der Idempotency-Key muss 1 bis 200 sichtbare ASCII-Zeichen lang sein, z. B. eine UUID.")
        }
        var request = request
        let body = try await request.collectBody(upTo: context.maxUploadSize)
        let fingerprint = "\(request.method.rawValue) \(request.uri.description) \(SHA256.hash(data: Data(buffer: body)).hex)"
        let keys = IdempotencyKeys(database: database)
        if let first = try await keys.find(key, of: identity) {
            guard first.fingerprint == fingerprint else {
                throw InvalidInput(
                    field: "Idempotency-Key",
                    "Dieser Idempotency-Key wurde bereits für eine andere Anfrage verwendet. Bitte für jede neue Änderung einen neuen Schlüssel wählen."
                )
            }
            guard let answer = first.answer else { throw IdempotencyClaim.alreadyClaimed }
            var headers = answer.headers
            headers[Self.replayed] = "true"
            return Response(status: answer.status, headers: headers, body: .init(byteBuffer: answer.body))
        }
        let claim = IdempotencyClaim(key: key, fingerprint: fingerprint)
        let response = try await IdempotencyClaim.$current.withValue(claim) { try await next(request, context) }
        guard claim.committed, response.status.code < 500 else { return response }
        let collected = CollectedBody.Box()
        try await response.body.write(CollectedBody(limit: Self.largestStoredAnswer, box: collected))
        guard !collected.tooLarge else {
            return Response(status: response.status, headers: response.headers, body: .init(byteBuffer: collected.buffer))
        }
        let answer = IdempotencyKeys.Answer(status: response.status, headers: response.headers, body: collected.buffer)
        do {
            try await keys.store(answer, for: key, of: identity)
        } catch {
            // The change committed: its answer goes out even if storing it failed (a repeat then gets the 409).
            database.logger.warning("storing an idempotent answer failed", metadata: ["error": "\(String(reflecting: error))"])
        }
        return Response(status: response.status, headers: response.headers, body: .init(byteBuffer: collected.buffer))
    }

    /// Collects a response body into one buffer, up to `limit` bytes (the body consumes its writer: the buffer is
    /// kept in a box the caller holds).
    struct CollectedBody: ResponseBodyWriter {
        final class Box: @unchecked Sendable {
            var buffer = ByteBuffer()
            var tooLarge = false
        }
        let limit: Int
        let box: Box

        mutating func write(_ part: ByteBuffer) async throws {
            var part = part
            box.buffer.writeBuffer(&part)
            box.tooLarge = box.tooLarge || box.buffer.readableBytes > limit
        }

        consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
    }
}

/// The stored keys and first answers of one identity (row-level security: its tenant; policy: its own).
struct IdempotencyKeys: Sendable {
    let database: Database

    struct Answer: Sendable {
        var status: HTTPResponse.Status
        var headers: HTTPFields
        var body: ByteBuffer

        /// The headers a repeat needs: where the object is, its version, what the body is.
        static let kept: [HTTPField.Name] = [.location, .eTag, .contentType]
    }

    struct First: Sendable {
        var fingerprint: String
        var answer: Answer?
    }

    func find(_ key: String, of identity: Identity) async throws -> First? {
        try await database.withTenant(identity.tenant.id, user: identity.userID) { connection -> First? in
            let rows = try await connection.query(
                """
                SELECT fingerprint, status, headers::text, body FROM idempotency_keys
                WHERE user_id = \(identity.userID) AND key = \(key) AND created_at > now() - interval '1 day'
                """,
                logger: database.logger
            ).collect()
            guard let row = rows.first else { return nil }
            let (fingerprint, status, headers, body) = try row.decode((String, Int?, String?, ByteBuffer?).self)
            guard let status, let headers, let fields = try? JSONDecoder().decode([String: String].self, from: Data(headers.utf8)) else {
                return First(fingerprint: fingerprint, answer: nil)
            }
            var kept = HTTPFields()
            for (name, value) in fields { if let name = HTTPField.Name(name) { kept[name] = value } }
            return First(
                fingerprint: fingerprint,
                answer: Answer(status: HTTPResponse.Status(code: status), headers: kept, body: body ?? ByteBuffer())
            )
        }
    }

    func store(_ answer: Answer, for key: String, of identity: Identity) async throws {
        var fields: [String: String] = [:]
        for name in Answer.kept { if let value = answer.headers[name] { fields[name.canonicalName] = value } }
        let headers = String(decoding: try JSONEncoder().encode(fields), as: UTF8.self)
        try await database.withTenant(identity.tenant.id, user: identity.userID) { connection in
            _ = try await connection.query(
                """
                UPDATE idempotency_keys SET status = \(Int(answer.status.code)), headers = \(headers)::jsonb, body = \(answer.body)
                WHERE user_id = \(identity.userID) AND key = \(key)
                """,
                logger: database.logger
            ).collect()
        }
    }
}

extension Digest {
    /// Lower-case hexadecimal.
    fileprivate var hex: String { map { String(format: "%02x", $0) }.joined() }
}
