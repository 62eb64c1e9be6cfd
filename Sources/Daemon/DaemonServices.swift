import ControlAPI
import Forwarding
import ServiceLifecycle

/// The supervisor as a service of the daemon's group: a graceful shutdown stops every forward
/// and deletes their relay pods before `run` returns. Its update streams end then, which ends
/// the recorders below.
struct SupervisorService: Service {
    let supervisor: Supervisor

    func run() async {
        await withGracefulShutdownHandler {
            await self.supervisor.run()
        } onGracefulShutdown: {
            self.supervisor.shutdown()
        }
    }
}

/// Writes what the forwards do to the store and to the log, until the supervisor's updates end
/// (after its shutdown, so that the forwards' stops are recorded too).
struct RecorderService: Service {
    let control: ControlService
    let log: ForwardLog
    let updates: AsyncStream<ForwardStatus>
    let logged: AsyncStream<ForwardStatus>

    func run() async {
        await withDiscardingTaskGroup { group in
            group.addTask { await self.control.record(self.updates) }
            group.addTask { await self.log.record(self.logged) { self.control.supervisor.spec($0) } }
        }
        self.log.close()
    }
}

/// What the daemon does once at start: remove the relays a dead kfwd left, then start the
/// forwards saved with auto-start.
struct StartupService: Service {
    let control: ControlService

    func run() async {
        await self.control.removeStaleRelays()
        await self.control.startAutoStart()
    }
}
