/// A horizontal bar chart as server-rendered SVG: readable without JavaScript, `role="img"` with a
/// title and a description that carries every value, each value also written next to its bar
/// (so no meaning rests on colour), series told apart by fill pattern and legend as well as colour.
/// Pages put a real table next to it for screen readers.
struct BarChart {
    struct Series {
        var name: String
    }

    struct Row {
        var label: String
        var values: [FigureCount]
    }

    var id: String
    var title: String
    var series: [Series]
    var rows: [Row]

    private static let width = 640, labelWidth = 230, barSpace = 330, barHeight = 16, gap = 10
    /// Dark blue solid, then dark grey hatched: both above 7:1 against white.
    private var fills: [String] { ["#0b4f8a", "url(#\(id)-hatch)"] }

    var svg: String {
        let maximum = max(rows.flatMap { $0.values.compactMap(\.shown) }.max() ?? 0, 1)
        let rowHeight = series.count * (Self.barHeight + 2) + Self.gap
        let legendHeight = series.count > 1 ? 28 : 0
        let height = legendHeight + rows.count * rowHeight + 8
        var out = """
            <svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 \(Self.width) \(height)" width="100%" role="img" \
            aria-labelledby="\(id)-title \(id)-desc" preserveAspectRatio="xMinYMin meet">
            <title id="\(id)-title">\(Self.escape(title))</title>
            <desc id="\(id)-desc">\(Self.escape(description))</desc>
            <defs><pattern id="\(id)-hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">\
            <rect width="6" height="6" fill="#ffffff"/><rect width="3" height="6" fill="#4a4a4a"/></pattern></defs>
            """
        if series.count > 1 {
            for (index, item) in series.enumerated() {
                let x = Self.labelWidth + index * 160
                out += "<rect x=\"\(x)\" y=\"6\" width=\"14\" height=\"14\" fill=\"\(fills[index % 2])\" stroke=\"#1a1a1a\"/>"
                out += "<text x=\"\(x + 20)\" y=\"18\" font-size=\"14\" fill=\"#1a1a1a\">\(Self.escape(item.name))</text>"
            }
        }
        for (rowIndex, row) in rows.enumerated() {
            let top = legendHeight + rowIndex * rowHeight + 4
            let middle = top + (series.count * (Self.barHeight + 2)) / 2 + 5
            out +=
                "<text x=\"\(Self.labelWidth - 8)\" y=\"\(middle)\" font-size=\"14\" text-anchor=\"end\" fill=\"#1a1a1a\">\(Self.escape(Self.clip(row.label)))</text>"
            for (index, value) in row.values.enumerated() {
                let y = top + index * (Self.barHeight + 2)
                let length = value.shown.map { Int((Double($0) / Double(maximum) * Double(Self.barSpace)).rounded()) } ?? 0
                if length > 0 {
                    out +=
                        "<rect x=\"\(Self.labelWidth)\" y=\"\(y)\" width=\"\(length)\" height=\"\(Self.barHeight)\" fill=\"\(fills[index % 2])\" stroke=\"#1a1a1a\" stroke-width=\"0.5\"/>"
                }
                out +=
                    "<text x=\"\(Self.labelWidth + length + 6)\" y=\"\(y + Self.barHeight - 3)\" font-size=\"13\" fill=\"#1a1a1a\">\(Self.escape(value.description))</text>"
            }
        }
        return out + "</svg>"
    }

    /// Every value in words, for the SVG's description.
    var description: String {
        rows.map { row in
            "\(row.label): "
                + zip(series, row.values).map { series.count > 1 ? "\($0.name) \($1.description)" : $1.description }.joined(separator: ", ")
        }.joined(separator: "; ")
    }

    private static func clip(_ label: String) -> String { label.count > 30 ? String(label.prefix(29)) + "…" : label }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
            .replacingOccurrences(of: "\"", with: "&quot;")
    }
}
