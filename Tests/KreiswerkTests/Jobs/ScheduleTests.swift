import Foundation
import Testing

@testable import Kreiswerk

/// Recurring schedules: each period fires once however many workers try, and after downtime the
/// missed period fires once, not once per missed tick.
@Suite struct ScheduleTests {
    static func instant(_ text: String) -> Date { try! Date(text, strategy: .iso8601) }

    static func queued(_ db: TestDatabase, kind: String) async throws -> [JobPayload] {
        try await db.owner.withTransaction { connection in
            try await connection.query("SELECT payload::text FROM jobs WHERE kind = \(kind) ORDER BY id", logger: TestDatabase.logger).collect()
                .map { try JSONDecoder().decode(JobPayload.self, from: Data(try $0.decode(String.self).utf8)) }
        }
    }

    @Test func aPeriodFiresOnceWithThreeWorkersAndOnceAfterAGap() async throws {
        try await TestDatabase.with { db in
            _ = try await db.applyENKreis()
            let schedules = JobSchedules([.init("reminders", cron: try CronSchedule("30 6 * * *"), kind: Jobs.noop)])
            try await schedules.install(on: db.app)
            let morning = Self.instant("2027-03-01T06:45:00+01:00")
            let fired = try await withThrowingTaskGroup(of: [String].self) { group in
                for _ in 0..<3 { group.addTask { try await schedules.fireDue(at: morning, on: db.app) } }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            #expect(fired == ["reminders"])
            #expect(try await schedules.fireDue(at: Self.instant("2027-03-01T18:00:00+01:00"), on: db.app).isEmpty, "same period")
            // Three days down: the latest tick fires, once.
            let afterGap = Self.instant("2027-03-04T09:00:00+01:00")
            #expect(try await schedules.fireDue(at: afterGap, on: db.app) == ["reminders"])
            #expect(try await schedules.fireDue(at: afterGap, on: db.app).isEmpty)
            let periods = try await Self.queued(db, kind: "noop").map { $0["period"] }
            #expect(periods == ["2027-03-01T05:30:00Z", "2027-03-04T05:30:00Z"])
        }
    }

    @Test func theDailySweepFollowsBerlinTimeAcrossTheDaylightSavingChange() async throws {
        try await TestDatabase.with { db in
            _ = try await db.applyENKreis()
            let schedules = JobSchedules([.init("reminders", cron: try CronSchedule("30 6 * * *"), kind: Jobs.noop)])
            try await schedules.install(on: db.app)
            // Saturday in CET, Sunday the clocks go forward, Monday in CEST: 06:30 local each day.
            for day in ["2027-03-27T07:00:00+01:00", "2027-03-28T07:00:00+02:00", "2027-03-29T07:00:00+02:00"] {
                #expect(try await schedules.fireDue(at: Self.instant(day), on: db.app) == ["reminders"])
            }
            let periods = try await Self.queued(db, kind: "noop").map { $0["period"] }
            #expect(periods == ["2027-03-27T05:30:00Z", "2027-03-28T04:30:00Z", "2027-03-29T04:30:00Z"])
        }
    }
}
