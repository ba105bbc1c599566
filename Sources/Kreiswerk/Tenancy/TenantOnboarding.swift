import Foundation
import Logging
import PostgresNIO

/// A platform administrator onboards a tenant (a carrier or authority in an existing district, or a
/// new district) and its first tenant administrator, who gets a one-time invitation link.
///
/// The row is the one `tenants apply` would write for the same fields (kept as `managed_by = api`);
/// a tenant file naming the same slug later takes it over.
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

        enum CodingKeys: String, CodingKey {
            case slug, name, kind, district, admin
            case organisationalUnit = "organisational_unit", contactEmail = "contact_email"
        }

        public init(
            slug: String,
            name: String,
            kind: String,
            district: String?,
            organisationalUnit: String? = nil,
            contactEmail: String? = nil,
            admin: Admin
        ) {
            self.slug = slug
            self.name = name
            self.kind = kind
            self.district = district
            self.organisationalUnit = organisationalUnit
            self.contactEmail = contactEmail
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

    /// Checks every field and names each problem.
    func validate(_ request: Request) throws(InvalidInput) -> Request {
        var request = request
        request.slug = request.slug.trimmingCharacters(in: .whitespaces).lowercased()
        request.name = request.name.trimmingCharacters(in: .whitespaces)
        request.district = request.district.map { $0.trimmingCharacters(in: .whitespaces) }.flatMap { $0.isEmpty ? nil : $0 }
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
        do {
            _ = try Accounts.validate(email: request.admin.email, displayName: request.admin.displayName)
        } catch { errors.merge(error.errors) { first, _ in first } }
        guard errors.isEmpty else { throw InvalidInput(errors: errors) }
        return request
    }

    public func onboard(_ request: Request, by identity: Identity, clientAddress: String?) async throws -> Result {
        guard policy.allows(identity, .onboardTenants) else {
            throw DomainError.forbidden("Nur die Plattform-Administration nimmt neue Mandanten auf.")
        }
        let request = try validate(request)
        let id = UUID()
        return try await database.withTenant(TenantRef.platformID, user: identity.userID) { connection in
            let logger = database.logger
            let taken = try await connection.query("SELECT 1 FROM tenants WHERE slug = \(request.slug)", logger: logger).collect()
            if !taken.isEmpty {
                throw FieldConflict(field: "slug", "Das Kürzel '\(request.slug)' ist schon vergeben. Bitte ein anderes wählen.")
            }
            if let district = request.district, try await TenantDirectory.find(slug: district, on: connection, logger: logger)?.kind != "district" {
                throw InvalidInput(field: "district", "Einen Kreis '\(district)' gibt es nicht. Wählen Sie einen der aufgeführten Kreise.")
            }
            try await connection.query(
                """
                SELECT platform_onboard_tenant(\(id), \(request.slug), \(request.name), \(request.kind), \(request.district),
                    \(request.organisationalUnit), \(request.contactEmail))
                """,
                logger: logger
            )
            try await AuditLog.record(
                AuditEvent(
                    "tenant.onboarded",
                    by: identity,
                    objectType: "tenant",
                    objectID: request.slug,
                    detail: ["kind": request.kind, "district": request.district ?? "-"],
                    clientAddress: clientAddress
                ),
                on: connection,
                logger: logger
            )

            // From here on the transaction acts for the new tenant: its first administrator and invitation.
            try await connection.actAs(tenant: id, user: identity.userID, logger: logger)
            let admin = try await Accounts.create(
                tenant: id,
                email: request.admin.email,
                displayName: request.admin.displayName,
                roles: [.tenantAdmin],
                passwordHash: nil,
                on: connection,
                logger: logger
            )
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
                caseManagementBy: nil,
                active: true,
                managedBy: "api"
            )
            return Result(tenant: summary, admin: admin, invitationURL: users.invitationURL(secret), invitationExpiresAt: expires)
        }
    }
}
