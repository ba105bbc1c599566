import Foundation

/// A calendar day as the API and the forms write it (`2026-11-23`), and as SQL `date` reads it.
/// Kept as text so that no time zone can move it to the day before.
public struct Day: Sendable, Codable, Hashable, Comparable, CustomStringConvertible {
    public let iso: String

    /// `YYYY-MM-DD` with a month and day that exist (29 February only in leap years). Checked by hand:
    /// every date read from the database passes here, and a formatter or regex per date was the
    /// largest cost of listing cases.
    public init?(_ text: String) {
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
        let (year, month, day) = fields
        guard valid, year >= 1, (1...12).contains(month), day >= 1, day <= Self.days(inMonth: month, of: year) else { return nil }
        self.iso = trimmed
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
        let year = Int(iso.prefix(4))! - years, month = Int(iso.dropFirst(5).prefix(2))!, day = Int(iso.suffix(2))!
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

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let day = Day(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "'\(text)' is not a date like 2026-11-23"))
        }
        self = day
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(iso)
    }

    /// Parses an optional form or JSON value; "" is nil; anything else that is no date is an error for `field`.
    static func parse(_ text: String?, field: String, label: String) throws(InvalidInput) -> Day? {
        guard let text, !text.trimmingCharacters(in: .whitespaces).isEmpty else { return nil }
        guard let day = Day(text) else { throw InvalidInput(field: field, "\(label): bitte ein Datum wie 2026-11-23 angeben.") }
        return day
    }
}
