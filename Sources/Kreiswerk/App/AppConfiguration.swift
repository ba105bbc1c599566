import Foundation

/// Everything `buildApplication` needs, read from flags and the environment by the command line.
public struct AppConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// The request role's connection (`kreiswerk_app`): never the owner.
    public var databaseURL: DatabaseURL
    /// The job worker role's connection (`kreiswerk_worker`), for the built-in worker and the audit sealer;
    /// without it the server runs neither (a separate `kreiswerk worker` does).
    public var workerDatabaseURL: DatabaseURL?
    public var migrationsDirectory: URL
    public var maximumConnections: Int
    /// The address people reach the server at (invitation links; https makes cookies `Secure`).
    public var publicURL: String
    /// Behind a reverse proxy: believe X-Forwarded-For and X-Request-Id from the `trustedProxies` (only from them).
    public var trustForwardedFor: Bool
    /// The proxies whose forwarded client address counts when `trustForwardedFor` is on (KREISWERK_TRUSTED_PROXIES);
    /// by default a proxy on this machine.
    public var trustedProxies: TrustedProxies = .loopback
    public var passwords: Passwords
    public var throttle: SignInThrottle.Limits
    public var lifetimes: Credentials.Lifetimes
    /// How often the server seals new audit entries into the chain.
    public var auditSealInterval: Duration
    /// The job worker inside the server; nil when separate `kreiswerk worker` processes run the jobs.
    public var worker: JobWorker.Configuration?
    public var mail: Mailer.Configuration
    /// Seals second-factor secrets. `serve` takes KREISWERK_TOTP_KEY and KREISWERK_TOTP_OLD_KEYS (`SecretBox.fromEnvironment`);
    /// the default is a key that lives only as long as the process (tests).
    public var totpKeys: SecretBox = .ephemeral()
    /// How long a connection may send nothing before the server closes it: between requests, and while a request's
    /// head or body is still coming (a slow-loris client). `serve` takes KREISWERK_IDLE_TIMEOUT_SECONDS.
    public var idleTimeout: Duration = .seconds(15)
    /// How long a resolved session or token identity is kept (`IdentityCache`); zero resolves it for every request.
    public var identityCacheLifetime: Duration = .seconds(15)

    public init(
        host: String = "127.0.0.1",
        port: Int = 8080,
        databaseURL: DatabaseURL,
        workerDatabaseURL: DatabaseURL? = nil,
        migrationsDirectory: URL,
        maximumConnections: Int = 16,
        publicURL: String? = nil,
        trustForwardedFor: Bool = false,
        passwords: Passwords = Passwords(),
        throttle: SignInThrottle.Limits = .init(),
        lifetimes: Credentials.Lifetimes = .init(),
        auditSealInterval: Duration = .seconds(2),
        worker: JobWorker.Configuration? = .init(),
        mail: Mailer.Configuration? = nil
    ) {
        self.host = host
        self.port = port
        self.databaseURL = databaseURL
        self.workerDatabaseURL = workerDatabaseURL
        self.migrationsDirectory = migrationsDirectory
        self.maximumConnections = maximumConnections
        self.publicURL = (publicURL ?? "http://\(host):\(port)").trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        self.trustForwardedFor = trustForwardedFor
        self.passwords = passwords
        self.throttle = throttle
        self.lifetimes = lifetimes
        self.auditSealInterval = auditSealInterval
        self.worker = worker
        self.mail = mail ?? .fromEnvironment(publicURL: self.publicURL)
    }

    public var secureCookies: Bool { publicURL.lowercased().hasPrefix("https://") }

    /// The proxies actually believed: none unless `trustForwardedFor` is on.
    public var believedProxies: TrustedProxies { trustForwardedFor ? trustedProxies : .none }
}
