/// The allocation key (Verteilschlüssel) of funded posts: each town's share in proportion to the
/// refugees assigned to it, in hundredths of a full-time post, rounded so that the shares add up
/// exactly to the total (largest remainder on hundredths: every town gets the floor of its exact
/// quota, and the hundredths left over go to the largest remainders; ties to the larger town,
/// then to the earlier one).
public enum AllocationKey {
    public static func allocate(_ total: FullTimeEquivalent, weights: [Int]) -> [FullTimeEquivalent] {
        let sum = weights.reduce(0, +)
        guard sum > 0, total.hundredths > 0 else { return weights.map { _ in .zero } }
        let quotas = weights.map { (floor: total.hundredths * $0 / sum, remainder: total.hundredths * $0 % sum) }
        var shares = quotas.map(\.floor)
        let left = total.hundredths - shares.reduce(0, +)
        let order = weights.indices.sorted { (quotas[$0].remainder, weights[$0], -$0) > (quotas[$1].remainder, weights[$1], -$1) }
        for index in order.prefix(left) { shares[index] += 1 }
        return shares.map { FullTimeEquivalent(hundredths: $0) }
    }
}

/// The rule of an own coordination post: a town with its own foreigners' authority (ABH), youth
/// office (Jugendamt) and integration council (Integrationsrat) is entitled to one.
public enum CoordinationPostRule {
    /// true or false when all three are recorded or one is known to be missing; nil when it cannot be decided.
    public static func entitled(foreignersAuthority: Bool?, youthOffice: Bool?, integrationCouncil: Bool?) -> Bool? {
        let facts = [foreignersAuthority, youthOffice, integrationCouncil]
        if facts.contains(false) { return false }
        return facts.contains(nil) ? nil : true
    }
}
