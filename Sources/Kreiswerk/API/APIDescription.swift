import Foundation
import Hummingbird
import Yams

/// The OpenAPI 3 document of `/api/v1`, written by hand in `openapi.yaml` and served as JSON.
/// A test keeps it and the registered routes in step.
public struct APIDescription: Sendable {
    public let json: ByteBuffer
    /// "METHOD /path" for every operation the document describes.
    public let operations: Set<String>

    public static func load() throws -> APIDescription {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "yaml") else {
            throw ConfigurationError("the API description openapi.yaml is missing from the build")
        }
        let document = Self.normalised(try Yams.load(yaml: String(contentsOf: url, encoding: .utf8)) as Any)
        guard let root = document as? [String: Any], let paths = root["paths"] as? [String: Any] else {
            throw ConfigurationError("openapi.yaml has no paths")
        }
        var operations = Set<String>()
        for (path, item) in paths {
            for method in (item as? [String: Any] ?? [:]).keys where ["get", "post", "put", "patch", "delete"].contains(method) {
                operations.insert("\(method.uppercased()) \(path)")
            }
        }
        let data = try JSONSerialization.data(withJSONObject: root, options: [.sortedKeys, .withoutEscapingSlashes])
        return APIDescription(json: ByteBuffer(bytes: data), operations: operations)
    }

    /// YAML allows keys that are not strings (response codes like 200); JSON does not.
    static func normalised(_ value: Any) -> Any {
        if let dictionary = value as? [AnyHashable: Any] {
            return Dictionary(uniqueKeysWithValues: dictionary.map { ("\($0.key.base)", normalised($0.value)) }) as [String: Any]
        }
        if let array = value as? [Any] { return array.map(normalised) }
        return value
    }

    func register(on routes: GuardedRouter) {
        let json = json
        routes.open(.get, "/api/v1/openapi.json") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: json))
        }
    }
}
