import Foundation

/// A classic five-field cron expression (`minute hour day-of-month month day-of-week`)
/// evaluated on the wall clock of a time zone (Europe/Berlin unless told otherwise).
///
/// Syntax per field: `*`, a number, a range `a-b`, a list `a,b,c`, and steps `*/n` and `a-b/n`.
/// Months accept `JAN`…`DEC`, days of the week `SUN`…`SAT` (case-insensitive); day-of-week
/// numbers run 0-7 where both 0 and 7 mean Sunday.
///
/// Day matching follows Vixie cron: when both day-of-month and day-of-week are restricted,
/// a day matches if *either* matches (`0 0 1 * MON` = the 1st and every Monday); when one of
/// them is a wildcard, both must match. As in Vixie cron, a field counts as a wildcard when it
/// starts with `*` (so `*/2` in day-of-month is a wildcard for this rule).
///
/// Daylight-saving time. The schedule is one of two kinds (again as in Vixie cron):
/// - *Fixed-time* schedules, whose minute and hour fields are both explicit (`30 2 * * *`,
///   `0 6,18 * * 1-5`), name wall-clock times:
///   - a wall time that does not exist that day (spring forward, e.g. 02:30 on the last Sunday of
///     March in Berlin) is not skipped: it fires once, at the first instant after the gap
///     (03:00 local). Several wall times in the same gap fire together, once;
///   - a wall time that occurs twice (fall back, e.g. 02:30 on the last Sunday of October)
///     fires only once, at its first occurrence (02:30 CEST = 00:30Z).
/// - *Wildcard* schedules, whose minute or hour field starts with `*` (`*/15 * * * *`,
///   `0 * * * *`, `* 2 * * *`), follow the real clock: they fire at every instant whose local
///   time matches. Local times skipped by spring forward never happen and do not fire; local
///   times repeated by fall back happen twice and fire twice. So `*/15 * * * *` fires every
///   15 minutes of real time across both transitions, and `0 * * * *` fires 23 times on the
///   spring-forward day and 25 times on the fall-back day.
///
/// Evaluation walks local calendar days (at most about five years) and maps each matching wall time
/// to instants through the zone's UTC offsets and transitions; `Calendar` is not involved, so there is
/// no reliance on how a platform resolves non-existent or repeated local times.
public struct CronSchedule: Sendable, Equatable, CustomStringConvertible {
    /// The expression as written.
    public let expression: String
    /// The zone whose wall clock the expression describes.
    public let timeZone: TimeZone

    // Matching values per field, ascending (day of week: 0 = Sunday ... 6 = Saturday).
    private let minutes: [Int]
    private let hours: [Int]
    private let daysOfMonth: Set<Int>
    private let months: Set<Int>
    private let daysOfWeek: Set<Int>
    /// Day-of-month or day-of-week is a wildcard: both must match (otherwise either).
    private let dayFieldIsWildcard: Bool
    /// Minute or hour is a wildcard: follow the real clock across DST changes.
    private let followsRealClock: Bool

    /// An invalid cron expression, with a description saying what is wrong and how to fix it.
    public struct Invalid: Error, CustomStringConvertible {
        /// The expression that was rejected.
        public let expression: String
        /// The human-readable reason, e.g. "field 2 (hour) '25' is out of range 0-23".
        public let reason: String
        public var description: String { "invalid cron expression '\(expression)': \(reason)" }
    }

    /// Parses a cron expression such as `30 6 * * 1-5`.
    /// - Throws: ``Invalid`` naming the offending field and the problem.
    public init(_ expression: String, timeZone: TimeZone = TimeZone(identifier: "Europe/Berlin")!) throws {
        self.expression = expression
        self.timeZone = timeZone
        let fields = expression.split(whereSeparator: \.isWhitespace).map(String.init)
        guard fields.count == 5 else {
            throw Invalid(
                expression: expression,
                reason: "expected 5 fields (minute hour day-of-month month day-of-week, e.g. '30 6 * * *') but found \(fields.count)"
            )
        }
        minutes = try Field.minute.parse(fields[0], of: expression).sorted()
        hours = try Field.hour.parse(fields[1], of: expression).sorted()
        daysOfMonth = try Field.dayOfMonth.parse(fields[2], of: expression)
        months = try Field.month.parse(fields[3], of: expression)
        daysOfWeek = Set(try Field.dayOfWeek.parse(fields[4], of: expression).map { $0 % 7 })
        dayFieldIsWildcard = fields[2].hasPrefix("*") || fields[4].hasPrefix("*")
        followsRealClock = fields[0].hasPrefix("*") || fields[1].hasPrefix("*")
    }

    public var description: String { expression }

    /// The first firing instant strictly after `instant`, or nil if there is none within about five years
    /// (e.g. `0 0 30 2 *`).
    public func next(after instant: Date) -> Date? {
        let x = instant.timeIntervalSince1970
        let first = localDay(of: instant) - 1
        for day in first...(first + Self.searchDays) where matches(day: day) {
            guard let found = firings(onLocalDay: day).first(where: { Double($0) > x }) else { continue }
            // Days overlap in real time only around a transition at midnight; take the earlier of the two.
            let following = matches(day: day + 1) ? firings(onLocalDay: day + 1).first(where: { Double($0) > x }) : nil
            return Date(timeIntervalSince1970: Double(min(found, following ?? found)))
        }
        return nil
    }

    /// The most recent firing instant at or before `instant` (an instant that is itself a tick is returned),
    /// or nil if there is none within about five years. After downtime, this is the single period that is due.
    public func latest(atOrBefore instant: Date) -> Date? {
        let x = instant.timeIntervalSince1970
        let first = localDay(of: instant) + 1
        for day in stride(from: first, through: first - Self.searchDays, by: -1) where matches(day: day) {
            guard let found = firings(onLocalDay: day).last(where: { Double($0) <= x }) else { continue }
            // Days overlap in real time only around a transition at midnight; take the later of the two.
            let preceding = matches(day: day - 1) ? firings(onLocalDay: day - 1).last(where: { Double($0) <= x }) : nil
            return Date(timeIntervalSince1970: Double(max(found, preceding ?? found)))
        }
        return nil
    }

    // MARK: - Evaluation

    /// Days searched in either direction: five years plus slack.
    private static let searchDays = 5 * 366 + 2

    /// The local calendar day (days since 1970-01-01 on the zone's wall clock) containing `instant`.
    private func localDay(of instant: Date) -> Int {
        let local = Int(instant.timeIntervalSince1970.rounded(.down)) + timeZone.secondsFromGMT(for: instant)
        return Self.floorDiv(local, 86_400)
    }

    /// Whether the local day matches the month, day-of-month and day-of-week fields.
    private func matches(day: Int) -> Bool {
        let (_, month, dayOfMonth) = Self.civil(fromDays: day)
        guard months.contains(month) else { return false }
        let weekday = Self.floorMod(day + 4, 7)  // 1970-01-01 was a Thursday.
        let domMatches = daysOfMonth.contains(dayOfMonth)
        let dowMatches = daysOfWeek.contains(weekday)
        return dayFieldIsWildcard ? (domMatches && dowMatches) : (domMatches || dowMatches)
    }

    /// A stretch of real time with one UTC offset: instants (seconds since 1970) in `start..<end`.
    private struct Segment {
        var start: Int
        var end: Int
        var offset: Int
        func contains(local: Int) -> Bool { start + offset <= local && local < end + offset }
    }

    /// The offsets in force around a local day, from one day before to two days after its local midnight
    /// (wide enough for any UTC offset), split at every transition of the zone.
    private func segments(aroundLocalMidnight midnight: Int) -> [Segment] {
        let end = midnight + 2 * 86_400
        var start = midnight - 86_400
        var offset = timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(start)))
        var result: [Segment] = []
        while let transition = timeZone.nextDaylightSavingTimeTransition(after: Date(timeIntervalSince1970: Double(start))),
            transition.timeIntervalSince1970 < Double(end)
        {
            let at = Int(transition.timeIntervalSince1970.rounded(.up))
            guard at > start else { break }
            result.append(Segment(start: start, end: at, offset: offset))
            offset = timeZone.secondsFromGMT(for: transition)
            start = at
        }
        result.append(Segment(start: start, end: end, offset: offset))
        return result
    }

    /// All firing instants (seconds since 1970) belonging to a matching local day, ascending and distinct.
    private func firings(onLocalDay day: Int) -> [Int] {
        let midnight = day * 86_400
        let segments = segments(aroundLocalMidnight: midnight)
        var result: [Int] = []
        if followsRealClock {
            // Every instant whose local time matches: skipped times never occur, repeated ones occur twice.
            for segment in segments {
                for hour in hours {
                    for minute in minutes {
                        let local = midnight + hour * 3600 + minute * 60
                        if segment.contains(local: local) { result.append(local - segment.offset) }
                    }
                }
            }
        } else {
            // Each wall time once: its first occurrence, or the end of the gap it falls into.
            for hour in hours {
                for minute in minutes {
                    let local = midnight + hour * 3600 + minute * 60
                    if let instant = resolve(local: local, in: segments) { result.append(instant) }
                }
            }
            result.sort()
        }
        var distinct: [Int] = []
        for instant in result where instant != distinct.last { distinct.append(instant) }
        return distinct
    }

    /// The first instant showing the wall time `local`, or, if the clock skips it, the instant the skip ends.
    private func resolve(local: Int, in segments: [Segment]) -> Int? {
        let occurrences = segments.filter { $0.contains(local: local) }.map { local - $0.offset }
        if let first = occurrences.min() { return first }
        for (before, after) in zip(segments, segments.dropFirst())
        where before.end + before.offset <= local && local < after.start + after.offset {
            return after.start
        }
        return nil
    }

    // MARK: - Calendar arithmetic (proleptic Gregorian, no Foundation calendar involved)

    private static func floorDiv(_ a: Int, _ b: Int) -> Int { (a - floorMod(a, b)) / b }
    private static func floorMod(_ a: Int, _ b: Int) -> Int { ((a % b) + b) % b }

    /// Year, month, day of a count of days since 1970-01-01 (H. Hinnant's `civil_from_days`).
    private static func civil(fromDays days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = floorDiv(z, 146_097)
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    // MARK: - Parsing

    private struct Field {
        let number: Int
        let name: String
        let range: ClosedRange<Int>
        let names: [String]  // names[i] stands for range.lowerBound + i
        let hint: String

        static let minute = Field(number: 1, name: "minute", range: 0...59, names: [], hint: "")
        static let hour = Field(number: 2, name: "hour", range: 0...23, names: [], hint: "")
        static let dayOfMonth = Field(number: 3, name: "day-of-month", range: 1...31, names: [], hint: "")
        static let month = Field(
            number: 4,
            name: "month",
            range: 1...12,
            names: ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"],
            hint: "use 1-12 or JAN-DEC"
        )
        static let dayOfWeek = Field(
            number: 5,
            name: "day-of-week",
            range: 0...7,
            names: ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"],
            hint: "use 0-7 (0 and 7 are Sunday) or SUN-SAT"
        )

        /// The set of values described by the field text, e.g. "1-5" or "*/15" or "MON,WED".
        func parse(_ text: String, of expression: String) throws -> Set<Int> {
            func error(_ token: Substring, _ problem: String) -> Invalid {
                Invalid(expression: expression, reason: "field \(number) (\(name)) '\(token)' \(problem)")
            }
            /// One number or name, checked against the field's range.
            func value(_ token: Substring, in element: Substring) throws -> Int {
                if let index = names.firstIndex(where: { $0.caseInsensitiveCompare(token) == .orderedSame }) {
                    return range.lowerBound + index
                }
                guard !token.isEmpty, token.allSatisfy({ $0.isASCII && $0.isNumber }), let number = Int(token) else {
                    if token.first?.isLetter == true {
                        let advice = names.isEmpty ? "use a number from \(range.lowerBound) to \(range.upperBound)" : hint
                        throw error(token, "is not a known name; \(advice)")
                    }
                    throw error(element, "is not a number, a range, '*' or a step; use a number from \(range.lowerBound) to \(range.upperBound)")
                }
                guard range.contains(number) else {
                    throw error(token, "is out of range \(range.lowerBound)-\(range.upperBound)")
                }
                return number
            }

            var values = Set<Int>()
            for element in text.split(separator: ",", omittingEmptySubsequences: false) {
                guard !element.isEmpty else {
                    throw error(Substring(text), "has an empty list element; separate values with single commas, e.g. '1,15'")
                }
                let parts = element.split(separator: "/", omittingEmptySubsequences: false)
                guard parts.count <= 2 else { throw error(element, "has more than one '/'; write a single step, e.g. '*/15'") }
                var bounds: ClosedRange<Int>
                if parts[0] == "*" {
                    bounds = range
                } else if let dash = parts[0].firstIndex(of: "-") {
                    let low = try value(parts[0][..<dash], in: element)
                    let high = try value(parts[0][parts[0].index(after: dash)...], in: element)
                    guard low <= high else {
                        let fix =
                            number == 5
                            ? "; write Sunday at the end of a range as 7, e.g. 'FRI-7'"
                            : "; ranges do not wrap around, use a list instead, e.g. '22-23,0-2'"
                        throw error(element, "is a range whose start is greater than its end\(fix)")
                    }
                    bounds = low...high
                } else {
                    bounds = try value(parts[0], in: element)...value(parts[0], in: element)
                    if parts.count == 2 {
                        throw error(element, "has a step without a range; write '*/n' or 'a-b/n', e.g. '\(parts[0])-\(range.upperBound)/\(parts[1])'")
                    }
                }
                var step = 1
                if parts.count == 2 {
                    let maximum = range.count
                    guard let n = Int(parts[1]), parts[1].allSatisfy(\.isASCII), (1...maximum).contains(n) else {
                        throw error(element, "has an invalid step '\(parts[1])'; the step must be a whole number from 1 to \(maximum)")
                    }
                    step = n
                }
                values.formUnion(stride(from: bounds.lowerBound, through: bounds.upperBound, by: step))
            }
            return values
        }
    }
}
