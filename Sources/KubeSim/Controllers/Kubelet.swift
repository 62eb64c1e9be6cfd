import ChannelGlue
import Foundation
import Logging
import NIOCore
import NIOPosix
import Subprocess
import Synchronization

#if canImport(System)
import System
#else
import SystemPackage
#endif

/// The node agent: schedules pods onto KubeSim's one node, runs their containers as real local
/// servers, reports Pending -> Running -> Ready, and carries out graceful deletion as section 8.2
/// of kubernetes-wire.md describes.
///
/// Pod annotations shape the timing:
/// - `kubesim.io/start-delay-seconds`: time from scheduling to containers running (default 0);
/// - `kubesim.io/ready-delay-seconds`: time from running to Ready (default 0);
/// - `kubesim.io/shutdown-delay-seconds`: how long the containers take to exit after SIGTERM
///   (default 0, capped by the grace period): open connections keep working meanwhile.
final class Kubelet: Sendable {
    static let nodeName = "kubesim-node"

    private enum Lifecycle { case scheduled, running, terminating }

    private let api: ClusterAPI
    private let backends: PodBackends
    private let spawner: TaskSpawner
    private let logger: Logger
    private let pods = Mutex<[String: Lifecycle]>([:])
    private let addresses: AddressBlock

    init(api: ClusterAPI, backends: PodBackends, addresses: AddressBlock, spawner: TaskSpawner, logger: Logger) {
        self.api = api
        self.backends = backends
        self.addresses = addresses
        self.spawner = spawner
        self.logger = logger
    }

    func run() async {
        let filter = WatchFilter(resource: .pods, namespace: nil, labels: .everything, fields: .everything)
        for await event in ControllerEvents(store: self.api.store, filter: filter) {
            self.handle(event)
        }
    }

    private func handle(_ event: WatchEvent) {
        let pod = event.object
        guard let uid = pod[path: ["metadata", "uid"]]?.stringValue else { return }
        if event.kind == .deleted {
            _ = self.pods.withLock { $0.removeValue(forKey: uid) }
            self.backends.stop(podUID: uid)
            return
        }
        let key = Self.key(of: pod)
        if pod[path: ["metadata", "deletionTimestamp"]] != nil {
            let begin = self.pods.withLock { table -> Bool in
                if table[uid] == .terminating { return false }
                table[uid] = .terminating
                return true
            }
            if begin { self.terminate(key, uid: uid, pod: pod) }
            return
        }
        let admit = self.pods.withLock { table -> Bool in
            guard table[uid] == nil else { return false }
            table[uid] = .scheduled
            return true
        }
        if admit { self.schedule(key, uid: uid, pod: pod) }
    }

    private static func key(of pod: JSON) -> ObjectKey {
        ObjectKey(
            resource: .pods, namespace: pod[path: ["metadata", "namespace"]]?.stringValue ?? "",
            name: pod[path: ["metadata", "name"]]?.stringValue ?? ""
        )
    }

    private static func seconds(_ pod: JSON, _ annotation: String) -> Duration {
        let value = pod[path: ["metadata", "annotations", annotation]]?.stringValue.flatMap(Double.init) ?? 0
        return .milliseconds(Int64(max(value, 0) * 1000))
    }

    // MARK: start

    private func schedule(_ key: ObjectKey, uid: String, pod: JSON) {
        let podIP = self.addresses.nextPodIP()
        let now = Timestamp.string()
        _ = try? self.api.store.update(key) { pod in
            guard pod[path: ["metadata", "uid"]]?.stringValue == uid else { return }
            pod[path: ["spec", "nodeName"]] = .string(Self.nodeName)
            pod[path: ["status", "hostIP"]] = "127.0.0.1"
            pod[path: ["status", "hostIPs"]] = [.object(["ip": "127.0.0.1"])]
            pod[path: ["status", "podIP"]] = .string(podIP)
            pod[path: ["status", "podIPs"]] = [.object(["ip": .string(podIP)])]
            pod[path: ["status", "startTime"]] = .string(now)
            pod[path: ["status", "conditions"]] = .array(Self.conditions(scheduled: true, started: false, ready: false, at: now))
            pod[path: ["status", "containerStatuses"]] = .array(Self.containers(of: pod).map { container in
                Self.containerStatus(container, state: .object(["waiting": .object(["reason": "ContainerCreating"])]), ready: false, restarts: 0)
            })
        }
        self.spawner.after(Self.seconds(pod, "kubesim.io/start-delay-seconds")) {
            await self.start(key, uid: uid)
        }
    }

    private func current(_ key: ObjectKey, uid: String) -> JSON? {
        guard let pod = self.api.store.get(key), pod[path: ["metadata", "uid"]]?.stringValue == uid,
            pod[path: ["metadata", "deletionTimestamp"]] == nil
        else { return nil }
        return pod
    }

    private func start(_ key: ObjectKey, uid: String) async {
        guard let pod = self.current(key, uid: uid) else { return }
        let podIP = pod[path: ["status", "podIP"]]?.stringValue ?? "127.0.0.1"
        var commandPorts: [BackendEndpoint] = []
        for container in Self.containers(of: pod) {
            let reference = container["image"]?.stringValue ?? ""
            guard let image = self.backends.image(for: reference) else {
                self.setWaiting(key, uid: uid, container: container, reason: "ErrImagePull",
                                message: "image \"\(reference)\" is not known to kubesim: use a kubesim/ image or map it with --image NAME=COMMAND")
                return
            }
            let ports = (container["ports"]?.arrayValue ?? []).compactMap { port -> (Int, Bool)? in
                port["containerPort"]?.intValue.map { ($0, port["protocol"]?.stringValue == "UDP") }
            }
            if case .command(let command) = image {
                var endpoints: [Int: BackendEndpoint] = [:]
                for (port, _) in ports {
                    endpoints[port] = await self.backends.reserveEndpoint(podUID: uid, podIP: podIP, containerPort: port)
                }
                // Ready once every TCP port accepts (a UDP port cannot be probed by connecting).
                commandPorts.append(contentsOf: ports.filter { !$0.1 }.compactMap { endpoints[$0.0] })
                self.runCommand(command, key: key, uid: uid, pod: pod, container: container, endpoints: endpoints, order: ports.map(\.0))
                continue
            }
            for (port, udp) in ports {
                do {
                    try await self.backends.startBuiltIn(
                        image, podUID: uid, pod: key.name, namespace: key.namespace, podIP: podIP, containerPort: port, udp: udp
                    )
                } catch {
                    self.logger.warning("cannot start backend", metadata: ["kubesim.pod": "\(key.namespace)/\(key.name)", "error": "\(error)"])
                }
            }
        }
        // The pod may have been deleted while its servers were starting.
        guard self.current(key, uid: uid) != nil else {
            self.backends.stop(podUID: uid)
            return
        }
        self.pods.withLock { $0[uid] = .running }
        self.setRunning(key, uid: uid, ready: false, restarts: nil)
        let readyDelay = Self.seconds(pod, "kubesim.io/ready-delay-seconds")
        let probed = commandPorts
        self.spawner.after(readyDelay) {
            // A command's server is ready once it accepts connections: the readiness probe.
            for endpoint in probed {
                guard await self.probe(endpoint, key: key, uid: uid) else { return }
            }
            self.setRunning(key, uid: uid, ready: true, restarts: nil)
        }
    }

    private func probe(_ endpoint: BackendEndpoint, key: ObjectKey, uid: String) async -> Bool {
        while self.current(key, uid: uid) != nil {
            if let channel = try? await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.milliseconds(200)).connect(literalOrHost: endpoint.host, port: endpoint.port).get()
            {
                try? await channel.close()
                return true
            }
            do { try await Task.sleep(for: .milliseconds(100)) } catch { return false }
        }
        return false
    }

    private func runCommand(
        _ command: String, key: ObjectKey, uid: String, pod: JSON, container: JSON, endpoints: [Int: BackendEndpoint], order: [Int]
    ) {
        var line = command
            .replacingOccurrences(of: "{pod}", with: key.name)
            .replacingOccurrences(of: "{namespace}", with: key.namespace)
        for (port, endpoint) in endpoints {
            line = line.replacingOccurrences(of: "{port.\(port)}", with: String(endpoint.port))
        }
        let first = order.first.flatMap { endpoints[$0] }
        line = line.replacingOccurrences(of: "{port}", with: String(first?.port ?? 0))
            .replacingOccurrences(of: "{host}", with: first?.host ?? "127.0.0.1")
        var environment: [Subprocess.Environment.Key: String?] = ["HOSTNAME": key.name]
        for variable in container["env"]?.arrayValue ?? [] {
            if let name = variable["name"]?.stringValue, let key = Subprocess.Environment.Key(rawValue: name) {
                environment[key] = variable["value"]?.stringValue ?? ""
            }
        }
        let grace = pod[path: ["spec", "terminationGracePeriodSeconds"]]?.intValue ?? 30
        let stop = self.backends.stopSignal(podUID: uid)
        let logger = self.logger
        let script = line
        let overrides = environment
        self.spawner.spawn {
            var options = PlatformOptions()
            options.teardownSequence = [.gracefulShutDown(allowedDurationToNextStep: .seconds(max(grace, 1)))]
            // Its own process group, and a shell that passes SIGTERM to the whole group, so that
            // compound commands stop as one container does and leave no orphans.
            options.processGroupID = 0
            let wrapped = "trap 'trap - TERM INT; kill -TERM 0' TERM INT; ( \(script) ) & wait"
            let configuration = Configuration(
                executable: .path(FilePath("/bin/sh")), arguments: ["-c", wrapped],
                environment: .inherit.updating(overrides), platformOptions: options
            )
            enum Outcome { case exited(String), stopped }
            let outcome = await withTaskGroup(of: Outcome.self) { group in
                group.addTask {
                    do {
                        let result = try await Subprocess.run(configuration, output: .discarded, error: .discarded)
                        return .exited("\(result.terminationStatus)")
                    } catch {
                        return .exited("\(error)")
                    }
                }
                group.addTask {
                    for await _ in stop {}
                    return .stopped
                }
                let first = await group.next()!
                group.cancelAll()
                await group.waitForAll()
                return first
            }
            if case .exited(let status) = outcome {
                logger.warning("container exited", metadata: ["kubesim.pod": "\(key.namespace)/\(key.name)", "kubesim.status": "\(status)"])
                self.setWaiting(key, uid: uid, container: container, reason: "CrashLoopBackOff", message: "container exited: \(status)")
            }
        }
    }

    // MARK: terminate

    private func terminate(_ key: ObjectKey, uid: String, pod: JSON) {
        _ = try? self.api.store.update(key) { pod in
            guard pod[path: ["metadata", "uid"]]?.stringValue == uid else { return }
            Self.setConditions(&pod, ready: false)
            pod[path: ["status", "containerStatuses"]] = .array((pod[path: ["status", "containerStatuses"]]?.arrayValue ?? []).map { status in
                var status = status
                status["ready"] = false
                return status
            })
        }
        let grace = pod[path: ["metadata", "deletionGracePeriodSeconds"]]?.intValue ?? 0
        let shutdown = min(Self.seconds(pod, "kubesim.io/shutdown-delay-seconds"), .seconds(grace))
        self.spawner.after(shutdown) {
            self.backends.stop(podUID: uid)
            let finished = Timestamp.string()
            _ = try? self.api.store.update(key) { pod in
                guard pod[path: ["metadata", "uid"]]?.stringValue == uid else { return }
                pod[path: ["status", "phase"]] = "Succeeded"
                pod[path: ["status", "containerStatuses"]] = .array(Self.containers(of: pod).map { container in
                    Self.containerStatus(container, state: .object(["terminated": .object([
                        "exitCode": .int(0), "reason": "Completed", "finishedAt": .string(finished),
                    ])]), ready: false, restarts: 0)
                })
            }
            // The kubelet's final delete, with grace 0.
            if self.api.store.get(key)?[path: ["metadata", "uid"]]?.stringValue == uid {
                _ = try? self.api.delete(key, gracePeriod: 0)
            }
        }
    }

    // MARK: status

    private func setRunning(_ key: ObjectKey, uid: String, ready: Bool, restarts: Int?) {
        let now = Timestamp.string()
        _ = try? self.api.store.update(key) { pod in
            guard pod[path: ["metadata", "uid"]]?.stringValue == uid, pod[path: ["metadata", "deletionTimestamp"]] == nil else { return }
            pod[path: ["status", "phase"]] = "Running"
            let previous = pod[path: ["status", "containerStatuses"]]?.arrayValue ?? []
            pod[path: ["status", "containerStatuses"]] = .array(Self.containers(of: pod).enumerated().map { index, container in
                let started = index < previous.count ? previous[index][path: ["state", "running", "startedAt"]]?.stringValue : nil
                let count = restarts ?? (index < previous.count ? previous[index]["restartCount"]?.intValue ?? 0 : 0)
                return Self.containerStatus(
                    container, state: .object(["running": .object(["startedAt": .string(started ?? now)])]), ready: ready, restarts: count
                )
            })
            Self.setConditions(&pod, ready: ready, started: true)
        }
    }

    private func setWaiting(_ key: ObjectKey, uid: String, container: JSON, reason: String, message: String) {
        _ = try? self.api.store.update(key) { pod in
            guard pod[path: ["metadata", "uid"]]?.stringValue == uid, pod[path: ["metadata", "deletionTimestamp"]] == nil else { return }
            let name = container["name"]?.stringValue
            pod[path: ["status", "containerStatuses"]] = .array((pod[path: ["status", "containerStatuses"]]?.arrayValue ?? []).map { status in
                guard status["name"]?.stringValue == name else { return status }
                var status = status
                status["state"] = .object(["waiting": .object(["reason": .string(reason), "message": .string(message)])])
                status["ready"] = false
                status["started"] = false
                if reason == "CrashLoopBackOff" { status["restartCount"] = .int((status["restartCount"]?.intValue ?? 0) + 1) }
                return status
            })
            Self.setConditions(&pod, ready: false)
        }
    }

    private static func containers(of pod: JSON) -> [JSON] {
        pod[path: ["spec", "containers"]]?.arrayValue ?? []
    }

    private static func containerStatus(_ container: JSON, state: JSON, ready: Bool, restarts: Int) -> JSON {
        let name = container["name"]?.stringValue ?? ""
        return .object([
            "name": .string(name), "image": container["image"] ?? "", "imageID": "",
            "containerID": .string("kubesim://\(name)"), "ready": .bool(ready), "restartCount": .int(restarts),
            "started": .bool(state["running"] != nil), "state": state,
        ])
    }

    private static func conditions(scheduled: Bool, started: Bool, ready: Bool, at time: String) -> [JSON] {
        func condition(_ type: String, _ value: Bool) -> JSON {
            .object(["type": .string(type), "status": .string(value ? "True" : "False"), "lastTransitionTime": .string(time), "lastProbeTime": .null])
        }
        return [
            condition("PodReadyToStartContainers", started), condition("Initialized", true), condition("Ready", ready),
            condition("ContainersReady", ready), condition("PodScheduled", scheduled),
        ]
    }

    /// Updates the Ready-related conditions, moving `lastTransitionTime` only when a value changes.
    private static func setConditions(_ pod: inout JSON, ready: Bool, started: Bool? = nil) {
        let now = Timestamp.string()
        var conditions = pod[path: ["status", "conditions"]]?.arrayValue ?? []
        var wanted: [String: Bool] = ["Ready": ready, "ContainersReady": ready]
        if let started { wanted["PodReadyToStartContainers"] = started }
        for index in conditions.indices {
            guard let type = conditions[index]["type"]?.stringValue, let value = wanted[type] else { continue }
            let text = value ? "True" : "False"
            if conditions[index]["status"]?.stringValue != text {
                conditions[index]["status"] = .string(text)
                conditions[index]["lastTransitionTime"] = .string(now)
            }
            if !value && (type == "Ready" || type == "ContainersReady") {
                conditions[index]["reason"] = "ContainersNotReady"
            } else {
                conditions[index]["reason"] = nil
            }
        }
        pod[path: ["status", "conditions"]] = .array(conditions)
    }
}
