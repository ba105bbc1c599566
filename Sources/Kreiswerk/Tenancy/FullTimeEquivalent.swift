/// A staff share in full-time equivalents with two decimals (0.65, 1.24, 0.71),
/// held as hundredths so that sums are exact.
public struct FullTimeEquivalent: Sendable, Hashable, Comparable, CustomStringConvertible, AdditiveArithmetic {
    public var hundredths: Int

    public init(hundredths: Int) { self.hundredths = hundredths }

    /// Parses "1", "0.5", "0.65"; nil for anything else (negative, three decimals, a comma, text).
    public init?(_ text: String) {
        guard let match = text.wholeMatch(of: /([0-9]{1,3})(?:\.([0-9]{1,2}))?/) else { return nil }
        let whole = Int(match.1)!
        let fraction = match.2.map { $0.count == 1 ? Int($0)! * 10 : Int($0)! } ?? 0
        self.hundredths = whole * 100 + fraction
    }

    public static var zero: FullTimeEquivalent { FullTimeEquivalent(hundredths: 0) }
    public static func + (lhs: Self, rhs: Self) -> Self { Self(hundredths: lhs.hundredths + rhs.hundredths) }
    public static func - (lhs: Self, rhs: Self) -> Self { Self(hundredths: lhs.hundredths - rhs.hundredths) }
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.hundredths < rhs.hundredths }

    /// "0.65", "2", "1.5": the shortest exact form.
    public var description: String {
        let whole = hundredths / 100
        let fraction = hundredths % 100
        if fraction == 0 { return "\(whole)" }
        if fraction % 10 == 0 { return "\(whole).\(fraction / 10)" }
        return "\(whole).\(fraction < 10 ? "0" : "")\(fraction)"
    }
}
