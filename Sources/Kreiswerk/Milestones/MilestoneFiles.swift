import Foundation
import Logging
import PostgresNIO
import Yams

/// One task of `tenants/DISTRICT/milestones.yaml`.
public struct MilestoneFileTask: Sendable, Decodable, Equatable {
    public var key: String
    public var buildingBlock: String
    public var heading: String?
    public var title: String
    public var halfYears: [String]
    /// Who is responsible when the task is first created; the coordinators' from then on.
    public var responsible: String?

    enum CodingKeys: String, CodingKey {
        case key, heading, title, responsible
        case buildingBlock = "building_block"
        case halfYears = "half_years"
    }
}

/// Reads `tenants/DISTRICT/milestones.yaml`, one per district, as `ServiceFiles` reads services.yaml:
///
/// ```yaml
/// milestones:
///   - key: lenkungsgruppe-konstituierung    # stable: the task is found by it when the file is applied again
///     building_block: I                     # I, II or III
///     heading: "Gremienarbeit: …"           # optional
///     title: Organisation und Durchführung konstituierender Sitzung der Lenkungsgruppe
///     half_years: [2021-2]                  # year and 1 (January–June) or 2 (July–December)
///     responsible: KS                       # optional; only the first value of a new task
/// ```
///
/// Applying creates and updates tasks by key (building block, heading, title, half-years, order); status, who and note
/// are the coordinators' and never overwritten.
public enum MilestoneFiles {
    struct File: Decodable { var milestones: [MilestoneFileTask] }

    /// district slug → its tasks in the file's order; every problem of every file at once.
    public static func load(from directory: URL, tenants: [Tenant]) throws -> [String: [MilestoneFileTask]] {
        var result: [String: [MilestoneFileTask]] = [:]
        var problems: [TenantFileProblem] = []
        let folders = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        for district in folders.sorted() {
            let url = directory.appendingPathComponent(district).appendingPathComponent("milestones.yaml")
            guard FileManager.default.fileExists(atPath: url.path) else { continue }
            let display = "\(directory.lastPathComponent)/\(district)/milestones.yaml"
            let file: File
            do {
                file = try YAMLDecoder().decode(File.self, from: String(contentsOf: url, encoding: .utf8), userInfo: [:])
            } catch {
                problems.append(TenantFileProblem(file: display, message: "cannot be read: \(error)"))
                continue
            }
            if !tenants.contains(where: { $0.slug == district && $0.kind == .district }) {
                problems.append(TenantFileProblem(file: display, message: "the folder '\(district)' is not a district of the tenant files"))
            }
            problems += check(file.milestones, file: display)
            result[district] = file.milestones
        }
        guard problems.isEmpty else { throw TenantFilesInvalid(problems: problems) }
        return result
    }

    static func check(_ tasks: [MilestoneFileTask], file: String) -> [TenantFileProblem] {
        var problems: [TenantFileProblem] = []
        var seen = Set<String>()
        for task in tasks {
            func report(_ field: String, _ message: String) {
                problems.append(TenantFileProblem(file: file, field: "\(task.key).\(field)", message: message))
            }
            if !seen.insert(task.key).inserted { report("key", "the key is used twice: every task needs its own") }
            if !ServiceDirectory.isKey(task.key) { report("key", "use lower-case letters, digits and single hyphens") }
            if BuildingBlock(rawValue: task.buildingBlock) == nil { report("building_block", "is '\(task.buildingBlock)': give I, II or III") }
            if task.title.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty || task.title.count > 500 {
                report("title", "give the task in 1 to 500 characters")
            }
            if let heading = task.heading, heading.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty || heading.count > 300 {
                report("heading", "give the heading in 1 to 300 characters, or leave it out")
            }
            if task.halfYears.isEmpty { report("half_years", "give at least one half-year, e.g. [2021-1, 2021-2]") }
            for text in task.halfYears where HalfYear(text) == nil {
                report("half_years", "'\(text)' is no half-year: give the year and 1 (January–June) or 2 (July–December), e.g. 2021-2")
            }
        }
        return problems
    }

    /// Brings the districts' plans in line with the files (run as the owner by `tenants apply`): creates the tasks that
    /// are new, updates block, heading, title, half-years and order of the others; never touches status, who or note.
    /// Returns a summary, or nil when nothing changed.
    public static func apply(_ files: [String: [MilestoneFileTask]], on connection: PostgresConnection, logger: Logger) async throws -> String? {
        var created = 0
        var updated = 0
        for (district, tasks) in files.sorted(by: { $0.key < $1.key }) {
            guard
                let districtID = try await connection.query("SELECT id FROM tenants WHERE slug = \(district)", logger: logger).collect().first?
                    .decode(UUID.self)
            else { continue }
            for (position, task) in tasks.enumerated() {
                let halfYears = task.halfYears.compactMap(HalfYear.init).map(\.description)
                let row = try await connection.query(
                    """
                    INSERT INTO milestone_tasks (tenant_id, key, building_block, heading, title, half_years, position, responsible)
                    VALUES (\(districtID), \(task.key), \(task.buildingBlock), \(task.heading), \(task.title), \(halfYears), \(position + 1),
                            \(task.responsible))
                    ON CONFLICT (tenant_id, key) DO UPDATE SET building_block = excluded.building_block, heading = excluded.heading,
                        title = excluded.title, half_years = excluded.half_years, position = excluded.position
                    WHERE (milestone_tasks.building_block, milestone_tasks.heading, milestone_tasks.title, milestone_tasks.half_years,
                           milestone_tasks.position)
                        IS DISTINCT FROM (excluded.building_block, excluded.heading, excluded.title, excluded.half_years, excluded.position)
                    RETURNING (xmax = 0)
                    """,
                    logger: logger
                ).collect().first
                if let row { if try row.decode(Bool.self) { created += 1 } else { updated += 1 } }
            }
        }
        return created + updated == 0 ? nil : "Milestones: \(created) created, \(updated) updated."
    }
}
