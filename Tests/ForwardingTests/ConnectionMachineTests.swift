import KubeClient
import NIOCore
import Testing

@testable import Forwarding

/// Every transition of a local connection's way to a pod, on values: which pods it may try,
/// what it keeps to replay, when it is held and when it fails.
@Suite struct ConnectionMachineTests {
    let a = PodChoice(pod: "web-a", port: 8080)
    let b = PodChoice(pod: "web-b", port: 8080)
    let noPod = ForwardError(code: .noReadyPod, "svc/web has no ready pod (0 of 2 ready)")
    let refusedDial = PortForwardError(kind: .portNotListening, message: "nothing listens on port 8080 in pod shop/web-a")
    let broken = PortForwardError(kind: .transport, message: "the SPDY port-forward session broke")

    private func joined(_ choice: PodChoice, policy: ConnectionMachine.Policy = .movesOn) -> ConnectionMachine {
        var machine = ConnectionMachine(policy: policy)
        _ = machine.offer([self.a, self.b], route: 1) { self.noPod }
        machine.chose(choice, route: 1)
        machine.joined()
        return machine
    }

    @Test func readyPodsAreOfferedAndTheChoiceIsJoinedThenFinishes() {
        var machine = ConnectionMachine(policy: .movesOn)
        #expect(machine.offer([self.a, self.b], route: 1) { self.noPod } == .open(among: [self.a, self.b]))
        #expect(machine.state == .choosing)
        machine.chose(self.b, route: 1)
        #expect(machine.state == .opening(self.b))
        machine.joined()
        #expect(machine.state == .joined(self.b))
        #expect(machine.ended(.finished) == .finish)
        #expect(machine.state == .done)
        #expect(machine.offer([self.a], route: 1) { self.noPod } == .finish, "a finished connection takes no pod")
    }

    @Test func anUnreachableAPIServerHoldsTheConnectionAndRedialsTheSamePodsSoonerThanThePodWait() {
        var machine = ConnectionMachine(policy: .movesOn)
        _ = machine.offer([self.a, self.b], route: 1) { self.noPod }
        machine.chose(self.a, route: 1)
        let refused = PortForwardError(kind: .transport, message: "connection refused (127.0.0.1:6443)")
        guard case .redial(let why, let after, let report) = machine.openFailed(refused) else {
            Issue.record("an unreachable API server must hold the connection")
            return
        }
        #expect(why.code == .clusterUnreachable && why.message.contains("connection refused"))
        #expect(after == .milliseconds(250) && report)
        guard case .holding = machine.state else {
            Issue.record("held: \(machine.state)")
            return
        }
        // The retry offers every pod again: the pod was not to blame.
        #expect(machine.podsChanged() == .offerAgain)
        #expect(machine.offer([self.a, self.b], route: 1) { self.noPod } == .open(among: [self.a, self.b]))
        // Each further failure waits longer, up to a second, and is reported once.
        var delays: [Duration] = []
        for _ in 0..<4 {
            machine.chose(self.a, route: 1)
            guard case .redial(_, let after, let report) = machine.openFailed(refused) else { return }
            #expect(!report)
            delays.append(after)
            _ = machine.podsChanged()
        }
        #expect(delays == [.milliseconds(500), .seconds(1), .seconds(1), .seconds(1)])
        // The pod wait still bounds it.
        machine.chose(self.a, route: 1)
        _ = machine.openFailed(refused)
        guard case .fail(let failure) = machine.deadlinePassed(target: .service("web"), wait: .seconds(30)) else {
            Issue.record("the pod wait ends the hold")
            return
        }
        #expect(failure.code == .clusterUnreachable)
    }

    @Test func aPodForwardFailsAtOnceWhenTheAPIServerCannotBeReached() {
        var machine = ConnectionMachine(policy: .onePod)
        machine.chose(self.a, route: nil)
        guard case .fail = machine.openFailed(PortForwardError(kind: .transport, message: "connection refused")) else {
            Issue.record("pod/ keeps kubectl's meaning")
            return
        }
    }

    @Test func countsOnce() {
        var machine = ConnectionMachine(policy: .movesOn)
        let first = machine.count()
        let second = machine.count()
        #expect(first && !second)
    }

    @Test func thePodChosenAtAcceptIsKeptWhileItStandsOnThatRoute() {
        var machine = ConnectionMachine(policy: .movesOn)
        _ = machine.offer([self.a, self.b], route: 3) { self.noPod }
        machine.chose(self.b, route: 3)
        // No session was up on the loop: the task offers again and opens the same pod.
        #expect(machine.offer([self.a, self.b], route: 3) { self.noPod } == .openChosen(self.b))
        // Gone from the candidates, or another route: any pod.
        #expect(machine.offer([self.a], route: 3) { self.noPod } == .open(among: [self.a]))
        machine.chose(self.b, route: 3)
        #expect(machine.offer([self.a, self.b], route: 4) { self.noPod } == .open(among: [self.a, self.b]))
    }

    @Test func aPodThatRefusesBeforeAnsweringIsSkippedAndItsBytesReplayed() {
        var machine = self.joined(self.a)
        let sent = ByteBuffer(string: "GET / HTTP/1.1\r\n\r\n")
        #expect(machine.ended(.refusedBeforeResponse(self.refusedDial, replay: sent)) == .offerAgain)
        #expect(machine.state == .choosing)
        #expect(machine.refused == ["web-a"])
        #expect(machine.replay == sent, "what the pod never saw goes to the next")
        #expect(machine.offer([self.a, self.b], route: 1) { self.noPod } == .open(among: [self.b]))
    }

    @Test func aPodThatCannotBeDialedIsSkipped() {
        var machine = ConnectionMachine(policy: .movesOn)
        _ = machine.offer([self.a, self.b], route: 1) { self.noPod }
        machine.chose(self.a, route: 1)
        #expect(machine.openFailed(self.refusedDial) == .offerAgain)
        #expect(machine.offer([self.a, self.b], route: 1) { self.noPod } == .open(among: [self.b]))
    }

    @Test func everyPodRefusedHoldsSayingSoAndAChangeOffersThemAgain() {
        var machine = self.joined(self.a)
        _ = machine.ended(.refusedBeforeResponse(self.refusedDial, replay: ByteBuffer()))
        guard case .hold(let why, let report) = machine.offer([self.a], route: 1, reason: { self.noPod }) else {
            Issue.record("not held")
            return
        }
        #expect(report)
        #expect(why.code == .noReadyPod && why.message.hasPrefix("every ready pod refused the stream (nothing listens"))
        #expect(machine.podsChanged() == .offerAgain)
        #expect(machine.refused.isEmpty, "a pod that refused may take it after a change")
        #expect(machine.offer([self.a], route: 1) { self.noPod } == .open(among: [self.a]))
    }

    @Test func aRouteChangeForgetsTheRefusals() {
        var machine = self.joined(self.a)
        _ = machine.ended(.refusedBeforeResponse(self.refusedDial, replay: ByteBuffer()))
        #expect(machine.offer([self.a], route: 2) { self.noPod } == .open(among: [self.a]))
    }

    @Test func noPodHoldsWithTheReasonUntilTheDeadline() {
        var machine = ConnectionMachine(policy: .movesOn)
        #expect(machine.offer([], route: 1) { self.noPod } == .hold(self.noPod, report: true))
        #expect(machine.state == .holding(self.noPod))
        guard case .fail(let failure) = machine.deadlinePassed(target: .service("web"), wait: .seconds(30)) else {
            Issue.record("not failed")
            return
        }
        #expect(failure.code == .noReadyPod)
        #expect(failure.message == "no ready pod of svc/web within 30.0 seconds: svc/web has no ready pod (0 of 2 ready)")
        #expect(machine.state == .failed(failure))
    }

    @Test func noRouteYetHoldsUnlessWaitingCannotHelp() {
        var waiting = ConnectionMachine(policy: .movesOn)
        let unreachable = ForwardError(code: .clusterUnreachable, "cannot reach cluster 'c'")
        #expect(waiting.offer(nil, route: nil) { unreachable } == .hold(unreachable, report: true))
        var refused = ConnectionMachine(policy: .movesOn)
        let credentials = ForwardError(code: .credentials, "exec plugin 'aws' could not be started")
        #expect(refused.offer(nil, route: nil) { credentials } == .fail(credentials))
        #expect(refused.state == .failed(credentials))
        // With a route, an empty set is waited for whatever its reason.
        var empty = ConnectionMachine(policy: .movesOn)
        let missing = ForwardError(code: .serviceMissing, "service webb does not exist")
        #expect(empty.offer([], route: 1) { missing } == .hold(missing, report: true))
    }

    @Test func aStreamThatBreaksAfterThePodHadTheBytesFailsOnlyThisConnection() {
        var machine = self.joined(self.a)
        #expect(machine.ended(.refusedBeforeResponse(self.broken, replay: ByteBuffer())) == .fail(ForwardError(self.broken)))
        var other = self.joined(self.b)
        #expect(other.broke(self.broken) == .fail(ForwardError(self.broken)))
        // A stream that could not even be opened sent nothing anywhere: held and tried again.
        var dial = ConnectionMachine(policy: .movesOn)
        _ = dial.offer([self.a], route: 1) { self.noPod }
        dial.chose(self.a, route: 1)
        guard case .redial = dial.openFailed(self.broken) else {
            Issue.record("a stream that never opened is tried again")
            return
        }
    }

    @Test func onePodFailsOnAnyRefusalAsKubectlDoes() {
        var machine = self.joined(self.a, policy: .onePod)
        #expect(machine.ended(.refusedBeforeResponse(self.refusedDial, replay: ByteBuffer())) == .fail(ForwardError(self.refusedDial)))
        var dial = ConnectionMachine(policy: .onePod)
        dial.chose(self.a, route: nil)
        #expect(dial.openFailed(self.refusedDial) == .fail(ForwardError(self.refusedDial)))
    }

    @Test func theClientClosingWhileHeldEndsIt() {
        var machine = ConnectionMachine(policy: .movesOn)
        _ = machine.offer([], route: 1) { self.noPod }
        machine.closed()
        #expect(machine.state == .done)
        #expect(machine.podsChanged() == .finish)
        #expect(machine.deadlinePassed(target: .service("web"), wait: .seconds(1)) == .finish)
    }

    @Test func eventsOutOfTurnChangeNothing() {
        var machine = ConnectionMachine(policy: .movesOn)
        #expect(machine.ended(.finished) == .finish, "not joined")
        #expect(machine.openFailed(self.refusedDial) == .finish, "not opening")
        machine.joined()
        #expect(machine.state == .choosing)
        #expect(machine.podsChanged() == .finish, "not held")
    }

    /// A relay forward's connection: the relay pod is its one candidate. Refused before the relay
    /// answered, it goes to the relay that replaces it at once, with its bytes, or to the same
    /// relay after a pause; the errors name the relay.
    @Test func aRelayRefusalGoesToTheReplacementAtOnceOrToTheSameRelayAfterAPause() {
        let relay = PodChoice(pod: "kfwd-relay-1", port: 9527)
        let replacement = PodChoice(pod: "kfwd-relay-2", port: 9527)
        var machine = ConnectionMachine(policy: .relay)
        #expect(machine.offer([relay], route: nil) { self.noPod } == .open(among: [relay]))
        machine.chose(relay, route: nil)
        machine.joined()
        var sent = ByteBuffer(string: "GET / HTTP/1.1\r\n")
        #expect(machine.ended(.refusedBeforeResponse(self.refusedDial, replay: sent)) == .offerAgain)
        #expect(machine.replay == sent)

        // The same relay stands: held, the relay named.
        guard case .hold(let why, report: true) = machine.offer([relay], route: nil, reason: { self.noPod }) else {
            Issue.record("the same relay must wait: \(machine.state)")
            return
        }
        #expect(why.code == .relay && why.message == "the relay refused the stream (\(self.refusedDial.message))")
        // After the pause it is tried again, with the bytes.
        #expect(machine.podsChanged() == .offerAgain)
        #expect(machine.offer([relay], route: nil) { self.noPod } == .open(among: [relay]))
        machine.chose(relay, route: nil)
        machine.joined()
        sent.writeString("Host: example\r\n")
        #expect(machine.ended(.refusedBeforeResponse(self.refusedDial, replay: sent)) == .offerAgain)

        // A replacement takes it at once.
        #expect(machine.offer([replacement], route: nil) { self.noPod } == .open(among: [replacement]))
        machine.chose(replacement, route: nil)
        #expect(machine.replay == sent)

        // An API server that cannot be reached holds it, as for pods.
        guard case .redial(let unreachable, _, _) = machine.openFailed(self.broken) else {
            Issue.record("a relay's unreachable API server must hold the connection")
            return
        }
        #expect(unreachable.code == .clusterUnreachable)
        guard case .fail(let failure) = machine.deadlinePassed(target: .address("10.0.0.7"), wait: .seconds(30)) else {
            Issue.record("the pod wait ends the hold")
            return
        }
        #expect(failure.message.hasPrefix("the relay for ip/10.0.0.7 could not be reached within 30.0 seconds: "), "\(failure.message)")

        // A stream that broke after the relay had the bytes fails only the connection.
        var broken = ConnectionMachine(policy: .relay)
        _ = broken.offer([relay], route: nil) { self.noPod }
        broken.chose(relay, route: nil)
        broken.joined()
        #expect(broken.ended(.refusedBeforeResponse(self.broken, replay: sent)) == .fail(ForwardError(self.broken)))
    }
}
