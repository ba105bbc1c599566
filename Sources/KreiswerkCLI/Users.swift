import ArgumentParser
import Foundation
import Kreiswerk

struct Users: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Accounts: create (with a password), list, reset a password. As the owner role (DATABASE_URL).",
        subcommands: [Create.self, List.self, ResetPassword.self, RotateTOTPKey.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an account with a password read from stdin.")
        @Option(help: "The tenant's slug (betrieb for platform administrators).") var tenant: String
        @Option(help: "E-mail address; it names the account at sign-in.") var email: String
        @Option(help: "The name shown in Kreiswerk.") var name: String?
        @Option(name: .customLong("role"), help: "A role (repeat for several): \(Role.allCases.map(\.rawValue).joined(separator: ", ")).")
        var roles: [String] = []
        @Flag(help: "Read the password from stdin (required: passwords never go on the command line).") var passwordStdin = false
        @OptionGroup var common: CommonOptions

        func run() async throws {
            guard passwordStdin else { throw ValidationError("give --password-stdin and the password on stdin") }
            let roles = try Role.parse(roles)
            let password = try readPassword()
            let logger = common.logger(default: .warning)
            let user = try await withOwnerDatabase(logger: logger) { database in
                try await OperatorAccounts(database: database).create(
                    tenant: tenant,
                    email: email,
                    displayName: name ?? email,
                    roles: roles,
                    password: password
                )
            }
            print("created \(user.email) in \(user.tenant) (\(user.roles.map(\.rawValue).joined(separator: ", "))), id \(user.id)")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The accounts of one tenant.")
        @Option(help: "The tenant's slug.") var tenant: String
        @Flag(help: "JSON on stdout.") var json = false
        @OptionGroup var common: CommonOptions

        func run() async throws {
            let logger = common.logger(default: .warning)
            let users = try await withOwnerDatabase(logger: logger) { try await OperatorAccounts(database: $0).list(tenant: tenant) }
            if json {
                let encoder = JSONEncoder()
                encoder.dateEncodingStrategy = .iso8601
                encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
                print(String(decoding: try encoder.encode(users), as: UTF8.self))
            } else {
                for user in users {
                    print(
                        [user.email, user.displayName, user.roles.map(\.rawValue).joined(separator: ","), user.active ? "" : "(inactive)"]
                            .filter { !$0.isEmpty }.joined(separator: "  ")
                    )
                }
            }
        }
    }

    struct ResetPassword: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set a new password (from stdin), end the account's sessions and unlock it after failed sign-ins."
        )
        @Option(help: "The account's e-mail address.") var email: String
        @Flag(help: "Read the password from stdin.") var passwordStdin = false
        @OptionGroup var common: CommonOptions

        func run() async throws {
            guard passwordStdin else { throw ValidationError("give --password-stdin and the password on stdin") }
            let password = try readPassword()
            let logger = common.logger(default: .warning)
            try await withOwnerDatabase(logger: logger) { try await OperatorAccounts(database: $0).resetPassword(email: email, password: password) }
            print("password of \(email) reset; its sessions have ended")
        }
    }
}

extension Users {
    struct RotateTOTPKey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate-totp-key",
            abstract: "Seal every second-factor secret with KREISWERK_TOTP_KEY: those of KREISWERK_TOTP_OLD_KEYS and plain ones from before 0018.",
            discussion: """
                To rotate: move the key to KREISWERK_TOTP_OLD_KEYS, set a new KREISWERK_TOTP_KEY (head -c 32 /dev/urandom | base64),
                restart serve, then run this; afterwards the old key may go. A secret is also sealed anew at its next sign-in.
                """
        )
        @OptionGroup var common: CommonOptions

        func run() async throws {
            let secrets = try SecretBox.fromEnvironment()
            let logger = common.logger(default: .warning)
            let (resealed, total) = try await withOwnerDatabase(logger: logger) {
                try await OperatorAccounts(database: $0).resealSecondFactors(with: secrets)
            }
            print("\(resealed) of \(total) second-factor secrets sealed anew with key \(secrets.currentKeyID)")
        }
    }
}

/// The password on stdin, without the line break a shell adds.
func readPassword() throws -> String {
    let data = FileHandle.standardInput.readDataToEndOfFile()
    var text = String(decoding: data, as: UTF8.self)
    while text.hasSuffix("\n") || text.hasSuffix("\r") { text.removeLast() }
    guard !text.isEmpty else { throw ValidationError("no password on stdin") }
    return text
}
