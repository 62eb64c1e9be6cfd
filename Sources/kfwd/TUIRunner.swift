import ConfigStore
import ControlAPI
import Foundation
import KubeClient
import NIOCore
import NIOPosix
import TerminalUI
import UnixSignals

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
        case listed(String, [FilePicker.Entry]?, problem: String?)
        case preview(ImportPreview)
        case resized
        /// Continued after Ctrl-Z (SIGCONT).
        case resumed
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
        model.workingDirectory = FileManager.default.currentDirectoryPath
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
                for await signal in await UnixSignalsSequence(trapping: .sigwinch, .sigcont, .sigterm, .sigint, .sighup) {
                    sink.yield(signal == .sigwinch ? .resized : signal == .sigcont ? .resumed : .quit)
                }
            }
            group.addTask {
                while (try? await Task.sleep(for: .seconds(1))) != nil { sink.yield(.tick) }
            }

            // Between Ctrl-Z and `fg` the terminal is the shell's: nothing is drawn.
            var suspended = false
            func draw() {
                guard !suspended else { return }
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
                case .listed(let directory, let entries, let problem): model.listed(directory, entries: entries, problem: problem)
                case .preview(let preview): model.preview(preview)
                case .resized:
                    size = self.terminal.size()
                    renderer.invalidate()
                case .resumed:
                    if suspended { self.terminal.enter() }
                    suspended = false
                    size = self.terminal.size()
                    renderer.invalidate()
                case .tick: model.tick(at: Date())
                case .quit: break events
                }
                for action in actions {
                    switch action {
                    case .quit: break events
                    case .suspend:
                        suspended = true
                        self.terminal.suspend()
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

    /// The daemon's feed of forwards. When it ends (the daemon stopped) or fails (a daemon of an
    /// older kfwd has none), it says so, then connects again when a daemon makes its socket
    /// (inotify) or after a backoff, whichever comes first: never in a tight loop.
    private func followForwards(into sink: AsyncStream<Event>.Continuation) async {
        var backoff = Backoff(initial: .seconds(1), cap: .seconds(30))
        while !Task.isCancelled {
            do {
                try await self.client.forwards { sink.yield(.snapshot($0)) }
                if Task.isCancelled { return }
                sink.yield(.disconnected("the daemon stopped: kfwd start (or kfwd tui again) runs it"))
                backoff = Backoff(initial: .seconds(1), cap: .seconds(30))
            } catch {
                if Task.isCancelled { return }
                if let pid = await self.client.status()?.daemon.pid {
                    sink.yield(.disconnected("the daemon (pid \(pid)) gives no live feed (\(error)): a daemon of an older kfwd? stop it (kill \(pid)) and run kfwd tui again"))
                } else {
                    sink.yield(.disconnected("the daemon does not answer (\(error)): kfwd start runs it"))
                }
            }
            let wait = backoff.next()
            let socket = self.client.paths.socket
            let (made, socketChanged) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    // Made, not removed (the daemon that just stopped removes its own).
                    try? await FileWatcher(paths: [socket], what: "the daemon's socket").run {
                        if FileManager.default.fileExists(atPath: socket) { socketChanged.yield() }
                    }
                }
                group.addTask { for await _ in made { return } }
                group.addTask { try? await Task.sleep(for: wait) }
                await group.next()
                group.cancelAll()
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
}
