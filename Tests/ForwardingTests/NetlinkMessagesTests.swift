import NIOCore
import Testing

@testable import Forwarding

/// rtnetlink datagrams as the kernel sends them (`linux/rtnetlink.h`), read into words.
@Suite struct NetlinkMessagesTests {
    /// One message: the 16-byte header, then `body`, padded to 4 bytes.
    func message(type: UInt16, body: [UInt8]) -> [UInt8] {
        var buffer = ByteBuffer()
        let length = 16 + body.count
        buffer.writeInteger(UInt32(length), endianness: .host)
        buffer.writeInteger(type, endianness: .host)
        buffer.writeInteger(UInt16(0), endianness: .host)
        buffer.writeInteger(UInt32(7), endianness: .host)
        buffer.writeInteger(UInt32(0), endianness: .host)
        buffer.writeBytes(body)
        buffer.writeBytes([UInt8](repeating: 0, count: (4 - length % 4) % 4))
        return Array(buffer.readableBytesView)
    }

    func le32(_ value: UInt32) -> [UInt8] {
        var buffer = ByteBuffer()
        buffer.writeInteger(value, endianness: .host)
        return Array(buffer.readableBytesView)
    }

    let names: (UInt32) -> String = { $0 == 2 ? "eth0" : "wlan0" }

    @Test func linksAddressesAndMainTableRoutesAreNamedAndTheRestSkipped() {
        let linkUp = self.message(type: 16, body: [2, 0, 1, 0] + self.le32(3) + self.le32(0x1 | 0x40) + self.le32(0))
        let linkDown = self.message(type: 16, body: [2, 0, 1, 0] + self.le32(3) + self.le32(0x1) + self.le32(0))
        let addressGone = self.message(type: 21, body: [2, 24, 0, 0] + self.le32(2))
        let route = self.message(type: 24, body: [2, 0, 0, 0, 254, 3, 0, 1] + self.le32(0))
        let localRoute = self.message(type: 24, body: [2, 32, 0, 0, 255, 2, 254, 2] + self.le32(0))
        let neighbour = self.message(type: 28, body: [2, 0, 0, 0] + self.le32(2))
        let datagram = ByteBuffer(bytes: linkUp + linkDown + addressGone + route + localRoute + neighbour)
        #expect(NetlinkMessages.changes(in: datagram, name: self.names) == [
            NetworkChange(.network, "wlan0 link up", interface: "wlan0"), NetworkChange(.network, "wlan0 link down", interface: "wlan0"),
            NetworkChange(.network, "eth0 address removed", interface: "eth0"), NetworkChange(.network, "route added"),
        ])
        // A route's output interface (RTA_OIF, type 4) names it.
        let viaEth0 = self.message(type: 25, body: [2, 0, 0, 0, 254, 3, 0, 1] + self.le32(0) + [8, 0, 4, 0] + self.le32(2))
        #expect(NetlinkMessages.changes(in: ByteBuffer(bytes: viaEth0), name: self.names) == [NetworkChange(.network, "route removed on eth0", interface: "eth0")])
    }

    @Test func aTruncatedMessageEndsTheReadingWithoutACrash() {
        let whole = self.message(type: 20, body: [10, 64, 0, 0] + self.le32(2))
        let datagram = ByteBuffer(bytes: whole + Array(whole.prefix(10)))
        #expect(NetlinkMessages.changes(in: datagram, name: self.names).map(\.reason) == ["eth0 address added"])
        var lying = ByteBuffer(bytes: whole)
        lying.setInteger(UInt32(400), at: 0, endianness: .host)
        #expect(NetlinkMessages.changes(in: lying, name: self.names).isEmpty)
    }

    @Test func onlyChangesOnAClustersWayOutConcernIt() {
        let change = NetworkChange(.network, "veth1 link up", interface: "veth1")
        #expect(!WayOut.concerns(change, before: .interface("wlan0"), now: .interface("wlan0")))
        #expect(WayOut.concerns(NetworkChange(.network, "wlan0 address removed", interface: "wlan0"), before: .interface("wlan0"), now: .interface("wlan0")))
        #expect(WayOut.concerns(change, before: .interface("wlan0"), now: .interface("tun0")), "the way out moved (a VPN came up)")
        #expect(WayOut.concerns(change, before: .interface("wlan0"), now: .unroutable))
        #expect(!WayOut.concerns(change, before: nil, now: .interface("wlan0")), "first sight: taken as unchanged")
        #expect(WayOut.concerns(change, before: nil, now: .unroutable))
        #expect(WayOut.concerns(change, before: .unknown, now: .unknown), "a named server: any change may concern it")
        #expect(!WayOut.concerns(NetworkChange(.network, "route added"), before: .interface("lo"), now: .interface("lo")), "a route that moves nothing")
        #expect(WayOut.concerns(NetworkChange(.network, "route added"), before: .interface("wlan0"), now: .interface("tun0")))
        #expect(WayOut.concerns(NetworkChange(.wake, "woke after 60 s asleep"), before: .interface("lo"), now: .interface("lo")))
    }

    @Test func theWayToLoopbackIsLo() {
        #expect(WayOut.toward(host: "127.0.0.1", port: 6443) == .interface("lo"))
        #expect(WayOut.toward(host: "kubernetes.example", port: 443) == .unknown)
    }
}
