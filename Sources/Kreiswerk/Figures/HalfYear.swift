import Foundation

/// A half-year of the state's programme controlling: `2026-1` (January to June) or `2026-2` (July to December).
public struct HalfYear: Sendable, Hashable, CustomStringConvertible {
    public let year: Int
    public let half: Int

    public init?(_ text: String) {
        guard let match = text.wholeMatch(of: /([0-9]{4})-([12])/), let year = Int(match.1), (2000...2100).contains(year) else { return nil }
        self.year = year
        self.half = Int(match.2)!
    }

    public init(containing day: Day) {
        let parts = day.iso.split(separator: "-").compactMap { Int($0) }
        self.year = parts[0]
        self.half = parts[1] <= 6 ? 1 : 2
    }

    /// "2026-2"
    public var description: String { "\(year)-\(half)" }
    /// "2. Halbjahr 2026"
    public var label: String { "\(half). Halbjahr \(year)" }
    /// The first days of its six months, "2026-07-01" … "2026-12-01".
    public var months: [String] { (0..<6).map { Month(year: year, month: (half - 1) * 6 + 1 + $0).firstDay } }

    /// The half-year parameter of a request, with a German message when it is no half-year.
    static func parse(_ text: String?, field: String) throws -> HalfYear {
        guard let text, let halfYear = HalfYear(text) else {
            throw InvalidInput(field: field, "Bitte das Halbjahr als Jahr und 1 oder 2 angeben, z. B. 2026-2 für Juli bis Dezember 2026.")
        }
        return halfYear
    }
}

/// A calendar month of the figures' monthly series.
struct Month: Sendable, Hashable, Comparable {
    var year: Int
    var month: Int

    init(year: Int, month: Int) {
        self.year = year + (month - 1) / 12
        self.month = (month - 1) % 12 + 1
    }

    init(_ day: Day) {
        let parts = day.iso.split(separator: "-").compactMap { Int($0) }
        self.init(year: parts[0], month: parts[1])
    }

    /// The month `count` months before this one.
    func minus(_ count: Int) -> Month {
        let index = year * 12 + (month - 1) - count
        return Month(year: index / 12, month: index % 12 + 1)
    }

    /// "2026-07-01", as the snapshot stores it.
    var firstDay: String { "\(key)-01" }
    /// "2026-07"
    var key: String { "\(year)-\(month < 10 ? "0" : "")\(month)" }
    /// "Juli 2026"
    var label: String { "\(Self.names[month - 1]) \(year)" }

    static let names = ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November", "Dezember"]
    static func < (lhs: Month, rhs: Month) -> Bool { (lhs.year, lhs.month) < (rhs.year, rhs.month) }
}
