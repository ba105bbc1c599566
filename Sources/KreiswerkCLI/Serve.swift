import ArgumentParser
import Foundation
import Hummingbird
import Kreiswerk
import ServiceLifecycle

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve HTTP until SIGTERM or SIGINT, then finish open requests and stop."
    )

    @Option(help: "Address to listen on (env KREISWERK_HOST).")
    var host: String = ProcessInfo.processInfo.environment["KREISWERK_HOST"] ?? "127.0.0.1"

    @Option(help: "Port to listen on (env KREISWERK_PORT).")
    var port: Int = ProcessInfo.processInfo.environment["KREISWERK_PORT"].flatMap(Int.init) ?? 8080

    @Option(help: "Folder of the migrations, to tell whether the schema is current.")
    var migrations: String?

    @Option(help: "Most database connections the server opens.")
    var maxConnections: Int = 16

    @Option(help: "The address people reach the server at, for invitation links; https makes cookies Secure (env KREISWERK_PUBLIC_URL).")
    var publicURL: String? = ProcessInfo.processInfo.environment["KREISWERK_PUBLIC_URL"]

    @Flag(help: "Behind a reverse proxy: take the client address (and X-Request-Id) the trusted proxies forward, never a direct client's.")
    var trustForwardedFor = false

    @Option(
        help: "The reverse proxies' addresses or networks, comma-separated; implies --trust-forwarded-for (env KREISWERK_TRUSTED_PROXIES)."
    )
    var trustedProxies: String? = ProcessInfo.processInfo.environment["KREISWERK_TRUSTED_PROXIES"]

    @Flag(help: "Run no job worker and no audit sealer in this process (separate `kreiswerk worker` processes run them).")
    var noWorker = false

    @Option(help: "Seconds a resolved session or token identity is kept; 0 resolves it for every request (env KREISWERK_IDENTITY_CACHE_SECONDS).")
    var identityCacheSeconds: Int = ProcessInfo.processInfo.environment["KREISWERK_IDENTITY_CACHE_SECONDS"].flatMap(Int.init) ?? 15

    @Option(help: "Seconds SIGTERM waits for in-flight requests and jobs before the process exits anyway (env KREISWERK_STOP_SECONDS, default 10).")
    var stopTimeout: Double?

    @Option(help: "Seconds a connection may send nothing before it is closed (env KREISWERK_IDLE_TIMEOUT_SECONDS, default 15).")
    var idleTimeout: Double? = ProcessInfo.processInfo.environment["KREISWERK_IDLE_TIMEOUT_SECONDS"].flatMap(Double.init)

    @OptionGroup var common: CommonOptions

    func run() async throws {
        let logger = common.logger(default: .info)
        var configuration = AppConfiguration(
            host: host,
            port: port,
            databaseURL: try databaseURL(from: "KREISWERK_APP_DATABASE_URL"),
            workerDatabaseURL: noWorker ? nil : try databaseURL(from: "KREISWERK_WORKER_DATABASE_URL"),
            migrationsDirectory: migrationsDirectory(migrations),
            maximumConnections: maxConnections,
            publicURL: publicURL,
            trustForwardedFor: trustForwardedFor,
            worker: noWorker ? nil : .init()
        )
        configuration.totpKeys = try SecretBox.fromEnvironment()
        if let trustedProxies, !trustedProxies.isEmpty {
            configuration.trustedProxies = try TrustedProxies(trustedProxies)
            configuration.trustForwardedFor = true
        }
        configuration.identityCacheLifetime = .seconds(max(0, identityCacheSeconds))
        if let idleTimeout { configuration.idleTimeout = .milliseconds(Int(max(1, idleTimeout) * 1000)) }
        let app = try await buildApplication(configuration, logger: logger)
        let cap = stopCap(stopTimeout)
        var group = ServiceGroupConfiguration(
            services: [.init(service: app), .init(service: StopCap(cap: cap, logger: logger))],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        )
        StopCap.configure(&group, cap: cap)
        try await ServiceGroup(configuration: group).run()
    }
}
