import Foundation
import Logging
import PostgresNIO

/// The district's minimum documentation standard: which fields must be filled before a case
/// may enter a phase. Set district-wide by the coordinators; phases they did not set use the default.
public struct DocumentationStandard: Sendable, Equatable {
    /// Every field the standard can ask for, with its German name.
    public static let fields: [String: String] = [
        "place_of_residence": "Wohnort", "social_area": "Sozialraum", "residence_status": "Aufenthaltsstatus",
        "country_of_origin": "Herkunftsland", "languages": "Sprachen", "german_level": "Deutschkenntnisse", "arrival_date": "Ankunftsdatum",
        "household": "Haushalt und Familie", "health_situation": "Gesundheitliche Situation", "route": "Weg nach der Bedarfsklärung",
        "goals": "mindestens ein Ziel", "next_review_on": "nächster Prüftermin", "closure_reason": "Grund des Abschlusses",
    ]

    public static let defaultRequirements: [Phase: [String]] = [
        .goalAgreement: ["residence_status", "country_of_origin", "german_level", "route"],
        .serviceSteering: ["goals"],
        .monitoring: ["next_review_on"],
        .closure: ["closure_reason"],
    ]

    public var requirements: [Phase: [String]]

    public func required(for phase: Phase) -> [String] { requirements[phase] ?? [] }

    /// The fields of `phase`'s requirements that `filled` does not contain, as German names.
    public func missing(for phase: Phase, filled: Set<String>) -> [String] {
        required(for: phase).filter { !filled.contains($0) }.map { Self.fields[$0] ?? $0 }
    }

    /// The standard of a district: the default, with the phases the district set replaced.
    public static func of(district: UUID?, on connection: PostgresConnection, logger: Logger) async throws -> DocumentationStandard {
        var requirements = defaultRequirements
        guard let district else { return DocumentationStandard(requirements: requirements) }
        let rows = try await connection.query(
            "SELECT phase, required_fields FROM documentation_standards WHERE district_id = \(district)",
            logger: logger
        )
        for try await (phase, fields) in rows.decode((String, [String]).self) {
            if let phase = Phase(rawValue: phase) { requirements[phase] = fields }
        }
        return DocumentationStandard(requirements: requirements)
    }

    /// Sets the requirements of the given phases for a district; unknown fields are refused.
    public static func set(
        _ requirements: [String: [String]],
        district: UUID,
        by user: UUID,
        on connection: PostgresConnection,
        logger: Logger
    ) async throws {
        var errors: [String: String] = [:]
        for (phase, fields) in requirements {
            if Phase(rawValue: phase) == nil {
                errors[phase] = "'\(phase)' ist keine Phase; möglich: \(Phase.allCases.map(\.rawValue).joined(separator: ", "))."
            }
            if let unknown = fields.first(where: { Self.fields[$0] == nil }) {
                errors[phase] = "'\(unknown)' ist kein Feld des Standards; möglich: \(Self.fields.keys.sorted().joined(separator: ", "))."
            }
        }
        guard errors.isEmpty else { throw InvalidInput(errors: errors) }
        for (phase, fields) in requirements {
            try await connection.query(
                """
                INSERT INTO documentation_standards (district_id, phase, required_fields, updated_by) VALUES (\(district), \(phase), \(fields), \(user))
                ON CONFLICT (district_id, phase) DO UPDATE SET required_fields = excluded.required_fields, updated_by = excluded.updated_by, updated_at = now()
                """,
                logger: logger
            )
        }
    }
}
