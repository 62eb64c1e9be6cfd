import ConfigStore
import Foundation
import Testing

@testable import TerminalUI

/// i (a file picker, then a preview, then the import), x (the export's path) and e (the edit
/// form), as the model sees them: what it asks the runner, what it shows.
struct ImportExportTests {
    @Test func thePickerListsDirectoriesThenImportableFilesAndMovesAround() {
        var picker = FilePicker(directory: "/home/dev/shop")
        picker.listed(
            "/home/dev/shop",
            entries: [
                .init(name: "notes.txt", isDirectory: false), .init(name: "kfwd.yaml", isDirectory: false), .init(name: "exports", isDirectory: true),
                .init(name: ".git", isDirectory: true), .init(name: "forwards.JSON", isDirectory: false), .init(name: ".kfwd.yaml", isDirectory: false),
            ]
        )
        #expect(picker.entries.map(\.name) == ["..", "exports", ".kfwd.yaml", "forwards.JSON", "kfwd.yaml"])
        #expect(picker.handle(.enter, pageSize: 10) == .open("/home/dev"))
        #expect(picker.handle(.backspace, pageSize: 10) == .open("/home/dev"))
        _ = picker.handle(.character("j"), pageSize: 10)
        #expect(picker.handle(.enter, pageSize: 10) == .open("/home/dev/shop/exports"))
        _ = picker.handle(.character("G"), pageSize: 10)
        #expect(picker.handle(.right, pageSize: 10) == .choose("/home/dev/shop/kfwd.yaml"))
        #expect(picker.handle(.escape, pageSize: 10) == .cancelled)
        var root = FilePicker(directory: "/")
        root.listed("/", entries: [.init(name: "etc", isDirectory: true)])
        #expect(root.entries.map(\.name) == ["etc"], "no parent above /")
        #expect(FilePicker(directory: "/home").path(of: "..") == "/")
    }

    @Test func importingGoesThroughAPreviewThatYAccepts() {
        var model = Fixtures.model()
        model.workingDirectory = "/repo"
        #expect(model.handle(.character("i")) == [.listDirectory("/repo")])
        model.listed("/repo", entries: [.init(name: "kfwd.yaml", isDirectory: false)])
        _ = model.handle(.down)
        #expect(model.handle(.enter) == [.previewImport("/repo/kfwd.yaml")])
        var preview = ImportPreview(path: "/repo/kfwd.yaml", kind: "project repo")
        preview.added = ["docs"]
        preview.removed = ["old"]
        preview.unchanged = ["web"]
        model.preview(preview)
        let text = Fixtures.render(model, width: 100, height: 30).text
        #expect(text.contains("Import project repo") && text.contains("1 added, 0 updated, 1 unchanged, 1 removed"), "\(text)")
        #expect(text.contains("add: docs") && text.contains("remove: old") && text.contains("y imports it"))
        #expect(model.handle(.character("y")) == [.applyImport(.file("/repo/kfwd.yaml"))])
        #expect(model.mode == .table)

        // A file that cannot be imported: its problems, and y imports nothing.
        _ = model.handle(.character("i"))
        var broken = ImportPreview(path: "/repo/bad.json", kind: "kftray export")
        broken.problems = ["entry 0 (web): remote_port is missing"]
        model.preview(broken)
        #expect(Fixtures.render(model, width: 100, height: 30).text.contains("entry 0 (web): remote_port is missing"))
        #expect(model.handle(.character("y")).isEmpty)
        // A listing that failed says why.
        _ = model.handle(.character("i"))
        model.listed("/root", entries: nil, problem: "/root cannot be read: permission denied")
        #expect(Fixtures.render(model, width: 100, height: 30).text.contains("/root cannot be read: permission denied"))
        _ = model.handle(.escape)
        #expect(model.mode == .table)
    }

    @Test func exportAsksWhereRelativeToTheWorkingDirectory() {
        var model = Fixtures.model()
        model.workingDirectory = "/repo"
        _ = model.handle(.character("x"))
        #expect(model.mode == .exporting("kfwd-forwards.json"))
        #expect(Fixtures.render(model, width: 100, height: 30).line(29) == "Export the saved forwards (kftray JSON) to: kfwd-forwards.json")
        #expect(model.handle(.enter) == [.export("/repo/kfwd-forwards.json")])
        _ = model.handle(.character("x"))
        _ = model.handle(.control("u"))
        for character in "/tmp/out.json" { _ = model.handle(.character(character)) }
        #expect(model.handle(.enter) == [.export("/tmp/out.json")])
        _ = model.handle(.character("x"))
        #expect(model.handle(.escape).isEmpty && model.mode == .table)
    }

    @Test func editKeepsTheAliasAndEverySettingTheFormDoesNotShow() {
        var snapshot = Fixtures.snapshot
        var native = ForwardConfig(target: "svc/kube-dns", ports: ["5353:53"], namespace: "kube-system", context: "dev", udp: true)
        native.tags = ["infra"]
        snapshot.forwards[2].native = native
        snapshot.forwards[3].native = nil
        var model = Fixtures.model(snapshot)
        _ = model.handle(.character("j"))
        #expect(model.selected == "dns")
        _ = model.handle(.character("e"))
        guard case .form(let form) = model.mode else {
            Issue.record("no form: \(model.mode)")
            return
        }
        #expect(form.focus == .target && form.value(.ports) == "5353:53" && form.value(.context) == "dev")
        #expect(Fixtures.render(model, width: 100, height: 30).text.contains("Edit dns"))
        // The alias is passed over: Shift-Tab from the first field goes round to the last.
        _ = model.handle(.backTab)
        if case .form(let moved) = model.mode { #expect(moved.focus == .context) }
        _ = model.handle(.tab)
        _ = model.handle(.tab)
        _ = model.handle(.control("u"))
        for character in "5354:53" { _ = model.handle(.character(character)) }
        var expected = native
        expected.ports = ["5354:53"]
        #expect(model.handle(.enter) == [.edit(alias: "dns", config: expected)])

        // A kftray entry kfwd cannot run has no form: said why.
        _ = model.handle(.character("g"))
        #expect(model.handle(.character("e")).isEmpty)
        #expect(model.message?.isError == true)
    }

    @Test func discoverAsksTheClusterThenPreviewsAndYImportsWhatWasPreviewed() {
        var model = Fixtures.model()
        #expect(model.handle(.character("f")) == [.discover])
        #expect(model.mode == .discovering)
        #expect(Fixtures.render(model, width: 100, height: 30).line(29).hasPrefix("Asking the cluster's Services what forwards they propose"))
        let proposals = [ServiceDiscovery.Proposal(alias: "docs", config: ForwardConfig(target: "svc/docs", ports: ["0:http"]), source: "kfwd.dev/forwards")]
        var preview = ImportPreview(path: "context dev", kind: "the cluster's proposals", source: .discovery(proposals))
        preview.added = ["docs"]
        preview.notes = ["namespace kube-system skipped: forbidden"]
        model.preview(preview)
        let text = Fixtures.render(model, width: 100, height: 30).text
        #expect(text.contains("add: docs") && text.contains("passed over: namespace kube-system skipped: forbidden"), "\(text)")
        #expect(model.handle(.character("y")) == [.applyImport(.discovery(proposals))], "what was previewed is what is saved")
        // Esc while asking: back to the table, and a late answer is dropped.
        _ = model.handle(.character("f"))
        _ = model.handle(.escape)
        model.preview(preview)
        #expect(model.mode == .table)
    }

    @Test func tSwitchesTheGroupingBetweenContextAndTag() {
        var model = Fixtures.model()
        _ = model.handle(.character("t"))
        #expect(model.grouping == .tag)
        #expect(Fixtures.render(model, width: 80, height: 24).line(2) == " #data (1)")
        _ = model.handle(.character("t"))
        #expect(model.grouping == .context)
    }
}
