/// A SQL file cut into the statements it contains.
///
/// PostgresNIO speaks the extended query protocol, which runs one statement per
/// call, so a migration file is split here. The splitter understands what can
/// hide a semicolon: `--` and nested `/* */` comments, single-quoted strings
/// (with `''` and, for `E'…'`, backslash escapes), quoted identifiers and
/// dollar-quoted bodies (`$$ … $$`, `$tag$ … $tag$`).
public struct SQLScript: Sendable, Equatable {
    /// One statement and the line of the file it starts on (1-based).
    public struct Statement: Sendable, Equatable {
        public var text: String
        public var line: Int
    }

    public var statements: [Statement]

    public init(_ source: String) {
        self.statements = Self.split(Array(source.unicodeScalars))
    }

    private static func split(_ s: [Unicode.Scalar]) -> [Statement] {
        var statements: [Statement] = []
        var current = String.UnicodeScalarView()
        var line = 1
        var startLine: Int?
        var i = 0

        func append(_ range: Range<Int>) {
            for k in range {
                current.append(s[k])
                if s[k] == "\n" { line += 1 }
            }
        }
        func finish() {
            let text = String(current).trimmingWhitespace()
            if !text.isEmpty, let startLine { statements.append(Statement(text: text, line: startLine)) }
            current = String.UnicodeScalarView()
            startLine = nil
        }
        func at(_ k: Int) -> Unicode.Scalar? { k < s.count ? s[k] : nil }

        while i < s.count {
            let c = s[i]
            if startLine == nil, !c.properties.isWhitespace, !(c == "-" && at(i + 1) == "-"), !(c == "/" && at(i + 1) == "*") {
                startLine = line
            }
            switch c {
            case "-" where at(i + 1) == "-":
                var j = i
                while j < s.count, s[j] != "\n" { j += 1 }
                append(i..<j)
                i = j
            case "/" where at(i + 1) == "*":
                var depth = 0
                var j = i
                repeat {
                    if at(j) == "/" && at(j + 1) == "*" {
                        depth += 1
                        j += 2
                    } else if at(j) == "*" && at(j + 1) == "/" {
                        depth -= 1
                        j += 2
                    } else {
                        j += 1
                    }
                } while depth > 0 && j < s.count
                append(i..<min(j, s.count))
                i = min(j, s.count)
            case "'", "\"":
                // E'…' strings also escape with backslashes; both kinds escape their quote by doubling it.
                let backslashEscapes =
                    c == "'" && i > 0 && (s[i - 1] == "E" || s[i - 1] == "e") && (i < 2 || !isIdentifierCharacter(s[i - 2]))
                let end = closingQuote(s, from: i, backslashEscapes: backslashEscapes)
                append(i..<end)
                i = end
            case "$":
                if let tagEnd = dollarTagEnd(s, from: i) {
                    let tag = Array(s[i...tagEnd])
                    var j = tagEnd + 1
                    while j < s.count && !(s[j] == "$" && j + tag.count <= s.count && Array(s[j..<(j + tag.count)]) == tag) { j += 1 }
                    let end = min(j + tag.count, s.count)
                    append(i..<end)
                    i = end
                } else {
                    append(i..<(i + 1))
                    i += 1
                }
            case ";":
                finish()
                i += 1
            default:
                append(i..<(i + 1))
                i += 1
            }
        }
        finish()
        return statements
    }

    private static func isIdentifierCharacter(_ c: Unicode.Scalar) -> Bool {
        c.properties.isAlphabetic || ("0"..."9").contains(c) || c == "_" || c == "$"
    }

    /// The index just after the quote that closes the one opening at `start`.
    private static func closingQuote(_ s: [Unicode.Scalar], from start: Int, backslashEscapes: Bool) -> Int {
        let quote = s[start]
        var j = start + 1
        while j < s.count {
            if backslashEscapes && s[j] == "\\" {
                j += 2
                continue
            }
            if s[j] == quote {
                if j + 1 < s.count && s[j + 1] == quote {
                    j += 2
                    continue
                }
                return j + 1
            }
            j += 1
        }
        return s.count
    }

    /// The index of the closing `$` of a dollar-quote tag opening at `start`, if one opens there.
    private static func dollarTagEnd(_ s: [Unicode.Scalar], from start: Int) -> Int? {
        if start > 0 {
            let previous = s[start - 1]
            // `$1` parameters and identifiers such as `a$b` are not quotes.
            if isIdentifierCharacter(previous) { return nil }
        }
        var j = start + 1
        while j < s.count {
            let c = s[j]
            if c == "$" { return j }
            let allowed = c.properties.isAlphabetic || c == "_" || (j > start + 1 && ("0"..."9").contains(c))
            if !allowed { return nil }
            j += 1
        }
        return nil
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var scalars = Substring(self)
        while let first = scalars.first, first.isWhitespace { scalars.removeFirst() }
        while let last = scalars.last, last.isWhitespace { scalars.removeLast() }
        return String(scalars)
    }
}
