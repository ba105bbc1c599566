import Foundation
import Hummingbird

/// A JSON response with a status and extra headers; dates as ISO 8601, keys in a stable order.
public struct JSONResponse<Value: Encodable & Sendable>: ResponseGenerator, Sendable {
    public var value: Value
    public var status: HTTPResponse.Status
    public var headers: HTTPFields
    /// Types without explicit coding keys are written with snake_case keys.
    public var snakeCase: Bool

    public init(_ value: Value, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:], snakeCase: Bool = false) {
        self.value = value
        self.status = status
        self.headers = headers
        self.snakeCase = snakeCase
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = headers
        headers[.contentType] = "application/json; charset=utf-8"
        headers[.cacheControl] = "no-store"
        if !snakeCase, let value = value as? any HandWrittenJSON {
            var json = JSONText()
            value.writeJSON(to: &json)
            return Response(status: status, headers: headers, body: .init(byteBuffer: json.buffer))
        }
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        if snakeCase { encoder.keyEncodingStrategy = .convertToSnakeCase }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(value))))
    }
}

extension Request {
    /// Decodes a JSON body, turning malformed JSON into a 400 that says which field is wrong; a date or date-time
    /// outside the range people may enter (`Day.enterable`) is a 422 for its field.
    public func json<Value: Decodable>(_ type: Value.Type, context: some RequestContext, snakeCase: Bool = false) async throws -> Value {
        let buffer = try await body.collect(upTo: context.maxUploadSize)
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom(Day.decodeEnteredInstant)
        if snakeCase { decoder.keyDecodingStrategy = .convertFromSnakeCase }
        do {
            return try decoder.decode(type, from: Data(buffer: buffer))
        } catch let error as DecodingError {
            throw Problem(
                .badRequest,
                detail: "The request body is not the JSON this endpoint expects: \(ProblemMiddleware<AppRequestContext>.describe(error))."
            )
        }
    }
}

extension Request {
    /// The version a change is based on, from `If-Match: "3"`: 428 without it, 400 if it is no version.
    public func ifMatchVersion(of resource: String) throws -> Int {
        guard let header = headers[.ifMatch] else {
            throw DomainError.versionRequired(
                "Bitte die Version mitsenden, auf der die Änderung beruht: Header If-Match mit dem ETag aus GET \(resource)."
            )
        }
        guard let version = Int(header.trimmingCharacters(in: CharacterSet(charactersIn: "\" W/"))) else {
            throw Problem(.badRequest, detail: "If-Match must be the ETag of GET \(resource), e.g. \"3\".")
        }
        return version
    }
}
