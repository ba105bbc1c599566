import ArgumentParser
import Foundation
import Kreiswerk
import Logging
import Synchronization

@main
struct KreiswerkCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kreiswerk",
        abstract: "Kreiswerk: the platform for the Kommunales Integrationsmanagement of a district.",
        discussion: """
            Database settings come from the environment:
              DATABASE_URL                 owner role: migrate, tenants (postgres://kreiswerk_owner:…@host:port/kreiswerk)
              KREISWERK_APP_DATABASE_URL   request role kreiswerk_app: serve, jobs list/retry/cancel
              KREISWERK_WORKER_DATABASE_URL  job worker role kreiswerk_worker: worker, serve's built-in worker, jobs sweep
              KREISWERK_TOTP_KEY           serve: base64 of 32 bytes sealing second-factor secrets; KREISWERK_TOTP_OLD_KEYS older ones
              KREISWERK_SENDMAIL           mail command (default /usr/sbin/sendmail -t -i); KREISWERK_MAIL_FROM sender
            ops/kreiswerk sets all three for the checkout's private cluster.
            """,
        subcommands: [Serve.self, Worker.self, JobsCommand.self, Migrate.self, Tenants.self, Users.self, Tokens.self, Audit.self, Demo.self]
    )
}

private let loggingBootstrapped = Mutex(false)

/// Options every command shares.
struct CommonOptions: ParsableArguments {
    @Option(help: "Log level: trace, debug, info, notice, warning, error. Default: env LOG_LEVEL or the command's own.")
    var logLevel: Logger.Level?

    func logger(default level: Logger.Level) -> Logger {
        let chosen = logLevel ?? ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? level
        // The logging system is bootstrapped once per process; later calls only pick the level.
        loggingBootstrapped.withLock { done in
            guard !done else { return }
            done = true
            // KREISWERK_LOG_FORMAT=json writes one JSON object a line; an unknown value falls back to text, and says so.
            let picked = Result { try LogFormat.fromEnvironment() }
            let format = (try? picked.get()) ?? .text
            LoggingSystem.bootstrap { label in format.standardError(label: label) }
            if case .failure(let error) = picked { Logger(label: "kreiswerk").warning("\(error)") }
        }
        var logger = Logger(label: "kreiswerk")
        logger.logLevel = chosen
        return logger
    }
}

/// Reads a database URL from the environment, or says which variable is missing.
func databaseURL(from variable: String) throws -> DatabaseURL {
    guard let value = ProcessInfo.processInfo.environment[variable], !value.isEmpty else {
        throw ConfigurationError("\(variable) is not set: give the database as postgres://USER:PASSWORD@HOST:PORT/DATABASE (or use ops/kreiswerk)")
    }
    return try DatabaseURL(value)
}

/// The migrations folder: `--migrations`, else KREISWERK_MIGRATIONS, else ./migrations.
func migrationsDirectory(_ option: String?) -> URL {
    URL(fileURLWithPath: option ?? ProcessInfo.processInfo.environment["KREISWERK_MIGRATIONS"] ?? "migrations")
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
