/// The add form over the table: each field with its value, a hint, and its problem.
struct FormPane {
    let form: ForwardForm
    let ascii: Bool

    func render(into grid: inout ScreenGrid) {
        let fields = ForwardForm.Field.allCases
        let width = min(grid.width - 4, 96)
        let height = fields.count * 2 + 4
        let top = max(1, (grid.height - height) / 2), left = max(2, (grid.width - width) / 2)
        let title = self.form.editing.map { "Edit \($0.alias)" } ?? "Add a forward"
        Box(top: top, left: left, width: width, height: height, title: title, ascii: self.ascii).draw(into: &grid)
        let labelWidth = 11
        for (index, field) in fields.enumerated() {
            let row = top + 1 + index * 2
            let focused = field == self.form.focus
            grid.put(field.label, row: row, column: left + 2, limit: labelWidth, style: TextStyle(bold: focused, dim: !self.form.isEditable(field) && field != .context))
            var value = self.form.value(field)
            if field == .context && value.isEmpty { value = "(the kubeconfig's current)" }
            if field == .context { value = (self.ascii ? "< " : "‹ ") + value + (self.ascii ? " >" : " ›") }
            let end = grid.put(value, row: row, column: left + 2 + labelWidth, limit: width - labelWidth - 4, style: focused ? TextStyle(reverse: false) : .plain, ascii: self.ascii)
            if focused { grid.restyle(row: row, column: left + 2 + labelWidth, count: width - labelWidth - 4) { $0.bold = true } }
            if focused && field != .context { grid.cursor = (row, min(end, left + width - 2)) }
            if let problem = self.form.problems[field] {
                grid.put(problem, row: row + 1, column: left + 2 + labelWidth, limit: width - labelWidth - 4, style: TextStyle(color: .red), ascii: self.ascii)
            } else {
                let hint = field == .alias && self.form.editing != nil ? "kept (to rename: delete, then add)" : field.hint
                grid.put(hint, row: row + 1, column: left + 2 + labelWidth, limit: width - labelWidth - 4, style: TextStyle(dim: true), ascii: self.ascii)
            }
        }
        let enter = self.form.editing == nil ? "Enter saves and starts it" : "Enter saves it (running, it restarts)"
        grid.put("\(enter); Esc cancels", row: top + height - 2, column: left + 2, style: TextStyle(dim: true), ascii: self.ascii)
    }
}
