import Foundation
import Testing

@testable import Kreiswerk

/// Cron expressions: parsing, error messages, and firing instants in Europe/Berlin across daylight-saving changes.
@Suite struct CronScheduleTests {
    /// A fixed instant from an ISO 8601 string such as "2027-03-28T01:00:00Z".
    static func at(_ text: String) -> Date {
        guard let date = ISO8601DateFormatter().date(from: text) else { preconditionFailure("not an ISO 8601 instant: \(text)") }
        return date
    }

    /// The instant as "yyyy-MM-ddTHH:mm:ssZ" (nil as "nil"), so mismatches read well.
    static func iso(_ date: Date?) -> String {
        guard let date else { return "nil" }
        return ISO8601DateFormatter().string(from: date)
    }

    static func next(_ expression: String, after instant: String) throws -> String {
        iso(try CronSchedule(expression).next(after: at(instant)))
    }

    static func latest(_ expression: String, atOrBefore instant: String) throws -> String {
        iso(try CronSchedule(expression).latest(atOrBefore: at(instant)))
    }

    /// All firings in `from..<to` (strictly after `from`), by repeated `next(after:)`.
    static func firings(_ expression: String, from: String, to: String) throws -> [String] {
        let schedule = try CronSchedule(expression)
        var result: [String] = []
        var instant = at(from)
        while let fire = schedule.next(after: instant), fire < at(to) {
            result.append(iso(fire))
            instant = fire
        }
        return result
    }

    /// The description of the error thrown for an invalid expression.
    static func rejection(_ expression: String) -> String {
        do {
            _ = try CronSchedule(expression)
            return "accepted"
        } catch {
            return "\(error)"
        }
    }

    // MARK: - Parsing

    @Test func theExpressionIsKeptAsWrittenInTheBerlinZone() throws {
        let schedule = try CronSchedule("30 6 * * *")
        #expect(schedule.expression == "30 6 * * *")
        #expect(schedule.description == "30 6 * * *")
        #expect(schedule.timeZone.identifier == "Europe/Berlin")
        #expect(schedule == (try CronSchedule("30 6 * * *")))
        #expect(schedule != (try CronSchedule("30 6 * * *", timeZone: TimeZone(identifier: "UTC")!)))
        let utc = try CronSchedule("0 9 * * *", timeZone: TimeZone(identifier: "UTC")!)
        #expect(Self.iso(utc.next(after: Self.at("2027-01-15T00:00:00Z"))) == "2027-01-15T09:00:00Z")
    }

    @Test func numbersListsRangesAndSteps() throws {
        // 2027-01-15 is a Friday in winter (UTC+1).
        #expect(
            try Self.firings("5,35 8-9 * * *", from: "2027-01-15T00:00:00Z", to: "2027-01-16T00:00:00Z")
                == ["2027-01-15T07:05:00Z", "2027-01-15T07:35:00Z", "2027-01-15T08:05:00Z", "2027-01-15T08:35:00Z"]
        )
        #expect(
            try Self.firings("*/20 10 * * *", from: "2027-01-15T00:00:00Z", to: "2027-01-16T00:00:00Z")
                == ["2027-01-15T09:00:00Z", "2027-01-15T09:20:00Z", "2027-01-15T09:40:00Z"]
        )
        #expect(
            try Self.firings("10-40/15 10 * * *", from: "2027-01-15T00:00:00Z", to: "2027-01-16T00:00:00Z")
                == ["2027-01-15T09:10:00Z", "2027-01-15T09:25:00Z", "2027-01-15T09:40:00Z"]
        )
        #expect(
            try Self.firings("0 */8 * * *", from: "2027-01-15T00:00:00Z", to: "2027-01-16T00:00:00Z")
                == ["2027-01-15T07:00:00Z", "2027-01-15T15:00:00Z", "2027-01-15T23:00:00Z"]
        )
        #expect(try Self.next("* * * * *", after: "2027-01-15T10:00:30Z") == "2027-01-15T10:01:00Z")
        #expect(try Self.next("0 0 1 * *", after: "2027-01-15T00:00:00Z") == "2027-01-31T23:00:00Z")
    }

    @Test func namesOfMonthsAndWeekdaysIgnoreCase() throws {
        #expect(try Self.next("0 0 1 jan,Jul *", after: "2027-02-01T00:00:00Z") == "2027-06-30T22:00:00Z")
        #expect(try Self.next("0 0 1 MAR-apr *", after: "2027-01-15T00:00:00Z") == "2027-02-28T23:00:00Z")
        #expect(try Self.next("0 7 * * mon-FRI", after: "2027-01-15T05:00:00Z") == "2027-01-15T06:00:00Z")
        #expect(try Self.next("0 12 * * Sat", after: "2027-01-15T00:00:00Z") == "2027-01-16T11:00:00Z")
    }

    @Test func sundayIsZeroAndSeven() throws {
        // 2027-01-17 is a Sunday.
        #expect(try Self.next("0 12 * * 0", after: "2027-01-15T00:00:00Z") == "2027-01-17T11:00:00Z")
        #expect(try Self.next("0 12 * * 7", after: "2027-01-15T00:00:00Z") == "2027-01-17T11:00:00Z")
        #expect(try Self.next("0 12 * * SUN", after: "2027-01-15T00:00:00Z") == "2027-01-17T11:00:00Z")
        #expect(try Self.next("0 12 * * 6-7", after: "2027-01-15T00:00:00Z") == "2027-01-16T11:00:00Z")
        #expect(try Self.next("0 12 * * 6-7", after: "2027-01-16T11:00:00Z") == "2027-01-17T11:00:00Z")
    }

    // MARK: - Invalid expressions

    @Test func theWrongNumberOfFieldsShowsTheExpectedShape() {
        #expect(
            Self.rejection("0 6 * *")
                == "invalid cron expression '0 6 * *': expected 5 fields (minute hour day-of-month month day-of-week, e.g. '30 6 * * *') but found 4"
        )
        #expect(
            Self.rejection("0 0 * * * *")
                == "invalid cron expression '0 0 * * * *': expected 5 fields (minute hour day-of-month month day-of-week, e.g. '30 6 * * *') but found 6"
        )
        #expect(
            Self.rejection("")
                == "invalid cron expression '': expected 5 fields (minute hour day-of-month month day-of-week, e.g. '30 6 * * *') but found 0"
        )
    }

    @Test func valuesOutOfRangeNameTheFieldAndItsRange() {
        #expect(Self.rejection("0 25 * * *") == "invalid cron expression '0 25 * * *': field 2 (hour) '25' is out of range 0-23")
        #expect(Self.rejection("60 0 * * *") == "invalid cron expression '60 0 * * *': field 1 (minute) '60' is out of range 0-59")
        #expect(Self.rejection("0 0 0 * *") == "invalid cron expression '0 0 0 * *': field 3 (day-of-month) '0' is out of range 1-31")
        #expect(Self.rejection("0 0 * 13 *") == "invalid cron expression '0 0 * 13 *': field 4 (month) '13' is out of range 1-12")
        #expect(Self.rejection("0 0 * * 8") == "invalid cron expression '0 0 * * 8': field 5 (day-of-week) '8' is out of range 0-7")
        #expect(Self.rejection("0 9-30 * * *") == "invalid cron expression '0 9-30 * * *': field 2 (hour) '30' is out of range 0-23")
    }

    @Test func badStepsSayHowToWriteThem() {
        #expect(
            Self.rejection("*/0 * * * *")
                == "invalid cron expression '*/0 * * * *': field 1 (minute) '*/0' has an invalid step '0'; the step must be a whole number from 1 to 60"
        )
        #expect(
            Self.rejection("*/x * * * *")
                == "invalid cron expression '*/x * * * *': field 1 (minute) '*/x' has an invalid step 'x'; the step must be a whole number from 1 to 60"
        )
        #expect(
            Self.rejection("5/15 * * * *")
                == "invalid cron expression '5/15 * * * *': field 1 (minute) '5/15' has a step without a range; write '*/n' or 'a-b/n', e.g. '5-59/15'"
        )
        #expect(
            Self.rejection("1/2/3 * * * *")
                == "invalid cron expression '1/2/3 * * * *': field 1 (minute) '1/2/3' has more than one '/'; write a single step, e.g. '*/15'"
        )
    }

    @Test func unknownNamesAndMalformedValuesAreRejected() {
        #expect(
            Self.rejection("0 0 * * FOO")
                == "invalid cron expression '0 0 * * FOO': field 5 (day-of-week) 'FOO' is not a known name; use 0-7 (0 and 7 are Sunday) or SUN-SAT"
        )
        #expect(
            Self.rejection("0 0 * FOO *")
                == "invalid cron expression '0 0 * FOO *': field 4 (month) 'FOO' is not a known name; use 1-12 or JAN-DEC"
        )
        #expect(
            Self.rejection("0 0 MON * *")
                == "invalid cron expression '0 0 MON * *': field 3 (day-of-month) 'MON' is not a known name; use a number from 1 to 31"
        )
        #expect(
            Self.rejection("-1 * * * *")
                == "invalid cron expression '-1 * * * *': field 1 (minute) '-1' is not a number, a range, '*' or a step; use a number from 0 to 59"
        )
        #expect(
            Self.rejection("1,,2 * * * *")
                == "invalid cron expression '1,,2 * * * *': field 1 (minute) '1,,2' has an empty list element; separate values with single commas, e.g. '1,15'"
        )
        #expect(
            Self.rejection("5-1 * * * *")
                == "invalid cron expression '5-1 * * * *': field 1 (minute) '5-1' is a range whose start is greater than its end; ranges do not wrap around, use a list instead, e.g. '22-23,0-2'"
        )
        #expect(
            Self.rejection("0 0 * * FRI-SUN")
                == "invalid cron expression '0 0 * * FRI-SUN': field 5 (day-of-week) 'FRI-SUN' is a range whose start is greater than its end; write Sunday at the end of a range as 7, e.g. 'FRI-7'"
        )
        #expect(throws: CronSchedule.Invalid.self) { try CronSchedule("0 25 * * *") }
    }

    // MARK: - Next firing

    @Test func dailyAtHalfPastSixFollowsBerlinTime() throws {
        #expect(try Self.next("30 6 * * *", after: "2027-01-15T12:00:00Z") == "2027-01-16T05:30:00Z")  // CET
        #expect(try Self.next("30 6 * * *", after: "2027-07-15T12:00:00Z") == "2027-07-16T04:30:00Z")  // CEST
        #expect(try Self.next("30 6 * * *", after: "2027-07-16T04:29:59Z") == "2027-07-16T04:30:00Z")
        #expect(try Self.next("30 6 * * *", after: "2027-07-16T04:30:00Z") == "2027-07-17T04:30:00Z", "strictly after")
    }

    @Test func weekdaysSkipTheWeekend() throws {
        // Friday 2027-01-15 07:00 has passed; Saturday and Sunday do not match.
        #expect(try Self.next("0 7 * * 1-5", after: "2027-01-15T06:00:00Z") == "2027-01-18T06:00:00Z")
        #expect(
            try Self.firings("0 7 * * 1-5", from: "2027-01-14T12:00:00Z", to: "2027-01-20T00:00:00Z")
                == ["2027-01-15T06:00:00Z", "2027-01-18T06:00:00Z", "2027-01-19T06:00:00Z"]
        )
    }

    @Test func dayOfMonthAndDayOfWeekMatchEitherWhenBothAreRestricted() throws {
        // August 2027: Fridays are the 6th, 13th, 20th and 27th.
        #expect(
            try Self.firings("0 0 10 * 5", from: "2027-08-01T00:00:00Z", to: "2027-08-31T00:00:00Z")
                == ["2027-08-05T22:00:00Z", "2027-08-09T22:00:00Z", "2027-08-12T22:00:00Z", "2027-08-19T22:00:00Z", "2027-08-26T22:00:00Z"]
        )
        // Only one restricted: both must match.
        #expect(
            try Self.firings("0 0 * * 5", from: "2027-08-01T00:00:00Z", to: "2027-08-14T00:00:00Z")
                == ["2027-08-05T22:00:00Z", "2027-08-12T22:00:00Z"]
        )
        #expect(try Self.firings("0 0 10 * *", from: "2027-08-01T00:00:00Z", to: "2027-09-01T00:00:00Z") == ["2027-08-09T22:00:00Z"])
        // A field starting with '*' counts as a wildcard (as in Vixie cron): the 1st, 11th, 21st, 31st that are Fridays.
        #expect(try Self.firings("0 0 */10 * 5", from: "2027-08-01T00:00:00Z", to: "2027-08-31T00:00:00Z") == [])
    }

    @Test func impossibleDatesNeverFireAndLeapDaysDo() throws {
        #expect(try CronSchedule("0 0 30 2 *").next(after: Self.at("2027-01-01T00:00:00Z")) == nil)
        #expect(try CronSchedule("0 0 30 2 *").latest(atOrBefore: Self.at("2027-01-01T00:00:00Z")) == nil)
        #expect(try Self.next("0 0 29 2 *", after: "2027-01-01T00:00:00Z") == "2028-02-28T23:00:00Z")
        #expect(try Self.latest("0 0 29 2 *", atOrBefore: "2027-01-01T00:00:00Z") == "2024-02-28T23:00:00Z")
    }

    // MARK: - Daylight-saving time (Berlin: 2027-03-28 02:00 -> 03:00, 2027-10-31 03:00 -> 02:00)

    @Test func aWallTimeSkippedBySpringForwardFiresAtTheEndOfTheGap() throws {
        #expect(try Self.next("30 2 * * *", after: "2027-03-27T23:00:00Z") == "2027-03-28T01:00:00Z")  // 03:00 CEST
        #expect(try Self.next("30 2 * * *", after: "2027-03-28T01:00:00Z") == "2027-03-29T00:30:00Z")
        #expect(try Self.latest("30 2 * * *", atOrBefore: "2027-03-28T12:00:00Z") == "2027-03-28T01:00:00Z")
        // 02:00, 02:30 and 03:00 all come due at 03:00, once; 03:30 as usual.
        #expect(
            try Self.firings("0,30 2,3 * * *", from: "2027-03-28T00:00:00Z", to: "2027-03-28T03:00:00Z")
                == ["2027-03-28T01:00:00Z", "2027-03-28T01:30:00Z"]
        )
    }

    @Test func aWallTimeRepeatedByFallBackFiresOnceAtItsFirstOccurrence() throws {
        #expect(try Self.next("30 2 * * *", after: "2027-10-30T22:00:00Z") == "2027-10-31T00:30:00Z")  // 02:30 CEST
        #expect(try Self.next("30 2 * * *", after: "2027-10-31T00:30:00Z") == "2027-11-01T01:30:00Z")  // not 02:30 CET
        #expect(try Self.latest("30 2 * * *", atOrBefore: "2027-10-31T01:45:00Z") == "2027-10-31T00:30:00Z")
        #expect(
            try Self.firings("0 1-3 * * *", from: "2027-10-30T22:00:00Z", to: "2027-10-31T05:00:00Z")
                == ["2027-10-30T23:00:00Z", "2027-10-31T00:00:00Z", "2027-10-31T02:00:00Z"]
        )
    }

    @Test func hourlySchedulesFollowTheRealClock() throws {
        #expect(
            try Self.firings("0 * * * *", from: "2027-10-30T23:30:00Z", to: "2027-10-31T02:30:00Z")
                == ["2027-10-31T00:00:00Z", "2027-10-31T01:00:00Z", "2027-10-31T02:00:00Z"]
        )  // 02:00 CEST, 02:00 CET, 03:00 CET
        // The local days: 2027-10-31 has 25 hours, 2027-03-28 has 23.
        let fall = try Self.firings("0 * * * *", from: "2027-10-30T21:59:59Z", to: "2027-10-31T23:00:00Z")
        #expect(fall.count == 25)
        #expect(fall.first == "2027-10-30T22:00:00Z")
        #expect(fall.last == "2027-10-31T22:00:00Z")
        let spring = try Self.firings("0 * * * *", from: "2027-03-27T22:59:59Z", to: "2027-03-28T22:00:00Z")
        #expect(spring.count == 23)
        #expect(spring.prefix(3) == ["2027-03-27T23:00:00Z", "2027-03-28T00:00:00Z", "2027-03-28T01:00:00Z"])
        #expect(spring.last == "2027-03-28T21:00:00Z")
    }

    @Test func quarterHoursKeepTheirRealTimeRhythmAcrossBothChanges() throws {
        #expect(
            try Self.firings("*/15 * * * *", from: "2027-03-28T00:40:00Z", to: "2027-03-28T01:20:00Z")
                == ["2027-03-28T00:45:00Z", "2027-03-28T01:00:00Z", "2027-03-28T01:15:00Z"]
        )
        let expected = (0..<9).map { Self.iso(Self.at("2027-10-31T00:00:00Z").addingTimeInterval(Double($0) * 900)) }
        #expect(try Self.firings("*/15 * * * *", from: "2027-10-30T23:50:00Z", to: "2027-10-31T02:10:00Z") == expected)
        #expect(try Self.latest("*/15 * * * *", atOrBefore: "2027-10-31T01:07:00Z") == "2027-10-31T01:00:00Z")
        // A wildcard minute follows the real clock too: both 02:xx hours of the fall-back day, none on the spring-forward day.
        #expect(try Self.firings("* 2 * * *", from: "2027-10-30T22:00:00Z", to: "2027-10-31T05:00:00Z").count == 120)
        #expect(
            try Self.firings("*/30 2 * * *", from: "2027-03-27T00:00:00Z", to: "2027-03-30T00:00:00Z")
                == ["2027-03-27T01:00:00Z", "2027-03-27T01:30:00Z", "2027-03-29T00:00:00Z", "2027-03-29T00:30:00Z"]
        )
    }

    // MARK: - Latest firing

    @Test func afterAGapOnlyTheLastTickIsDue() throws {
        // Down from Friday 2027-01-15 until Monday 2027-01-18 10:00 local: only Monday 03:00 is due.
        #expect(try Self.latest("0 3 * * *", atOrBefore: "2027-01-18T09:00:00Z") == "2027-01-18T02:00:00Z")
        #expect(try Self.latest("0 3 * * *", atOrBefore: "2027-01-18T01:59:59Z") == "2027-01-17T02:00:00Z")
        #expect(try Self.latest("0 7 * * 1-5", atOrBefore: "2027-01-17T12:00:00Z") == "2027-01-15T06:00:00Z")
    }

    @Test func latestIncludesAnInstantThatIsItselfATick() throws {
        #expect(try Self.latest("0 3 * * *", atOrBefore: "2027-01-18T02:00:00Z") == "2027-01-18T02:00:00Z")
        #expect(try Self.latest("30 6 * * *", atOrBefore: "2027-07-16T04:30:00Z") == "2027-07-16T04:30:00Z")
    }
}
