/// The shared secret between a kfwd and the relay it started (the daemon's dashboard makes and
/// checks its tokens the same way).
public enum RelaySecret {
    /// 32 random bytes as 64 hex digits: fits the header's 255 bytes and an environment variable.
    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in
            let byte = UInt8.random(in: 0...255, using: &generator)
            return String(byte, radix: 16).count == 1 ? "0" + String(byte, radix: 16) : String(byte, radix: 16)
        }.joined()
    }

    /// Compares in time that depends only on the lengths, so that a client cannot learn the
    /// secret a byte at a time from how fast it is refused.
    public static func matches(_ offered: String, _ expected: String) -> Bool {
        let offered = Array(offered.utf8)
        let expected = Array(expected.utf8)
        var difference = UInt8(offered.count == expected.count ? 0 : 1)
        for index in 0..<expected.count {
            difference |= expected[index] ^ (index < offered.count ? offered[index] : 0)
        }
        return difference == 0
    }
}
