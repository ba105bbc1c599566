import Foundation
import Yams

/// One problem in one tenant file: which file, which field, what is wrong.
public struct TenantFileProblem: Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var field: String?
    public var message: String

    public var description: String {
        let location = line.map { "\(file):\($0)" } ?? file
        return field.map { "\(location): \($0): \(message)" } ?? "\(location): \(message)"
    }
}

/// The tenant files were not valid; nothing was read into the database.
public struct TenantFilesInvalid: Error, CustomStringConvertible {
    public var problems: [TenantFileProblem]
    public var description: String {
        "\(problems.count) problem\(problems.count == 1 ? "" : "s") in the tenant files, nothing was applied:\n"
            + problems.map { "  - \($0)" }.joined(separator: "\n")
    }
}

/// Reads `tenants/`: a folder per district, one `SLUG.yaml` per tenant.
///
/// ```yaml
/// slug: witten
/// name: Stadt Witten
/// kind: municipality            # district | municipality | carrier | authority
/// district: en-kreis            # every tenant but a district
/// organisational_unit: Stabsstelle für Integration
/// case_management_by: vhs-en-sued   # optional: carrier that carries out the town's case management
/// has_own:                      # optional, each true/false; leave out what is not known
///   foreigners_authority: true
///   youth_office: true
///   integration_council: true
/// contact: { email: kim@example.org, phone: "+49 2302 0" }
/// staff_shares:                 # funded full-time equivalents per programme and year
///   case_management: { 2020: 1.5, 2021: 1.75, 2022: 2.0 }
/// staff_waivers:                # programmes the tenant is entitled to but does not take, with the reason
///   coordination: "Sieht von der Beantragung ab (Konzept, Abschnitt 5)."
/// reminders:                    # districts only, optional: the periods of the reminder rules (ReminderRules)
///   referral_feedback_reminder_days: 14
///   automatic_escalation: false   # the one true/false setting: problems past their municipal deadline go up by themselves
/// ```
///
/// All files are checked before anything is returned, and every problem is reported at once.
public enum TenantFiles {
    static let topLevelFields: Set<String> = [
        "slug", "name", "kind", "district", "organisational_unit", "case_management_by", "has_own", "contact", "staff_shares", "staff_waivers",
        "reminders",
    ]

    public static func load(from directory: URL) throws -> [Tenant] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw TenantFilesInvalid(problems: [
                TenantFileProblem(file: directory.path, message: "is not a folder: give the tenants/ folder of the checkout")
            ])
        }
        var problems: [TenantFileProblem] = []
        var tenants: [(tenant: Tenant, file: String, folder: String)] = []
        for file in yamlFiles(in: directory) {
            let relative = String(file.path.dropFirst(directory.path.count).drop(while: { $0 == "/" }))
            let display = directory.lastPathComponent + "/" + relative
            var reader = Reader(file: display)
            if let tenant = reader.read(contentsOf: file) {
                tenants.append((tenant, display, file.deletingLastPathComponent().lastPathComponent))
                if file.deletingPathExtension().lastPathComponent != tenant.slug {
                    reader.report(
                        "slug",
                        nil,
                        "is '\(tenant.slug)' but the file is named \(file.lastPathComponent): name the file \(tenant.slug).yaml"
                    )
                }
            }
            problems += reader.problems
        }
        problems += crossCheck(tenants)
        guard problems.isEmpty else { throw TenantFilesInvalid(problems: problems) }
        return tenants.map(\.tenant).sorted { ($0.kind, $0.slug) < ($1.kind, $1.slug) }
    }

    private static func yamlFiles(in directory: URL) -> [URL] {
        let enumerator = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: nil)
        var files: [URL] = []
        while let url = enumerator?.nextObject() as? URL {
            // services.yaml is the district's service directory (ServiceFiles), milestones.yaml its plan (MilestoneFiles), not tenants.
            if (url.pathExtension == "yaml" || url.pathExtension == "yml")
                && !["services", "milestones"].contains(url.deletingPathExtension().lastPathComponent)
            {
                files.append(url.standardizedFileURL)
            }
        }
        return files.sorted { $0.path < $1.path }
    }

    /// Rules that need all files: unique slugs, districts that exist, delegation to a carrier of the same district.
    private static func crossCheck(_ tenants: [(tenant: Tenant, file: String, folder: String)]) -> [TenantFileProblem] {
        var problems: [TenantFileProblem] = []
        var firstFile: [String: String] = [:]
        for entry in tenants {
            if let other = firstFile[entry.tenant.slug] {
                problems.append(
                    TenantFileProblem(
                        file: entry.file,
                        field: "slug",
                        message: "'\(entry.tenant.slug)' is already used by \(other): slugs must be unique"
                    )
                )
            } else {
                firstFile[entry.tenant.slug] = entry.file
            }
        }
        let bySlug = Dictionary(tenants.map { ($0.tenant.slug, $0.tenant) }, uniquingKeysWith: { first, _ in first })
        for (tenant, file, folder) in tenants {
            let expectedFolder = tenant.district ?? tenant.slug
            if let district = tenant.district {
                if bySlug[district]?.kind != .district {
                    let known = tenants.filter { $0.tenant.kind == .district }.map(\.tenant.slug).sorted()
                    problems.append(
                        TenantFileProblem(
                            file: file,
                            field: "district",
                            message:
                                "'\(district)' is not a district defined in the tenant files (districts: \(known.isEmpty ? "none" : known.joined(separator: ", ")))"
                        )
                    )
                }
            }
            if folder != expectedFolder {
                problems.append(
                    TenantFileProblem(
                        file: file,
                        message: "belongs in the folder of its district, \(expectedFolder)/, not \(folder)/"
                    )
                )
            }
            if let carrier = tenant.caseManagementBy {
                if let target = bySlug[carrier] {
                    if target.kind != .carrier || target.district != tenant.district {
                        problems.append(
                            TenantFileProblem(
                                file: file,
                                field: "case_management_by",
                                message:
                                    "'\(carrier)' must be a carrier of the same district (it is a \(target.kind.rawValue) of \(target.district ?? "no district"))"
                            )
                        )
                    }
                } else {
                    problems.append(
                        TenantFileProblem(file: file, field: "case_management_by", message: "'\(carrier)' is not defined in the tenant files")
                    )
                }
            }
        }
        return problems
    }
}

// MARK: - Reading one file

/// Reads one file into a `Tenant`, collecting every problem on the way.
private struct Reader {
    let file: String
    var problems: [TenantFileProblem] = []

    init(file: String) { self.file = file }

    mutating func report(_ field: String?, _ node: Node?, _ message: String) {
        problems.append(TenantFileProblem(file: file, line: node?.mark?.line, field: field, message: message))
    }

    mutating func read(contentsOf url: URL) -> Tenant? {
        guard let text = try? String(contentsOf: url, encoding: .utf8) else {
            report(nil, nil, "cannot be read as UTF-8 text")
            return nil
        }
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: text) else {
                report(nil, nil, "is empty: a tenant file needs at least slug, name and kind")
                return nil
            }
            root = node
        } catch let error as YamlError {
            reportSyntax(error)
            return nil
        } catch {
            report(nil, nil, "is not valid YAML: \(error)")
            return nil
        }
        guard let mapping = root.mapping else {
            report(nil, root, "must be a mapping of fields (slug: …, name: …), not a list or a single value")
            return nil
        }
        let fields = uniqueFields(mapping, allowed: TenantFiles.topLevelFields, prefix: nil)

        let slug = requiredString(
            fields,
            "slug",
            pattern: /[a-z0-9]+(?:-[a-z0-9]+)*/,
            hint: "lower-case letters, digits and single hyphens, e.g. wetter-ruhr"
        )
        let name = requiredString(fields, "name")
        var kind: TenantKind?
        if let kindText = requiredString(fields, "kind") {
            kind = TenantKind(rawValue: kindText)
            if kind == nil {
                report("kind", fields["kind"], "'\(kindText)' is not a tenant kind: use one of district, municipality, carrier, authority")
            }
        }
        let district = optionalString(fields, "district")
        if let kind {
            if kind == .district, district != nil {
                report("district", fields["district"], "a district belongs to no other district: remove this field")
            } else if kind != .district, district == nil, fields["district"] == nil {
                report("district", nil, "is missing: every \(kind.rawValue) belongs to a district (e.g. district: en-kreis)")
            }
        }
        let caseManagementBy = optionalString(fields, "case_management_by")
        if caseManagementBy != nil, let kind, kind != .municipality {
            report("case_management_by", fields["case_management_by"], "only a municipality can hand its case management to a carrier")
        }
        var has: [String: Bool] = [:]
        if let node = fields["has_own"] {
            if let sub = node.mapping {
                let flags = uniqueFields(sub, allowed: ["foreigners_authority", "youth_office", "integration_council"], prefix: "has_own")
                for (key, value) in flags {
                    if let text = value.scalar?.string, text == "true" || text == "false" {
                        has[key] = text == "true"
                    } else {
                        report("has_own.\(key)", value, "must be true or false (leave it out if it is not known)")
                    }
                }
            } else {
                report("has_own", node, "must be a mapping such as { foreigners_authority: true, youth_office: true, integration_council: false }")
            }
        }
        var contact: [String: String] = [:]
        if let node = fields["contact"] {
            if let sub = node.mapping {
                for (key, value) in uniqueFields(sub, allowed: ["email", "phone"], prefix: "contact") {
                    if let text = value.scalar?.string, !text.isEmpty {
                        contact[key] = text
                    } else {
                        report("contact.\(key)", value, "must be text")
                    }
                }
                if let email = contact["email"], email.wholeMatch(of: /[^@\s]+@[^@\s]+\.[^@\s]+/) == nil {
                    report("contact.email", sub["email"], "'\(email)' is not an e-mail address")
                }
            } else {
                report("contact", node, "must be a mapping such as { email: kim@example.org, phone: \"+49 2336 0\" }")
            }
        }
        let shares = staffShares(fields["staff_shares"])
        let waivers = staffWaivers(fields["staff_waivers"])
        let rules = reminderRules(fields["reminders"], kind: kind)

        guard let slug, let name, let kind else { return nil }
        var tenant = Tenant(
            slug: slug,
            name: name,
            kind: kind,
            district: district,
            caseManagementBy: caseManagementBy,
            organisationalUnit: optionalString(fields, "organisational_unit"),
            hasOwnForeignersAuthority: has["foreigners_authority"],
            hasYouthOffice: has["youth_office"],
            hasIntegrationCouncil: has["integration_council"],
            contactEmail: contact["email"],
            contactPhone: contact["phone"],
            staffShares: shares,
            reminderRules: rules
        )
        tenant.staffWaivers = waivers
        return tenant
    }

    /// `staff_waivers`: programme → the reason the tenant does not take a post it is entitled to.
    private mutating func staffWaivers(_ node: Node?) -> [StaffProgramme: String] {
        guard let node else { return [:] }
        guard let programmes = node.mapping else {
            report("staff_waivers", node, "must map a programme to the reason, e.g. coordination: \"Sieht von der Beantragung ab.\"")
            return [:]
        }
        var waivers: [StaffProgramme: String] = [:]
        let allowed = Set(StaffProgramme.allCases.map(\.rawValue))
        for (programmeName, reasonNode) in uniqueFields(programmes, allowed: allowed, prefix: "staff_waivers") {
            let reason = reasonNode.scalar?.string.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            guard !reason.isEmpty, reason.count <= 2000 else {
                report("staff_waivers.\(programmeName)", reasonNode, "must give the reason as text of 1 to 2000 characters")
                continue
            }
            waivers[StaffProgramme(rawValue: programmeName)!] = reason
        }
        return waivers
    }

    private mutating func reminderRules(_ node: Node?, kind: TenantKind?) -> ReminderRules? {
        guard let node else { return nil }
        guard kind == .district else {
            report("reminders", node, "only a district sets reminder periods; they apply to all its tenants")
            return nil
        }
        guard let mapping = node.mapping else {
            report("reminders", node, "must map rule names to days, e.g. { referral_feedback_reminder_days: 14 }")
            return nil
        }
        var rules = ReminderRules()
        let known = Dictionary(uniqueKeysWithValues: ReminderRules.fields.map { ($0.name, $0) })
        for (name, value) in uniqueFields(mapping, allowed: Set(known.keys).union([ReminderRules.automaticEscalationField]), prefix: "reminders") {
            guard let field = known[name] else {
                if let text = value.scalar?.string, text == "true" || text == "false" {
                    rules.automaticEscalation = text == "true"
                } else {
                    report("reminders.\(name)", value, "must be true or false (false: the scheduler only reminds the coordinators)")
                }
                continue
            }
            guard let number = value.scalar.flatMap({ Int($0.string) }), field.range.contains(number) else {
                report(
                    "reminders.\(name)",
                    value,
                    "'\(value.scalar?.string ?? "?")' must be a whole number from \(field.range.lowerBound) to \(field.range.upperBound)"
                )
                continue
            }
            rules[keyPath: field.path] = number
        }
        if rules.referralFeedbackEscalationDays <= rules.referralFeedbackReminderDays {
            report(
                "reminders.referral_feedback_escalation_days",
                mapping["referral_feedback_escalation_days"],
                "must be later than referral_feedback_reminder_days (\(rules.referralFeedbackReminderDays)): coordinators hear of it after the case manager"
            )
        }
        return rules
    }

    private mutating func staffShares(_ node: Node?) -> [StaffShareKey: FullTimeEquivalent] {
        guard let node else { return [:] }
        guard let programmes = node.mapping else {
            report("staff_shares", node, "must map a programme to years, e.g. case_management: { 2022: 1.5 }")
            return [:]
        }
        var shares: [StaffShareKey: FullTimeEquivalent] = [:]
        let allowed = Set(StaffProgramme.allCases.map(\.rawValue))
        for (programmeName, yearsNode) in uniqueFields(programmes, allowed: allowed, prefix: "staff_shares") {
            let programme = StaffProgramme(rawValue: programmeName)!
            let field = "staff_shares.\(programmeName)"
            guard let years = yearsNode.mapping else {
                report(field, yearsNode, "must map years to shares, e.g. { 2021: 0.75, 2022: 1.5 }")
                continue
            }
            for (yearNode, valueNode) in years {
                guard let yearText = yearNode.scalar?.string, let year = Int(yearText), (2000...2100).contains(year) else {
                    report(field, yearNode, "'\(yearNode.scalar?.string ?? "?")' is not a year between 2000 and 2100")
                    continue
                }
                let key = StaffShareKey(programme, year)
                guard shares[key] == nil else {
                    report("\(field).\(year)", yearNode, "is given twice")
                    continue
                }
                let text = valueNode.scalar?.string ?? ""
                guard valueNode.scalar != nil, let fte = FullTimeEquivalent(text) else {
                    let reason = text.hasPrefix("-") ? "is negative" : text.contains(",") ? "uses a comma: write 0.65, not 0,65" : "is not a share"
                    report(
                        "\(field).\(year)",
                        valueNode,
                        "'\(text)' \(reason): give full-time equivalents from 0 to 999.99 with at most two decimals"
                    )
                    continue
                }
                shares[key] = fte
            }
        }
        return shares
    }

    // MARK: Field helpers

    /// The fields of a mapping by name; unknown and repeated names are reported.
    private mutating func uniqueFields(_ mapping: Node.Mapping, allowed: Set<String>, prefix: String?) -> [String: Node] {
        var fields: [String: Node] = [:]
        for (keyNode, value) in mapping {
            let key = keyNode.scalar?.string ?? "?"
            let path = prefix.map { "\($0).\(key)" } ?? key
            if !allowed.contains(key) {
                report(path, keyNode, "is not a known field (known: \(allowed.sorted().joined(separator: ", ")))")
            } else if fields[key] != nil {
                report(path, keyNode, "is given twice")
            } else {
                fields[key] = value
            }
        }
        return fields
    }

    private mutating func requiredString(
        _ fields: [String: Node],
        _ key: String,
        pattern: Regex<Substring>? = nil,
        hint: String? = nil
    ) -> String? {
        guard let node = fields[key], node.null == nil else {
            report(key, fields[key], "is missing")
            return nil
        }
        return string(node, key, pattern: pattern, hint: hint)
    }

    private mutating func optionalString(_ fields: [String: Node], _ key: String) -> String? {
        fields[key].flatMap { $0.null != nil ? nil : string($0, key, pattern: nil, hint: nil) }
    }

    private mutating func string(_ node: Node, _ key: String, pattern: Regex<Substring>?, hint: String?) -> String? {
        guard let text = node.scalar?.string.trimmingWhitespace(), !text.isEmpty else {
            report(key, node, "must be non-empty text")
            return nil
        }
        if text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            report(key, node, "contains control characters: write it on one line without them")
            return nil
        }
        if let pattern, (try? pattern.wholeMatch(in: text)) == nil {
            report(key, node, "'\(text)' is not valid\(hint.map { ": use \($0)" } ?? "")")
            return nil
        }
        return text
    }

    private mutating func reportSyntax(_ error: YamlError) {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
            problems.append(
                TenantFileProblem(file: file, line: mark.line, field: nil, message: "is not valid YAML (column \(mark.column)): \(problem)")
            )
        default:
            report(nil, nil, "is not valid YAML: \(error)")
        }
    }
}
