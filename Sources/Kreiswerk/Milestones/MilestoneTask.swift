import Foundation

/// Where a milestone task stands (seed 004 section 10). English codes in data and API, German labels on pages.
public enum MilestoneStatus: String, Sendable, CaseIterable, Encodable {
    case planned
    case inProgress = "in_progress"
    case done
    case postponed
    case dropped

    /// "geplant", "läuft", "erledigt", "verschoben", "entfällt"
    public var label: String {
        switch self {
        case .planned: "geplant"
        case .inProgress: "läuft"
        case .done: "erledigt"
        case .postponed: "verschoben"
        case .dropped: "entfällt"
        }
    }

    /// Done or dropped: nothing is left to do, so the task is neither open nor overdue.
    public var isClosed: Bool { self == .done || self == .dropped }

    /// Every code with its label, as the German messages list them.
    static var listed: String { allCases.map { "\($0.rawValue) (\($0.label))" }.joined(separator: ", ") }
}

/// The three building blocks of KIM (Baustein I: coordination, II: case management, III: the foreigners' authority).
public enum BuildingBlock: String, Sendable, CaseIterable {
    case coordination = "I"
    case caseManagement = "II"
    case immigrationOffice = "III"

    /// "Baustein II: Case Management"
    public var label: String {
        switch self {
        case .coordination: "Baustein I: Koordinierung"
        case .caseManagement: "Baustein II: Case Management"
        case .immigrationOffice: "Baustein III: Ausländerbehörde"
        }
    }
}

/// One task of a district's milestone plan as people read it.
public struct MilestoneTask: Sendable, Encodable, Equatable {
    public var id: UUID
    /// The stable key of a task from milestones.yaml; absent for a task added in the browser or the API.
    public var key: String?
    /// "I", "II" or "III".
    public var buildingBlock: String
    public var heading: String?
    public var title: String
    /// "2021-1" … in order.
    public var halfYears: [String]
    public var status: String
    public var statusLabel: String
    public var responsible: String?
    /// The responsible tenant of the district (slug and name), if one is named.
    public var responsibleTenant: String?
    public var responsibleTenantName: String?
    public var note: String?
    /// The task's edit counter: send it as `If-Match` with a change.
    public var version: Int
    public var changedBy: String?
    /// Its last planned half-year has ended and it is neither done nor dropped.
    public var overdue: Bool
    var position: Int

    enum CodingKeys: String, CodingKey {
        case id, key, buildingBlock, heading, title, halfYears, status, statusLabel, responsible, responsibleTenant
        case responsibleTenantName, note, version, changedBy, overdue
    }

    /// Whether a task planned for `halfYears` with `status` is overdue on `day`: its last half-year has ended (the
    /// half-year containing `day` comes after it) and it is not done or dropped.
    public static func isOverdue(halfYears: [String], status: MilestoneStatus, on day: Day) -> Bool {
        guard !status.isClosed, let last = halfYears.compactMap(HalfYear.init).max(by: { ($0.year, $0.half) < ($1.year, $1.half) }) else {
            return false
        }
        let now = HalfYear(containing: day)
        return (now.year, now.half) > (last.year, last.half)
    }
}

/// A district's milestone plan on one day: its tasks in order, the half-years they run in, the counts of open and overdue tasks.
public struct MilestonePlanView: Sendable, Encodable {
    public var district: String
    public var districtName: String
    /// The day "overdue" is computed for, "2026-12-07".
    public var asOf: String
    public var halfYears: [String]
    /// Not done and not dropped.
    public var open: Int
    /// Open, and its last planned half-year has ended.
    public var overdue: Int
    public var tasks: [MilestoneTask]
}

/// The plan's counts by building block and status, for reports (the experience report shows them).
public struct MilestoneSummary: Sendable, Encodable, Equatable {
    /// building block ("I", "II", "III") → status code → number of tasks.
    public var byBuildingBlock: [String: [String: Int]]
    public var open: Int
    public var overdue: Int
    public var total: Int
}

/// What a coordinator changes of a task: status, who, note. In the API an absent field stays as it is; `null` (or an
/// empty text) clears who or the note.
public struct MilestoneChange: Sendable, Decodable {
    public var status: String?
    public var responsible: String??
    public var responsibleTenant: String??
    public var note: String??

    enum CodingKeys: String, CodingKey {
        case status, responsible, note
        case responsibleTenant = "responsible_tenant"
    }

    public init(status: String?, responsible: String??, responsibleTenant: String??, note: String??) {
        self.status = status
        self.responsible = responsible
        self.responsibleTenant = responsibleTenant
        self.note = note
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        func field(_ key: CodingKeys) throws -> String?? {
            guard container.contains(key) else { return .none }
            if try container.decodeNil(forKey: key) { return .some(nil) }
            return .some(try container.decode(String.self, forKey: key))
        }
        status = try container.decodeIfPresent(String.self, forKey: .status)
        responsible = try field(.responsible)
        responsibleTenant = try field(.responsibleTenant)
        note = try field(.note)
    }
}

/// A task a coordinator adds to the plan.
public struct NewMilestoneTask: Sendable, Decodable {
    public var buildingBlock: String?
    public var heading: String?
    public var title: String?
    public var halfYears: [String]?
    public var status: String?
    public var responsible: String?
    public var responsibleTenant: String?
    public var note: String?

    enum CodingKeys: String, CodingKey {
        case heading, title, status, responsible, note
        case buildingBlock = "building_block"
        case halfYears = "half_years"
        case responsibleTenant = "responsible_tenant"
    }

    public init(
        buildingBlock: String?,
        heading: String?,
        title: String?,
        halfYears: [String]?,
        status: String? = nil,
        responsible: String? = nil,
        responsibleTenant: String? = nil,
        note: String? = nil
    ) {
        self.buildingBlock = buildingBlock
        self.heading = heading
        self.title = title
        self.halfYears = halfYears
        self.status = status
        self.responsible = responsible
        self.responsibleTenant = responsibleTenant
        self.note = note
    }
}
