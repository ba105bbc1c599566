/// What `tenants apply` would change, computed from the files and the catalogue.
public struct TenantPlan: Sendable, Equatable {
    public struct Update: Sendable, Equatable {
        public var slug: String
        /// One line per changed field, e.g. `name: "Stadt Witten" → "Witten"`.
        public var changes: [String]
    }

    public var creates: [Tenant] = []
    public var updates: [Update] = []
    /// Tenants in the catalogue, active, but no longer in the files.
    public var missing: [String] = []
    /// Whether `missing` tenants are deactivated by this plan (`--deactivate-missing`).
    public var deactivatesMissing = false

    public var isEmpty: Bool { creates.isEmpty && updates.isEmpty && (missing.isEmpty || !deactivatesMissing) }

    /// Compares what the files declare with what the catalogue holds.
    public static func between(stored: [StoredTenant], desired: [Tenant], deactivateMissing: Bool) -> TenantPlan {
        var plan = TenantPlan(deactivatesMissing: deactivateMissing)
        let storedBySlug = Dictionary(uniqueKeysWithValues: stored.map { ($0.tenant.slug, $0) })
        for tenant in desired {
            guard let current = storedBySlug[tenant.slug] else {
                plan.creates.append(tenant)
                continue
            }
            var changes = fieldChanges(from: current.tenant, to: tenant)
            if !current.active { changes.insert("active: false → true (back in the files)", at: 0) }
            if !current.managedByFiles { changes.insert("managed_by: api → files (onboarded through the API; the file takes it over)", at: 0) }
            if !changes.isEmpty { plan.updates.append(Update(slug: tenant.slug, changes: changes)) }
        }
        let desiredSlugs = Set(desired.map(\.slug))
        // Tenants onboarded through the API are not expected in the files until someone adds them.
        plan.missing = stored.filter { $0.active && $0.managedByFiles && !desiredSlugs.contains($0.tenant.slug) }.map(\.tenant.slug).sorted()
        return plan
    }

    private static func fieldChanges(from old: Tenant, to new: Tenant) -> [String] {
        var changes: [String] = []
        func compare<Value: Equatable>(_ field: String, _ path: KeyPath<Tenant, Value>, _ show: (Value) -> String) {
            if old[keyPath: path] != new[keyPath: path] {
                changes.append("\(field): \(show(old[keyPath: path])) → \(show(new[keyPath: path]))")
            }
        }
        let text: (String?) -> String = { $0.map { "\"\($0)\"" } ?? "–" }
        let flag: (Bool?) -> String = { $0.map { "\($0)" } ?? "not recorded" }
        compare("name", \.name) { "\"\($0)\"" }
        compare("kind", \.kind) { $0.rawValue }
        compare("district", \.district, text)
        compare("case_management_by", \.caseManagementBy, text)
        compare("organisational_unit", \.organisationalUnit, text)
        compare("has_own.foreigners_authority", \.hasOwnForeignersAuthority, flag)
        compare("has_own.youth_office", \.hasYouthOffice, flag)
        compare("has_own.integration_council", \.hasIntegrationCouncil, flag)
        compare("contact.email", \.contactEmail, text)
        compare("contact.phone", \.contactPhone, text)
        compare("reminders", \.reminderRules) { $0.map(\.json) ?? "defaults" }
        for key in Set(old.staffShares.keys).union(new.staffShares.keys).sorted() where old.staffShares[key] != new.staffShares[key] {
            changes.append(
                "staff_shares.\(key.programme.rawValue).\(key.year): \(old.staffShares[key]?.description ?? "–") → \(new.staffShares[key]?.description ?? "–")"
            )
        }
        for programme in Set(old.staffWaivers.keys).union(new.staffWaivers.keys).sorted()
        where old.staffWaivers[programme] != new.staffWaivers[programme] {
            changes.append("staff_waivers.\(programme.rawValue): \(text(old.staffWaivers[programme])) → \(text(new.staffWaivers[programme]))")
        }
        return changes
    }

    /// The plan as an operator reads it.
    public var summary: String {
        var lines: [String] = []
        for tenant in creates {
            lines.append("+ create \(tenant.kind.rawValue) \(tenant.slug) (\(tenant.name))")
        }
        for update in updates {
            lines.append("~ update \(update.slug)")
            lines += update.changes.map { "    \($0)" }
        }
        for slug in missing {
            lines.append(
                deactivatesMissing
                    ? "- deactivate \(slug) (no longer in the files)"
                    : "! \(slug) is no longer in the files: it stays active; run apply with --deactivate-missing to deactivate it"
            )
        }
        let counts = "\(creates.count) to create, \(updates.count) to update, \(deactivatesMissing ? missing.count : 0) to deactivate"
        if isEmpty { lines.append("No changes: the catalogue matches the files.") } else { lines.append("Plan: \(counts).") }
        return lines.joined(separator: "\n")
    }
}
