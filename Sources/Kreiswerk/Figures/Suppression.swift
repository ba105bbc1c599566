import Foundation

/// A count as the district's figures show it: exact, suppressed because it is small enough to
/// point at a person, or withheld because a suppressed count could otherwise be worked out from it
/// (`ComplementarySuppression`). Encodes as a JSON number, the string "<5", or the string ".".
public enum FigureCount: Sendable, Equatable, Codable, CustomStringConvertible {
    case exact(Int)
    case suppressed(below: Int)
    /// A count of any size withheld as a complement; "." as in the official statistics ("geheim zu halten").
    case withheld

    /// The exact value, if it may be shown.
    public var shown: Int? {
        if case .exact(let value) = self { return value }
        return nil
    }

    /// "12", "0", "<5".
    public var description: String {
        switch self {
        case .exact(let value): "\(value)"
        case .suppressed(let threshold): "<\(threshold)"
        case .withheld: "."
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .exact(let value): try container.encode(value)
        case .suppressed, .withheld: try container.encode(description)
        }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let value = try? container.decode(Int.self) {
            self = .exact(value)
        } else {
            let text = try container.decode(String.self)
            if text == "." {
                self = .withheld
                return
            }
            guard text.hasPrefix("<"), let threshold = Int(text.dropFirst()) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "a count is a number, \"<N\" or \".\"")
            }
            self = .suppressed(below: threshold)
        }
    }
}

/// The one place where exact counts become what the figures may show: any count from 1 to
/// threshold − 1 is "<threshold", and so is anything derived from such a count (a rate, a
/// caseload per post), since it would reveal it. `ComplementarySuppression` then withholds
/// further counts so that none of these can be worked out from the published totals. The
/// dashboard, the JSON, the CSV and the print page all show figures that passed through here.
public struct Suppression: Sendable, Equatable {
    /// `ReminderRules.suppressCountsBelow` of the district (default 5).
    public let threshold: Int

    public init(threshold: Int) { self.threshold = max(threshold, 1) }

    public func count(_ value: Int) -> FigureCount {
        value > 0 && value < threshold ? .suppressed(below: threshold) : .exact(value)
    }

    /// A share in whole percent ("40 %"), or nil when either count is suppressed or there is nothing to divide by.
    public func rate(_ part: Int, of whole: Int) -> String? {
        guard whole > 0, count(part).shown != nil, count(whole).shown != nil else { return nil }
        return "\(Int((Double(part) * 100 / Double(whole)).rounded())) %"
    }

    /// Open cases per full-time post ("42,5"), or nil when the caseload is suppressed or no post is funded.
    public func perPost(_ cases: Int, posts: FullTimeEquivalent?) -> String? {
        guard let posts, posts.hundredths > 0, count(cases).shown != nil else { return nil }
        let tenths = Int((Double(cases) * 1000 / Double(posts.hundredths)).rounded())
        return "\(tenths / 10),\(tenths % 10)"
    }
}
