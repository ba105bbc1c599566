import Foundation
import PostgresNIO

/// A `postgres://user:password@host:port/database?sslmode=…` address, as operators write it.
public struct DatabaseURL: Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String
    public var sslMode: String

    public init(_ string: String) throws {
        guard let components = URLComponents(string: string),
            components.scheme == "postgres" || components.scheme == "postgresql"
        else {
            throw ConfigurationError("database URL must look like postgres://USER:PASSWORD@HOST:PORT/DATABASE, got '\(Self.redacted(string))'")
        }
        guard let user = components.percentEncodedUser?.removingPercentEncoding, !user.isEmpty else {
            throw ConfigurationError("database URL '\(Self.redacted(string))' names no user")
        }
        let database = String(components.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty else {
            throw ConfigurationError("database URL '\(Self.redacted(string))' names no database (the part after the last '/')")
        }
        self.host = components.host.flatMap { $0.isEmpty ? nil : $0 } ?? "127.0.0.1"
        self.port = components.port ?? 5432
        self.username = user
        self.password = components.percentEncodedPassword?.removingPercentEncoding
        self.database = database
        self.sslMode = components.queryItems?.first(where: { $0.name == "sslmode" })?.value ?? "disable"
        guard ["disable", "prefer", "require"].contains(sslMode) else {
            throw ConfigurationError("sslmode '\(sslMode)' is not supported: use disable, prefer or require")
        }
    }

    /// The same server and credentials, another database.
    public func with(database: String) -> DatabaseURL {
        var copy = self
        copy.database = database
        return copy
    }

    /// The same server and database, another role.
    public func with(username: String, password: String?) -> DatabaseURL {
        var copy = self
        copy.username = username
        copy.password = password
        return copy
    }

    public var clientConfiguration: PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS =
            switch sslMode {
            case "require": .require(.makeClientConfiguration())
            case "prefer": .prefer(.makeClientConfiguration())
            default: .disable
            }
        var configuration = PostgresClient.Configuration(
            host: host,
            port: port,
            username: username,
            password: password,
            database: database,
            tls: tls
        )
        configuration.options.connectTimeout = .seconds(5)
        return configuration
    }

    public var description: String {
        "postgres://\(username)@\(host):\(port)/\(database)"
    }

    private static func redacted(_ string: String) -> String {
        string.replacingOccurrences(of: #":[^:@/]*@"#, with: ":***@", options: .regularExpression)
    }
}

/// A setting that is missing or malformed; the message says which and how to fix it.
public struct ConfigurationError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
