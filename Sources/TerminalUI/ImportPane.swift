/// The import's boxes over the table: the file picker, then the preview of what the chosen
/// file would change.
struct ImportPane {
    let ascii: Bool

    func render(_ picker: FilePicker, into grid: inout ScreenGrid) {
        let (top, left, width, height) = self.frame(grid)
        Box(top: top, left: left, width: width, height: height, title: "Import: pick a kftray export (.json) or a kfwd.yaml", ascii: self.ascii).draw(into: &grid)
        grid.put(picker.directory, row: top + 1, column: left + 2, limit: width - 4, style: TextStyle(bold: true), ascii: self.ascii)
        if let problem = picker.problem {
            grid.put(problem, row: top + 2, column: left + 2, limit: width - 4, style: TextStyle(color: .red), ascii: self.ascii)
        }
        let room = height - 5
        let first = max(0, picker.selection - room + 1)
        for (offset, entry) in picker.entries.dropFirst(first).prefix(room).enumerated() {
            let row = top + 3 + offset
            let name = entry.isDirectory ? entry.name + "/" : entry.name
            grid.put(name, row: row, column: left + 2, limit: width - 4, style: entry.isDirectory ? TextStyle(color: .cyan) : .plain, ascii: self.ascii)
            if first + offset == picker.selection { grid.restyle(row: row, column: left + 1, count: width - 2) { $0.reverse = true } }
        }
        if picker.entries.isEmpty && picker.problem == nil {
            grid.put("nothing to import here", row: top + 3, column: left + 2, style: TextStyle(dim: true))
        }
    }

    func render(_ preview: ImportPreview, into grid: inout ScreenGrid) {
        let (top, left, width, height) = self.frame(grid)
        Box(top: top, left: left, width: width, height: height, title: "Import \(preview.kind)", ascii: self.ascii).draw(into: &grid)
        var lines: [(String, TextStyle)] = [(preview.path, TextStyle(bold: true))]
        if preview.problems.isEmpty {
            lines.append((preview.summary, .plain))
            for (word, aliases, style) in [
                ("add", preview.added, TextStyle(color: .green)), ("update", preview.updated, TextStyle(color: .yellow)),
                ("remove", preview.removed, TextStyle(color: .red)), ("unchanged", preview.unchanged, TextStyle(dim: true)),
            ] where !aliases.isEmpty {
                lines.append(("\(word): \(aliases.joined(separator: ", "))", style))
            }
            lines += preview.notes.map { ("passed over: \($0)", TextStyle(color: .yellow)) }
            lines.append(("", .plain))
            lines.append((preview.changes ? "y imports it; any other key cancels" : "nothing would change; any key closes", TextStyle(bold: true)))
        } else {
            lines.append(("It cannot be imported; nothing would be:", TextStyle(color: .red, bold: true)))
            lines += preview.problems.map { ($0, TextStyle(color: .red)) }
            lines.append(("any key closes", TextStyle(dim: true)))
        }
        for (offset, line) in lines.prefix(height - 2).enumerated() {
            grid.put(line.0, row: top + 1 + offset, column: left + 2, limit: width - 4, style: line.1, ascii: self.ascii)
        }
    }

    private func frame(_ grid: ScreenGrid) -> (top: Int, left: Int, width: Int, height: Int) {
        let width = min(grid.width - 4, 100), height = min(grid.height - 4, 20)
        return (max(1, (grid.height - height) / 2), max(2, (grid.width - width) / 2), width, height)
    }
}
