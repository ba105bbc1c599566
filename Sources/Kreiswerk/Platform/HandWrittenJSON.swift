import Foundation
import NIOCore

/// A value that writes its own JSON, byte for byte what `JSONResponse`'s encoder writes (keys sorted, slashes
/// not escaped, nil fields left out, UUIDs in capitals): for the lists read most often, where the generic
/// encoder was a quarter of the server's time. A test holds each writer to the encoder's output.
protocol HandWrittenJSON {
    func writeJSON(to json: inout JSONText)
}

extension Array: HandWrittenJSON where Element: HandWrittenJSON {
    func writeJSON(to json: inout JSONText) {
        json.buffer.writeStaticString("[")
        for (index, element) in enumerated() {
            if index > 0 { json.buffer.writeStaticString(",") }
            element.writeJSON(to: &json)
        }
        json.buffer.writeStaticString("]")
    }
}

/// JSON being written into a buffer.
struct JSONText {
    var buffer = ByteBuffer()
    private var fieldWritten = false

    /// An object whose fields `body` writes (with `field`) in the order of their keys.
    mutating func object(_ body: (inout JSONText) -> Void) {
        buffer.writeStaticString("{")
        fieldWritten = false
        body(&self)
        buffer.writeStaticString("}")
    }

    private mutating func key(_ key: StaticString) {
        if fieldWritten { buffer.writeStaticString(",") }
        fieldWritten = true
        buffer.writeStaticString("\"")
        buffer.writeStaticString(key)
        buffer.writeStaticString("\":")
    }

    mutating func field(_ name: StaticString, _ value: String?) {
        guard let value else { return }
        key(name)
        string(value)
    }

    /// A UUID as the encoder writes it: in capitals, without building a String.
    mutating func field(_ name: StaticString, _ value: UUID) {
        key(name)
        let hex = Self.upperHex
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 38) { out in
            out[0] = UInt8(ascii: "\"")
            var position = 1
            withUnsafeBytes(of: value.uuid) { bytes in
                for (index, byte) in bytes.enumerated() {
                    if index == 4 || index == 6 || index == 8 || index == 10 {
                        out[position] = UInt8(ascii: "-")
                        position += 1
                    }
                    out[position] = hex[Int(byte >> 4)]
                    out[position + 1] = hex[Int(byte & 0x0F)]
                    position += 2
                }
            }
            out[position] = UInt8(ascii: "\"")
            return position + 1
        }
    }

    mutating func field(_ name: StaticString, _ value: Int) {
        key(name)
        buffer.writeString(String(value))
    }

    mutating func field(_ name: StaticString, _ value: Bool?) {
        guard let value else { return }
        key(name)
        if value { buffer.writeStaticString("true") } else { buffer.writeStaticString("false") }
    }

    mutating func field(_ name: StaticString, _ value: [String]?) {
        guard let value else { return }
        key(name)
        buffer.writeStaticString("[")
        for (index, element) in value.enumerated() {
            if index > 0 { buffer.writeStaticString(",") }
            string(element)
        }
        buffer.writeStaticString("]")
    }

    /// A date as the encoder's `.iso8601` strategy writes it: UTC, whole seconds (cut, not rounded).
    mutating func field(_ name: StaticString, _ value: Date) {
        key(name)
        let seconds = Int((value.timeIntervalSince1970).rounded(.down))
        let (days, second) = (seconds.floorDivided(by: 86_400), seconds - seconds.floorDivided(by: 86_400) * 86_400)
        // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
        let z = days + 719_468
        let era = z.floorDivided(by: 146_097)
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        buffer.writeStaticString("\"")
        for (value, width, separator) in [
            (year, 4, "-"), (month, 2, "-"), (day, 2, "T"), (second / 3600, 2, ":"), (second / 60 % 60, 2, ":"), (second % 60, 2, "Z"),
        ] {
            let digits = String(value)
            if digits.count < width { buffer.writeString(String(repeating: "0", count: width - digits.count)) }
            buffer.writeString(digits)
            buffer.writeString(separator)
        }
        buffer.writeStaticString("\"")
    }

    /// A nested value that writes its own JSON.
    mutating func field(_ name: StaticString, _ value: some HandWrittenJSON) {
        key(name)
        value.writeJSON(to: &self)
        fieldWritten = true
    }

    /// JSON written elsewhere, as it is.
    mutating func field(_ name: StaticString, json: String) {
        key(name)
        buffer.writeString(json)
    }

    private static let upperHex: [UInt8] = Array("0123456789ABCDEF".utf8)
    private static let lowerHex: [UInt8] = Array("0123456789abcdef".utf8)

    /// A string in quotes, escaped as the encoder escapes it.
    mutating func string(_ value: String) {
        buffer.writeStaticString("\"")
        // Most strings need no escaping: written in one piece.
        if !value.utf8.contains(where: { $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") || $0 < 0x20 }) {
            buffer.writeString(value)
            buffer.writeStaticString("\"")
            return
        }
        var start = value.utf8.startIndex
        let utf8 = value.utf8
        var index = start
        while index != utf8.endIndex {
            let byte = utf8[index]
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20 {
                buffer.writeSubstring(Substring(utf8[start..<index]))
                switch byte {
                case UInt8(ascii: "\""): buffer.writeStaticString("\\\"")
                case UInt8(ascii: "\\"): buffer.writeStaticString("\\\\")
                case 0x08: buffer.writeStaticString("\\b")
                case 0x0C: buffer.writeStaticString("\\f")
                case 0x0A: buffer.writeStaticString("\\n")
                case 0x0D: buffer.writeStaticString("\\r")
                case 0x09: buffer.writeStaticString("\\t")
                default:
                    buffer.writeStaticString("\\u00")
                    buffer.writeInteger(Self.lowerHex[Int(byte >> 4)])
                    buffer.writeInteger(Self.lowerHex[Int(byte & 0x0F)])
                }
                start = utf8.index(after: index)
            }
            index = utf8.index(after: index)
        }
        buffer.writeSubstring(Substring(utf8[start..<utf8.endIndex]))
        buffer.writeStaticString("\"")
    }
}

extension Int {
    /// Division rounded towards minus infinity.
    fileprivate func floorDivided(by divisor: Int) -> Int {
        let quotient = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }
}
