import Foundation

/// Dates and times as German pages show them, in the district's time zone (Europe/Berlin).
enum GermanFormat {
    static func formatter(_ pattern: String) -> DateFormatter {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "de_DE")
        formatter.timeZone = TimeZone(identifier: "Europe/Berlin")
        formatter.dateFormat = pattern
        return formatter
    }

    /// 23.11.2026
    static func date(_ date: Date) -> String { formatter("dd.MM.yyyy").string(from: date) }
    /// 23.11.2026 14:05
    static func dateTime(_ date: Date) -> String { formatter("dd.MM.yyyy HH:mm").string(from: date) }
    /// 23.11.2026 14:05:09
    static func timestamp(_ date: Date) -> String { formatter("dd.MM.yyyy HH:mm:ss").string(from: date) }
    /// 23.11.2026, 14:05 Uhr
    static func deadline(_ date: Date) -> String { formatter("dd.MM.yyyy, HH:mm 'Uhr'").string(from: date) }
    /// „1 Verweisung“, „2 Verweisungen“
    static func count(_ count: Int, _ one: String, _ many: String) -> String { "\(count) \(count == 1 ? one : many)" }
}
