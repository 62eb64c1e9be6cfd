import Foundation
import Testing

@testable import Forwarding
@testable import KubeClient

/// Choosing pods from informer stores filled by hand: what kube-proxy would pick for a Service,
/// what a Deployment's and a selector's ready pods are, why there is none, and the turn and
/// stickiness of new connections. No cluster, no socket.
@Suite struct PodPickerTests {
    private func decode<T: Decodable>(_ type: T.Type, _ json: String) -> T {
        try! JSONDecoder().decode(T.self, from: Data(json.utf8))
    }

    private func service(_ name: String, port: Int = 80, portName: String = "http", affinity: String? = nil) -> Service {
        let affinityField = affinity.map { #", "sessionAffinity": "\#($0)""# } ?? ""
        return self.decode(Service.self, #"""
            {"metadata": {"name": "\#(name)", "namespace": "shop"},
             "spec": {"ports": [{"name": "\#(portName)", "port": \#(port), "targetPort": "web"}]\#(affinityField)}}
            """#)
    }

    /// A slice for `service` whose named port resolved to `target`, with pods by readiness.
    private func slice(_ service: String, target: Int, portName: String = "http", pods: [(String, ready: Bool, terminating: Bool)]) -> EndpointSlice {
        let endpoints = pods.map { pod in
            #"{"addresses": ["10.0.0.1"], "conditions": {"ready": \#(pod.ready), "terminating": \#(pod.terminating)}, "targetRef": {"kind": "Pod", "name": "\#(pod.0)", "namespace": "shop"}}"#
        }
        return self.decode(EndpointSlice.self, #"""
            {"metadata": {"name": "\#(service)-abc", "namespace": "shop", "labels": {"kubernetes.io/service-name": "\#(service)"}},
             "addressType": "IPv4", "ports": [{"name": "\#(portName)", "port": \#(target), "protocol": "TCP"}],
             "endpoints": [\#(endpoints.joined(separator: ","))]}
            """#)
    }

    private func pod(_ name: String, labels: [String: String], ready: Bool, deleting: Bool = false, ports: [String: Int] = [:]) -> Pod {
        let labelText = labels.map { #""\#($0.key)": "\#($0.value)""# }.joined(separator: ",")
        let deletion = deleting ? #", "deletionTimestamp": "2026-12-05T10:00:00Z""# : ""
        let portText = ports.map { #"{"name": "\#($0.key)", "containerPort": \#($0.value)}"# }.joined(separator: ",")
        return self.decode(Pod.self, #"""
            {"metadata": {"name": "\#(name)", "namespace": "shop", "labels": {\#(labelText)}\#(deletion)},
             "spec": {"containers": [{"name": "main", "image": "web", "ports": [\#(portText)]}]},
             "status": {"phase": "Running", "podIP": "10.0.0.9", "conditions": [{"type": "Ready", "status": "\#(ready ? "True" : "False")"}]}}
            """#)
    }

    @Test func aServiceOffersItsReadyServingPodsOnTheResolvedTargetPort() {
        let endpoints = ServiceEndpoints(
            name: "web", namespace: "shop", services: .fixture([self.service("web"), self.service("db", port: 5432)]),
            slices: .fixture([
                self.slice("web", target: 8080, pods: [("web-b", true, false), ("web-a", true, false), ("web-c", false, false), ("web-d", true, true)]),
                self.slice("db", target: 5432, pods: [("db-0", true, false)]),
            ])
        )
        #expect(endpoints.candidates(remotePort: 80) == [PodChoice(pod: "web-a", port: 8080), PodChoice(pod: "web-b", port: 8080)])
        // kftray's remote_port for a service may be the pods' port itself.
        #expect(endpoints.candidates(remotePort: 8080).map(\.pod) == ["web-a", "web-b"])
        #expect(endpoints.candidates(remotePort: 81).isEmpty)
        #expect(endpoints.emptyReason(remotePort: 81).code == .portMissing)
        #expect(endpoints.emptyReason(remotePort: 81).message == "service web has no port 81 (it has 80 named http)")
        #expect(!endpoints.sticky)
    }

    @Test func aServiceWithNoReadyPodSaysHowManyItHas() {
        let slices = Informer<EndpointSlice>.fixture([self.slice("web", target: 8080, pods: [("web-a", false, false), ("web-b", true, true)])])
        let endpoints = ServiceEndpoints(name: "web", namespace: "shop", services: .fixture([self.service("web")]), slices: slices)
        #expect(endpoints.candidates(remotePort: 80).isEmpty)
        #expect(endpoints.emptyReason(remotePort: 80) == ForwardError(code: .noReadyPod, "svc/web has no ready pod (0 of 2 ready)"))
        // A pod turns ready: the next read sees it.
        slices.apply(.modified(self.slice("web", target: 8080, pods: [("web-a", true, false), ("web-b", true, true)])))
        #expect(endpoints.candidates(remotePort: 80).map(\.pod) == ["web-a"])
    }

    @Test func aMissingServiceIsSaidWithItsFix() {
        let endpoints = ServiceEndpoints(name: "webb", namespace: "shop", services: .fixture([self.service("web")]), slices: .fixture([]))
        let reason = endpoints.emptyReason(remotePort: 80)
        #expect(reason.code == .serviceMissing)
        #expect(reason.message == "service webb does not exist in namespace shop")
        #expect(reason.fix?.contains("kubectl get services -n shop") == true)
    }

    @Test func clientIPAffinityMakesTheServiceSticky() {
        let endpoints = ServiceEndpoints(
            name: "web", namespace: "shop", services: .fixture([self.service("web", affinity: "ClientIP")]), slices: .fixture([])
        )
        #expect(endpoints.sticky)
    }

    @Test func aSelectorOffersItsReadyPodsThatAreNotBeingDeleted() {
        let pods = Informer<Pod>.fixture([
            self.pod("web-1", labels: ["app": "web"], ready: true), self.pod("web-2", labels: ["app": "web"], ready: false),
            self.pod("web-3", labels: ["app": "web"], ready: true, deleting: true), self.pod("db-0", labels: ["app": "db"], ready: true),
        ])
        let selected = SelectedPods(namespace: "shop", selection: .labels(try! ForwardTarget.labelSelector("app=web"), description: "pods -l app=web"), pods: pods)
        #expect(selected.candidates(remotePort: 8080) == [PodChoice(pod: "web-1", port: 8080)])
        #expect(selected.address(of: "web-1") == "10.0.0.9")
        let none = SelectedPods(namespace: "shop", selection: .labels(try! ForwardTarget.labelSelector("app=api"), description: "pods -l app=api"), pods: pods)
        #expect(none.emptyReason(remotePort: 80) == ForwardError(code: .noReadyPod, "pods -l app=api matches no pod"))
        let unready = SelectedPods(namespace: "shop", selection: .named("web-2"), pods: pods)
        #expect(unready.emptyReason(remotePort: 80) == ForwardError(code: .noReadyPod, "pod web-2 is not ready"))
        let gone = SelectedPods(namespace: "shop", selection: .named("web-9"), pods: pods)
        #expect(gone.emptyReason(remotePort: 80).code == .podMissing)
    }

    /// kubectl's `svc/web 8080:http`: the Service port of that name, then its target port as
    /// the slices resolved it for the pods.
    @Test func aServicePortIsFoundByItsName() {
        let endpoints = ServiceEndpoints(
            name: "web", namespace: "shop", services: .fixture([self.service("web")]),
            slices: .fixture([self.slice("web", target: 8080, pods: [("web-a", true, false)])])
        )
        #expect(endpoints.candidates(remotePort: .name("http")) == [PodChoice(pod: "web-a", port: 8080)])
        // A target port's name is not a Service port's name.
        #expect(endpoints.candidates(remotePort: .name("web")).isEmpty)
        #expect(endpoints.emptyReason(remotePort: .name("web")) == ForwardError(code: .portMissing, "service web has no port named web (it has 80 named http)"))
    }

    /// `pod/NAME 8080:http`, `deploy/web 8080:http`: each pod's own container port of that
    /// name, so a rollout that renumbers it is followed; pods without it are not offered.
    @Test func aContainerPortIsFoundByItsNameInEachPod() {
        let pods = Informer<Pod>.fixture([
            self.pod("web-1", labels: ["app": "web"], ready: true, ports: ["http": 8080]),
            self.pod("web-2", labels: ["app": "web"], ready: true, ports: ["http": 9090, "metrics": 9100]),
            self.pod("web-3", labels: ["app": "web"], ready: true, ports: ["metrics": 9100]),
        ])
        let selected = SelectedPods(namespace: "shop", selection: .labels(try! ForwardTarget.labelSelector("app=web"), description: "pods -l app=web"), pods: pods)
        #expect(selected.candidates(remotePort: .name("http")) == [PodChoice(pod: "web-1", port: 8080), PodChoice(pod: "web-2", port: 9090)])
        #expect(selected.candidates(remotePort: .name("grpc")).isEmpty)
        let missing = selected.emptyReason(remotePort: .name("grpc"))
        #expect(missing.code == .portMissing && missing.message == "no container of pods -l app=web has a port named grpc")
        let one = SelectedPods(namespace: "shop", selection: .named("web-3"), pods: pods)
        #expect(one.emptyReason(remotePort: .name("http")).message == "no container of pod/web-3 has a port named http")
    }

    /// Without the right to read EndpointSlices: the Service's selector over the pods, its
    /// named target port looked up in each pod, as the EndpointSlice controller does.
    @Test func aServicesPodsAreFoundFromItsSelectorWhenItsSlicesCannotBeRead() {
        let pods = Informer<Pod>.fixture([
            self.pod("web-1", labels: ["app": "web"], ready: true, ports: ["web": 8080]),
            self.pod("web-2", labels: ["app": "web"], ready: true, ports: ["web": 9090]),
            self.pod("web-3", labels: ["app": "web"], ready: false, ports: ["web": 8080]),
            self.pod("db-0", labels: ["app": "db"], ready: true, ports: ["web": 8080]),
        ])
        let service = self.decode(Service.self, #"""
            {"metadata": {"name": "web", "namespace": "shop"},
             "spec": {"selector": {"app": "web"}, "ports": [{"name": "http", "port": 80, "targetPort": "web"}, {"name": "admin", "port": 81, "targetPort": 9000}]}}
            """#)
        let picker = ServicePods(name: "web", namespace: "shop", services: .fixture([service]), pods: pods)
        #expect(picker.candidates(remotePort: 80) == [PodChoice(pod: "web-1", port: 8080), PodChoice(pod: "web-2", port: 9090)])
        #expect(picker.candidates(remotePort: .name("http")) == picker.candidates(remotePort: 80))
        #expect(picker.candidates(remotePort: 81).map(\.port) == [9000, 9000])
        #expect(picker.emptyReason(remotePort: 82).message == "service web has no port 82 (it has 80 named http, 81 named admin)")
        let missing = ServicePods(name: "api", namespace: "shop", services: .fixture([service]), pods: pods)
        #expect(missing.candidates(remotePort: 80).isEmpty)
        #expect(missing.emptyReason(remotePort: 80).code == .serviceMissing)
        let idle = ServicePods(name: "web", namespace: "shop", services: .fixture([service]), pods: .fixture([self.pod("web-3", labels: ["app": "web"], ready: false)]))
        #expect(idle.emptyReason(remotePort: 80) == ForwardError(code: .noReadyPod, "svc/web has no ready pod (0 of 1 ready)"))
    }

    @Test func aMissingDeploymentIsSaid() {
        let selected = SelectedPods(namespace: "shop", selection: .deployment(name: "api", .fixture([])), pods: .fixture([]))
        #expect(selected.candidates(remotePort: 80).isEmpty)
        let reason = selected.emptyReason(remotePort: 80)
        #expect(reason.code == .deploymentMissing && reason.message == "deployment api does not exist in namespace shop")
    }

    @Test func newConnectionsTakeTurnsOrStayOnOnePodWhileItIsReady() {
        let a = PodChoice(pod: "a", port: 1)
        let b = PodChoice(pod: "b", port: 1)
        let c = PodChoice(pod: "c", port: 1)
        let turns = PodChooser()
        #expect((0..<4).map { _ in turns.choose(from: [a, b, c], sticky: false).pod } == ["a", "b", "c", "a"])
        let sticky = PodChooser()
        let first = sticky.choose(from: [a, b], sticky: true)
        #expect((0..<3).map { _ in sticky.choose(from: [a, b], sticky: true) } == [first, first, first])
        // Its pod gone: another, kept from then on.
        let next = sticky.choose(from: [a, b, c].filter { $0 != first }, sticky: true)
        #expect(next != first)
        #expect(sticky.choose(from: [a, b, c], sticky: true) == next)
    }
}
