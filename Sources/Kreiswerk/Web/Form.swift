import Foundation
import Hummingbird

/// A submitted `application/x-www-form-urlencoded` form. Repeated fields (checkboxes) keep every value.
public struct Form: Sendable {
    public private(set) var fields: [String: [String]] = [:]

    public init(fields: [String: [String]] = [:]) { self.fields = fields }

    public init(urlEncoded body: String) {
        for pair in body.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ part: Substring) -> String {
                String(part).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(part)
            }
            guard let name = parts.first.map(decode), !name.isEmpty else { continue }
            fields[name, default: []].append(parts.count > 1 ? decode(parts[1]) : "")
        }
    }

    /// The field's value, trimmed; "" when it was not sent.
    public subscript(_ name: String) -> String { fields[name]?.first?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "" }

    /// The field's value exactly as sent (passwords).
    public func raw(_ name: String) -> String { fields[name]?.first ?? "" }

    public func all(_ name: String) -> [String] { fields[name] ?? [] }

    /// Reads the request body as a form (at most the context's upload limit).
    public static func read(_ request: Request, context: some RequestContext) async throws -> Form {
        let buffer = try await request.body.collect(upTo: context.maxUploadSize)
        return Form(urlEncoded: String(buffer: buffer))
    }
}
