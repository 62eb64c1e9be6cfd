import Foundation

/// RFC 3339 times as the API writes them: seconds precision, UTC, `Z`.
enum Timestamp {
    static func string(_ date: Date = Date()) -> String {
        date.formatted(.iso8601.year().month().day().dateSeparator(.dash).time(includingFractionalSeconds: false).timeSeparator(.colon).timeZone(separator: .omitted)).replacingOccurrences(of: "+0000", with: "Z")
    }

    static func date(_ text: String?) -> Date? {
        guard let text else { return nil }
        return try? Date(text, strategy: .iso8601)
    }

    /// kubectl's AGE column: `duration.HumanDuration` from k8s.io/apimachinery/pkg/util/duration.
    static func age(since text: String?, now: Date = Date()) -> String {
        guard let date = self.date(text) else { return "<unknown>" }
        let seconds = Int(now.timeIntervalSince(date))
        if seconds < -1 { return "<invalid>" }
        if seconds < 0 { return "0s" }
        if seconds < 60 * 2 { return "\(seconds)s" }
        let minutes = seconds / 60
        if minutes < 10 { return seconds % 60 == 0 ? "\(minutes)m" : "\(minutes)m\(seconds % 60)s" }
        if minutes < 60 * 3 { return "\(minutes)m" }
        let hours = minutes / 60
        if hours < 8 { return minutes % 60 == 0 ? "\(hours)h" : "\(hours)h\(minutes % 60)m" }
        if hours < 48 { return "\(hours)h" }
        if hours < 24 * 8 { return hours % 24 == 0 ? "\(hours / 24)d" : "\(hours / 24)d\(hours % 24)h" }
        if hours < 24 * 365 * 2 { return "\(hours / 24)d" }
        return "\(hours / 24 / 365)y"
    }
}

/// Random name suffixes as `generateName` and the ReplicaSet controller make them
/// (k8s.io/apimachinery/pkg/util/rand: consonants and digits without look-alikes).
enum NameSuffix {
    private static let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")

    static func random(_ count: Int = 5) -> String {
        String((0..<count).map { _ in self.alphabet.randomElement()! })
    }

    /// A stable short hash of a pod template, as `pod-template-hash` is.
    static func hash(of object: JSON) -> String {
        var value: UInt32 = 2_166_136_261
        for byte in object.encoded() { value = (value ^ UInt32(byte)) &* 16_777_619 }
        var text = ""
        for _ in 0..<10 {
            text.append(self.alphabet[Int(value % UInt32(self.alphabet.count))])
            value /= UInt32(self.alphabet.count)
            if value == 0 { break }
        }
        return text
    }
}
