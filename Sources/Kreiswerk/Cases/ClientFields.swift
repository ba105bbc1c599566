import Foundation
import Logging
import PostgresNIO

/// A field a tenant adds to its client records without a code change (KDN.sozial-style categories).
public struct ClientField: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case text, number, date, choice
        case multiChoice = "multi_choice"
    }

    public var key: String
    public var label: String
    public var kind: Kind
    public var choices: [String]
    public var required: Bool

    public init(key: String, label: String, kind: Kind, choices: [String] = [], required: Bool = false) {
        self.key = key
        self.label = label
        self.kind = kind
        self.choices = choices
        self.required = required
    }

    /// Checks the definition itself.
    func validated() throws(InvalidInput) -> ClientField {
        var field = self
        field.label = label.trimmingCharacters(in: .whitespaces)
        field.choices = choices.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        if key.range(of: "^[a-z][a-z0-9_]{0,39}$", options: .regularExpression) == nil {
            throw InvalidInput(
                field: "key",
                "Der Schlüssel besteht aus Kleinbuchstaben, Ziffern und Unterstrichen und beginnt mit einem Buchstaben, z. B. wohnsituation."
            )
        }
        if field.label.isEmpty { throw InvalidInput(field: "label", "Bitte eine Bezeichnung angeben.") }
        let choosing = kind == .choice || kind == .multiChoice
        if choosing && field.choices.isEmpty { throw InvalidInput(field: "choices", "Ein Auswahlfeld braucht mindestens eine Auswahlmöglichkeit.") }
        if !choosing && !field.choices.isEmpty { throw InvalidInput(field: "choices", "Nur Auswahlfelder haben Auswahlmöglichkeiten.") }
        return field
    }

    /// Checks a value given for this field and returns it as stored (JSON), or nil when it is empty.
    func value(from input: ExtraValue?) throws(InvalidInput) -> ExtraValue? {
        let field = "extra.\(key)"
        guard let input, !input.isEmpty else {
            if required { throw InvalidInput(field: field, "\(label) ist ein Pflichtfeld.") }
            return nil
        }
        switch (kind, input) {
        case (.text, .text(let text)):
            guard text.count <= 2000 else { throw InvalidInput(field: field, "\(label): höchstens 2000 Zeichen.") }
            return .text(text)
        case (.number, .number): return input
        case (.number, .text(let text)):
            guard let number = Double(text.replacingOccurrences(of: ",", with: ".")) else {
                throw InvalidInput(field: field, "\(label): bitte eine Zahl angeben.")
            }
            return .number(number)
        case (.date, .text(let text)):
            guard try Day.parse(text, field: field, label: label) != nil else {
                throw InvalidInput(field: field, "\(label): bitte ein Datum wie 2026-11-23 angeben.")
            }
            return .text(text)
        case (.choice, .text(let text)):
            guard choices.contains(text) else {
                throw InvalidInput(field: field, "\(label): bitte eine der Möglichkeiten wählen: \(choices.joined(separator: ", ")).")
            }
            return .text(text)
        case (.multiChoice, .list(let values)):
            let unknown = values.filter { !choices.contains($0) }
            guard unknown.isEmpty else {
                throw InvalidInput(field: field, "\(label): '\(unknown[0])' ist keine der Möglichkeiten \(choices.joined(separator: ", ")).")
            }
            return .list(values)
        case (.multiChoice, .text(let text)):
            return try value(from: .list([text]))
        default:
            throw InvalidInput(field: field, "\(label): dieser Wert passt nicht zur Feldart \(kind.rawValue).")
        }
    }
}

/// A value of a tenant's own field: text, a number or a list of choices.
public enum ExtraValue: Sendable, Codable, Equatable {
    case text(String)
    case number(Double)
    case list([String])

    var isEmpty: Bool {
        switch self {
        case .text(let text): text.trimmingCharacters(in: .whitespaces).isEmpty
        case .number: false
        case .list(let values): values.isEmpty
        }
    }

    public var display: String {
        switch self {
        case .text(let text): text
        case .number(let number): number.rounded() == number ? String(Int(number)) : String(number)
        case .list(let values): values.joined(separator: ", ")
        }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Double.self) {
            self = .number(number)
        } else if let list = try? container.decode([String].self) {
            self = .list(list)
        } else {
            self = .text(try container.decode(String.self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .text(let text): try container.encode(text)
        case .number(let number): try container.encode(number)
        case .list(let values): try container.encode(values)
        }
    }
}

/// The tenant's own fields in PostgreSQL (per tenant, under row-level security).
public enum ClientFields {
    public static func list(on connection: PostgresConnection, logger: Logger) async throws -> [ClientField] {
        let rows = try await connection.query(
            "SELECT key, label, kind, choices, required FROM client_fields WHERE active ORDER BY position, key",
            logger: logger
        )
        var fields: [ClientField] = []
        for try await (key, label, kind, choices, required) in rows.decode((String, String, String, [String], Bool).self) {
            fields.append(ClientField(key: key, label: label, kind: ClientField.Kind(rawValue: kind) ?? .text, choices: choices, required: required))
        }
        return fields
    }

    public static func define(_ field: ClientField, tenant: UUID, on connection: PostgresConnection, logger: Logger) async throws -> ClientField {
        let field = try field.validated()
        do {
            try await connection.query(
                """
                INSERT INTO client_fields (tenant_id, key, label, kind, choices, required, position)
                VALUES (\(tenant), \(field.key), \(field.label), \(field.kind.rawValue), \(field.choices), \(field.required),
                        (SELECT coalesce(max(position), 0) + 1 FROM client_fields))
                """,
                logger: logger
            )
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23505" {
            throw FieldConflict(field: "key", "Ein Feld mit dem Schlüssel '\(field.key)' gibt es schon.")
        }
        return field
    }

    /// Checks every given value against the definitions; unknown keys are refused.
    static func validate(_ values: [String: ExtraValue], against fields: [ClientField]) throws(InvalidInput) -> [String: ExtraValue] {
        var errors: [String: String] = [:]
        var stored: [String: ExtraValue] = [:]
        for key in values.keys where !fields.contains(where: { $0.key == key }) {
            errors["extra.\(key)"] = "Ein Feld '\(key)' ist für diesen Mandanten nicht festgelegt."
        }
        for field in fields {
            do {
                if let value = try field.value(from: values[field.key]) { stored[field.key] = value }
            } catch { errors.merge(error.errors) { first, _ in first } }
        }
        guard errors.isEmpty else { throw InvalidInput(errors: errors) }
        return stored
    }
}
