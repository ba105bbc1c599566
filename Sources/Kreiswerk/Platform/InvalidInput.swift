/// Input a person gave that cannot be used: which field, and what to do about it.
/// Routes turn it into a 422 problem (API) or a message next to the field (web forms).
public struct InvalidInput: Error, Sendable, CustomStringConvertible {
    public var errors: [String: String]

    public init(field: String, _ message: String) {
        self.errors = [field: message]
    }

    public init(errors: [String: String]) {
        self.errors = errors
    }

    public var description: String { errors.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: "; ") }
}
