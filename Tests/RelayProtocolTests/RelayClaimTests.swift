import RelayProtocol
import Testing

@Suite struct RelayClaimTests {
    @Test func theFirstPresenceStreamClaimsAnUnownedRelayAndNoSecondOwnerCan() {
        var claim = RelayClaim(secret: nil)
        let owner = RelaySecret.generate()
        #expect(claim.offer(owner, presence: true) == .claimed)
        #expect(claim.state == .owned(secret: owner))
        #expect(claim.offer(RelaySecret.generate(), presence: true) == .refused)
        #expect(claim.state == .owned(secret: owner))
        // The owner's presence stream comes back after a dropped connection; its traffic flows.
        #expect(claim.offer(owner, presence: true) == .accepted)
        #expect(claim.offer(owner, presence: false) == .accepted)
    }

    @Test func trafficCannotClaimAndAShortSecretCannotEither() {
        var claim = RelayClaim(secret: nil)
        #expect(claim.offer(RelaySecret.generate(), presence: false) == .refused)
        #expect(claim.offer("", presence: true) == .refused)
        #expect(claim.offer(String(repeating: "a", count: RelayClaim.shortestSecret - 1), presence: true) == .refused)
        #expect(claim.state == .unowned)
    }

    @Test func aRelayWithASecretInItsEnvironmentIsOwnedFromTheStart() {
        var claim = RelayClaim(secret: "s3cret")
        #expect(claim.offer("s3cret", presence: false) == .accepted)
        #expect(claim.offer(RelaySecret.generate(), presence: true) == .refused)
        #expect(claim.state == .owned(secret: "s3cret"))
    }
}
