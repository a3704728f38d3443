/// Plain-text columns for the admin CLI: a header row and data rows, each
/// column as wide as its widest cell, two spaces between columns, no
/// trailing spaces, one line per row ending in "\n".
public struct TextTable: Sendable {
    /// The column titles.
    public let header: [String]
    /// The rows, each with one cell per column.
    public private(set) var rows: [[String]] = []

    /// An empty table with these column titles.
    public init(header: [String]) {
        self.header = header
    }

    /// Adds a row (missing cells are blank, extra cells are dropped).
    public mutating func append(_ row: [String]) {
        var cells = Array(row.prefix(header.count))
        while cells.count < header.count { cells.append("") }
        rows.append(cells)
    }

    /// The table as text.
    public var text: String {
        var widths = header.map { $0.count }
        for row in rows {
            for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) }
        }
        var text = ""
        for row in [header] + rows {
            var line = ""
            for (index, cell) in row.enumerated() {
                if index == row.count - 1 {
                    line += cell
                } else {
                    line += cell + String(repeating: " ", count: widths[index] - cell.count + 2)
                }
            }
            while line.hasSuffix(" ") { line.removeLast() }
            text += line + "\n"
        }
        return text
    }
}
