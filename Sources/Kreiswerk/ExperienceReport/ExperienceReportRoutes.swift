/// Everything the experience reports add to the server, registered with one call from `buildRoutes`.
struct ExperienceReportRoutes {
    let reports: ExperienceReports
    let pages: Pages

    init(database: Database, policy: Policy, pages: Pages) {
        self.reports = ExperienceReports(database: database, policy: policy)
        self.pages = pages
    }

    /// Fails at start-up when one of the report's templates is missing from the build.
    func register(on routes: GuardedRouter) throws {
        let missing = ExperienceReportPages.templates.filter { pages.library.getTemplate(named: $0) == nil }
        guard missing.isEmpty else { throw ConfigurationError("page templates missing: \(missing.joined(separator: ", "))") }
        ExperienceReportAPI(reports: reports).register(on: routes)
        ExperienceReportPages(reports: reports, pages: pages).register(on: routes)
    }
}
