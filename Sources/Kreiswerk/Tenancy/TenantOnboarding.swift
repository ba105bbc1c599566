import Foundation
import Logging
import PostgresNIO

/// A platform administrator onboards a tenant (a carrier or authority in an existing district, a town, or a
/// new district) — and a district coordinator a carrier or authority of their own district — with what a tenant
/// file holds, and its first tenant administrator, who gets a one-time invitation link. A name like one the
/// district has already is pointed out and needs an explicit confirmation.
///
/// The row is the one `tenants apply` would write for the same fields (kept as `managed_by = api`);
/// `kreiswerk tenants export` writes its file, and a tenant file naming the same slug later takes it over.
public struct TenantOnboarding: Sendable {
    let database: Database
    let policy: Policy
    let users: UserAdministration

    public init(database: Database, policy: Policy, users: UserAdministration) {
        self.database = database
        self.policy = policy
        self.users = users
    }

    public struct Request: Sendable, Decodable {
        public var slug: String
        public var name: String
        public var kind: String
        public var district: String?
        public var organisationalUnit: String?
        public var contactEmail: String?
        public var contactPhone: String?
        /// A town's case management carried out by a carrier of the district (its slug).
        public var caseManagementBy: String?
        /// nil where not known, as in the tenant files.
        public var hasOwn: HasOwn?
        public var staffShares: [StaffShare]?
        /// The person onboarding saw the similar names pointed out and confirms it is another organisation.
        public var confirmSimilarName: Bool?
        public var admin: Admin

        public struct Admin: Sendable, Decodable {
            public var email: String
            public var displayName: String
            enum CodingKeys: String, CodingKey { case email, displayName = "display_name" }
            public init(email: String, displayName: String) {
                self.email = email
                self.displayName = displayName
            }
        }

        public struct HasOwn: Sendable, Decodable, Equatable {
            public var foreignersAuthority: Bool?
            public var youthOffice: Bool?
            public var integrationCouncil: Bool?
            enum CodingKeys: String, CodingKey {
                case foreignersAuthority = "foreigners_authority", youthOffice = "youth_office", integrationCouncil = "integration_council"
            }
            public init(foreignersAuthority: Bool? = nil, youthOffice: Bool? = nil, integrationCouncil: Bool? = nil) {
                self.foreignersAuthority = foreignersAuthority
                self.youthOffice = youthOffice
                self.integrationCouncil = integrationCouncil
            }
        }

        /// A funded staff share: programme, year and full-time equivalents with at most two decimals ("1.5" or 1.5).
        public struct StaffShare: Sendable, Decodable, Equatable {
            public var programme: String
            public var year: Int
            public var fte: String
            enum CodingKeys: String, CodingKey { case programme, year, fte }
            public init(programme: String, year: Int, fte: String) {
                self.programme = programme
                self.year = year
                self.fte = fte
            }
            public init(from decoder: any Decoder) throws {
                let values = try decoder.container(keyedBy: CodingKeys.self)
                programme = try values.decode(String.self, forKey: .programme)
                year = try values.decode(Int.self, forKey: .year)
                if let text = try? values.decode(String.self, forKey: .fte) {
                    fte = text
                } else {
                    fte = Decimal(try values.decode(Double.self, forKey: .fte)).description
                }
            }
        }

        enum CodingKeys: String, CodingKey {
            case slug, name, kind, district, admin
            case organisationalUnit = "organisational_unit", contactEmail = "contact_email", contactPhone = "contact_phone"
            case caseManagementBy = "case_management_by", hasOwn = "has_own", staffShares = "staff_shares"
            case confirmSimilarName = "confirm_similar_name"
        }

        public init(
            slug: String,
            name: String,
            kind: String,
            district: String?,
            organisationalUnit: String? = nil,
            contactEmail: String? = nil,
            contactPhone: String? = nil,
            caseManagementBy: String? = nil,
            hasOwn: HasOwn? = nil,
            staffShares: [StaffShare]? = nil,
            confirmSimilarName: Bool? = nil,
            admin: Admin
        ) {
            self.slug = slug
            self.name = name
            self.kind = kind
            self.district = district
            self.organisationalUnit = organisationalUnit
            self.contactEmail = contactEmail
            self.contactPhone = contactPhone
            self.caseManagementBy = caseManagementBy
            self.hasOwn = hasOwn
            self.staffShares = staffShares
            self.confirmSimilarName = confirmSimilarName
            self.admin = admin
        }
    }

    public struct Result: Sendable, Encodable {
        public var tenant: TenantDirectory.Summary
        public var admin: User
        public var invitationURL: String
        public var invitationExpiresAt: Date

        enum CodingKeys: String, CodingKey {
            case tenant, admin
            case invitationURL = "invitation_url", invitationExpiresAt = "invitation_expires_at"
        }
    }

    /// A request checked: text trimmed (absent stays nil), staff shares parsed.
    struct Checked: Sendable {
        var request: Request
        var shares: [StaffShareKey: FullTimeEquivalent]
    }

    /// Checks every field and names each problem.
    func validate(_ request: Request) throws(InvalidInput) -> Checked {
        var request = request
        func present(_ text: String?) -> String? {
            text.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.flatMap { $0.isEmpty ? nil : $0 }
        }
        request.slug = request.slug.trimmingCharacters(in: .whitespaces).lowercased()
        request.name = request.name.trimmingCharacters(in: .whitespaces)
        request.district = present(request.district)
        request.organisationalUnit = present(request.organisationalUnit)
        request.contactEmail = present(request.contactEmail)?.lowercased()
        request.contactPhone = present(request.contactPhone)
        request.caseManagementBy = present(request.caseManagementBy)
        var errors: [String: String] = [:]
        if request.slug.range(of: "^[a-z0-9]+(-[a-z0-9]+)*$", options: .regularExpression) == nil || request.slug.count > 60 {
            errors["slug"] =
                "Das Kürzel besteht aus Kleinbuchstaben, Ziffern und einzelnen Bindestrichen (höchstens 60 Zeichen), z. B. diakonie-mark-ruhr."
        }
        if request.name.isEmpty || request.name.count > 200 { errors["name"] = "Bitte den Namen des Mandanten angeben (höchstens 200 Zeichen)." }
        if TenantKind(rawValue: request.kind) == nil {
            errors["kind"] = "Die Art muss district, municipality, carrier oder authority sein."
        } else if request.kind == TenantKind.district.rawValue, request.district != nil {
            errors["district"] = "Ein Kreis gehört zu keinem anderen Kreis: bitte keinen Kreis auswählen."
        } else if request.kind != TenantKind.district.rawValue, request.district == nil {
            errors["district"] = "Bitte den Kreis angeben, zu dem der Mandant gehört."
        }
        if request.caseManagementBy != nil, request.kind != TenantKind.municipality.rawValue {
            errors["case_management_by"] =
                "Nur eine Stadt oder Gemeinde lässt ihr Case Management von einem Träger durchführen; bitte leer lassen oder Art Stadt/Gemeinde wählen."
        }
        if (request.organisationalUnit?.count ?? 0) > 200 { errors["organisational_unit"] = "Die Verortung darf höchstens 200 Zeichen lang sein." }
        if let email = request.contactEmail, email.range(of: #"^[^@\s]+@[^@\s]+\.[^@\s]+$"#, options: .regularExpression) == nil {
            errors["contact_email"] = "Bitte eine gültige Kontakt-E-Mail-Adresse angeben (oder leer lassen), z. B. kim@diakonie-mark-ruhr.de."
        }
        if (request.contactPhone?.count ?? 0) > 50 { errors["contact_phone"] = "Die Telefonnummer darf höchstens 50 Zeichen lang sein." }
        var shares: [StaffShareKey: FullTimeEquivalent] = [:]
        for (index, share) in (request.staffShares ?? []).enumerated() {
            let field = "staff_shares[\(index)]"
            guard let programme = StaffProgramme(rawValue: share.programme) else {
                errors[field] = "Das Programm muss \(StaffProgramme.allCases.map(\.rawValue).sorted().joined(separator: ", ")) sein."
                continue
            }
            guard (2000...2100).contains(share.year) else {
                errors[field] = "Das Jahr \(share.year) liegt nicht zwischen 2000 und 2100."
                continue
            }
            guard let fte = FullTimeEquivalent(share.fte.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: ",", with: ".")) else {
                errors[field] = "'\(share.fte)' ist kein Stellenanteil: eine Zahl mit höchstens zwei Nachkommastellen, z. B. 0,75 oder 1,5."
                continue
            }
            let key = StaffShareKey(programme, share.year)
            guard shares[key] == nil else {
                errors[field] = "\(Self.programmeLabel(programme)) \(share.year) ist doppelt angegeben; bitte einmal."
                continue
            }
            shares[key] = fte
        }
        do {
            _ = try Accounts.validate(email: request.admin.email, displayName: request.admin.displayName)
        } catch { errors.merge(error.errors) { first, _ in first } }
        guard errors.isEmpty else { throw InvalidInput(errors: errors) }
        return Checked(request: request, shares: shares)
    }

    /// A funded programme's name in the user interface.
    public static func programmeLabel(_ programme: StaffProgramme) -> String {
        switch programme {
        case .coordination: "Koordinierung (Baustein I)"
        case .assistance: "Assistenz der Koordinierung (Baustein I)"
        case .caseManagement: "Case Management (Baustein II)"
        case .immigrationOffice: "Ausländerbehörde (Baustein III)"
        }
    }

    /// Whether `identity` may onboard a tenant of `kind` in `district` (a district's slug; nil for a new district).
    func mayOnboard(kind: String, in district: String?, by identity: Identity) -> Bool {
        switch policy.scope(of: identity, for: .onboardTenants) {
        case .all: true
        case .district:
            ["carrier", "authority"].contains(kind) && identity.tenant.kind == "district" && district == identity.tenant.slug
        default: false
        }
    }

    public func onboard(_ request: Request, by identity: Identity, clientAddress: String?) async throws -> Result {
        guard policy.allows(identity, .onboardTenants) else {
            throw DomainError.forbidden("Neue Mandanten nimmt die Plattform-Administration auf, oder die Koordinierungsstelle in ihrem Kreis.")
        }
        let checked = try validate(request)
        let request = checked.request
        guard mayOnboard(kind: request.kind, in: request.district, by: identity) else {
            throw DomainError.forbidden(
                "Die Koordinierungsstelle nimmt Träger und Behörden ihres eigenen Kreises (\(identity.tenant.name)) auf; "
                    + "Städte, Gemeinden und Kreise nimmt die Plattform-Administration auf."
            )
        }
        let id = UUID()
        let actingTenant = policy.scope(of: identity, for: .onboardTenants) == .all ? TenantRef.platformID : identity.tenant.id
        return try await database.withTenant(actingTenant, user: identity.userID) { connection in
            let logger = database.logger
            let taken = try await connection.query("SELECT 1 FROM tenants WHERE slug = \(request.slug)", logger: logger).collect()
            if !taken.isEmpty {
                throw FieldConflict(field: "slug", "Das Kürzel '\(request.slug)' ist schon vergeben. Bitte ein anderes wählen.")
            }
            var district: TenantRef?
            if let slug = request.district { district = try await TenantDirectory.find(slug: slug, on: connection, logger: logger) }
            if let slug = request.district, district?.kind != "district" {
                throw InvalidInput(field: "district", "Einen Kreis '\(slug)' gibt es nicht. Wählen Sie einen der aufgeführten Kreise.")
            }
            if let carrier = request.caseManagementBy {
                let found = try await TenantDirectory.find(slug: carrier, on: connection, logger: logger)
                guard let found, found.kind == "carrier", found.ownDistrictID == district?.id else {
                    throw InvalidInput(
                        field: "case_management_by",
                        "'\(carrier)' ist kein Träger im \(district?.name ?? "Kreis"). Bitte einen Träger des Kreises wählen oder leer lassen."
                    )
                }
            }
            if request.confirmSimilarName != true {
                let similar = try await similarNames(to: request.name, kind: request.kind, district: district?.id, on: connection)
                if !similar.isEmpty {
                    throw FieldConflict(field: "confirm_similar_name", Self.similarMessage(similar, in: district?.name))
                }
            }
            let (adminEmail, adminName) = try Accounts.validate(email: request.admin.email, displayName: request.admin.displayName)
            let adminID = UUID()
            // A taken e-mail address is known only when the account is inserted: the savepoint keeps the transaction usable to say so.
            try await connection.query("SAVEPOINT onboard", logger: logger)
            do {
                try await connection.query(
                    """
                    SELECT tenant_onboard(\(id), \(request.slug), \(request.name), \(request.kind), \(request.district), \(request.organisationalUnit),
                        \(request.contactEmail), \(request.contactPhone), \(request.caseManagementBy), \(request.hasOwn?.foreignersAuthority),
                        \(request.hasOwn?.youthOffice), \(request.hasOwn?.integrationCouncil), \(adminID), \(adminEmail), \(adminName))
                    """,
                    logger: logger
                ).collect()
            } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23505" {
                try await connection.query("ROLLBACK TO SAVEPOINT onboard", logger: logger)
                throw FieldConflict(field: "email", "Für die E-Mail-Adresse \(adminEmail) gibt es schon ein Konto. Bitte eine andere angeben.")
            }
            try await AuditLog.record(
                AuditEvent(
                    "tenant.onboarded",
                    by: identity,
                    objectType: "tenant",
                    objectID: request.slug,
                    detail: [
                        "kind": request.kind, "district": request.district ?? "-", "staff_shares": "\(checked.shares.count)",
                        "similar_name_confirmed": "\(request.confirmSimilarName == true)",
                    ],
                    clientAddress: clientAddress
                ),
                on: connection,
                logger: logger
            )

            // From here on the transaction acts for the new tenant: its staff shares, its first administrator's invitation.
            try await connection.actAs(tenant: id, user: identity.userID, logger: logger)
            for (key, fte) in checked.shares.sorted(by: { $0.key < $1.key }) {
                try await connection.query(
                    """
                    INSERT INTO tenant_staff_shares (tenant_id, programme, year, fte)
                    VALUES (\(id), \(key.programme.rawValue), \(key.year), \(fte.description)::numeric)
                    """,
                    logger: logger
                )
            }
            let admin = try await Accounts.find(adminID, on: connection, logger: logger)!
            let (secret, expires) = try await users.invitations.create(tenant: id, user: admin.id, by: identity.userID, on: connection)
            try await AuditLog.record(
                AuditEvent(
                    "user.created",
                    by: identity,
                    in: id,
                    objectType: "user",
                    objectID: admin.id.uuidString,
                    detail: ["roles": Role.tenantAdmin.rawValue],
                    clientAddress: clientAddress
                ),
                on: connection,
                logger: logger
            )
            let summary = TenantDirectory.Summary(
                id: id,
                slug: request.slug,
                name: request.name,
                kind: request.kind,
                district: request.district,
                caseManagementBy: request.caseManagementBy,
                active: true,
                managedBy: "api"
            )
            return Result(tenant: summary, admin: admin, invitationURL: users.invitationURL(secret), invitationExpiresAt: expires)
        }
    }

    // MARK: - Similar names

    /// Names of the district's tenants (of all districts, for a new district) that read like `name`: the same once case,
    /// punctuation, accents and legal forms are set aside, or close by trigram similarity.
    func similarNames(
        to name: String,
        kind: String,
        district: UUID?,
        on connection: PostgresConnection
    ) async throws -> [(slug: String, name: String)] {
        let rows = try await connection.query(
            """
            SELECT slug, name FROM tenants
            WHERE kind <> 'platform' AND (CASE WHEN \(kind) = 'district' THEN kind = 'district' ELSE district_id = \(district) OR id = \(district) END)
            ORDER BY name
            """,
            logger: database.logger
        )
        var similar: [(slug: String, name: String)] = []
        for try await (slug, existing) in rows.decode((String, String).self) where TenantNames.areSimilar(existing, name) {
            similar.append((slug, existing))
        }
        return similar
    }

    static func similarMessage(_ similar: [(slug: String, name: String)], in district: String?) -> String {
        let names = similar.map { "„\($0.name)“" }.joined(separator: ", ")
        return "\(district.map { "Im \($0)" } ?? "Unter den Kreisen") gibt es schon \(names) – ein ähnlicher Name. "
            + "Ist es dieselbe Organisation, legen Sie sie bitte nicht noch einmal an. Ist es eine andere, bestätigen Sie das und speichern erneut."
    }
}

/// When two tenant names read alike: what onboarding points out before saving.
enum TenantNames {
    /// Legal forms and filler words that do not tell organisations apart.
    static let noise: Set<String> = ["ev", "e", "v", "ggmbh", "gmbh", "gemeinnützige", "der", "die", "das", "des", "und", "in", "im", "für"]

    /// Lower case, without accents, punctuation, legal forms and filler words: "Diakonie Mark-Ruhr e.V." → "diakonie mark ruhr".
    static func normalised(_ name: String) -> String {
        let folded = name.folding(options: [.caseInsensitive, .diacriticInsensitive, .widthInsensitive], locale: Locale(identifier: "de_DE"))
            .replacingOccurrences(of: "ß", with: "ss")
        let words = folded.split { !$0.isLetter && !$0.isNumber }.map(String.init)
        let meaningful = words.filter { !noise.contains($0) }
        return (meaningful.isEmpty ? words : meaningful).joined(separator: " ")
    }

    /// pg_trgm's trigrams of a normalised text: each word padded with two spaces in front and one behind.
    static func trigrams(_ text: String) -> Set<String> {
        var grams = Set<String>()
        for word in text.split(separator: " ") {
            let padded = Array("  \(word) ")
            for index in 0..<(padded.count - 2) { grams.insert(String(padded[index..<index + 3])) }
        }
        return grams
    }

    /// The same once normalised, or a trigram similarity (shared / all, as pg_trgm's similarity()) of at least `threshold`.
    static func areSimilar(_ a: String, _ b: String, threshold: Double = 0.6) -> Bool {
        let (x, y) = (normalised(a), normalised(b))
        if x == y { return true }
        let (gx, gy) = (trigrams(x), trigrams(y))
        let all = gx.union(gy).count
        return all > 0 && Double(gx.intersection(gy).count) / Double(all) >= threshold
    }
}
