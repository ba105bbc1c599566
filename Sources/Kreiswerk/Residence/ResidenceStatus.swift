import Foundation

/// The residence titles of the Aufenthaltsgesetz that matter for integration management (seed 004, Baustein III).
/// Stored in `clients.residence_title` (migrations/0031_residence_status_as_data.sql); the free text `residence_status`
/// is the note to it, and for `other` says which status it is.
public enum ResidenceTitle: String, Sendable, CaseIterable {
    case residencePermit = "residence_permit"
    case settlementPermit = "settlement_permit"
    case toleration
    case permissionToReside = "permission_to_reside"
    case opportunityResidence = "opportunity_residence"
    case euFreeMovement = "eu_free_movement"
    case germanCitizen = "german_citizen"
    case other

    public var label: String {
        switch self {
        case .residencePermit: "Aufenthaltserlaubnis"
        case .settlementPermit: "Niederlassungserlaubnis"
        case .toleration: "Duldung"
        case .permissionToReside: "Aufenthaltsgestattung"
        case .opportunityResidence: "Chancen-Aufenthaltsrecht (§ 104c AufenthG)"
        case .euFreeMovement: "EU-Freizügigkeit"
        case .germanCitizen: "deutsche Staatsangehörigkeit"
        case .other: "sonstiger"
        }
    }

    static let valuesInWords = allCases.map(\.rawValue).joined(separator: ", ")

    /// The status in words: „Aufenthaltserlaubnis § 25b, gültig bis 30.06.2027“ (`note` names an `other` status).
    func words(paragraph: String?, until: Day?, note: String?) -> String {
        var words = self == .other ? note ?? label : label
        if let paragraph { words += " \(paragraph)" }
        if let until { words += ", gültig bis \(until.german)" }
        return words
    }
}

extension Form {
    /// A date field of the Residence forms, or nil; a malformed date adds its German message to `errors`.
    func day(_ field: String, label: String, into errors: inout [String: String]) -> Day? {
        do { return try Day.parse(self[field], field: field, label: label) } catch {
            errors.merge(error.errors) { first, _ in first }
            return nil
        }
    }
}

extension ClientData {
    /// The status in words: „Aufenthaltserlaubnis § 25b, gültig bis 30.06.2027“; nil when none is recorded.
    public var residenceInWords: String? {
        guard let title = residenceTitle.flatMap(ResidenceTitle.init(rawValue:)) else { return residenceStatus }
        return title.words(paragraph: residenceParagraph, until: residenceValidUntil, note: residenceStatus)
    }

    /// The checks of the structured status, added to `errors` (`validated()` calls it with the cleaned data).
    func checkResidence(into errors: inout [String: String]) {
        guard let raw = residenceTitle else {
            if residenceParagraph != nil {
                errors["residence_paragraph"] =
                    "Einen Paragraphen hat nur eine Aufenthaltserlaubnis: bitte als Aufenthaltsstatus „Aufenthaltserlaubnis“ wählen."
            }
            if residenceValidUntil != nil {
                errors["residence_valid_until"] = "Bitte auch den Aufenthaltsstatus wählen, bis zu dem dieses Datum gilt."
            }
            return
        }
        guard let title = ResidenceTitle(rawValue: raw) else {
            errors["residence_title"] = "Aufenthaltsstatus: \(ResidenceTitle.valuesInWords)."
            return
        }
        if residenceParagraph != nil, title != .residencePermit {
            errors["residence_paragraph"] =
                "Einen Paragraphen hat nur eine Aufenthaltserlaubnis: bitte den Paragraphen leeren oder „Aufenthaltserlaubnis“ wählen."
        }
        if (residenceParagraph?.count ?? 0) > 100 { errors["residence_paragraph"] = "Der Paragraph: höchstens 100 Zeichen, z. B. § 25 Abs. 2." }
        if title == .germanCitizen, residenceValidUntil != nil {
            errors["residence_valid_until"] = "Die deutsche Staatsangehörigkeit gilt ohne Ende: bitte das Datum leeren."
        }
        if let until = residenceValidUntil, !Day.enterable.contains(until) { errors["residence_valid_until"] = Day.outOfRange }
        if title == .other, residenceStatus == nil {
            errors["residence_status"] = "Bei „sonstiger“ bitte angeben, welcher Aufenthaltsstatus es ist."
        }
    }

    /// Reads the status from the client form; a note without a chosen title is refused there (the API keeps the old
    /// free text alone, which the database maps).
    mutating func readResidence(from form: Form, into errors: inout [String: String]) {
        residenceTitle = form["residence_title"].isEmpty ? nil : form["residence_title"]
        residenceParagraph = form["residence_paragraph"]
        do {
            residenceValidUntil = try Day.parse(form["residence_valid_until"], field: "residence_valid_until", label: "Gültig bis")
        } catch { errors.merge(error.errors) { first, _ in first } }
        if residenceTitle == nil, !form["residence_status"].isEmpty {
            errors["residence_title"] = "Bitte den Aufenthaltsstatus wählen (oder „sonstiger“), zu dem die Anmerkung gehört."
        }
    }

    /// What the client form shows of the status: the choices (none preselected), paragraph and date.
    static func residenceFormValues(_ data: ClientData?, form: Form?) -> [String: Any] {
        let chosen = form.map { $0["residence_title"] } ?? data?.residenceTitle ?? ""
        return [
            "residenceTitles": [["value": "", "label": "– bitte wählen –", "selected": chosen.isEmpty]]
                + ResidenceTitle.allCases.map { ["value": $0.rawValue, "label": $0.label, "selected": $0.rawValue == chosen] },
            "residence_paragraph": form.map { $0["residence_paragraph"] } ?? data?.residenceParagraph ?? "",
            "residence_valid_until": form.map { $0["residence_valid_until"] } ?? data?.residenceValidUntil?.iso ?? "",
        ]
    }
}
