import ArgumentParser
import ConfigStore
import Testing

@testable import kfwd

/// What the CLI accepts and refuses, parsed as swift-argument-parser parses a command line.
@Suite struct CommandParsingTests {
    /// kfwd settings' help names every setting there is, and only those (it once listed one
    /// that had gone and missed one that had come).
    @Test func settingsHelpNamesEverySetting() {
        let help = SettingsCommand.helpMessage()
        for name in StoreSettings.names { #expect(help.contains(name), "\(name) is missing from: \(help)") }
        #expect(!help.contains("warm_pool_size"))
    }

    @Test func statusTakesWatchAndOutputAsKubectlSpellsThem() throws {
        let watch = try StatusCommand.parse(["--watch", "-o", "json"])
        #expect(watch.watch && watch.output == .json)
        let short = try StatusCommand.parse(["-w"])
        #expect(short.watch && short.output == .text)
        // The older spelling still works for scripts written against it.
        #expect(try StatusCommand.parse(["--json"]).json)
        #expect(throws: (any Error).self) { try StatusCommand.parse(["-o", "yaml"]) }
    }

    @Test func restartStartAndStopNeedAliasesOrAllButNotBoth() throws {
        #expect(try RestartCommand.parse(["web", "db"]).selection.aliases == ["web", "db"])
        #expect(try RestartCommand.parse(["--all"]).selection.all)
        for command in [RestartCommand.self, StartCommand.self, StopCommand.self] as [any ParsableCommand.Type] {
            #expect(throws: (any Error).self) { try command.parse([]) }
            #expect(throws: (any Error).self) { try command.parse(["web", "--all"]) }
        }
        let message = RestartCommand.message(for: ValidationError("x"))
        #expect(!message.isEmpty)
    }

    @Test func forwardRefusesBadTargetsAndPortsWithTheFix() throws {
        #expect(throws: (any Error).self) { try ForwardCommand.parse(["svc/web"]) }
        #expect(throws: Never.self) { try ForwardCommand.parse(["svc/web", "8080:http"]) }
        do {
            _ = try ForwardCommand.parse(["svc/web", "80:Http"])
            Issue.record("an invalid port name was accepted")
        } catch {
            #expect(ForwardCommand.message(for: error).contains("is neither a number from 1 to 65535 nor a port name"))
        }
        do {
            _ = try ForwardCommand.parse(["host/db.internal", "5432:postgres"])
            Issue.record("a named port on an address was accepted")
        } catch {
            #expect(ForwardCommand.message(for: error).contains("host/db.internal has no named ports"))
        }
        do {
            _ = try ForwardCommand.parse(["replicaset/web", "80"])
            Issue.record("an unknown kind was accepted")
        } catch {
            #expect(ForwardCommand.message(for: error).contains("use pod/, svc/, deploy/, host/ or ip/"))
        }
        do {
            _ = try ForwardCommand.parse(["svc/web", "8080:80", "-l", "app=web"])
            Issue.record("a target and -l were both accepted")
        } catch {
            #expect(ForwardCommand.message(for: error) == "'svc/web' and -l app=web exclude each other: forward to a target or to the pods -l selects, not both")
        }
        let selected = try ForwardCommand.parse(["8080:80", "-l", "app=web"])
        #expect(selected.selector == "app=web")
        let deploy = try ForwardCommand.parse(["deploy/web", "8080:8080", "9090", "--sticky"])
        #expect(deploy.sticky && deploy.ports == ["8080:8080", "9090"])
    }
}
