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
        #expect(NetlinkMessages.reasons(in: datagram, name: self.names) == [
            "wlan0 link up", "wlan0 link down", "eth0 address removed", "route added",
        ])
    }

    @Test func aTruncatedMessageEndsTheReadingWithoutACrash() {
        let whole = self.message(type: 20, body: [10, 64, 0, 0] + self.le32(2))
        let datagram = ByteBuffer(bytes: whole + Array(whole.prefix(10)))
        #expect(NetlinkMessages.reasons(in: datagram, name: self.names) == ["eth0 address added"])
        var lying = ByteBuffer(bytes: whole)
        lying.setInteger(UInt32(400), at: 0, endianness: .host)
        #expect(NetlinkMessages.reasons(in: lying, name: self.names) == [])
    }
}
