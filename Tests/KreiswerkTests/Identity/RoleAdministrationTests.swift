import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PostgresNIO
import Testing

@testable import Kreiswerk

/// Issue 15, finding 6: roles exist only in the tenant kinds of `Policy.roleTable`, are granted only by those it names,
/// nobody changes their own, and the database holds the same rule for every connection of the request role.
@Suite struct RoleAdministrationTests {
    /// The roles of an account as the API shows them.
    static func roles(_ id: UUID, as token: String, _ client: some TestClientProtocol) async throws -> Set<String> {
        Set(try await client.api(.get, "/api/v1/users/\(id)", token: token).object["roles"] as? [String] ?? [])
    }

    /// PATCHes the roles of `id` at its current ETag.
    static func setRoles(_ roles: [String], of id: UUID, as token: String, _ client: some TestClientProtocol) async throws -> TestResponse {
        let uri = "/api/v1/users/\(id)"
        let etag = try #require(try await client.api(.get, uri, token: token).headers[.eTag])
        let json = "{\"roles\":[\(roles.map { "\"\($0)\"" }.joined(separator: ","))]}"
        return try await client.api(.patch, uri, token: token, json: json, headers: [.ifMatch: etag])
    }

    /// An account made by the operator, with a token.
    static func account(_ tenant: String, _ name: String, _ roles: Set<Role>, in db: TestDatabase) async throws -> (id: UUID, token: String) {
        let operators = OperatorAccounts(database: db.owner, passwords: Passwords(cost: 4))
        let user = try await operators.create(
            tenant: tenant,
            email: "\(name)@\(tenant).test",
            displayName: name,
            roles: roles,
            password: TestApp.password
        )
        return (user.id, try await operators.createToken(email: user.email, name: "t", expiresInDays: 1).1.value)
    }

    @Test func anAdministratorCannotGiveThemselvesRoles() async throws {
        try await TestApp.with { _, people, client in
            let admin = people["wittenAdmin"]
            let response = try await Self.setRoles(
                ["tenant_admin", "steering_member", "case_manager", "team_lead"],
                of: admin.id,
                as: admin.token,
                client
            )
            #expect(response.status == .forbidden, "\(response.text)")
            #expect(
                (response.object["detail"] as? String)?.contains(
                    "Die eigenen Rollen kann nur eine andere Administratorin oder ein anderer Administrator ändern"
                ) == true
            )
            #expect(try await Self.roles(admin.id, as: admin.token, client) == ["tenant_admin"])
            // What the escalation was for stays closed.
            #expect(try await client.api(.get, "/api/v1/figures", token: admin.token).status == .forbidden)
            // Nor do the platform's administrators change their own.
            let platform = try await Self.setRoles(
                ["platform_admin", "tenant_admin"],
                of: people["platform"].id,
                as: people["platform"].token,
                client
            )
            #expect(platform.status == .forbidden || platform.status == .unprocessableContent)
            // The attempt is in the audit trail.
            let audit = try await client.api(.get, "/api/v1/audit", token: admin.token).array
            #expect(audit.contains { $0["action"] as? String == "user.roles_change_refused" && $0["object_id"] as? String == admin.id.uuidString })
        }
    }

    @Test func aDistrictAdministratorMakesNoCoordinators() async throws {
        try await TestApp.with { db, people, client in
            let kreisAdmin = try await Self.account("en-kreis", "kreisadmin", [.tenantAdmin], in: db)
            let own = try await Self.setRoles(["tenant_admin", "district_coordinator"], of: kreisAdmin.id, as: kreisAdmin.token, client)
            #expect(own.status == .forbidden, "\(own.text)")
            let other = try await Self.setRoles(
                ["district_assistant", "district_coordinator"],
                of: people["assistant"].id,
                as: kreisAdmin.token,
                client
            )
            #expect(other.status == .forbidden, "\(other.text)")
            #expect((other.object["detail"] as? String)?.contains("Koordinierungsstelle") == true)
            let created = try await client.api(
                .post,
                "/api/v1/users",
                token: kreisAdmin.token,
                json: #"{"email":"neu-ks@en-kreis.test","display_name":"Neu","roles":["district_coordinator"]}"#
            )
            #expect(created.status == .forbidden, "\(created.text)")
            #expect(try await Self.roles(kreisAdmin.id, as: kreisAdmin.token, client) == ["tenant_admin"])
            #expect(try await Self.roles(people["assistant"].id, as: kreisAdmin.token, client) == ["district_assistant"])
            // The district's audit trail and the towns' accounts stay the coordinators'.
            #expect(try await client.api(.get, "/api/v1/users?tenant=witten", token: kreisAdmin.token).status == .notFound)
        }
    }

    @Test func aRoleTheTenantKindDoesNotHaveIsUnprocessable() async throws {
        try await TestApp.with { _, people, client in
            let admin = people["wittenAdmin"].token
            for role in ["district_coordinator", "abh_officer", "platform_admin"] {
                let response = try await Self.setRoles(["case_manager", role], of: people["wittenCM"].id, as: admin, client)
                #expect(response.status == .unprocessableContent, "\(role): \(response.text)")
                let message = (response.object["errors"] as? [String: String])?["roles"] ?? ""
                #expect(message.contains("Stadt oder Gemeinde") && message.contains("Möglich sind dort"), "\(message)")
            }
            // A carrier has no Ausländerbehörde; a town's admin grants no steering membership.
            let abh = try await client.api(
                .post,
                "/api/v1/users",
                token: people["platform"].token,
                json: #"{"email":"abh@awo-en.test","display_name":"A","roles":["abh_officer"],"tenant":"awo-en"}"#
            )
            #expect(abh.status == .unprocessableContent, "\(abh.text)")
            let steering = try await Self.setRoles(["case_manager", "steering_member"], of: people["wittenCM"].id, as: admin, client)
            #expect(steering.status == .forbidden, "\(steering.text)")
            #expect(try await Self.roles(people["wittenCM"].id, as: admin, client) == ["case_manager"])
        }
    }

    @Test func theDatabaseRefusesTheSameAsTheRequestRole() async throws {
        try await TestApp.with { db, people, _ in
            let witten = try #require(
                try await db.owner.withTransaction { try await TenantDirectory.find(slug: "witten", on: $0, logger: TestDatabase.logger) }
            )
            let admin = people["wittenAdmin"].id
            let cm = people["wittenCM"].id
            func update(_ roles: String, of user: UUID, acting actor: UUID?) async throws {
                _ = try await db.app.withTenant(witten.id, user: actor) { connection in
                    try await connection.query("UPDATE users SET roles = \(roles)::text[] WHERE id = \(user)", logger: TestDatabase.logger)
                }
            }
            // Their own roles, as the admin's own connection would do it.
            let own = await #expect(throws: PSQLError.self) {
                try await update("{tenant_admin,steering_member,case_manager,team_lead}", of: admin, acting: admin)
            }
            #expect(own?.sqlState == "42501")
            // A steering membership from a town's admin, a role the town does not have, and no acting user at all.
            let steering = await #expect(throws: PSQLError.self) { try await update("{case_manager,steering_member}", of: cm, acting: admin) }
            #expect(steering?.sqlState == "42501")
            let kind = await #expect(throws: PSQLError.self) { try await update("{case_manager,district_coordinator}", of: cm, acting: admin) }
            #expect(kind?.sqlState == "23514")
            let anonymous = await #expect(throws: PSQLError.self) { try await update("{case_manager,team_lead}", of: cm, acting: nil) }
            #expect(anonymous?.sqlState == "42501")
            // The operator too keeps to the kinds.
            let operatorKind = await #expect(throws: PSQLError.self) {
                try await db.owner.withTenant(witten.id) { connection in
                    try await connection.query("UPDATE users SET roles = '{district_coordinator}' WHERE id = \(cm)", logger: TestDatabase.logger)
                }
            }
            #expect(operatorKind?.sqlState == "23514")
            // What the table allows goes through: the admin for a colleague, a coordinator for a steering membership.
            try await update("{case_manager,team_lead}", of: cm, acting: admin)
            try await update("{case_manager,team_lead,steering_member}", of: cm, acting: people["coordinator"].id)
            let roles = try await db.owner.withTransaction { connection in
                try await connection.query("SELECT roles FROM users WHERE id = \(cm)", logger: TestDatabase.logger).collect().first!.decode(
                    [String].self
                )
            }
            #expect(Set(roles) == ["case_manager", "team_lead", "steering_member"])
        }
    }

    @Test func aChangeByAnotherAdministratorIsNotifiedAndAudited() async throws {
        try await TestApp.with { _, people, client in
            // A tenant admin for their colleague's case roles, a coordinator for a town's steering member.
            let lead = try await Self.setRoles(["team_lead", "case_manager"], of: people["wittenLead"].id, as: people["wittenAdmin"].token, client)
            #expect(lead.status == .ok, "\(lead.text)")
            let steering = try await Self.setRoles(
                ["case_manager", "steering_member"],
                of: people["wittenCM"].id,
                as: people["coordinator"].token,
                client
            )
            #expect(steering.status == .ok, "\(steering.text)")
            #expect(Set(steering.object["roles"] as? [String] ?? []) == ["case_manager", "steering_member"])
            for who in ["wittenLead", "wittenCM"] {
                let inbox = try await client.api(.get, "/api/v1/notifications", token: people[who].token).array
                #expect(inbox.contains { $0["kind"] as? String == "roles_changed" && $0["link"] as? String == "/konto" }, "\(who): \(inbox)")
            }
            let audit = try await client.api(.get, "/api/v1/audit?tenant=witten", token: people["wittenAdmin"].token).array
            for (who, actor) in [("wittenLead", "wittenAdmin"), ("wittenCM", "coordinator")] {
                #expect(
                    audit.contains {
                        $0["action"] as? String == "user.roles_changed" && $0["object_id"] as? String == people[who].id.uuidString
                            && $0["actor_id"] as? String == people[actor].id.uuidString
                    },
                    "\(who)"
                )
            }
            // The coordinator grants only the coordination roles: not a town's status, not its case roles.
            let uri = "/api/v1/users/\(people["wittenCM"].id)"
            let etag = try #require(try await client.api(.get, uri, token: people["coordinator"].token).headers[.eTag])
            let deactivate = try await client.api(
                .patch,
                uri,
                token: people["coordinator"].token,
                json: #"{"active":false}"#,
                headers: [.ifMatch: etag]
            )
            #expect(deactivate.status == .forbidden)
            let caseRole = try await Self.setRoles(
                ["case_manager", "steering_member", "team_lead"],
                of: people["wittenCM"].id,
                as: people["coordinator"].token,
                client
            )
            #expect(caseRole.status == .forbidden)
        }
    }

    @Test func theServiceAndTheDatabaseHoldOneTable() async throws {
        try await TestDatabase.with { db in
            for kind in ["platform", "district", "municipality", "carrier", "authority"] {
                let stored = try await db.owner.withTransaction { connection in
                    try await connection.query("SELECT app_roles_offered(\(kind))", logger: TestDatabase.logger).collect().first!.decode(
                        [String].self
                    )
                }
                #expect(Set(stored) == Set(Policy.rolesOffered(by: kind).map(\.rawValue)), "\(kind)")
            }
            // Every role has a row, and the fixtures' accounts keep to it.
            #expect(Set(Policy.roleTable.keys) == Set(Role.allCases))
            for (name, (tenant, roles)) in TestApp.People.people {
                let kind = try await db.owner.withTransaction { connection in
                    try await connection.query("SELECT kind FROM tenants WHERE slug = \(tenant)", logger: TestDatabase.logger).collect().first?
                        .decode(String.self)
                }
                if let kind { #expect(Set(roles).isSubset(of: Policy.rolesOffered(by: kind)), "\(name)") }
            }
        }
    }

    @Test func theUsersPageOffersOnlyWhatOneMayGrant() async throws {
        try await TestApp.with { _, people, client in
            var admin = WebBrowser()
            _ = try await admin.signIn(people["wittenAdmin"].email, client)
            let page = try await admin.get("/benutzer", client)
            #expect(page.status == .ok)
            #expect(!page.text.contains("action=\"/benutzer/\(people["wittenAdmin"].id.uuidString)\""))
            #expect(page.text.contains("Ihre eigenen Rollen ändert eine andere Administratorin"))
            #expect(page.text.contains("value=\"team_lead\""))
            for role in ["steering_member", "district_coordinator", "abh_officer", "platform_admin"] {
                #expect(!page.text.contains("value=\"\(role)\""), "\(role) offered to Witten's admin")
            }
            // The steering member keeps that role when the admin changes what the admin grants.
            let steering = people["steering"].id
            let steeringVersion =
                try await client.api(.get, "/api/v1/users/\(steering)", token: people["wittenAdmin"].token).object["version"] as? Int
            let kept = try await admin.post(
                "/benutzer/\(steering)",
                [("version", "\(steeringVersion ?? 0)"), ("roles", "partner"), ("active", "1")],
                client
            )
            #expect(kept.status == .seeOther, "\(kept.text.prefix(300))")
            #expect(try await Self.roles(steering, as: people["wittenAdmin"].token, client) == ["steering_member", "partner"])
            // Posting one's own roles anyway: 403 with the reason on the page.
            let version =
                try await client.api(.get, "/api/v1/users/\(people["wittenAdmin"].id)", token: people["wittenAdmin"].token).object["version"] as? Int
            let own = try await admin.post(
                "/benutzer/\(people["wittenAdmin"].id)",
                [("version", "\(version ?? 0)"), ("roles", "tenant_admin"), ("roles", "case_manager"), ("active", "1")],
                client
            )
            #expect(own.status == .forbidden)
            #expect(own.text.contains("Die eigenen Rollen kann nur eine andere Administratorin oder ein anderer Administrator ändern."))
            // The coordinator is offered the steering membership of a town's staff, and nothing else there.
            var coordinator = WebBrowser()
            _ = try await coordinator.signIn(people["coordinator"].email, client)
            let town = try await coordinator.get("/benutzer?mandant=witten", client)
            #expect(town.text.contains("value=\"steering_member\""))
            #expect(!town.text.contains("value=\"case_manager\""))
            #expect(!town.text.contains("name=\"active\""))
        }
    }
}
