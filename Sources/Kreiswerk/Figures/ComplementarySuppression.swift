/// Secondary (complementary) suppression, as the statistical offices do it: a "<5" is worthless
/// if it can be worked out from what is published next to it (a town's open cases minus its
/// other access channels; the district minus the other towns). Every published additive
/// relation (a total is the sum of its parts: each row, each column, each level of the
/// district = Σ towns hierarchy, and two breakdowns of the same total) is a `Relation`, and
/// the figures are attacked with them the way a reader could:
///
/// - a published count (zeros included) is known exactly; a "<5" is known to lie in
///   1…threshold − 1; a withheld "." in threshold…∞, because complements are only ever taken
///   from published counts above zero, which are never below the threshold;
/// - each relation narrows the range of each hidden count in it to what the others leave
///   (total − known parts, within the others' ranges), over all relations until nothing
///   changes: this finds every "one hidden count in a line" and every chain of them, and a
///   line whose hidden counts must all be 1 (or all threshold − 1);
/// - the relations together are solved as linear equations in the hidden counts: a hidden
///   count that is a combination of published ones is found even when no single line gives it.
///
/// Rule: while a hidden count is pinned to one value (or is determined linearly), the smallest
/// published count above zero of a relation through it is withheld as well (a part before its
/// total; the relation that pinned it first); then the attack is repeated, to a fixed point.
/// Each round withholds one more count, so it ends; a count that no published count above zero
/// can protect (every line through it hidden already) is left as it is.
struct ComplementarySuppression {
    /// Σ sign · count = 0: the total with sign −1, its parts with +1 (or two breakdowns of one total).
    typealias Relation = [(cell: Int, sign: Int)]

    var counts: [FigureCount]
    let relations: [Relation]
    let threshold: Int
    /// The relations each count is part of.
    private let membership: [[Int]]

    init(counts: [FigureCount], relations: [Relation], threshold: Int) {
        self.counts = counts
        self.relations = relations
        self.threshold = threshold
        var membership = Array(repeating: [Int](), count: counts.count)
        for (index, relation) in self.relations.enumerated() { for term in relation { membership[term.cell].append(index) } }
        self.membership = membership
    }

    /// Withholds counts until no hidden count follows from `using` (all relations when nil);
    /// only counts that `eligible` allows are withheld.
    mutating func protect(using selected: [Int]? = nil, eligible: (Int) -> Bool = { _ in true }) {
        let active = selected ?? Array(relations.indices)
        let through = Set(active)
        var unprotectable = Set<Int>()
        while let (cell, preferred) = nextDisclosure(active, except: unprotectable) {
            let candidates = preferred + membership[cell].filter { through.contains($0) }
            if !withholdComplement(in: candidates, eligible: eligible) { unprotectable.insert(cell) }
        }
    }

    /// The next hidden count a reader works out, and the relation to protect it in first: a line with
    /// a single hidden count; else a count pinned by the narrowing (where a line pins it by itself
    /// rather than passing on another pinned count); else one that the equations together give away.
    private func nextDisclosure(_ active: [Int], except skipped: Set<Int>) -> (cell: Int, relation: [Int])? {
        for index in active {
            let hidden = relations[index].map(\.cell).filter { counts[$0].shown == nil }
            if hidden.count == 1, !skipped.contains(hidden[0]) { return (hidden[0], [index]) }
        }
        let (pinned, by) = attack(active)
        let pinnedSet = Set(pinned)
        func passedOn(_ cell: Int) -> Int { by[cell].map { relations[$0].filter { pinnedSet.contains($0.cell) }.count } ?? 0 }
        if let cell = pinned.filter({ !skipped.contains($0) }).min(by: { (passedOn($0), $0) < (passedOn($1), $1) }) {
            return (cell, by[cell].map { [$0] } ?? [])
        }
        return linearlyDetermined(active, except: skipped).map { ($0, []) }
    }

    private mutating func withholdComplement(in candidates: [Int], eligible: (Int) -> Bool) -> Bool {
        for relation in candidates {
            let published = relations[relation].compactMap { term -> (cell: Int, value: Int, total: Bool)? in
                guard eligible(term.cell), let value = counts[term.cell].shown, value > 0 else { return nil }
                return (term.cell, value, term.sign < 0)
            }
            if let smallest = published.min(by: { ($0.value, $0.total ? 1 : 0, $0.cell) < ($1.value, $1.total ? 1 : 0, $1.cell) }) {
                counts[smallest.cell] = .withheld
                return true
            }
        }
        return false
    }

    // MARK: - The attack

    private static let unbounded = 1 << 40

    /// What a reader knows of each count before using the relations.
    func initialRange(_ cell: Int) -> (low: Int, high: Int) {
        switch counts[cell] {
        case .exact(let value): (value, value)
        case .suppressed(let below): (1, below - 1)
        case .withheld: (threshold, Self.unbounded)
        }
    }

    /// The hidden counts that the relations pin to one value (by interval propagation to a fixed
    /// point), in order, and the relation that pinned each.
    func attack(_ active: [Int]) -> (pinned: [Int], by: [Int?]) {
        var low = counts.indices.map { initialRange($0).low }
        var high = counts.indices.map { initialRange($0).high }
        var by = [Int?](repeating: nil, count: counts.count)
        func clamp(_ value: Int) -> Int { value >= Self.unbounded / 2 ? Self.unbounded : value <= -Self.unbounded / 2 ? -Self.unbounded : value }
        for _ in 0..<50 {
            var changed = false
            for index in active {
                let relation = relations[index]
                let terms = relation.map { $0.sign > 0 ? (low[$0.cell], high[$0.cell]) : (-high[$0.cell], -low[$0.cell]) }
                let sumLow = terms.reduce(0) { $0 + $1.0 }
                let sumHigh = terms.reduce(0) { $0 + $1.1 }
                for (position, term) in relation.enumerated() where counts[term.cell].shown == nil {
                    // sign · x = −(the others), whose range is [sumLow − own, sumHigh − own].
                    let othersLow = clamp(sumLow - terms[position].0)
                    let othersHigh = clamp(sumHigh - terms[position].1)
                    let (newLow, newHigh) = term.sign > 0 ? (clamp(-othersHigh), clamp(-othersLow)) : (othersLow, othersHigh)
                    if newLow > low[term.cell] {
                        low[term.cell] = newLow
                        by[term.cell] = index
                        changed = true
                    }
                    if newHigh < high[term.cell] {
                        high[term.cell] = newHigh
                        by[term.cell] = index
                        changed = true
                    }
                }
            }
            if !changed { break }
        }
        return (counts.indices.filter { counts[$0].shown == nil && low[$0] >= high[$0] }, by)
    }

    /// The first hidden count that the relations determine as linear equations (Gauss–Jordan
    /// over the hidden counts: a reduced row with a single non-zero coefficient names it).
    func linearlyDetermined(_ active: [Int], except skipped: Set<Int>) -> Int? {
        let hidden = Array(Set(active.flatMap { relations[$0].map(\.cell) }).filter { counts[$0].shown == nil }).sorted()
        guard !hidden.isEmpty else { return nil }
        let column = Dictionary(uniqueKeysWithValues: hidden.enumerated().map { ($1, $0) })
        var rows: [[Double]] = active.compactMap { index in
            var row = [Double](repeating: 0, count: hidden.count)
            for term in relations[index] { if let at = column[term.cell] { row[at] += Double(term.sign) } }
            return row.contains { $0 != 0 } ? row : nil
        }
        var rank = 0
        for at in hidden.indices where rank < rows.count {
            guard let pivot = (rank..<rows.count).max(by: { abs(rows[$0][at]) < abs(rows[$1][at]) }), abs(rows[pivot][at]) > 1e-9 else { continue }
            rows.swapAt(rank, pivot)
            let scale = rows[rank][at]
            rows[rank] = rows[rank].map { $0 / scale }
            for other in rows.indices where other != rank && abs(rows[other][at]) > 1e-9 {
                let factor = rows[other][at]
                for k in rows[other].indices { rows[other][k] -= factor * rows[rank][k] }
            }
            rank += 1
        }
        for row in rows.prefix(rank) {
            let nonZero = row.indices.filter { abs(row[$0]) > 1e-9 }
            if nonZero.count == 1, !skipped.contains(hidden[nonZero[0]]) { return hidden[nonZero[0]] }
        }
        return nil
    }
}
