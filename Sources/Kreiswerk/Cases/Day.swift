import Foundation

/// A calendar day as the API and the forms write it (`2026-11-23`), and as SQL `date` reads it.
/// Kept as text so that no time zone can move it to the day before.
public struct Day: Sendable, Codable, Hashable, Comparable, CustomStringConvertible {
    public let iso: String

    /// `YYYY-MM-DD` with a month and day that exist (29 February only in leap years). Checked by hand:
    /// every date read from the database passes here, and a formatter or regex per date was the
    /// largest cost of listing cases.
    public init?(_ text: String) {
        guard let (trimmed, year, month, day) = Self.fields(text), year >= 1, (1...12).contains(month), day >= 1,
            day <= Self.days(inMonth: month, of: year)
        else { return nil }
        self.iso = trimmed
    }

    /// `YYYY-MM-DD` taken apart, without asking whether such a day exists.
    private static func fields(_ text: String) -> (iso: String, year: Int, month: Int, day: Int)? {
        // Dates from the database are exactly ten bytes; only typed input needs trimming.
        let trimmed = text.utf8.count == 10 ? text : text.trimmingCharacters(in: .whitespaces)
        var fields = (0, 0, 0)
        var valid = trimmed.utf8.count == 10
        if valid {
            for (index, byte) in trimmed.utf8.enumerated() {
                if index == 4 || index == 7 {
                    valid = valid && byte == UInt8(ascii: "-")
                    continue
                }
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else {
                    valid = false
                    break
                }
                let digit = Int(byte - UInt8(ascii: "0"))
                switch index {
                case 0..<4: fields.0 = fields.0 * 10 + digit
                case 5..<7: fields.1 = fields.1 * 10 + digit
                default: fields.2 = fields.2 * 10 + digit
                }
            }
        }
        return valid ? (trimmed, fields.0, fields.1, fields.2) : nil
    }

    static func days(inMonth month: Int, of year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    public init(_ date: Date) { self.iso = Self.formatter.string(from: date) }

    public static var today: Day { Day(Date()) }

    static let formatter: DateFormatter = {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "Europe/Berlin")
        formatter.dateFormat = "yyyy-MM-dd"
        return formatter
    }()

    public var description: String { iso }

    /// The same day `years` years earlier; 29 February becomes the 28th in a year without it (as the
    /// Gregorian calendar counts). Without a formatter: it runs for every client a list shows.
    public func yearsEarlier(_ years: Int) -> Day {
        let year = Int(iso.prefix(4))! - years
        let month = Int(iso.dropFirst(5).prefix(2))!
        let day = Int(iso.suffix(2))!
        let clamped = min(day, Self.days(inMonth: month, of: year))
        func padded(_ value: Int, _ width: Int) -> String { String(repeating: "0", count: max(0, width - String(value).count)) + String(value) }
        return Day("\(padded(year, 4))-\(padded(month, 2))-\(padded(clamped, 2))")!
    }

    /// As German readers write it: 23.11.2026.
    public var german: String {
        let parts = iso.split(separator: "-")
        return "\(parts[2]).\(parts[1]).\(parts[0])"
    }

    public static func < (lhs: Day, rhs: Day) -> Bool { lhs.iso < rhs.iso }

    /// Days are decoded from request bodies only: one outside `enterable` is a 422 for its field.
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let day = try Day.entered(text, field: Day.field(decoder.codingPath)) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "'\(text)' is not a date like 2026-11-23"))
        }
        self = day
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(iso)
    }

    /// Parses an optional form or JSON value; "" is nil; anything else that is no date in `enterable` is an error for `field`.
    static func parse(_ text: String?, field: String, label: String) throws(InvalidInput) -> Day? {
        guard let text, !text.trimmingCharacters(in: .whitespaces).isEmpty else { return nil }
        guard let day = try entered(text, field: field) else { throw InvalidInput(field: field, "\(label): bitte ein Datum wie 2026-11-23 angeben.") }
        return day
    }
}

// MARK: - Dates people enter

extension Day {
    /// Every date a person enters — in a form or through the API, a date of birth, a review, a conference, a deadline —
    /// lies in this range: 9999-12-31 or 0000-01-01 is a slip of the keyboard, never a plan or a birthday. Dates of birth
    /// are narrower still (not after today, `ClientData.validated`); the database's `date` and `timestamptz` hold far
    /// more than this, so nothing accepted can overflow them.
    public static let enterable = Day("1900-01-01")!...Day("2100-12-31")!

    /// The answer to a date outside `enterable`, naming the range.
    public static let outOfRange = "Das Datum muss zwischen dem \(enterable.lowerBound.german) und dem \(enterable.upperBound.german) liegen."

    /// The instants of `enterable`'s days in Berlin, for dates with a time (conferences, meetings).
    static let enterableInstants: Range<Date> = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = formatter.timeZone
        let first = formatter.date(from: enterable.lowerBound.iso)!
        let last = formatter.date(from: enterable.upperBound.iso)!
        return first..<calendar.date(byAdding: .day, value: 1, to: last)!
    }()

    /// A date a person entered: nil if the text is no day that exists; an error for `field` naming the range if it is
    /// outside `enterable` (0000-01-01 included, which has a date's shape but no day of the calendar).
    static func entered(_ text: String, field: String) throws(InvalidInput) -> Day? {
        if let (_, year, _, _) = fields(text), !(enterable.lowerBound.year...enterable.upperBound.year).contains(year) {
            throw InvalidInput(field: field, outOfRange)
        }
        guard let day = Day(text) else { return nil }
        guard enterable.contains(day) else { throw InvalidInput(field: field, outOfRange) }
        return day
    }

    /// A date and time a person entered in a form (`2026-11-23T10:00`, Berlin time, as `datetime-local` sends it):
    /// nil if it is none; an error for `field` naming the range if its day is outside `enterable`.
    static func enteredInstant(_ text: String, field: String) throws(InvalidInput) -> Date? {
        guard try entered(String(text.prefix(10)), field: field) != nil else { return nil }
        return GermanFormat.formatter("yyyy-MM-dd'T'HH:mm").date(from: text)
    }

    /// Instants in request bodies (ISO 8601, as JSONDecoder's `.iso8601` reads them), refused outside `enterable`.
    /// `Request.json` decodes every date-time with this.
    static func decodeEnteredInstant(_ decoder: any Decoder) throws -> Date {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let date = try? Date.ISO8601FormatStyle().parse(text) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "'\(text)' is not a date-time like 2026-11-23T10:00:00+01:00")
            )
        }
        guard enterableInstants.contains(date) else { throw InvalidInput(field: field(decoder.codingPath), outOfRange) }
        return date
    }

    var year: Int { Int(iso.prefix(4))! }

    /// The request body's name of a decoded value: its key, snake_case, as problem details name fields.
    static func field(_ path: [any CodingKey]) -> String {
        ProblemMiddleware<AppRequestContext>.snakeCase(path.last { $0.intValue == nil }?.stringValue ?? "date")
    }
}
