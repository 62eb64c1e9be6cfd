import ConfigStore
import Testing

@testable import TerminalUI

/// The add form: typed in place, checked as `kfwd add` checks, problems beside their field.
struct ForwardFormTests {
    private func type(_ text: String, into form: inout ForwardForm) {
        for character in text { _ = form.handle(.character(character)) }
    }

    @Test func anEmptyFormSaysWhatIsMissingAndFocusesTheFirstProblem() {
        var form = ForwardForm(contexts: ["dev", "prod"], taken: ["web"])
        _ = form.handle(.tab)
        #expect(form.handle(.enter) == .editing)
        #expect(form.problems[.alias] == "give it a name, e.g. web")
        #expect(form.problems[.target] == "give a target, e.g. svc/web")
        #expect(form.focus == .alias)
        self.type("web", into: &form)
        _ = form.handle(.enter)
        #expect(form.problems[.alias] == "web is already saved: pick another name")
    }

    @Test func aBadTargetOrPortIsSaidBesideItsField() {
        var form = ForwardForm(contexts: [], taken: [])
        self.type("api", into: &form)
        _ = form.handle(.tab)
        self.type("cronjob/web", into: &form)
        _ = form.handle(.tab)
        self.type("8080:80", into: &form)
        _ = form.handle(.enter)
        #expect(form.problems[.target]?.isEmpty == false)
        #expect(form.focus == .target)
        for _ in 0..<"cronjob/web".count { _ = form.handle(.backspace) }
        self.type("svc/web", into: &form)
        _ = form.handle(.tab)
        _ = form.handle(.control("u"))
        self.type("80:x:y", into: &form)
        _ = form.handle(.enter)
        #expect(form.problems[.target] == nil)
        #expect(form.problems[.ports]?.isEmpty == false, "\(form.problems)")
        #expect(form.focus == .ports)
    }

    @Test func aGoodFormGivesTheForwardToSaveWithThePickedContext() {
        var form = ForwardForm(contexts: ["dev", "prod"], taken: [])
        self.type("api", into: &form)
        _ = form.handle(.tab)
        self.type("app=api", into: &form)
        _ = form.handle(.tab)
        self.type("8080:80, 9090", into: &form)
        _ = form.handle(.tab)
        self.type("shop", into: &form)
        _ = form.handle(.tab)
        #expect(form.focus == .context && form.value(.context) == "")
        _ = form.handle(.right)
        _ = form.handle(.right)
        #expect(form.value(.context) == "prod")
        _ = form.handle(.right)
        #expect(form.value(.context) == "", "round to the current context")
        _ = form.handle(.left)
        guard case .submitted(let alias, let config) = form.handle(.enter) else {
            Issue.record("not submitted: \(form.problems)")
            return
        }
        #expect(alias == "api")
        #expect(config.selector == "app=api" && config.target == nil)
        #expect(config.ports == ["8080:80", "9090"])
        #expect(config.namespace == "shop" && config.context == "prod")
        _ = form.handle(.backTab)
        #expect(form.focus == .namespace)
        #expect(form.handle(.escape) == .cancelled)
    }

    @Test func theModelOpensTheFormAndAsksToAddWhatItGives() {
        var model = Fixtures.model()
        _ = model.handle(.character("a"))
        guard case .form = model.mode else {
            Issue.record("no form: \(model.mode)")
            return
        }
        for character in "new" { _ = model.handle(.character(character)) }
        _ = model.handle(.tab)
        for character in "svc/web" { _ = model.handle(.character(character)) }
        _ = model.handle(.tab)
        for character in "7070:80" { _ = model.handle(.character(character)) }
        let grid = Fixtures.render(model, width: 100, height: 30)
        #expect(grid.text.contains("Add a forward") && grid.text.contains("7070:80"), "\(grid.text)")
        #expect(grid.cursor?.row != nil, "the cursor shows where typing goes")
        let actions = model.handle(.enter)
        #expect(actions == [.add(alias: "new", config: ForwardConfig(target: "svc/web", ports: ["7070:80"]))])
        #expect(model.mode == .table)
    }
}
