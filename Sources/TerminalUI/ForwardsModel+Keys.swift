extension ForwardsModel {
    /// A key (or mouse event) from the user; what the runner must do about it.
    public mutating func handle(_ key: Key) -> [TUIAction] {
        switch self.mode {
        case .table: return self.inTable(key)
        case .filtering: return self.inFilter(key)
        case .help:
            self.mode = .table
            return key == .control("c") ? [.quit] : []
        case .discovering:
            switch key {
            case .escape:
                self.mode = .table
                return []
            case .control("c"):
                return [.quit]
            default:
                return []
            }
        case .confirmDelete(let aliases):
            switch key {
            case .character("y"), .character("Y"), .enter:
                self.mode = .table
                self.marked.subtract(aliases)
                return [.delete(aliases)]
            case .control("c"):
                return [.quit]
            default:
                self.mode = .table
                self.say("nothing deleted")
                return []
            }
        case .form(var form):
            switch form.handle(key) {
            case .editing:
                self.mode = .form(form)
            case .cancelled:
                self.mode = .table
            case .submitted(let alias, let config):
                self.mode = .table
                if form.editing != nil {
                    self.say("saving \(alias)…")
                    return [.edit(alias: alias, config: config)]
                }
                self.say("adding \(alias)…")
                self.selected = alias
                return [.add(alias: alias, config: config)]
            }
            return []
        case .picker(var picker):
            switch picker.handle(key, pageSize: self.pageSize) {
            case .browsing:
                self.mode = .picker(picker)
            case .cancelled:
                self.mode = .table
            case .open(let directory):
                self.mode = .picker(picker)
                return [.listDirectory(directory)]
            case .choose(let path):
                self.mode = .picker(picker)
                return [.previewImport(path)]
            }
            return []
        case .importPreview(let preview):
            switch key {
            case .character("y"), .character("Y"), .enter:
                self.mode = .table
                guard preview.changes else { return [] }
                self.say("importing \(preview.path)…")
                return [.applyImport(preview.source)]
            case .control("c"):
                return [.quit]
            default:
                self.mode = .table
                self.say("nothing imported")
                return []
            }
        case .exporting(var path):
            switch key {
            case .enter:
                self.mode = .table
                let trimmed = path.trimmed
                guard !trimmed.isEmpty else { return [] }
                return [.export(trimmed.hasPrefix("/") ? trimmed : FilePicker(directory: self.workingDirectory).path(of: trimmed))]
            case .escape:
                self.mode = .table
            case .control("c"):
                return [.quit]
            case .backspace:
                if !path.isEmpty { path.removeLast() }
                self.mode = .exporting(path)
            case .control("u"):
                self.mode = .exporting("")
            case .character(let character):
                path.append(character)
                self.mode = .exporting(path)
            default:
                break
            }
            return []
        case .log:
            switch key {
            case .escape, .character("q"), .character("l"):
                self.mode = .table
                return [.followLog(nil)]
            case .control("c"):
                return [.quit]
            default:
                return []
            }
        }
    }

    private mutating func inTable(_ key: Key) -> [TUIAction] {
        switch key {
        case .click(let row, _):
            // The runner says which table line a screen row shows.
            if let line = self.line(atScreenRow: row), case .forward(let forward) = self.lines[line] { self.select(forward.alias) }
            return []
        case .scrollUp: return self.move(by: -3)
        case .scrollDown: return self.move(by: 3)
        case .escape:
            if !self.filter.isEmpty {
                self.filter = ""
                self.keepSelection()
            } else {
                self.marked.removeAll()
            }
            return []
        case .control("z"):
            return [.suspend]
        default: break
        }
        guard let command = KeyMap.command(for: key) else { return [] }
        switch command {
        case .up: return self.move(by: -1)
        case .down: return self.move(by: 1)
        case .pageUp: return self.move(by: -max(1, self.pageSize - 1))
        case .pageDown: return self.move(by: max(1, self.pageSize - 1))
        case .first:
            self.select(self.visible.first?.alias)
        case .last:
            self.select(self.visible.last?.alias)
        case .mark:
            if let selected = self.selected {
                if self.marked.contains(selected) { self.marked.remove(selected) } else { self.marked.insert(selected) }
                _ = self.move(by: 1)
            }
        case .markAll:
            let shown = Set(self.visible.map(\.alias))
            if shown.isSubset(of: self.marked) { self.marked.subtract(shown) } else { self.marked.formUnion(shown) }
        case .toggle:
            let aliases = self.targets
            guard !aliases.isEmpty else { return [] }
            let stopped = aliases.filter { alias in self.rows.first { $0.alias == alias }?.state.status == "stopped" }
            // Any stopped among them: start those; else stop them all.
            if !stopped.isEmpty {
                self.say("starting \(stopped.joined(separator: ", "))…")
                return [.start(stopped)]
            }
            self.say("stopping \(aliases.joined(separator: ", "))…")
            return [.stop(aliases)]
        case .restart:
            let aliases = self.targets
            guard !aliases.isEmpty else { return [] }
            self.say("restarting \(aliases.joined(separator: ", "))…")
            return [.restart(aliases)]
        case .delete:
            let aliases = self.targets
            guard !aliases.isEmpty else { return [] }
            self.mode = .confirmDelete(aliases)
        case .add:
            self.mode = .form(ForwardForm(contexts: self.contexts, taken: Set(self.rows.map(\.alias))))
        case .edit:
            guard let row = self.selectedRow else { return [] }
            guard let native = row.native else {
                self.say("\(row.alias) cannot be edited here: \(row.target)", error: true)
                return []
            }
            self.mode = .form(ForwardForm(editing: row.alias, config: native, contexts: self.contexts))
        case .importFile:
            self.mode = .picker(FilePicker(directory: self.workingDirectory))
            return [.listDirectory(self.workingDirectory)]
        case .discover:
            self.mode = .discovering
            return [.discover]
        case .grouping:
            self.grouping = self.grouping == .context ? .tag : .context
            self.say("grouped by \(self.grouping.rawValue)")
            self.keepSelection()
        case .export:
            self.mode = .exporting("kfwd-forwards.json")
        case .log:
            guard let selected = self.selected else { return [] }
            self.logLines = []
            self.mode = .log(selected)
            return [.followLog(selected)]
        case .filter:
            self.mode = .filtering
        case .help:
            self.mode = .help
        case .quit:
            return [.quit]
        }
        return []
    }

    private mutating func inFilter(_ key: Key) -> [TUIAction] {
        switch key {
        case .enter, .down, .up:
            self.mode = .table
        case .escape:
            self.filter = ""
            self.mode = .table
        case .backspace:
            if !self.filter.isEmpty { self.filter.removeLast() }
        case .control("u"):
            self.filter = ""
        case .control("c"):
            return [.quit]
        case .character(let character):
            self.filter.append(character)
        default:
            return []
        }
        self.keepSelection()
        return []
    }

    /// Moves the selection `step` forwards down (up when negative), stopping at the ends.
    private mutating func move(by step: Int) -> [TUIAction] {
        let visible = self.visible
        guard !visible.isEmpty else { return [] }
        let index = visible.firstIndex { $0.alias == self.selected } ?? 0
        self.select(visible[max(0, min(visible.count - 1, index + step))].alias)
        return []
    }

    /// The table line a screen row shows, given where the table starts on screen.
    func line(atScreenRow row: Int) -> Int? {
        let line = row - ForwardsScreen.tableTop + self.scroll
        guard row >= ForwardsScreen.tableTop, row < ForwardsScreen.tableTop + self.pageSize, line < self.lines.count else { return nil }
        return line
    }
}
