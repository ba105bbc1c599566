/// Everything the figures and staffing add to the server, registered with one call from `buildRoutes`.
struct FiguresRoutes {
    let figures: DistrictFigures
    let staffing: Staffing
    let pages: Pages

    init(database: Database, pages: Pages) {
        self.figures = DistrictFigures(database: database)
        self.staffing = Staffing(database: database)
        self.pages = pages
    }

    /// Fails at start-up when one of the figures' templates is missing from the build.
    func register(on routes: GuardedRouter) throws {
        let missing = FiguresPages.templates.filter { pages.library.getTemplate(named: $0) == nil }
        guard missing.isEmpty else { throw ConfigurationError("page templates missing: \(missing.joined(separator: ", "))") }
        FiguresAPI(figures: figures, staffing: staffing).register(on: routes)
        FiguresPages(figures: figures, pages: pages).register(on: routes)
        StaffingPages(staffing: staffing, pages: pages).register(on: routes)
    }
}
