import Hummingbird
import Logging
import PostgresNIO

/// The request context of every route.
public typealias AppRequestContext = BasicRequestContext

/// Creates and wires everything the server runs: the database client, the routes, the services.
/// The one place where things are built; tests call it with their own configuration.
public func buildApplication(_ configuration: AppConfiguration, logger: Logger) throws -> some ApplicationProtocol {
    var clientConfiguration = configuration.databaseURL.clientConfiguration
    clientConfiguration.options.maximumConnections = configuration.maximumConnections
    let client = PostgresClient(configuration: clientConfiguration, backgroundLogger: logger)
    let database = Database(client: client, logger: logger)
    let migrator = Migrator(migrations: try Migration.load(from: configuration.migrationsDirectory), logger: logger)

    let router = Router(context: AppRequestContext.self)
    router.add(middleware: ProblemMiddleware())
    router.add(middleware: LogRequestsMiddleware(.debug))
    HealthRoutes(database: database, migrator: migrator).register(on: router)

    return Application(
        router: router,
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "kreiswerk"),
        services: [client, RuntimeRoleCheck(database: database)],
        logger: logger
    )
}
