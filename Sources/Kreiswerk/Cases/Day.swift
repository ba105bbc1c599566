import Foundation

/// A calendar day as the API and the forms write it (`2026-11-23`), and as SQL `date` reads it.
/// Kept as text so that no time zone can move it to the day before.
public struct Day: Sendable, Codable, Hashable, Comparable, CustomStringConvertible {
    public let iso: String

    public init?(_ text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard trimmed.range(of: #"^\d{4}-\d{2}-\d{2}$"#, options: .regularExpression) != nil,
            let date = Self.formatter.date(from: trimmed), Self.formatter.string(from: date) == trimmed
        else { return nil }
        self.iso = trimmed
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
