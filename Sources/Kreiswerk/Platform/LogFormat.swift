import Foundation
import Logging
import Synchronization

/// How log lines are written (KREISWERK_LOG_FORMAT): `text`, swift-log's line for a terminal, or `json`, one JSON
/// object a line for journald, Loki or any collector that reads JSON lines.
public enum LogFormat: String, Sendable, CaseIterable {
    case text
    case json

    /// KREISWERK_LOG_FORMAT, text when it is not set.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> LogFormat {
        guard let value = environment["KREISWERK_LOG_FORMAT"], !value.isEmpty else { return .text }
        guard let format = LogFormat(rawValue: value.lowercased()) else {
            throw ConfigurationError("KREISWERK_LOG_FORMAT is '\(value)': use json (one JSON object a line) or text")
        }
        return format
    }

    /// A handler writing to standard error in this format, passing every level (each logger picks its own).
    public func standardError(label: String) -> any LogHandler {
        switch self {
        case .text:
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .trace
            return handler
        case .json:
            return JSONLogHandler(label: label, write: JSONLogHandler.standardError)
        }
    }
}

/// One JSON object a line: `time` (UTC, milliseconds), `level`, `message`, `label`, then the metadata as fields.
/// Hummingbird's request id (`hb.request.id`) is written as `request_id`; whole numbers and decimals stay numbers.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    public var logLevel: Logger.Level = .trace
    let label: String
    let write: @Sendable (String) -> Void

    public init(label: String, write: @escaping @Sendable (String) -> Void) {
        self.label = label
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields = metadata
        if let provided = metadataProvider?.get() { fields.merge(provided) { _, new in new } }
        if let own = event.metadata { fields.merge(own) { _, new in new } }
        var line = "{\"time\":\"\(Self.timestamp(Date()))\",\"level\":\"\(event.level.rawValue)\",\"message\":"
        Self.append(string: "\(event.message)", to: &line)
        line += ",\"label\":"
        Self.append(string: label, to: &line)
        for (key, value) in fields.sorted(by: { $0.key < $1.key }) {
            let name = key == "hb.request.id" ? "request_id" : key
            guard !["time", "level", "message", "label"].contains(name) else { continue }
            line += ","
            Self.append(string: name, to: &line)
            line += ":"
            Self.append(value: value, to: &line)
        }
        line += "}\n"
        write(line)
    }

    /// Writes whole lines to standard error, one at a time (lines from several tasks never interleave).
    public static let standardError: @Sendable (String) -> Void = { line in
        outputLock.withLock { _ in
            FileHandle.standardError.write(Data(line.utf8))
        }
    }
    private static let outputLock = Mutex(())

    static func timestamp(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    private static func append(value: Logger.Metadata.Value, to line: inout String) {
        switch value {
        case .string(let text): append(string: text, to: &line)
        case .stringConvertible(let convertible):
            switch convertible {
            case let number as Int: line += String(number)
            case let number as Int64: line += String(number)
            case let number as Double where number.isFinite: line += String(number)
            case let flag as Bool: line += flag ? "true" : "false"
            default: append(string: convertible.description, to: &line)
            }
        case .array(let values):
            line += "["
            for (index, element) in values.enumerated() {
                if index > 0 { line += "," }
                append(value: element, to: &line)
            }
            line += "]"
        case .dictionary(let entries):
            line += "{"
            for (index, (key, element)) in entries.sorted(by: { $0.key < $1.key }).enumerated() {
                if index > 0 { line += "," }
                append(string: key, to: &line)
                line += ":"
                append(value: element, to: &line)
            }
            line += "}"
        }
    }

    /// A JSON string: quotes, backslashes and control characters escaped, everything else as it is (UTF-8).
    static func append(string: String, to line: inout String) {
        line += "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": line += "\\\""
            case "\\": line += "\\\\"
            case "\n": line += "\\n"
            case "\r": line += "\\r"
            case "\t": line += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x2028 || scalar.value == 0x2029:
                line += String(format: "\\u%04x", scalar.value)
            default: line.unicodeScalars.append(scalar)
            }
        }
        line += "\""
    }
}
