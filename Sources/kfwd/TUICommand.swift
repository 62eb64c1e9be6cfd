import ArgumentParser
import ConfigStore
import ControlAPI
import Foundation
import KubeClient
import NIOCore
import NIOPosix
import TerminalUI
import UnixSignals

struct TUICommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tui",
        abstract: "A terminal UI over the daemon: every saved forward live, started, stopped, added and followed from the keyboard.",
        discussion: """
            It starts the daemon if none runs and draws from its live feed. q leaves the forwards \
            running in the daemon. ? lists the keys. NO_COLOR turns colours off; --ascii draws \
            without Unicode symbols.
            """
    )

    @Option(name: .customLong("group-by"), help: "Group the table by context or by first tag.")
    var grouping: ForwardsModel.Grouping = .context

    @Flag(help: "Draw with ASCII only (for terminals without UTF-8).")
    var ascii = false

    func run() async throws {
        let terminal: TerminalSession
        do {
            terminal = try TerminalSession()
        } catch let error as TUIError {
            Terminal.error(error.description)
            throw ExitCode.failure
        }
        let client = ControlClient(paths: DaemonPaths())
        do {
            try await client.ensureDaemon(executable: Terminal.executable)
        } catch let error as DaemonError {
            Terminal.error(error.description)
            throw ExitCode.failure
        }
        let store = try ConfigStore.forCLI()
        let environment = ProcessInfo.processInfo.environment
        let ascii = self.ascii || !(environment["LC_ALL"] ?? environment["LC_CTYPE"] ?? environment["LANG"] ?? "UTF-8").uppercased().contains("UTF")
        let runner = TUIRunner(
            terminal: terminal, client: client, store: store, grouping: self.grouping, ascii: ascii,
            colors: environment["NO_COLOR"].map(\.isEmpty) ?? true
        )
        terminal.enter()
        defer { terminal.leave() }
        try await runner.run()
    }
}

extension ForwardsModel.Grouping: ExpressibleByArgument {}

/// Runs `kfwd tui`: reads keys, the daemon's feed of forwards and signals into one stream of
/// events, lets the ``ForwardsModel`` take each, carries out its actions, and draws what
/// changed.
struct TUIRunner: Sendable {
    enum Event: Sendable {
        case keys([Key])
        case snapshot(ForwardsSnapshot)
        case disconnected(String)
        case log(LogEntry)
        case said(String, error: Bool)
        case finished(String, ControlResult)
        case resized
        case tick
        case quit
    }

    let terminal: TerminalSession
    let client: ControlClient
    let store: ConfigStore
    let grouping: ForwardsModel.Grouping
    let ascii: Bool
    let colors: Bool

    func run() async throws {
        var model = ForwardsModel(grouping: self.grouping)
        model.contexts = (try? KubeconfigLoader().load().contexts?.map(\.name)) ?? []
        var renderer = ScreenRenderer(colors: self.colors)
        let (events, sink) = AsyncStream<Event>.makeStream()
        let (logSelections, selectLog) = AsyncStream<String?>.makeStream()
        let input = try self.terminal.inputDescriptor()
        var size = self.terminal.size()

        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                // The terminal gone (a closed SSH session): nothing more can be typed or seen.
                try? await Self.readKeys(from: input, into: sink)
                sink.yield(.quit)
            }
            group.addTask { await self.followForwards(into: sink) }
            group.addTask { await Self.followLogs(self.client, selections: logSelections, into: sink) }
            group.addTask {
                for await signal in await UnixSignalsSequence(trapping: .sigwinch, .sigterm, .sigint, .sighup) {
                    sink.yield(signal == .sigwinch ? .resized : .quit)
                }
            }
            group.addTask {
                while (try? await Task.sleep(for: .seconds(1))) != nil { sink.yield(.tick) }
            }

            func draw() {
                let screen = ForwardsScreen(width: size.width, height: size.height, ascii: self.ascii)
                model.pageSize = screen.pageSize
                self.terminal.write(renderer.render(screen.render(model, now: Date())))
            }
            draw()
            events: for await event in events {
                var actions: [TUIAction] = []
                switch event {
                case .keys(let keys):
                    for key in keys { actions += model.handle(key) }
                case .snapshot(let snapshot): model.update(snapshot, at: Date())
                case .disconnected(let why): model.disconnected(why)
                case .log(let entry): model.appendLog(entry)
                case .said(let text, let error): model.say(text, error: error)
                case .finished(let verb, let result): model.finished(verb, result)
                case .resized:
                    size = self.terminal.size()
                    renderer.invalidate()
                case .tick: model.tick(at: Date())
                case .quit: break events
                }
                for action in actions {
                    switch action {
                    case .quit: break events
                    case .suspend:
                        self.terminal.suspend()
                        size = self.terminal.size()
                        renderer.invalidate()
                    case .followLog(let alias): selectLog.yield(alias)
                    default: group.addTask { await self.perform(action, into: sink) }
                    }
                }
                draw()
            }
            selectLog.finish()
            group.cancelAll()
        }
    }

    /// Keys as the terminal sends them, decoded; the terminal is read without blocking a thread.
    private static func readKeys(from descriptor: Int32, into sink: AsyncStream<Event>.Continuation) async throws {
        let channel = try await NIOPipeBootstrap(group: MultiThreadedEventLoopGroup.singleton).takingOwnershipOfDescriptor(input: descriptor) { channel in
            channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, Never>(wrappingChannelSynchronously: channel) }
        }
        try await channel.executeThenClose { inbound in
            var decoder = KeyDecoder()
            for try await bytes in inbound {
                let keys = decoder.feed(bytes.readableBytesView)
                if !keys.isEmpty { sink.yield(.keys(keys)) }
            }
        }
    }

    /// The daemon's feed of forwards; when it ends, says so and connects again once a daemon
    /// answers (checked every second).
    private func followForwards(into sink: AsyncStream<Event>.Continuation) async {
        while !Task.isCancelled {
            do {
                try await self.client.forwards(follow: true) { sink.yield(.snapshot($0)) }
                if !Task.isCancelled { sink.yield(.disconnected("the daemon stopped: kfwd start (or kfwd tui again) runs it")) }
            } catch {
                if Task.isCancelled { return }
                sink.yield(.disconnected("the daemon does not answer (\(error)): kfwd start runs it"))
            }
            while !Task.isCancelled, await self.client.status() == nil {
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    /// Follows the log of the forward last selected, until the next selection.
    private static func followLogs(_ client: ControlClient, selections: AsyncStream<String?>, into sink: AsyncStream<Event>.Continuation) async {
        await withTaskGroup(of: Void.self) { followers in
            for await alias in selections {
                followers.cancelAll()
                guard let alias else { continue }
                followers.addTask {
                    do {
                        try await client.logs(alias: alias, follow: true) { sink.yield(.log($0)) }
                    } catch {
                        if !Task.isCancelled { sink.yield(.said("the log of \(alias) cannot be read: \(error)", error: true)) }
                    }
                }
            }
            followers.cancelAll()
        }
    }

    private func perform(_ action: TUIAction, into sink: AsyncStream<Event>.Continuation) async {
        do {
            switch action {
            case .start(let aliases):
                sink.yield(.finished("started", try await self.client.start(ControlRequest(aliases: aliases))))
            case .stop(let aliases):
                sink.yield(.finished("stopped", try await self.client.stop(ControlRequest(aliases: aliases))))
            case .restart(let aliases):
                sink.yield(.finished("restarted", try await self.client.restart(ControlRequest(aliases: aliases))))
            case .delete(let aliases):
                _ = try await self.client.stop(ControlRequest(aliases: aliases))
                try self.store.remove(aliases: aliases)
                await self.client.storeChanged()
                sink.yield(.said("deleted \(aliases.joined(separator: ", "))", error: false))
            case .add(let alias, let config):
                try self.store.add(config, alias: alias, autoStart: false)
                await self.client.storeChanged()
                sink.yield(.finished("added and started", try await self.client.start(ControlRequest(aliases: [alias]))))
            case .followLog, .suspend, .quit:
                break
            }
        } catch let error as ConfigStoreError {
            sink.yield(.said(error.problems.joined(separator: "; "), error: true))
        } catch {
            sink.yield(.said("\(error)", error: true))
        }
    }
}
