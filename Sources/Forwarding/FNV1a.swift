/// FNV-1a, 64 bits: a hash that is the same on every machine and every run (Swift's `Hasher`
/// is seeded per process), for choices that must not change between runs or between forwards.
enum FNV1a {
    static func hash(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return hash
    }
}
