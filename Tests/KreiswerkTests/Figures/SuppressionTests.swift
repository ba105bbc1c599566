import Foundation
import Testing

@testable import Kreiswerk

/// The figures as a reader gets them from the JSON API, and the attack that worked out "<5" cells
/// from the published totals (issue 15, finding 13): every additive relation of the figures,
/// and what each count is known to be ("<5": 1…4; ".": 5 or more, as the rule says).
struct PublishedFigures {
    static let unbounded = 1_000_000
    var ranges: [String: ClosedRange<Int>] = [:]
    var hidden: Set<String> = []
    /// Σ sign · count = 0.
    var lines: [[(name: String, sign: Int)]] = []

    init(_ report: [String: Any], threshold: Int = 5) throws {
        let total = try #require(report["total"] as? [String: Any])
        let units = try #require(report["units"] as? [[String: Any]])
        var perUnit: [String: [String]] = [:]
        for (unit, figures) in [("total", total)] + units.enumerated().map({ ("u\($0)", $1) }) {
            var names: [String] = []
            func add(_ name: String, _ value: Any?) {
                let full = "\(unit)|\(name)"
                names.append(name)
                switch value {
                case let number as Int: ranges[full] = number...number
                case let text as String where text == "<\(threshold)":
                    ranges[full] = 1...(threshold - 1)
                    hidden.insert(full)
                case let text as String where text == ".":
                    ranges[full] = threshold...Self.unbounded
                    hidden.insert(full)
                default: Issue.record("\(full) is no count: \(String(describing: value))")
                }
            }
            for key in ["open_cases", "opened_in_period", "closed_in_period"] { add(key, figures[key]) }
            for key in [
                "by_phase", "by_channel", "by_target_group", "conferences", "problems_by_level", "problems_by_category", "problems_by_age", "overdue",
            ] {
                for (label, value) in try #require(figures[key] as? [String: Any]) { add("\(key)/\(label)", value) }
            }
            for month in try #require(figures["months"] as? [[String: Any]]) {
                for field in ["opened", "closed", "referrals", "conferences", "problems_raised"] {
                    add("months/\(month["month"]!)/\(field)", month[field])
                }
            }
            for service in try #require(figures["referrals"] as? [[String: Any]]) {
                for field in ["sent", "with_feedback"] { add("referrals/\(service["service"]!)/\(field)", service[field]) }
            }
            perUnit[unit] = names
            func all(_ prefix: String, _ suffix: String = "") -> [String] {
                names.filter { $0.hasPrefix(prefix) && $0.hasSuffix(suffix) }.map { "\(unit)|\($0)" }
            }
            func equal(_ left: [String], _ right: [String]) { lines.append(left.map { ($0, -1) } + right.map { ($0, 1) }) }
            equal(["\(unit)|open_cases"], all("by_phase/"))
            equal(["\(unit)|open_cases"], all("by_channel/"))
            equal(["\(unit)|opened_in_period"], all("months/", "/opened"))
            equal(["\(unit)|closed_in_period"], all("months/", "/closed"))
            equal(all("months/", "/referrals"), all("referrals/", "/sent"))
            equal(all("months/", "/conferences"), all("conferences/"))
            equal(all("problems_by_level/"), all("problems_by_category/"))
            equal(all("problems_by_level/"), all("problems_by_age/"))
        }
        // The district = Σ units, count by count (a service a unit does not list is a published 0).
        for name in perUnit["total"]! {
            lines.append([("total|\(name)", -1)] + units.indices.compactMap { ranges["u\($0)|\(name)"] == nil ? nil : ("u\($0)|\(name)", 1) })
        }
    }

    /// What a reader works out: in a line, each hidden count is the total minus the others
    /// (within what is known of them); every count so narrowed is used in the next line, until
    /// nothing changes. Returns the hidden counts pinned to one value, with that value.
    func subtractionAttack() -> [String: Int] {
        var known = ranges
        var changed = true
        while changed {
            changed = false
            for line in lines {
                for (name, sign) in line where hidden.contains(name) {
                    // sign · x = −Σ others: add up the others' ranges.
                    var low = 0
                    var high = 0
                    for other in line where other.name != name || other.sign != sign {
                        let range = known[other.name]!
                        low += other.sign > 0 ? range.lowerBound : -range.upperBound
                        high += other.sign > 0 ? range.upperBound : -range.lowerBound
                    }
                    let candidate = sign > 0 ? (-high)...(-low) : low...high
                    let current = known[name]!
                    let narrowed =
                        max(
                            current.lowerBound,
                            candidate.lowerBound
                        )...max(max(current.lowerBound, candidate.lowerBound), min(current.upperBound, candidate.upperBound))
                    if narrowed != current {
                        known[name] = narrowed
                        changed = true
                    }
                }
            }
        }
        return known.filter { hidden.contains($0.key) && $0.value.count == 1 }.mapValues(\.lowerBound)
    }

    /// The lines a reader solves by plain subtraction: exactly one hidden count, the rest published.
    var linesWithOneHiddenCount: [[String]] {
        lines.map { $0.map(\.name).filter { hidden.contains($0) } }.filter { $0.count == 1 }
    }
}

/// Complementary suppression on small tables made by hand.
@Suite struct SuppressionTests {
    /// A 2 × 3 table with row, column and grand totals; cells by row, then the row totals, the column totals, the grand total.
    static func table(_ rows: [[Int]], threshold: Int = 5) -> ComplementarySuppression {
        let width = rows[0].count
        let height = rows.count
        let cells = rows.flatMap { $0 }
        let rowTotals = rows.map { $0.reduce(0, +) }
        let columnTotals = (0..<width).map { column in rows.reduce(0) { $0 + $1[column] } }
        let values = cells + rowTotals + columnTotals + [cells.reduce(0, +)]
        let suppression = Suppression(threshold: threshold)
        let rowTotal = cells.count
        let columnTotal = rowTotal + height
        let grand = columnTotal + width
        var relations: [ComplementarySuppression.Relation] = []
        for row in 0..<height { relations.append([(rowTotal + row, -1)] + (0..<width).map { (row * width + $0, 1) }) }
        for column in 0..<width { relations.append([(columnTotal + column, -1)] + (0..<height).map { ($0 * width + column, 1) }) }
        relations.append([(grand, -1)] + (0..<height).map { (rowTotal + $0, 1) })
        relations.append([(grand, -1)] + (0..<width).map { (columnTotal + $0, 1) })
        return ComplementarySuppression(counts: values.map(suppression.count), relations: relations, threshold: threshold)
    }

    @Test func aSingleSmallCellGetsThreeComplementsInARectangle() {
        //        10  12  | 24          x  .  12 | 24
        //     8   9  20  | 37    →     .  .  20 | 37
        //    10  19  32  | 61         10 19  32 | 61
        var table = Self.table([[2, 10, 12], [8, 9, 20]])
        #expect(table.counts.map(\.description) == ["<5", "10", "12", "8", "9", "20", "24", "37", "10", "19", "32", "61"])
        table.protect()
        #expect(table.counts.map(\.description) == ["<5", ".", "12", ".", ".", "20", "24", "37", "10", "19", "32", "61"])
        #expect(table.attack(Array(table.relations.indices)).pinned.isEmpty)
        #expect(table.linearlyDetermined(Array(table.relations.indices), except: []) == nil)
    }

    @Test func twoOnesInALineAreProtectedFromTheirBounds() {
        // 1 + 1 + 10 = 12: two "<5" whose sum is 2 are both 1; a third count is withheld.
        var table = Self.table([[1, 1, 10], [20, 20, 20]])
        table.protect()
        #expect(table.counts[2] == .withheld)
        #expect(table.attack(Array(table.relations.indices)).pinned.isEmpty)
    }

    @Test func aTotalBelowTheThresholdIsHiddenWithItsParts() {
        // Zeros are published (and count as known): 3 = 3 + 0 + 0 leaves two hidden counts in each line.
        var table = Self.table([[3, 0, 0], [10, 20, 30]])
        table.protect()
        #expect(table.attack(Array(table.relations.indices)).pinned.isEmpty)
        #expect(table.counts[6] == .suppressed(below: 5), "the row total 3 is itself small")
        #expect(table.linearlyDetermined(Array(table.relations.indices), except: []) == nil, "\(table.counts)")
    }

    @Test func countsThatOnlyTheEquationsTogetherGiveAwayAreProtected() {
        // x + y + 20 = 29, y + z + 20 = 31, x + z + 20 = 30: no line alone pins x = 4, the three together do.
        let counts: [FigureCount] =
            [.suppressed(below: 10), .suppressed(below: 10), .suppressed(below: 10)] + [20, 20, 20, 29, 31, 30].map { .exact($0) }
        var protection = ComplementarySuppression(
            counts: counts,
            relations: [[(6, -1), (0, 1), (1, 1), (3, 1)], [(7, -1), (1, 1), (2, 1), (4, 1)], [(8, -1), (0, 1), (2, 1), (5, 1)]],
            threshold: 10
        )
        #expect(protection.attack([0, 1, 2]).pinned.isEmpty)
        #expect(protection.linearlyDetermined([0, 1, 2], except: []) == 0)
        protection.protect()
        #expect(protection.counts[3] == .withheld)
        #expect(protection.counts.filter { $0 == .withheld }.count == 1)
        #expect(protection.linearlyDetermined([0, 1, 2], except: []) == nil)
    }

    @Test func aWithheldCountIsADotInTheJSON() throws {
        let encoded = try JSONEncoder().encode([FigureCount.exact(7), .suppressed(below: 5), .withheld])
        #expect(String(decoding: encoded, as: UTF8.self) == #"[7,"<5","."]"#)
        #expect(try JSONDecoder().decode([FigureCount].self, from: encoded) == [.exact(7), .suppressed(below: 5), .withheld])
    }
}
