import Foundation
import Hummingbird
import Mustache

/// Server-rendered pages: the mustache templates in `Web/Templates`, every one checked at start-up.
public struct Pages: Sendable {
    static let required = [
        "layout", "sign-in", "second-factor", "start", "tenant", "invitation", "account", "users", "audit", "error",
        "cases", "clients", "intake", "client", "consent-withdrawal", "consent-form", "case", "referrals", "reports", "conferences", "conference",
        "notifications",
        "jobs", "stand-ins",
    ]
    let library: MustacheLibrary
    /// How many polls wait for the signed-in person's tenant, set for the request by `OpenPollsMiddleware`: the number beside *Umfragen*.
    @TaskLocal static var openPolls: Int?

    /// Loads the templates shipped with the library; fails naming any that is missing or does not parse.
    public static func load() async throws -> Pages {
        guard let folder = Bundle.module.url(forResource: "Templates", withExtension: nil) else {
            throw ConfigurationError("the page templates are missing from the build (Web/Templates)")
        }
        let library = try await MustacheLibrary(directory: folder.path)
        let missing = required.filter { library.getTemplate(named: $0) == nil }
        guard missing.isEmpty else {
            throw ConfigurationError("page templates missing in \(folder.path): \(missing.joined(separator: ", "))")
        }
        return Pages(library: library)
    }

    /// Renders `template` with `data` and the page chrome (header, navigation, CSRF token) for `identity`.
    public func render(
        _ template: String,
        _ data: [String: Any] = [:],
        identity: Identity?,
        path: String,
        status: HTTPResponse.Status = .ok,
        cookies: [Cookie] = []
    ) -> Response {
        var values = Self.chrome(identity: identity, path: path)
        values.merge(data.compactMapValues(Self.present)) { _, page in page }
        var html = library.render(values, withTemplate: template) ?? "Die Seite konnte nicht erzeugt werden."
        // The error summary lists the errors in the order of the form's fields and links each to its field.
        if let errors = values["errorList"] as? [[String: Any]], !errors.isEmpty {
            let located = Self.locate(errors, in: html)
            if located.map({ $0["field"] as? String }) != errors.map({ $0["field"] as? String }) {
                values["errorList"] = located
                html = library.render(values, withTemplate: template) ?? html
            }
        }
        var response = Response(
            status: status,
            headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(string: html))
        )
        for cookie in cookies { response.setCookie(cookie) }
        return response
    }

    /// The errors in the order their fields stand on the page, each linked to its field's id. A field is the element named
    /// like the error that the page marks invalid (forms name their fields by the error's key but may give them other ids,
    /// `plan-title` for `title`, and a page may hold several forms with the same names), else the element with the error's
    /// key as id; one that is on the page nowhere goes last.
    static func locate(_ errors: [[String: Any]], in html: String) -> [[String: Any]] {
        var invalid: [String: (at: String.Index, id: String?)] = [:]
        for match in html.matches(of: Self.formControl) where match.output.contains(#"aria-invalid="true""#) {
            guard let name = Self.attribute("name", in: match.output), invalid[name] == nil else { continue }
            invalid[name] = (match.range.lowerBound, Self.attribute("id", in: match.output))
        }
        let placed = errors.map { error -> (at: String.Index, error: [String: Any]) in
            guard let field = error["field"] as? String else { return (html.endIndex, error) }
            if let control = invalid[field], let id = control.id {
                var linked = error
                linked["field"] = id
                return (control.at, linked)
            }
            return (html.range(of: "id=\"\(field)\"")?.lowerBound ?? html.endIndex, error)
        }
        return placed.enumerated().sorted { ($0.element.at, $0.offset) < ($1.element.at, $1.offset) }.map(\.element.error)
    }

    nonisolated(unsafe) static let formControl = /<(?:input|select|textarea)\b[^>]*>/

    /// The value of `name`="…" in an HTML tag.
    static func attribute(_ name: String, in tag: Substring) -> String? {
        guard let start = tag.range(of: " \(name)=\"")?.upperBound, let end = tag[start...].firstIndex(of: "\"") else { return nil }
        return String(tag[start..<end])
    }

    /// Absent is absent: a `nil` (an optional passed as `Any`) is dropped with its key, in nested dictionaries and lists too, so
    /// `{{#key}}label: {{key}}{{/key}}` is the one way a template says "if present". swift-mustache treats every string as true,
    /// even "", so pages pass `nil` for a value that is not there, never "".
    static func present(_ value: Any) -> Any? {
        if let optional = value as? any OptionalValue { return optional.wrapped.flatMap(present) }
        if let dictionary = value as? [String: Any] { return dictionary.compactMapValues(present) }
        if let list = value as? [Any] { return list.compactMap(present) }
        return value
    }

    /// Header and navigation: what every page shows around its content.
    static func chrome(identity: Identity?, path: String) -> [String: Any] {
        guard let identity else { return ["signedIn": false] }
        let policy = Policy()
        var nav: [(String, String)] = [("/", "Übersicht")]
        if policy.allows(identity, .workCases) { nav.append(("/faelle", "Fälle")) }
        if policy.allows(identity, .answerReferrals) { nav.append(("/verweisungen", "Verweisungen")) }
        if policy.allows(identity, .viewServices) { nav.append(("/angebote", "Angebote")) }
        if policy.allows(identity, .workCases) || policy.allows(identity, .reportCases) { nav.append(("/meldungen", "Meldungen")) }
        if policy.allows(identity, .attendConferences) { nav.append(("/konferenzen", "Fallkonferenzen")) }
        if policy.allows(identity, .keepApplicationRegister) { nav.append(("/abh/antraege", "Anträge")) }
        if policy.allows(identity, .keepApplicationRegister) { nav.append(("/abh/vorpruefungen", "Vorprüfungen")) }
        if policy.allows(identity, .coordinateDistrict) { nav.append(("/kampagnen", "Kampagne")) }
        if policy.allows(identity, .workCases) { nav.append(("/kampagne", "Kampagne")) }
        if identity.tenant.kind != "platform" && policy.allows(identity, .viewDocumentationStandard) { nav.append(("/handbuch", "Handbuch")) }
        if identity.tenant.kind != "platform" && policy.allows(identity, .viewDocumentationStandard) {
            nav.append(("/dokumentationsstandard", "Dokumentationsstandard"))
        }
        if policy.allows(identity, .raiseProblems) || policy.allows(identity, .coordinateDistrict) { nav.append(("/probleme", "Systemprobleme")) }
        if policy.allows(identity, .raiseProblems) {
            nav.append(("/umfragen", openPolls.map { $0 > 0 ? "Umfragen (\($0) offen)" : "Umfragen" } ?? "Umfragen"))
        }
        if policy.allows(identity, .runCommittees) || policy.allows(identity, .viewSteeringGroup) { nav.append(("/gremien", "Gremien")) }
        if policy.allows(identity, .viewDistrictFigures) { nav.append(("/kennzahlen", "Kennzahlen")) }
        if policy.allows(identity, .viewDistrictFigures) { nav.append(("/erfahrungsberichte", "Erfahrungsberichte")) }
        if identity.tenant.kind != "platform" && policy.allows(identity, .viewDocumentationStandard) { nav.append(("/meilensteine", "Meilensteine")) }
        if policy.allows(identity, .viewUsers) { nav.append(("/benutzer", "Benutzer")) }
        if policy.allows(identity, .readAudit) { nav.append(("/protokoll", "Protokoll")) }
        if policy.allows(identity, .operateJobs) { nav.append(("/betrieb/jobs", "Jobs")) }
        nav.append(("/benachrichtigungen", "Benachrichtigungen"))
        nav.append(("/konto", "Mein Konto"))
        var csrf = ""
        if case .session(_, let token) = identity.credential { csrf = token }
        return [
            "signedIn": true,
            "csrf": csrf,
            "userName": identity.displayName,
            "tenantName": identity.tenant.name,
            "roleLabels": identity.roles.sorted().map(\.label).joined(separator: ", "),
            "nav": nav.map { ["href": $0.0, "label": $0.1, "current": $0.0 == path] },
        ]
    }
}

/// A German message for a form, shown next to the field it belongs to and in the summary at the top.
struct FormErrors {
    static func values(_ errors: [String: String], labels: [String: String]) -> [String: Any] {
        var values: [String: Any] = [
            "hasErrors": !errors.isEmpty,
            "errorList": errors.sorted { $0.key < $1.key }.map { ["field": $0.key, "label": labels[$0.key] ?? $0.key, "message": $0.value] },
        ]
        for (field, message) in errors { values["error_\(field)"] = message }
        return values
    }
}

/// An optional seen through `Any`: what `Pages.present` unwraps or drops.
private protocol OptionalValue { var wrapped: Any? { get } }

extension Optional: OptionalValue {
    fileprivate var wrapped: Any? {
        switch self {
        case .some(let value): value
        case .none: nil
        }
    }
}

extension String {
    /// The text, or `nil` when it is empty: for stored text that may be blank (minutes, notes) on its way to a page.
    var nonEmpty: String? { isEmpty ? nil : self }
}
