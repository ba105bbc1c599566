import Foundation

/// Writes a tenant out as the tenant file that declares it (`tenants/DISTRICT/SLUG.yaml`, the format `TenantFiles` reads),
/// so that a tenant onboarded in the browser can move under version control: `tenants plan` with the file then shows
/// only `managed_by: api → files`.
public enum TenantFileExport {
    /// Where the file belongs in the tenants folder.
    public static func path(of tenant: Tenant) -> String { "\(tenant.district ?? tenant.slug)/\(tenant.slug).yaml" }

    /// The file's text. Absent values are left out (not recorded), as the files leave them out.
    public static func yaml(_ tenant: Tenant, note: String? = nil) -> String {
        var lines: [String] = []
        if let note { lines += note.split(separator: "\n").map { "# \($0)" } }
        lines.append("slug: \(tenant.slug)")
        lines.append("name: \(quoted(tenant.name))")
        lines.append("kind: \(tenant.kind.rawValue)")
        if let district = tenant.district { lines.append("district: \(district)") }
        if let unit = tenant.organisationalUnit { lines.append("organisational_unit: \(quoted(unit))") }
        if let carrier = tenant.caseManagementBy { lines.append("case_management_by: \(carrier)") }
        let flags = [
            ("foreigners_authority", tenant.hasOwnForeignersAuthority), ("youth_office", tenant.hasYouthOffice),
            ("integration_council", tenant.hasIntegrationCouncil),
        ].compactMap { name, value in value.map { "  \(name): \($0)" } }
        if !flags.isEmpty { lines += ["has_own:"] + flags }
        let contact = [("email", tenant.contactEmail), ("phone", tenant.contactPhone)].compactMap { name, value in
            value.map { "  \(name): \(quoted($0))" }
        }
        if !contact.isEmpty { lines += ["contact:"] + contact }
        if !tenant.staffShares.isEmpty {
            lines.append("staff_shares:")
            for programme in StaffProgramme.allCases.sorted() {
                let years = tenant.staffShares.filter { $0.key.programme == programme }.sorted { $0.key < $1.key }
                guard !years.isEmpty else { continue }
                lines.append("  \(programme.rawValue): { \(years.map { "\($0.key.year): \($0.value)" }.joined(separator: ", ")) }")
            }
        }
        if !tenant.staffWaivers.isEmpty {
            lines.append("staff_waivers:")
            lines += tenant.staffWaivers.sorted { $0.key < $1.key }.map { "  \($0.key.rawValue): \(quoted($0.value))" }
        }
        if let rules = tenant.reminderRules {
            lines.append("reminders:")
            lines += ReminderRules.fields.map { "  \($0.name): \(rules[keyPath: $0.path])" }
            lines.append("  \(ReminderRules.automaticEscalationField): \(rules.automaticEscalation)")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The tenants `tenants export DISTRICT [SLUG]` writes out: the one named, or else those of the district onboarded in the
    /// platform (the others have their files already). `stored` is the district's catalogue.
    public static func choose(_ stored: [StoredTenant], district: String, slug: String?) throws -> [Tenant] {
        guard let slug else { return stored.filter { !$0.managedByFiles }.map(\.tenant) }
        guard let one = stored.first(where: { $0.tenant.slug == slug }) else { throw TenantNotFound(slug: slug, expectedKind: nil) }
        return [one.tenant]
    }

    /// A YAML double-quoted scalar (JSON's string escapes are YAML's).
    static func quoted(_ text: String) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .withoutEscapingSlashes
        return (try? String(decoding: encoder.encode(text), as: UTF8.self)) ?? "\"\""
    }
}
