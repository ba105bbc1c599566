import ArgumentParser
import Foundation
import Kreiswerk

struct Tokens: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Personal access tokens for integrations (bearer tokens for /api/v1).",
        subcommands: [Create.self, Revoke.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a token for an account; prints the secret once, on stdout.")
        @Option(help: "The account's e-mail address.") var email: String
        @Option(help: "What the token is for, e.g. the integration's name.") var name: String
        @Option(help: "Days until it expires: 1 to 365 (default: 90).") var expiresInDays: Int?
        @OptionGroup var common: CommonOptions

        func run() async throws {
            let logger = common.logger(default: .warning)
            let (token, secret) = try await withOwnerDatabase(logger: logger) {
                try await OperatorAccounts(database: $0).createToken(email: email, name: name, expiresInDays: expiresInDays)
            }
            let expires = token.expiresAt.map { " (expires \($0.formatted(.iso8601)))" } ?? ""
            FileHandle.standardError.write(Data("token \(token.id) '\(token.name)' created\(expires); the secret is shown only now:\n".utf8))
            print(secret.value)
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a token by its id.")
        @Option(help: "The token's id.") var id: String
        @OptionGroup var common: CommonOptions

        func run() async throws {
            guard let uuid = UUID(uuidString: id) else { throw ValidationError("--id must be a token id (UUID)") }
            let logger = common.logger(default: .warning)
            try await withOwnerDatabase(logger: logger) { try await OperatorAccounts(database: $0).revokeToken(uuid) }
            print("token \(uuid) revoked")
        }
    }
}
