import Foundation

/// What a case manager records about a client (the categories of seed 002 and the KIM target groups).
/// JSON keys are the snake_case of the property names.
public struct ClientData: Sendable, Codable, Equatable {
    public var firstName: String
    public var lastName: String
    public var dateOfBirth: Day
    public var gender: String?
    public var placeOfResidence: String?
    public var socialArea: String?
    public var residenceStatus: String?
    /// The title of the Aufenthaltsgesetz (`ResidenceTitle`), its paragraph (an Aufenthaltserlaubnis) and end.
    public var residenceTitle: String?
    public var residenceParagraph: String?
    public var residenceValidUntil: Day?
    public var countryOfOrigin: String?
    public var languages: [String]?
    public var germanLevel: String?
    public var healthSituation: String?
    public var household: String?
    public var youthOfficeMeasures: String?
    public var jobcenterMeasures: String?
    public var clubMemberships: String?
    public var arrivalDate: Day?
    public var singleParent: Bool?
    public var unaccompaniedMinor: Bool?
    public var familyWithBarriers: Bool?
    /// The tenant's own fields, by key.
    public var extra: [String: ExtraValue]?

    public static let genders = ["female": "weiblich", "male": "männlich", "diverse": "divers", "unspecified": "keine Angabe"]
    public static let germanLevels = ["none", "A1", "A2", "B1", "B2", "C1", "C2"]

    public init(firstName: String, lastName: String, dateOfBirth: Day) {
        self.firstName = firstName
        self.lastName = lastName
        self.dateOfBirth = dateOfBirth
    }

    /// Trims the text fields, turns empty ones into nil, and checks every value; all problems at once.
    func validated(today: Day = .today) throws(InvalidInput) -> ClientData {
        var data = self
        func clean(_ value: String?) -> String? {
            let trimmed = value?.trimmingCharacters(in: .whitespacesAndNewlines)
            return trimmed?.isEmpty == false ? trimmed : nil
        }
        data.firstName = firstName.trimmingCharacters(in: .whitespaces)
        data.lastName = lastName.trimmingCharacters(in: .whitespaces)
        for path in [
            \ClientData.gender, \.placeOfResidence, \.socialArea, \.residenceStatus, \.residenceTitle, \.residenceParagraph, \.countryOfOrigin,
            \.germanLevel, \.healthSituation,
            \.household, \.youthOfficeMeasures, \.jobcenterMeasures, \.clubMemberships,
        ] {
            data[keyPath: path] = clean(data[keyPath: path])
        }
        data.languages = languages?.compactMap(clean)
        var errors: [String: String] = [:]
        if data.firstName.isEmpty { errors["first_name"] = "Bitte den Vornamen angeben." }
        if data.lastName.isEmpty { errors["last_name"] = "Bitte den Nachnamen angeben." }
        if data.firstName.count > 200 || data.lastName.count > 200 { errors["last_name"] = "Namen dürfen höchstens 200 Zeichen lang sein." }
        if dateOfBirth > today || dateOfBirth < Day.enterable.lowerBound {
            errors["date_of_birth"] = "Das Geburtsdatum muss zwischen dem \(Day.enterable.lowerBound.german) und heute (\(today.german)) liegen."
        }
        data.checkResidence(into: &errors)
        if let arrival = arrivalDate, arrival > today { errors["arrival_date"] = "Das Ankunftsdatum liegt in der Zukunft." }
        if let arrival = arrivalDate, arrival < dateOfBirth { errors["arrival_date"] = "Das Ankunftsdatum liegt vor dem Geburtsdatum." }
        if let gender = data.gender, Self.genders[gender] == nil {
            errors["gender"] = "Geschlecht: female, male, diverse oder unspecified."
        }
        if let level = data.germanLevel, !Self.germanLevels.contains(level) {
            errors["german_level"] = "Deutschkenntnisse: none, A1, A2, B1, B2, C1 oder C2."
        }
        for (path, field) in [
            (\ClientData.healthSituation, "health_situation"), (\.household, "household"), (\.youthOfficeMeasures, "youth_office_measures"),
            (\.jobcenterMeasures, "jobcenter_measures"), (\.clubMemberships, "club_memberships"),
        ]
        where (data[keyPath: path]?.count ?? 0) > 4000 {
            errors[field] = "Höchstens 4000 Zeichen."
        }
        guard errors.isEmpty else { throw InvalidInput(errors: errors) }
        return data
    }

    /// KIM's first target group: arrived in Germany within the last two years.
    public func arrivedRecently(today: Day = .today) -> Bool {
        guard let arrival = arrivalDate else { return false }
        return arrival >= today.yearsEarlier(2)
    }
}

/// A client record as it is read back.
public struct Client: Sendable, Codable, Equatable {
    public var id: UUID
    public var tenant: String
    public var data: ClientData
    public var arrivedRecently: Bool
    public var hasCaseManagementConsent: Bool
    public var version: Int
    public var createdAt: Date

    public var fullName: String { "\(data.firstName) \(data.lastName)" }
}

extension Client: HandWrittenJSON {
    /// The snake_case keys in sorted order; the tenant's own fields, rare, through the encoder.
    func writeJSON(to json: inout JSONText) {
        json.object { fields in
            fields.field("arrived_recently", arrivedRecently)
            fields.field("created_at", createdAt)
            fields.field("data", data)
            fields.field("has_case_management_consent", hasCaseManagementConsent)
            fields.field("id", id)
            fields.field("tenant", tenant)
            fields.field("version", version)
        }
    }
}

extension ClientData: HandWrittenJSON {
    func writeJSON(to json: inout JSONText) {
        json.object { fields in
            fields.field("arrival_date", arrivalDate?.iso)
            fields.field("club_memberships", clubMemberships)
            fields.field("country_of_origin", countryOfOrigin)
            fields.field("date_of_birth", dateOfBirth.iso)
            if let extra {
                fields.field("extra", json: extra.isEmpty ? "{}" : Self.encoded(extra))
            }
            fields.field("family_with_barriers", familyWithBarriers)
            fields.field("first_name", firstName)
            fields.field("gender", gender)
            fields.field("german_level", germanLevel)
            fields.field("health_situation", healthSituation)
            fields.field("household", household)
            fields.field("jobcenter_measures", jobcenterMeasures)
            fields.field("languages", languages)
            fields.field("last_name", lastName)
            fields.field("place_of_residence", placeOfResidence)
            fields.field("residence_paragraph", residenceParagraph)
            fields.field("residence_status", residenceStatus)
            fields.field("residence_title", residenceTitle)
            fields.field("residence_valid_until", residenceValidUntil?.iso)
            fields.field("single_parent", singleParent)
            fields.field("social_area", socialArea)
            fields.field("unaccompanied_minor", unaccompaniedMinor)
            fields.field("youth_office_measures", youthOfficeMeasures)
        }
    }

    private static func encoded(_ extra: [String: ExtraValue]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return (try? encoder.encode(extra)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}

/// A consent as recorded.
public struct Consent: Sendable, Codable, Equatable {
    public enum Scope: String, Sendable, Codable { case caseManagement = "case_management", handover }

    public var id: UUID
    public var scope: Scope
    public var recipient: String?
    public var givenOn: Day
    public var withdrawnOn: Day?
    /// The last day it holds, when it was given for a limited time; the scheduler revokes what rests on it afterwards.
    public var expiresOn: Day?
    /// How it was given; nil when that was not recorded (consents from before migration 0024, or not said through the API).
    public var givenHow: Manner? = nil
    /// The language interpreted into, for a consent given with an interpreter.
    public var interpreterLanguage: String? = nil

    public var isActive: Bool { (withdrawnOn == nil || withdrawnOn! > Day.today) && (expiresOn == nil || expiresOn! >= Day.today) }

    /// How a consent was given, as the forms offer it and the printable consent form lists it.
    public enum Manner: String, Sendable, Codable, CaseIterable {
        case inWriting = "in_writing"
        case orally
        case withInterpreter = "with_interpreter"

        public var label: String {
            switch self {
            case .inWriting: "schriftlich (unterschriebenes Formular)"
            case .orally: "mündlich"
            case .withInterpreter: "mit Dolmetschung"
            }
        }
    }

    /// How it was given, in words: „mit Dolmetschung (Arabisch)“; nil when it was not recorded.
    public var howInWords: String? {
        guard let givenHow else { return nil }
        guard givenHow == .withInterpreter, let interpreterLanguage else { return givenHow.label }
        return "\(givenHow.label) (\(interpreterLanguage))"
    }
}

/// A consent as a form or the API gives it: from when, how, and until when if it is limited. Field names in errors are
/// `prefix` + given_on, given_how, interpreter_language, expires_on (the intake names them consent_…).
public struct ConsentGiven: Sendable, Equatable {
    public var givenOn: Day
    public var how: Consent.Manner?
    public var interpreterLanguage: String?
    public var expiresOn: Day?

    public init(givenOn: Day, how: Consent.Manner? = nil, interpreterLanguage: String? = nil, expiresOn: Day? = nil) {
        self.givenOn = givenOn
        self.how = how
        self.interpreterLanguage = interpreterLanguage
        self.expiresOn = expiresOn
    }

    static let howMissing = "Bitte wählen, wie die Einwilligung gegeben wurde: schriftlich, mündlich oder mit Dolmetschung."
    static let languageMissing =
        "Bei einer Einwilligung mit Dolmetschung bitte die Sprache angeben, in die gedolmetscht wurde (z. B. Arabisch)."

    /// A consent another form requires (a referral's hand-over, a conference, a level-2 report), its fields named consent_…:
    /// checked, or its problems added to `errors` — `missing` (under `consent`) when none was given and the form's own
    /// consent fields (`alsoWrong`) did not already say what is wrong with it.
    static func required(_ consent: ConsentGiven?, alsoWrong: [String: String], missing: String, errors: inout [String: String]) -> ConsentGiven? {
        errors.merge(alsoWrong) { first, _ in first }
        guard let consent else {
            if !alsoWrong.keys.contains(where: { $0.hasPrefix("consent_") }) { errors["consent"] = missing }
            return nil
        }
        do { return try consent.validated(prefix: "consent_") } catch {
            errors.merge(error.errors) { first, _ in first }
            return nil
        }
    }

    /// Checks the dates and the manner, all problems at once; `requireHow` (the pages) refuses a consent that does not say
    /// how it was given. The language is kept only for a consent given with an interpreter, which must name it.
    func validated(prefix: String = "", requireHow: Bool = false, today: Day = .today) throws(InvalidInput) -> ConsentGiven {
        var consent = self
        var errors: [String: String] = [:]
        let language = interpreterLanguage?.trimmingCharacters(in: .whitespacesAndNewlines)
        consent.interpreterLanguage = how == .withInterpreter && language?.isEmpty == false ? language : nil
        if how == nil && requireHow { errors[prefix + "given_how"] = Self.howMissing }
        if how == .withInterpreter && consent.interpreterLanguage == nil { errors[prefix + "interpreter_language"] = Self.languageMissing }
        if (consent.interpreterLanguage?.unicodeScalars.count ?? 0) > 100 {
            errors[prefix + "interpreter_language"] = "Die Sprache: höchstens 100 Zeichen."
        }
        if givenOn > today { errors[prefix + "given_on"] = "Das Datum der Einwilligung liegt in der Zukunft." }
        if let expiresOn, expiresOn < givenOn {
            errors[prefix + "expires_on"] = "Das Ende der Einwilligung liegt vor ihrem Beginn: bitte ein Datum ab \(givenOn.german) angeben."
        }
        guard errors.isEmpty else { throw InvalidInput(errors: errors) }
        return consent
    }
}
