import Testing

@testable import Forwarding

/// The owner label is computed once and used to create, find and delete relays, so a login
/// with capitals or dots (kftray's leak, hcavarsan/kftray#519) finds its own relays again.
@Suite struct RelayOwnerTests {
    @Test(arguments: [
        ("Jane.Doe", "jane-doe"), ("ROOT", "root"), ("ci_runner@corp", "ci-runner-corp"), ("--x--", "x"), ("日本", "user"),
        (String(repeating: "a", count: 39) + "-b", String(repeating: "a", count: 39)),
    ])
    func loginsBecomeLabelValues(login: String, label: String) {
        let owner = RelayOwner(user: login, host: "Laptop.local", pid: 1)
        #expect(owner.user == label)
        #expect(owner.host == "laptop-local")
        let selector = RelayPodSpec.selector(owner)
        let pod = RelayPodSpec.pod(name: "kfwd-relay-x", owner: owner, rules: [], settings: RelaySettings())
        // What the selector asks for is what the pod carries.
        for requirement in selector.split(separator: ",") {
            let parts = requirement.split(separator: "=").map(String.init)
            #expect(pod.metadata.labels?[parts[0]] == parts[1])
        }
    }
}
