import Foundation
import KubeLabels
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// A local Kubernetes API server that behaves like a small real cluster on the wire: HTTPS with
/// token and client-certificate authentication, discovery, REST and watch for namespaces, pods,
/// services, endpointslices, deployments and replicasets, the controllers that make them move,
/// and pods backed by real servers on loopback.
///
/// Start it with ``withRunning(_:logger:_:)``; it stops, with every backend, when the body returns.
public final class KubeSim: Sendable {
    /// How to start a ``KubeSim``.
    public struct Configuration: Sendable {
        /// Address to listen on; loopback unless asked otherwise.
        public var host = "127.0.0.1"
        /// Addresses or names the serving certificate holds besides `localhost`, `kubernetes`
        /// and the loopback addresses (`kubesim serve --address` adds its address).
        public var certificateNames: [String] = []
        /// Port to listen on; 0 picks a free one.
        public var port = 0
        /// Images run as local commands: `NAME` (with or without tag) -> shell command, with
        /// `{port}`, `{port.N}`, `{host}`, `{pod}` and `{namespace}` placeholders.
        public var images: [String: String] = [:]
        /// How many changes are kept for watches to resume from; older resourceVersions get 410.
        public var historyLimit = 1000
        /// Bookmark period for watches that allow them (the apiserver's is about a minute).
        public var bookmarkInterval: Duration = .seconds(60)
        /// `--min-request-timeout`: watches without `timeoutSeconds` last a random time in [t, 2t).
        public var minRequestTimeout: Duration = .seconds(1800)
        /// Objects to create at start, in order (namespaces first is wise).
        public var objects: [JSON] = []

        public init() {}
    }

    /// The https URL of the API server.
    public let url: String
    public let port: Int
    /// The cluster CA, to trust the server and to issue client certificates.
    public let certificateAuthority: CertificateAuthority
    /// A bearer token for the user ``adminUser``.
    public let adminToken: String
    /// The cluster's admin, whom the kubeconfig names: the only user who may inject faults.
    public static let adminUser = "kubesim-admin"

    let api: ClusterAPI
    private let authenticator: Authenticator
    private let hooks: ServerHooks
    private let backends: PodBackends
    let listener: APIListener
    /// KubeSim's own task group, for what outlives a call (the end of a fault).
    let spawner: TaskSpawner
    let logger: Logger

    private init(
        url: String, port: Int, ca: CertificateAuthority, adminToken: String, api: ClusterAPI, authenticator: Authenticator,
        hooks: ServerHooks, backends: PodBackends, listener: APIListener, spawner: TaskSpawner, logger: Logger
    ) {
        self.listener = listener
        self.spawner = spawner
        self.logger = logger
        self.url = url
        self.port = port
        self.certificateAuthority = ca
        self.adminToken = adminToken
        self.api = api
        self.authenticator = authenticator
        self.hooks = hooks
        self.backends = backends
    }

    /// Starts a simulator, runs `body` with it, and stops it (listener, controllers, backends and
    /// their processes) when `body` returns or throws.
    public static func withRunning<T: Sendable>(
        _ configuration: Configuration = Configuration(),
        logger: Logger = Logger(label: "kubesim"),
        _ body: (KubeSim) async throws -> T
    ) async throws -> T {
        let group = MultiThreadedEventLoopGroup.singleton
        let ca = try CertificateAuthority()
        let serving = try ca.issueServingCertificate(extraNames: configuration.certificateNames)
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMBytes(Array(serving.certificatePEM.utf8)).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(serving.privateKeyPEM.utf8), format: .pem))
        )
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(ca.certificatePEM.utf8)))
        tls.certificateVerification = .optionalVerification
        tls.sendCANameList = true
        tls.applicationProtocols = ["http/1.1"]
        // Go's tls.Conn.Close sends close_notify without waiting for the peer's; NIOSSL would wait
        // up to 5 s for a client that never answers.
        tls.shutdownTimeout = .zero
        let sslContext = try NIOSSLContext(configuration: tls)

        let adminToken = "kubesim-" + UUID().uuidString.lowercased()
        let authenticator = Authenticator(tokens: [adminToken: UserInfo(name: Self.adminUser, groups: [UserInfo.masters])])
        let hooks = ServerHooks(bookmarkInterval: configuration.bookmarkInterval)
        let store = ObjectStore(historyLimit: configuration.historyLimit)
        let address = Mutex("\(configuration.host):\(configuration.port)")
        let addresses = try AddressBlock.reserve()
        let api = ClusterAPI(
            store: store,
            defaults: {
                ObjectDefaults(allocateClusterIP: { addresses.nextClusterIP() })
            },
            serverAddress: { address.withLock { $0 } },
            minRequestTimeout: configuration.minRequestTimeout,
            hooks: hooks,
            authenticator: authenticator
        )
        let backends = PodBackends(images: configuration.images, group: PodBackends.threads, logger: logger, onConnectionChange: { store.notifyObservers() })
        let listener = APIListener(
            host: configuration.host, port: configuration.port, tls: sslContext, api: api, authenticator: authenticator,
            hooks: hooks, backends: backends, group: group, logger: logger
        )
        try await listener.start()
        let port = listener.port
        address.withLock { $0 = "\(configuration.host):\(port)" }
        let host = configuration.host.contains(":") ? "[\(configuration.host)]" : configuration.host
        let (jobs, jobsContinuation) = AsyncStream<@Sendable () async -> Void>.makeStream()
        let spawner = TaskSpawner(jobsContinuation)
        let sim = KubeSim(
            url: "https://\(host):\(port)", port: port, ca: ca, adminToken: adminToken, api: api, authenticator: authenticator,
            hooks: hooks, backends: backends, listener: listener, spawner: spawner, logger: logger
        )
        // Weak: the hooks live as long as the simulator, which must go (and free its address
        // block) when the body returns.
        hooks.faults = { [weak sim] fault in
            guard let sim else { return }
            spawner.spawn { try? await sim.inject(fault) }
        }

        // Whatever way the body ends: no listener, no client watch and no backend outlives it.
        func stop() async {
            await listener.stop(holdingPort: false)
            store.dropAllWatches()
            backends.stopAll()
        }
        do {
            try sim.bootstrap(port: port, clusterIP: addresses.apiServerClusterIP)
            let result = try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask {
                    await withDiscardingTaskGroup { running in
                        for await job in jobs { running.addTask { await job() } }
                    }
                }
                let kubelet = Kubelet(api: api, backends: backends, addresses: addresses, spawner: spawner, logger: logger)
                tasks.addTask { await kubelet.run() }
                tasks.addTask { await ReplicaSetController(api: api, logger: logger).run() }
                tasks.addTask { await DeploymentController(api: api, logger: logger).run() }
                tasks.addTask { await EndpointSliceController(api: api, logger: logger).run() }
                tasks.addTask { await ServiceProxy(api: api, backends: backends, group: group, logger: logger).run() }
                defer { tasks.cancelAll() }
                for var object in configuration.objects { try sim.create(&object) }
                return try await body(sim)
            }
            await stop()
            return result
        } catch {
            await stop()
            throw error
        }
    }

    /// The objects every cluster starts with.
    private func bootstrap(port: Int, clusterIP: String) throws {
        for name in ["default", "kube-system", "kube-public", "kube-node-lease"] {
            var namespace: JSON = .object(["apiVersion": "v1", "kind": "Namespace", "metadata": .object(["name": .string(name)])])
            try self.create(&namespace)
        }
        var service: JSON = .object([
            "apiVersion": "v1", "kind": "Service",
            "metadata": .object(["name": "kubernetes", "namespace": "default", "labels": .from(["component": "apiserver", "provider": "kubernetes"])]),
            "spec": .object(["clusterIP": .string(clusterIP), "ports": [.object(["name": "https", "port": .int(443), "targetPort": .int(port)])]]),
        ])
        try self.create(&service)
        var slice: JSON = .object([
            "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": .object([
                "name": "kubernetes", "namespace": "default",
                "labels": .from(["kubernetes.io/service-name": "kubernetes", "endpointslice.kubernetes.io/managed-by": "kube-apiserver"]),
            ]),
            "addressType": "IPv4",
            "endpoints": [.object(["addresses": ["127.0.0.1"], "conditions": .object(["ready": true])])],
            "ports": [.object(["name": "https", "port": .int(port), "protocol": "TCP"])],
        ])
        try self.create(&slice)
        for var object in BootstrapPolicy.objects { try self.create(&object) }
    }
}

extension KubeSim {
    /// Creates an object as `kubectl create` would (its namespace defaults to `default`).
    /// - Throws: ``KubeSimError`` with the API's message when the server would refuse it.
    @discardableResult
    public func create(_ object: inout JSON) throws -> JSON {
        guard let apiVersion = object["apiVersion"]?.stringValue, let kind = object["kind"]?.stringValue,
            let resource = ResourceType.find(apiVersion: apiVersion, kind: kind)
        else {
            throw KubeSimError(message: "kubesim does not serve \(object["apiVersion"]?.stringValue ?? "?")/\(object["kind"]?.stringValue ?? "?")")
        }
        let namespace = resource.namespaced ? (object[path: ["metadata", "namespace"]]?.stringValue ?? "default") : nil
        do {
            return try self.api.create(object: &object, resource, namespace: namespace)
        } catch {
            throw KubeSimError(message: error.message)
        }
    }

    /// Creates every object of a YAML manifest.
    public func apply(yaml: String) throws {
        for var object in try ManifestLoader.parse(yaml) { try self.create(&object) }
    }

    /// The stored object, or nil. `resource` is the plural name (`pods`, `deployments`).
    public func object(_ resource: String, namespace: String = "default", name: String) -> JSON? {
        guard let type = ResourceType.all.first(where: { $0.plural == resource }) else { return nil }
        return self.api.store.get(ObjectKey(resource: type, namespace: type.namespaced ? namespace : "", name: name))
    }

    /// Objects of a resource in a namespace (all namespaces when nil), optionally by label selector.
    public func objects(_ resource: String, namespace: String? = "default", labelSelector: String = "") throws -> [JSON] {
        guard let type = ResourceType.all.first(where: { $0.plural == resource }) else { return [] }
        let labels: LabelSelector
        do { labels = try LabelSelector(parsing: labelSelector) } catch { throw KubeSimError(message: error.message) }
        return self.api.store.list(WatchFilter(resource: type, namespace: namespace, labels: labels, fields: .everything)).items
    }

    /// Deletes an object as the API would: pods honour the grace period (nil: the pod's own).
    public func delete(_ resource: String, namespace: String = "default", name: String, gracePeriod: Int? = nil) throws {
        guard let type = ResourceType.all.first(where: { $0.plural == resource }) else { return }
        let key = ObjectKey(resource: type, namespace: type.namespaced ? namespace : "", name: name)
        guard let current = self.api.store.get(key) else { throw KubeSimError(message: APIError.notFound(type, name).message) }
        let grace = type == .pods ? ClusterAPI.podGracePeriod(requested: gracePeriod, pod: current) : 0
        do {
            try self.api.delete(key, gracePeriod: grace)
        } catch {
            throw KubeSimError(message: error.message)
        }
    }

    /// Waits until `condition` holds, checking it now and after every change to the cluster's
    /// objects, open watches, pod backend connections or held-back port-forward sessions; throws
    /// when `timeout` passes first.
    public func waitUntil(timeout: Duration = .seconds(20), _ condition: @escaping @Sendable (KubeSim) -> Bool) async throws {
        let store = self.api.store
        let (changes, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let id = store.observe { continuation.yield() }
        defer { store.stopObserving(id) }
        let met = try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                if condition(self) { return true }
                for await _ in changes where condition(self) { return true }
                return false
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return false
            }
            let first = try await group.next() ?? false
            group.cancelAll()
            return first
        }
        if !met && !condition(self) { throw KubeSimError(message: "condition not met within \(timeout)") }
    }

    /// Open connections to a pod's built-in servers (what port-forwards to it hold open).
    public func backendConnections(namespace: String = "default", pod: String) -> Int {
        guard let uid = self.object("pods", namespace: namespace, name: pod)?[path: ["metadata", "uid"]]?.stringValue else { return 0 }
        return self.backends.connectionCount(podUID: uid)
    }

    /// Where a pod's container port is served on this machine (what a port-forward dials).
    public func backendEndpoint(namespace: String = "default", pod: String, port: Int) -> BackendEndpoint? {
        guard let uid = self.object("pods", namespace: namespace, name: pod)?[path: ["metadata", "uid"]]?.stringValue else { return nil }
        return self.backends.endpoint(podUID: uid, port: port)
    }

    // MARK: authentication

    /// Accepts (or, with nil, stops accepting) a bearer token for a user in `groups`, as a
    /// line of the apiserver's `--token-auth-file` does; by default the user is an admin
    /// (`system:masters`). `expires`: the token stops authenticating then.
    public func setToken(_ token: String, user: String?, groups: [String] = ["system:masters"], expires: Date? = nil) {
        self.authenticator.setToken(token, user: user.map { UserInfo(name: $0, groups: groups) }, expires: expires)
    }

    /// Accepts (or, with nil, stops accepting) HTTP basic credentials, for an admin by default.
    public func setBasicAuth(username: String, password: String?, groups: [String] = ["system:masters"]) {
        self.authenticator.setBasic(username: username, password: password, groups: groups)
    }

    // MARK: observation and faults

    /// Every request answered so far, in order.
    public var requests: [RecordedRequest] { self.hooks.requests }

    /// Watch requests clients have made for a resource (plural name).
    public func watchRequests(_ resource: String) -> Int {
        guard let type = ResourceType.all.first(where: { $0.plural == resource }) else { return 0 }
        return self.api.store.watchCount(type)
    }

    /// Watches clients hold open right now.
    public var openWatches: Int { self.api.store.activeClientWatches }

    /// Ends every client watch at once, as an apiserver restart does.
    public func dropWatches() {
        self.api.store.dropAllWatches()
    }

    /// Takes the API server down: the port refuses connections and every open connection (and
    /// so every watch) is cut. Controllers and pods keep running, as they would in a cluster
    /// whose apiserver restarts.
    public func stopAPI() async {
        await self.listener.stop()
        self.api.store.dropAllWatches()
    }

    /// Makes every open connection to the API server go silent, as a dropped VPN does: the TCP
    /// connections stay open and carry nothing more (port-forward sessions and watches alike).
    /// New connections are served as usual.
    public func silenceConnections() {
        self.listener.silenceConnections()
    }

    /// SPDY port-forward sessions (plain or tunnelled) whose client has stopped reading: what the
    /// session sends backs up, and it stops reading its pods' connections, as spdystream's does.
    /// ``waitUntil(timeout:_:)`` sees it change.
    public var heldBackPortForwards: Int { self.listener.heldBackSessions }

    /// Brings the API server back on the same port after ``stopAPI()``.
    public func startAPI() async throws {
        try await self.listener.start()
    }

    /// Delays every response by this much (zero: none).
    public var responseDelay: Duration {
        get { self.hooks.responseDelay }
        set { self.hooks.responseDelay = newValue }
    }

    /// The apiserver's `PortForwardWebsockets` gate (on by default since 1.31): SPDY tunnelled in
    /// a WebSocket. Off, a tunnel request is refused and kubectl falls back to plain SPDY.
    public var portForwardTunnel: Bool {
        get { self.hooks.portForwardTunnel }
        set { self.hooks.portForwardTunnel = newValue }
    }

    /// Whether a SPDY upgrade gets through (off: what a proxy that drops `Upgrade: SPDY/3.1`
    /// does, leaving WebSocket as the only way in).
    public var portForwardSPDY: Bool {
        get { self.hooks.portForwardSPDY }
        set { self.hooks.portForwardSPDY = newValue }
    }

    /// The current cluster-wide resourceVersion.
    public var resourceVersion: Int { self.api.store.currentResourceVersion }
}

/// An error from the simulator's Swift API, with the API server's message.
public struct KubeSimError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { self.message }
}
