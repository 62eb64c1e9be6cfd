import Crypto
import Testing

@testable import SPDY

/// The embedded dictionary against the three values the wire doc gives (section 2.3): a wrong
/// byte would make every peer's inflate fail.
@Suite struct SPDYDictionaryTests {
    @Test func dictionaryHasTheDocumentedSizeChecksumAndDigest() {
        let bytes = SPDYDictionary.bytes
        #expect(bytes.count == 1423)
        #expect(Self.adler32(bytes) == 0xE3C6_A7C2)
        let digest = SHA256.hash(data: bytes).map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
        #expect(digest == "51d27341373f923f3cd88e1eb7162aeaa3723d7585ff2399201dc06498407f02")
    }

    /// RFC 1950's checksum, written out here so the test does not trust the zlib under test.
    private static func adler32(_ bytes: [UInt8]) -> UInt32 {
        var a: UInt32 = 1
        var b: UInt32 = 0
        for byte in bytes {
            a = (a + UInt32(byte)) % 65521
            b = (b + a) % 65521
        }
        return b << 16 | a
    }
}
