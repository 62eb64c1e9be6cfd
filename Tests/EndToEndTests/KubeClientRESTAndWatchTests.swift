import Foundation
import KubeClient
import KubeSim
import Synchronization
import Testing

@Suite struct KubeClientRESTAndWatchTests {
    @Test func crudOnEveryTypedResource() async throws {
        try await SimHarness.run { harness in
            try await KubeClient.withClient(context: try harness.context()) { client in
                _ = try await client.create(Namespace(name: "shop"))
                let deployment = Deployment(
                    metadata: ObjectMeta(name: "api", namespace: "shop"),
                    spec: .init(
                        replicas: 1, selector: .init(matchLabels: ["app": "api"]),
                        template: .init(metadata: ObjectMeta(labels: ["app": "api"]), spec: Pod.Spec(containers: [
                            .init(name: "api", image: "kubesim/http-echo", ports: [.init(name: "http", containerPort: 9000)]),
                        ]))
                    )
                )
                _ = try await client.create(deployment)
                _ = try await client.create(Service(
                    metadata: ObjectMeta(name: "api", namespace: "shop"),
                    spec: .init(selector: ["app": "api"], ports: [.init(name: "http", port: 80, targetPort: .string("http"))])
                ))
                let scaled = try await client.scale(deployment: "api", namespace: "shop", replicas: 3)
                #expect(scaled.spec.replicas == 3)
                try await harness.sim.waitUntil { sim in
                    ((try? sim.objects("pods", namespace: "shop")) ?? []).filter { isReady($0) }.count == 3
                }
                let pods = try await client.list(Pod.self, namespace: "shop", labelSelector: "app=api")
                #expect(pods.items.count == 3)
                #expect(pods.items.allSatisfy { $0.isReady })
                let byName = try await client.list(Pod.self, namespace: "shop", fieldSelector: "metadata.name=\(pods.items[0].metadata.name!)")
                #expect(byName.items.count == 1)
                try await harness.sim.waitUntil { sim in
                    ((try? sim.objects("endpointslices", namespace: "shop", labelSelector: "kubernetes.io/service-name=api")) ?? [])
                        .flatMap { $0["endpoints"]?.arrayValue ?? [] }.count == 3
                }
                let slices = try await client.list(EndpointSlice.self, namespace: "shop", labelSelector: "kubernetes.io/service-name=api")
                #expect(slices.items.first?.ports?.first?.port == 9000)
                let patched = try await client.mergePatch(
                    Service.self, "api", namespace: "shop", patch: Data(#"{"metadata":{"labels":{"tier":"backend"}}}"#.utf8)
                )
                #expect(patched.metadata.labels?["tier"] == "backend")
                try await client.delete(Deployment.self, "api", namespace: "shop", propagationPolicy: "Background")
                try await harness.sim.waitUntil { sim in ((try? sim.objects("pods", namespace: "shop")) ?? []).isEmpty }
            }
        }
    }

    @Test func apiErrorsCarryReasonAndAnActionableMessage() async throws {
        try await SimHarness.run { harness in
            try await KubeClient.withClient(context: try harness.context()) { client in
                let missing = await #expect(throws: KubeError.self) { try await client.get(Pod.self, "nope") }
                #expect(missing?.isNotFound == true)
                #expect(missing?.reason == "NotFound")
                #expect(missing?.message == #"pods "nope" not found (context 'kubesim')"#)
                let invalid = await #expect(throws: KubeError.self) {
                    try await client.create(Service(metadata: ObjectMeta(name: "Bad_Name"), spec: .init(selector: nil, ports: [.init(port: 80)])))
                }
                #expect(invalid?.httpStatus == 422)
                #expect(invalid?.reason == "Invalid")
                let conflict = await #expect(throws: KubeError.self) { try await client.create(Namespace(name: "default")) }
                #expect(conflict?.reason == "AlreadyExists")
            }
        }
    }

    @Test func unreachableClusterIsATransportErrorNamingTheServer() async throws {
        let config = Kubeconfig(
            clusters: [.init(name: "gone", cluster: .init(server: "https://127.0.0.1:1"))],
            users: [.init(name: "u", user: .init())],
            contexts: [.init(name: "gone", context: .init(cluster: "gone", user: "u"))],
            currentContext: "gone"
        )
        try await KubeClient.withClient(context: try KubeContext(config)) { client in
            let error = await #expect(throws: KubeError.self) { try await client.list(Pod.self) }
            #expect(error?.code == .transport)
            #expect(error?.message.contains("https://127.0.0.1:1") == true)
            #expect(error?.message.contains("refused") == true, "\(error?.message ?? "")")
        }
    }

    @Test func watchResumesFromAResourceVersionAndAnExpiredOneGets410() async throws {
        try await SimHarness.run(configure: { $0.historyLimit = 5 }) { harness in
            try await KubeClient.withClient(context: try harness.context()) { client in
                let start = try await client.list(Service.self).metadata.resourceVersion!
                for index in 0..<2 {
                    try harness.sim.apply(yaml: "apiVersion: v1\nkind: Service\nmetadata: {name: s\(index)}\nspec: {ports: [{port: 80}]}")
                }
                var seen: [String] = []
                try await client.watch(Service.self, resourceVersion: start, timeoutSeconds: 1) { event in
                    if case .added(let service) = event { seen.append(service.metadata.name ?? "") }
                }
                #expect(seen == ["s0", "s1"])
                for index in 2..<10 {
                    try harness.sim.apply(yaml: "apiVersion: v1\nkind: Service\nmetadata: {name: s\(index)}\nspec: {ports: [{port: 80}]}")
                }
                let expired = await #expect(throws: KubeError.self) {
                    try await client.watch(Service.self, resourceVersion: start, timeoutSeconds: 5) { _ in }
                }
                #expect(expired?.isExpired == true)
                #expect(expired?.httpStatus == 410)
            }
        }
    }

    @Test func informerFollowsPodChurnThroughForcedDeletion() async throws {
        try await SimHarness.run(manifest: webManifest) { harness in
            let cache = KubeClientCache()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await cache.run() }
                try await cache.withInformer(Pod.self, context: try harness.context(), namespace: "default", labelSelector: "app=web") { informer in
                    let changes = informer.changes()
                    await informer.waitForSync()
                    try await harness.sim.waitUntil { $0.readyPods("app=web").count == 2 }
                    let before = Set(harness.sim.readyPods("app=web").compactMap { $0[path: ["metadata", "name"]]?.stringValue })
                    for name in before { try harness.sim.delete("pods", name: name, gracePeriod: 0) }
                    var deleted = Set<String>()
                    var readyNew = Set<String>()
                    for await change in changes {
                        switch change {
                        case .deleted(let pod): deleted.insert(pod.metadata.name ?? "")
                        case .added(let pod), .modified(_, let pod):
                            if pod.isReady, let name = pod.metadata.name, !before.contains(name) { readyNew.insert(name) }
                        case .synced: break
                        }
                        if deleted == before && readyNew.count == 2 { break }
                    }
                    #expect(deleted == before)
                    #expect(readyNew.count == 2)
                    #expect(Set(informer.objects.filter { $0.isReady }.compactMap { $0.metadata.name }) == readyNew)
                }
                group.cancelAll()
            }
        }
    }

    @Test func informersWithTheSameKeyShareOneWatch() async throws {
        try await SimHarness.run(manifest: webManifest) { harness in
            let cache = KubeClientCache()
            let context = try harness.context()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await cache.run() }
                try await cache.withInformer(Pod.self, context: context, namespace: "default", labelSelector: "app=web") { first in
                    await first.waitForSync()
                    try await cache.withInformer(Pod.self, context: context, namespace: "default", labelSelector: "app=web") { second in
                        #expect(first === second)
                        await second.waitForSync()
                        try await harness.sim.waitUntil { $0.openWatches == 1 }
                        #expect(cache.runningInformers == 1)
                    }
                    // A different selector is a different informer with its own watch.
                    try await cache.withInformer(Pod.self, context: context, namespace: "default", labelSelector: "app=other") { other in
                        await other.waitForSync()
                        try await harness.sim.waitUntil { $0.openWatches == 2 }
                    }
                }
                #expect(harness.sim.watchRequests("pods") == 2)
                #expect(harness.sim.requests.filter { $0.path == "/api/v1/namespaces/default/pods" && !$0.isWatch }.count == 2)
                group.cancelAll()
            }
        }
    }

    @Test func informerRelistsAfterItsWatchPositionExpired() async throws {
        try await SimHarness.run(configure: { $0.historyLimit = 3 }) { harness in
            let cache = KubeClientCache()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await cache.run() }
                try await cache.withInformer(Service.self, context: try harness.context(), namespace: "default") { informer in
                    await informer.waitForSync()
                    try await harness.sim.waitUntil { $0.openWatches == 1 }
                    // The apiserver "restarts" slowly while the world moves on past its history.
                    harness.sim.responseDelay = .milliseconds(300)
                    harness.sim.dropWatches()
                    for index in 0..<8 {
                        try harness.sim.apply(yaml: "apiVersion: v1\nkind: Service\nmetadata: {name: late\(index)}\nspec: {ports: [{port: 80}]}")
                    }
                    harness.sim.responseDelay = .zero
                    for await _ in informer.changes() where informer.objects.count == 9 { break }
                    #expect(Set(informer.objects.compactMap(\.metadata.name)) == Set(["kubernetes"] + (0..<8).map { "late\($0)" }))
                }
                let lists = harness.sim.requests.filter { $0.path == "/api/v1/namespaces/default/services" && !$0.isWatch }
                #expect(lists.count >= 2)
                group.cancelAll()
            }
        }
    }

    @Test func aWatchTheServerEndsIsResumedAndARewatchResumesAtOnceWithoutAList() async throws {
        try await SimHarness.run { harness in
            let cache = KubeClientCache()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await cache.run() }
                try await cache.withInformer(Service.self, context: try harness.context(), namespace: "default") { informer in
                    await informer.waitForSync()
                    try await harness.sim.waitUntil { $0.openWatches == 1 }
                    // A watch that lived a while and ends (an apiserver's watch cache restarting)
                    // is resumed from where it stood.
                    try await Task.sleep(for: .milliseconds(1200))
                    harness.sim.dropWatches()
                    try await harness.sim.waitUntil(timeout: .seconds(20)) { $0.watchRequests("services") == 2 && $0.openWatches == 1 }
                    try harness.sim.apply(yaml: "apiVersion: v1\nkind: Service\nmetadata: {name: after-drop}\nspec: {ports: [{port: 80}]}")
                    for await _ in informer.changes() where informer.object(namespace: "default", name: "after-drop") != nil { break }
                    // After a network change: a new watch at once, from the same position.
                    informer.rewatch()
                    try await harness.sim.waitUntil(timeout: .seconds(20)) { $0.watchRequests("services") == 3 && $0.openWatches == 1 }
                    try harness.sim.apply(yaml: "apiVersion: v1\nkind: Service\nmetadata: {name: after-rewatch}\nspec: {ports: [{port: 80}]}")
                    for await _ in informer.changes() where informer.object(namespace: "default", name: "after-rewatch") != nil { break }
                }
                let lists = harness.sim.requests.filter { $0.path == "/api/v1/namespaces/default/services" && !$0.isWatch }
                #expect(lists.count == 1, "resumed, never listed again")
                group.cancelAll()
            }
        }
    }
}
