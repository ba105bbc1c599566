import Foundation

/// Everything `buildApplication` needs, read from flags and the environment by the command line.
public struct AppConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// The runtime role's connection (`kreiswerk_app`): never the owner.
    public var databaseURL: DatabaseURL
    public var migrationsDirectory: URL
    public var maximumConnections: Int

    public init(host: String = "127.0.0.1", port: Int = 8080, databaseURL: DatabaseURL, migrationsDirectory: URL, maximumConnections: Int = 16) {
        self.host = host
        self.port = port
        self.databaseURL = databaseURL
        self.migrationsDirectory = migrationsDirectory
        self.maximumConnections = maximumConnections
    }
}
