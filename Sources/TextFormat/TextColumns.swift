/// Rows of cells printed in aligned columns: each column as wide as its
/// widest cell (counted in characters), two spaces between columns, no
/// trailing spaces.
public enum TextColumns {
    /// The rows as lines, without line terminators.
    public static func lines(_ rows: [[String]]) -> [String] {
        var widths: [Int] = []
        for row in rows {
            for (index, cell) in row.enumerated() {
                if index == widths.count { widths.append(0) }
                widths[index] = max(widths[index], cell.count)
            }
        }
        var result: [String] = []
        result.reserveCapacity(rows.count)
        for row in rows {
            var line = ""
            for (index, cell) in row.enumerated() {
                line += cell
                if index < row.count - 1 {
                    line += String(repeating: " ", count: widths[index] - cell.count + 2)
                }
            }
            while line.hasSuffix(" ") { line.removeLast() }
            result.append(line)
        }
        return result
    }
}
