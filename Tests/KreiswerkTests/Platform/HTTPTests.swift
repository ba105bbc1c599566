import Foundation
import HummingbirdTesting
import Testing

@testable import Kreiswerk

@Suite struct HTTPTests {
    @Test func healthAndReadinessWhenTheSchemaIsCurrent() async throws {
        try await TestDatabase.with { db in
            let app = try await buildApplication(
                AppConfiguration(databaseURL: db.appURL, workerDatabaseURL: db.workerURL, migrationsDirectory: TestDatabase.migrationsDirectory),
                logger: TestDatabase.logger
            )
            try await app.test(.router) { client in
                try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok) }
                try await client.execute(uri: "/readyz", method: .get) { response in
                    #expect(response.status == .ok)
                    #expect(String(buffer: response.body).contains("ready"))
                }
            }
        }
    }

    @Test func notReadyWhileAMigrationIsPending() async throws {
        try await TestDatabase.with { db in
            try await withTemporaryDirectory { folder in
                try copyContents(of: TestDatabase.migrationsDirectory, to: folder)
                try "SELECT 1;".write(to: folder.appendingPathComponent("9999_next.sql"), atomically: true, encoding: .utf8)
                let app = try await buildApplication(
                    AppConfiguration(databaseURL: db.appURL, workerDatabaseURL: db.workerURL, migrationsDirectory: folder),
                    logger: TestDatabase.logger
                )
                try await app.test(.router) { client in
                    try await client.execute(uri: "/readyz", method: .get) { response in
                        #expect(response.status == .serviceUnavailable)
                        #expect(response.headers[.contentType]?.hasPrefix("application/problem+json") == true)
                        #expect(String(buffer: response.body).contains("9999_next (pending)"))
                    }
                }
            }
        }
    }

    @Test func unknownAddressesAreProblemJSONForTheAPIAndAGermanPageForPeople() async throws {
        try await TestDatabase.with { db in
            let app = try await buildApplication(
                AppConfiguration(databaseURL: db.appURL, workerDatabaseURL: db.workerURL, migrationsDirectory: TestDatabase.migrationsDirectory),
                logger: TestDatabase.logger
            )
            try await app.test(.router) { client in
                try await client.execute(uri: "/api/v1/nowhere", method: .get) { response in
                    #expect(response.status == .notFound)
                    #expect(response.headers[.contentType]?.hasPrefix("application/problem+json") == true)
                    let body = try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]
                    #expect(body?["status"] as? Int == 404)
                    #expect((body?["detail"] as? String)?.contains("/api/v1/nowhere") == true)
                }
                try await client.execute(uri: "/nowhere", method: .get) { response in
                    #expect(response.status == .notFound)
                    #expect(response.headers[.contentType]?.hasPrefix("text/html") == true)
                    #expect(String(buffer: response.body).contains("Seite nicht gefunden"))
                }
            }
        }
    }

    @Test func theServerRefusesToRunAsTheOwnerRole() async throws {
        try await TestDatabase.with { db in
            let error = await #expect(throws: ConfigurationError.self) {
                try await RuntimeRoleCheck.verify(db.owner)
            }
            #expect(error?.description.contains("owns") == true)
        }
    }
}
