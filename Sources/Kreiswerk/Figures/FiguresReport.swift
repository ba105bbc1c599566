import Foundation

/// The district's figures as they may be shown: every count has passed through `Suppression`.
/// The dashboard, the JSON API, the CSV and the print page are all made from this.
public struct FiguresReport: Sendable, Encodable {
    public struct Period: Sendable, Encodable {
        /// "2026-07"
        public var from: String
        public var to: String
        /// "2026-2" for a half-year export; nil for the dashboard's last twelve months.
        public var halfYear: String?
    }

    public var district: String
    public var districtName: String
    /// The district's id, for the cache (not part of the JSON).
    var districtID: UUID
    public var computedAt: Date
    public var threshold: Int
    public var period: Period
    enum CodingKeys: String, CodingKey { case district, districtName, computedAt, threshold, period, units, total, evaluation }

    /// The towns (and carriers or the district itself where they have figures of their own).
    public var units: [UnitFigures]
    /// The whole district, summed from exact counts before suppression.
    public var total: UnitFigures
    /// Evaluation beyond counts (outcomes, durations, the ABH's register, the campaign), suppressed the same way.
    public var evaluation = Evaluation()
}

/// The figures of one town, or of the whole district.
public struct UnitFigures: Sendable, Encodable {
    public struct MonthFigures: Sendable, Encodable {
        public var month: String
        public var opened: FigureCount
        public var closed: FigureCount
        public var referrals: FigureCount
        public var conferences: FigureCount
        public var problemsRaised: FigureCount
    }

    public struct ServiceFigures: Sendable, Encodable {
        public var service: String
        public var name: String
        public var sent: FigureCount
        public var withFeedback: FigureCount
        /// "40 %"; nil when a count it rests on is suppressed or nothing was sent.
        public var feedbackRate: String?
    }

    public var slug: String
    public var name: String
    public var kind: String
    /// The carrier that carries out the town's case management, whose cases count for the town.
    public var caseManagementBy: String?
    public var openCases: FigureCount
    /// New and closed cases over the whole period.
    public var openedInPeriod: FigureCount
    public var closedInPeriod: FigureCount
    public var byPhase: [String: FigureCount]
    public var byChannel: [String: FigureCount]
    public var byTargetGroup: [String: FigureCount]
    public var months: [MonthFigures]
    public var referrals: [ServiceFigures]
    public var conferences: [String: FigureCount]
    public var problemsByLevel: [String: FigureCount]
    public var problemsByCategory: [String: FigureCount]
    public var problemsByAge: [String: FigureCount]
    public var overdue: [String: FigureCount]
    /// Funded case-management posts in full-time equivalents ("2.00"), of `fundedYear`; nil when none is recorded.
    public var fundedPosts: String?
    public var fundedYear: Int?
    /// Open cases per full-time post ("42,5"); nil when the caseload is suppressed or no post is funded.
    public var casesPerPost: String?
}

extension FiguresReport {
    /// A tenant of the district as the figures name it.
    struct Unit: Sendable {
        var id: UUID
        var slug: String
        var name: String
        var kind: String
        var caseManagementBy: String? = nil
    }

    /// Exact counts of one unit (or of the district), by measure, key and month ("" for state rows).
    struct Tally: Sendable {
        var values: [String: [String: [String: Int]]] = [:]

        mutating func add(_ row: FigureSnapshot.Row) {
            values[row.measure, default: [:]][row.key, default: [:]][row.month ?? "", default: 0] += row.value
        }

        mutating func add(_ other: Tally) {
            for (measure, keys) in other.values {
                for (key, months) in keys {
                    for (month, value) in months { values[measure, default: [:]][key, default: [:]][month, default: 0] += value }
                }
            }
        }

        /// The state value, or the sum over `months` for a monthly measure.
        func value(_ measure: String, _ key: String, months: [String]? = nil) -> Int {
            guard let byMonth = values[measure]?[key] else { return 0 }
            guard let months else { return byMonth[""] ?? 0 }
            return months.reduce(0) { $0 + (byMonth[$1] ?? 0) }
        }

        /// The sum over every key of a measure.
        func sum(_ measure: String, months: [String]? = nil) -> Int {
            (values[measure] ?? [:]).keys.reduce(0) { $0 + value(measure, $1, months: months) }
        }

        func keys(_ measure: String) -> [String] { (values[measure] ?? [:]).keys.sorted() }
    }

    /// Builds the report from a snapshot: exact tallies per unit, the district total summed from them,
    /// and then — in `present`, the only place — suppression of every count.
    static func build(
        snapshot: FigureSnapshot,
        district: Unit,
        units: [Unit],
        services: [(key: String, name: String)],
        months: [Month],
        halfYear: HalfYear?,
        suppression: Suppression
    ) -> FiguresReport {
        var tallies: [UUID: Tally] = [:]
        for row in snapshot.rows { tallies[row.unitID, default: Tally()].add(row) }
        var total = Tally()
        for tally in tallies.values { total.add(tally) }
        // The towns always; other tenants (a carrier of its own, the district's own items) when they have figures.
        let shown = units.filter { $0.kind == "municipality" || tallies[$0.id] != nil }
        let sorted = shown.sorted { ($0.kind == "district" ? 1 : 0, $0.name) < ($1.kind == "district" ? 1 : 0, $1.name) }
        let present = { (unit: Unit, tally: Tally) in
            Self.present(unit: unit, tally, services: services, months: months, suppression: suppression)
        }
        var report = FiguresReport(
            district: district.slug,
            districtName: district.name,
            districtID: district.id,
            computedAt: snapshot.computedAt,
            threshold: suppression.threshold,
            period: Period(from: months.first?.key ?? "", to: months.last?.key ?? "", halfYear: halfYear?.description),
            units: sorted.map { present($0, tallies[$0.id] ?? Tally()) },
            total: present(Unit(id: district.id, slug: district.slug, name: "\(district.name) (gesamt)", kind: "district_total"), total)
        )
        report.withholdComplements()
        report.evaluation = Evaluation.build(
            tallies: tallies,
            total: total,
            units: sorted,
            district: district,
            services: services,
            months: months,
            period: halfYear?.label ?? "letzte 12 Monate",
            suppression: suppression
        )
        return report
    }

    /// Secondary suppression of the whole report (`ComplementarySuppression`), over these relations:
    /// in every unit and the district total, open cases = Σ phases = Σ access channels = Σ target
    /// groups (an over-approximation, since a person may belong to several; it only withholds
    /// more), the period's new and closed cases = Σ months, Σ months' referrals = Σ services' referrals,
    /// Σ months' conferences = Σ kinds, Σ problems by level = Σ by category = Σ by age; and every
    /// count of the district total = Σ the same count of the units.
    ///
    /// A month's counts appear in every publication whose period covers it (the dashboard's twelve
    /// months, each half-year), so they are protected first from their own month alone (the
    /// district = Σ units), the same in each; the relations over a period are then protected by
    /// withholding the period's counts only, never a month's. Rates and caseloads per post resting
    /// on a withheld count are dropped as for a suppressed one.
    mutating func withholdComplements() {
        var names: [String] = []
        var counts: [FigureCount] = []
        visitCounts { name, count in
            names.append(name)
            counts.append(count)
        }
        let index = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })
        let monthly = names.map { $0.contains("|m:") }
        var relations: [ComplementarySuppression.Relation] = []
        var monthLines: [Int] = []
        func cells(_ unit: String, _ prefix: String, suffix: String = "") -> [Int] {
            names.indices.filter { names[$0].hasPrefix("\(unit)|\(prefix)") && names[$0].hasSuffix(suffix) }
        }
        func equal(_ left: [Int], _ right: [Int]) {
            relations.append(left.map { ($0, -1) } + right.map { ($0, 1) })
        }
        for unit in ["total"] + units.indices.map { "u\($0)" } {
            let open = [index["\(unit)|open"]!]
            equal(open, cells(unit, "phase/"))
            equal(open, cells(unit, "channel/"))
            equal(open, cells(unit, "group/"))
            equal([index["\(unit)|opened"]!], cells(unit, "m:", suffix: "/opened"))
            equal([index["\(unit)|closed"]!], cells(unit, "m:", suffix: "/closed"))
            equal(cells(unit, "m:", suffix: "/referrals"), cells(unit, "service/", suffix: "/sent"))
            equal(cells(unit, "m:", suffix: "/conferences"), cells(unit, "conference/"))
            equal(cells(unit, "level/"), cells(unit, "category/"))
            equal(cells(unit, "level/"), cells(unit, "age/"))
        }
        for (cell, name) in names.enumerated() where name.hasPrefix("total|") {
            let count = String(name.dropFirst("total|".count))
            if monthly[cell] { monthLines.append(relations.count) }
            equal([cell], units.indices.compactMap { index["u\($0)|\(count)"] })
        }
        var protection = ComplementarySuppression(counts: counts, relations: relations, threshold: threshold)
        protection.protect(using: monthLines)
        protection.protect(eligible: { !monthly[$0] })
        var position = 0
        visitCounts { _, count in
            count = protection.counts[position]
            position += 1
        }
        for unit in units.indices { units[unit].dropDerivedFromWithheld() }
        total.dropDerivedFromWithheld()
    }

    /// Every count of the report, named "unit|count" ("u3|phase/intake", "total|m:2026-07/opened").
    mutating func visitCounts(_ visit: (String, inout FigureCount) -> Void) {
        total.visitCounts { visit("total|\($0)", &$1) }
        for unit in units.indices { units[unit].visitCounts { visit("u\(unit)|\($0)", &$1) } }
    }

    private static func present(
        unit: Unit,
        _ tally: Tally,
        services: [(key: String, name: String)],
        months: [Month],
        suppression: Suppression
    ) -> UnitFigures {
        let days = months.map(\.firstDay)
        func state(_ measure: String, _ labels: FigureLabels.Labelled) -> [String: FigureCount] {
            Dictionary(uniqueKeysWithValues: labels.map { ($0.key, suppression.count(tally.value(measure, $0.key))) })
        }
        func monthly(_ measure: String, _ day: String) -> FigureCount { suppression.count(tally.sum(measure, months: [day])) }
        let open = tally.sum("open_by_phase")
        let serviceKeys = Set(tally.keys("referrals"))
        let referrals = services.filter { serviceKeys.contains($0.key) }.map { service -> UnitFigures.ServiceFigures in
            let sent = tally.value("referrals", service.key, months: days)
            let answered = tally.value("referrals_with_feedback", service.key, months: days)
            return .init(
                service: service.key,
                name: service.name,
                sent: suppression.count(sent),
                withFeedback: suppression.count(answered),
                feedbackRate: suppression.rate(answered, of: sent)
            )
        }.filter { $0.sent != .exact(0) }
        let funded = tally.keys("funded_fte_hundredths")
        let posts = funded.isEmpty ? nil : FullTimeEquivalent(hundredths: funded.reduce(0) { $0 + tally.value("funded_fte_hundredths", $1) })
        return UnitFigures(
            slug: unit.slug,
            name: unit.name,
            kind: unit.kind,
            caseManagementBy: unit.caseManagementBy,
            openCases: suppression.count(open),
            openedInPeriod: suppression.count(tally.sum("opened", months: days)),
            closedInPeriod: suppression.count(tally.sum("closed", months: days)),
            byPhase: state("open_by_phase", FigureLabels.phases),
            byChannel: state("open_by_channel", FigureLabels.channels),
            byTargetGroup: state("open_by_target_group", FigureLabels.targetGroups),
            months: months.map { month in
                .init(
                    month: month.key,
                    opened: monthly("opened", month.firstDay),
                    closed: monthly("closed", month.firstDay),
                    referrals: monthly("referrals", month.firstDay),
                    conferences: monthly("conferences", month.firstDay),
                    problemsRaised: monthly("problems_raised", month.firstDay)
                )
            },
            referrals: referrals,
            conferences: Dictionary(
                uniqueKeysWithValues: FigureLabels.conferenceKinds.map {
                    ($0.key, suppression.count(tally.value("conferences", $0.key, months: days)))
                }
            ),
            problemsByLevel: state("problems_by_level", FigureLabels.levels),
            problemsByCategory: state("problems_by_category", FigureLabels.categories),
            problemsByAge: state("problems_by_age", FigureLabels.ages),
            overdue: state("overdue", FigureLabels.overdue),
            fundedPosts: posts.map { Staffing.format($0) },
            fundedYear: funded.compactMap { Int($0) }.max(),
            casesPerPost: suppression.perPost(open, posts: posts)
        )
    }
}

extension UnitFigures {
    /// Every count of the unit, named by what it counts ("open", "phase/intake", "m:2026-07/opened", "service/KEY/sent").
    mutating func visitCounts(_ visit: (String, inout FigureCount) -> Void) {
        visit("open", &openCases)
        visit("opened", &openedInPeriod)
        visit("closed", &closedInPeriod)
        func each(_ prefix: String, _ counts: inout [String: FigureCount]) {
            for key in counts.keys.sorted() { visit("\(prefix)/\(key)", &counts[key]!) }
        }
        each("phase", &byPhase)
        each("channel", &byChannel)
        each("group", &byTargetGroup)
        for at in months.indices {
            let month = "m:\(months[at].month)"
            visit("\(month)/opened", &months[at].opened)
            visit("\(month)/closed", &months[at].closed)
            visit("\(month)/referrals", &months[at].referrals)
            visit("\(month)/conferences", &months[at].conferences)
            visit("\(month)/problems", &months[at].problemsRaised)
        }
        for at in referrals.indices {
            visit("service/\(referrals[at].service)/sent", &referrals[at].sent)
            visit("service/\(referrals[at].service)/answered", &referrals[at].withFeedback)
        }
        each("conference", &conferences)
        each("level", &problemsByLevel)
        each("category", &problemsByCategory)
        each("age", &problemsByAge)
        each("overdue", &overdue)
    }

    /// A rate or a caseload per post would give away a count withheld as a complement.
    mutating func dropDerivedFromWithheld() {
        if openCases.shown == nil { casesPerPost = nil }
        for at in referrals.indices where referrals[at].sent.shown == nil || referrals[at].withFeedback.shown == nil {
            referrals[at].feedbackRate = nil
        }
    }
}
