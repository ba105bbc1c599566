import Hummingbird
import Logging
import PostgresNIO
import ServiceLifecycle

/// Creates and wires everything the server runs: the database client, the routes, the services.
/// The one place where things are built; tests call it with their own configuration.
public func buildApplication(_ configuration: AppConfiguration, logger: Logger) async throws -> some ApplicationProtocol {
    try await RuntimeRoleCheck.verify(configuration.databaseURL, logger: logger)
    if let workerURL = configuration.workerDatabaseURL {
        try await RuntimeRoleCheck.verify(workerURL, claimsJobs: configuration.worker != nil, logger: logger)
    }
    var clientConfiguration = configuration.databaseURL.clientConfiguration
    clientConfiguration.options.maximumConnections = configuration.maximumConnections
    let client = PostgresClient(configuration: clientConfiguration, backgroundLogger: logger)
    let database = Database(client: client, logger: logger)
    let metrics = JobMetrics()
    let httpMetrics = HTTPMetrics(registry: metrics.registry)
    let kinds = Jobs.kinds(mailer: Mailer(configuration: configuration.mail))
    let schedules = Jobs.schedules(kinds)
    let identities = IdentityCache(lifetime: configuration.identityCacheLifetime)
    let routes = try await buildRoutes(
        configuration,
        database: database,
        metrics: metrics,
        schedules: schedules,
        identities: identities,
        logger: logger
    )
    var services: [any Service] = [client]
    if configuration.identityCacheLifetime > .zero {
        services.append(IdentityCache.Listener(cache: identities, database: database))
    }
    if let workerURL = configuration.workerDatabaseURL {
        // Jobs and sealing run as kreiswerk_worker, the only role that may claim, complete and seal.
        var workerClientConfiguration = workerURL.clientConfiguration
        workerClientConfiguration.options.maximumConnections = (configuration.worker?.concurrency ?? 0) + 3
        let workerClient = PostgresClient(configuration: workerClientConfiguration, backgroundLogger: logger)
        let jobsDatabase = Database(client: workerClient, logger: logger)
        services += [
            workerClient,
            AuditSealer(chain: AuditChain(database: jobsDatabase), interval: configuration.auditSealInterval),
        ]
        if let worker = configuration.worker {
            services.append(JobWorker(configuration: worker, kinds: kinds, database: jobsDatabase, schedules: schedules, metrics: metrics))
        }
    } else if configuration.worker != nil {
        throw ConfigurationError(
            "the built-in job worker needs the worker role's connection (KREISWERK_WORKER_DATABASE_URL, postgres://kreiswerk_worker:…); "
                + "or serve with --no-worker and run `kreiswerk worker` separately"
        )
    }
    // Each request runs in a task of its own, answered 503 if its database work is left behind (DatabaseDeadline);
    // the idle timeout closes connections that send nothing (slow-loris), in the server itself, not only in a proxy.
    let idle = configuration.idleTimeout.components
    return Application(
        responder: RequestLog(
            DeadlineResponder(routes.router.buildResponder(), pages: try await Pages.load(), logger: logger),
            proxies: configuration.believedProxies,
            metrics: httpMetrics
        ),
        server: .http1(configuration: .init(idleTimeout: .nanoseconds(idle.seconds * 1_000_000_000 + idle.attoseconds / 1_000_000_000))),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "kreiswerk"),
        services: services,
        logger: logger
    )
}

/// Every route of the server, each registered with its access rule. Separate from
/// `buildApplication` so that tests can inspect the rules next to the router's own list.
public func buildRoutes(
    _ configuration: AppConfiguration,
    database: Database,
    metrics: JobMetrics = JobMetrics(),
    schedules: JobSchedules? = nil,
    identities: IdentityCache = IdentityCache(),
    logger: Logger
) async throws -> GuardedRouter {
    let migrator = Migrator(migrations: try Migration.load(from: configuration.migrationsDirectory), logger: logger)
    let pages = try await Pages.load()
    let policy = Policy()
    let passwords = configuration.passwords
    let credentials = Credentials(lifetimes: configuration.lifetimes, cache: identities, logger: logger)
    let invitations = Invitations(lifetime: configuration.lifetimes.invitation, logger: logger)
    let signIn = SignIn(
        database: database,
        passwords: passwords,
        throttle: SignInThrottle(limits: configuration.throttle),
        secrets: configuration.totpKeys
    )
    let users = UserAdministration(database: database, policy: policy, invitations: invitations, publicURL: configuration.publicURL)
    let onboarding = TenantOnboarding(database: database, policy: policy, users: users)
    let settings = TenantSettings(database: database, policy: policy)

    let router = Router(context: AppRequestContext.self)
    router.add(middleware: SecurityHeadersMiddleware())
    router.add(middleware: ProblemMiddleware(pages: pages))
    router.add(
        middleware: AuthenticationMiddleware(
            credentials: credentials,
            database: database,
            policy: policy
        )
    )
    router.add(middleware: IdempotencyMiddleware(database: database))
    router.add(middleware: OpenPollsMiddleware(work: TenantWork.coordination(database, policy), policy: policy))
    let routes = GuardedRouter(router: router, policy: policy, secureCookies: configuration.secureCookies)

    HealthRoutes(database: database, migrator: migrator).register(on: routes)
    try StaticFiles.load().register(on: routes)
    try APIDescription.load().register(on: routes)
    IdentityAPI(database: database, policy: policy, signIn: signIn, credentials: credentials, users: users).register(on: routes)
    TenantAPI(database: database, policy: policy, onboarding: onboarding, settings: settings).register(on: routes)
    AuditRoutes(database: database, policy: policy, users: users, pages: pages).register(on: routes)
    SignInPages(
        database: database,
        pages: pages,
        signIn: signIn,
        credentials: credentials,
        invitations: invitations,
        passwords: passwords,
        secureCookies: configuration.secureCookies
    ).register(on: routes)
    AccountPages(
        database: database,
        pages: pages,
        passwords: passwords,
        tokens: PersonalTokens(database: database, signIn: signIn, credentials: credentials),
        secrets: configuration.totpKeys
    ).register(on: routes)
    TenantPages(database: database, policy: policy, pages: pages, onboarding: onboarding).register(on: routes)
    UserPages(database: database, policy: policy, pages: pages, users: users).register(on: routes)
    let caseWork = CaseWork(database: database, policy: policy)
    CaseAPI(work: caseWork, standards: DocumentationStandards(database: database, policy: policy)).register(on: routes)
    let referrals = Referrals(work: caseWork)
    let casePages = CasePages(work: caseWork, referrals: referrals, pages: pages)
    casePages.register(on: routes)
    ReferralAPI(referrals: referrals).register(on: routes)
    ReferralPages(referrals: referrals, work: caseWork, pages: pages).register(on: routes, casePages: casePages)
    let services = ServiceUpkeep(database: database, policy: policy)
    ServiceAPI(upkeep: services).register(on: routes)
    ServicePages(upkeep: services, pages: pages).register(on: routes)
    let conferences = Conferences(work: caseWork)
    ClientExport(work: caseWork, referrals: referrals, conferences: conferences).register(on: routes)
    ReportRoutes(reports: Level2Reports(work: caseWork.seam), pages: pages, policy: policy).register(on: routes)
    ConferenceAPI(conferences: conferences).register(on: routes)
    ConferencePages(conferences: conferences, casePages: casePages, pages: pages).register(on: routes)
    NotificationRoutes(database: database, pages: pages).register(on: routes)
    let coordination = TenantWork.coordination(database, policy)
    let problems = Problems(work: coordination, cases: caseWork)
    let groups = ProjectGroups(work: coordination)
    let steering = Steering(work: coordination)
    ProblemAPI(problems: problems, policy: policy).register(on: routes)
    CommitteeAPI(groups: groups, steering: steering).register(on: routes)
    ProblemPages(problems: problems, groups: groups, pages: pages, policy: policy).register(on: routes)
    CommitteePages(groups: groups, steering: steering, pages: pages, policy: policy).register(on: routes)
    let meetingAdvisors = MeetingAdvisors(work: coordination)
    MeetingAdvisorsAPI(advisors: meetingAdvisors).register(on: routes)
    MeetingAdvisorsPages(advisors: meetingAdvisors, pages: pages, policy: policy).register(on: routes)
    try FiguresRoutes(database: database, pages: pages).register(on: routes)
    try ExperienceReportRoutes(database: database, policy: policy, pages: pages).register(on: routes)
    ApplicationPages(applications: ResidenceApplications(database: database, policy: policy), pages: pages).register(on: routes)
    PrecheckPages(prechecks: AbhPrechecks(database: database, policy: policy), pages: pages).register(on: routes)
    CampaignPages(campaigns: Campaigns(database: database, policy: policy), pages: pages).register(on: routes)
    ResidenceAPI(
        applications: ResidenceApplications(database: database, policy: policy),
        prechecks: AbhPrechecks(database: database, policy: policy),
        campaigns: Campaigns(database: database, policy: policy)
    ).register(on: routes)
    HandbookPages(handbook: Handbook(database: database, policy: policy), pages: pages).register(on: routes)
    let documentationRequests = DocumentationRequests(database: database, policy: policy)
    DocumentationRequestsAPI(requests: documentationRequests).register(on: routes)
    DocumentationRequestsPages(requests: documentationRequests, pages: pages).register(on: routes)
    let staffingDecisions = StaffingDecisions(database: database, policy: policy)
    StaffingDecisionsAPI(decisions: staffingDecisions).register(on: routes)
    StaffingDecisionsPages(decisions: staffingDecisions, pages: pages).register(on: routes)
    let milestonePlan = MilestonePlan(database: database, policy: policy)
    MilestonesAPI(plan: milestonePlan).register(on: routes)
    MilestonesPages(plan: milestonePlan, pages: pages).register(on: routes)
    JobRoutes(
        database: database,
        pages: pages,
        metrics: metrics,
        schedules: schedules ?? Jobs.schedules(Jobs.kinds(mailer: Mailer(configuration: configuration.mail)))
    ).register(on: routes)
    return routes
}
