import Foundation

/// kfwd's block in a hosts file (`/etc/hosts`): the forwards' hostnames on their listen
/// addresses, between two marker lines. Everything outside the block stays byte for byte as it
/// was; writing it is a temporary file beside it and an atomic rename, with the previous file
/// kept as a backup and its mode kept, so nothing ever makes the file writable by others.
public enum HostsFile {
    static let begin = "# BEGIN kfwd: managed by `kfwd hosts`; edit the forwards, not these lines"
    static let end = "# END kfwd"

    /// One line of the block: an address and its names.
    public struct Entry: Sendable, Equatable {
        public let address: String
        public let names: [String]

        public init(address: String, names: [String]) {
            self.address = address
            self.names = names
        }
    }

    /// `original` with kfwd's block holding `entries` (replacing the one there, or added at the
    /// end), or without a block when `entries` is empty.
    public static func rendered(_ original: String, entries: [Entry]) -> String {
        let block = entries.isEmpty ? "" : ([Self.begin] + entries.map { "\($0.address)\t\($0.names.joined(separator: " "))" } + [Self.end]).joined(separator: "\n") + "\n"
        guard let range = Self.blockRange(in: original) else {
            guard !block.isEmpty else { return original }
            let separator = original.isEmpty || original.hasSuffix("\n") ? "" : "\n"
            return original + separator + block
        }
        return original.replacingCharacters(in: range, with: block)
    }

    /// The block's lines, their line ends included; nil when there is none.
    private static func blockRange(in text: String) -> Range<String.Index>? {
        guard let start = text.range(of: Self.begin + "\n"), start.lowerBound == text.startIndex || text[text.index(before: start.lowerBound)] == "\n",
            let finish = text.range(of: Self.end, range: start.upperBound..<text.endIndex)
        else { return nil }
        let upper = finish.upperBound < text.endIndex && text[finish.upperBound] == "\n" ? text.index(after: finish.upperBound) : finish.upperBound
        return start.lowerBound..<upper
    }

    /// Writes `text` to `path` if it differs: the old file kept as `PATH.kfwd-backup`, the new
    /// one written beside it and renamed over it, with the old one's mode (and owner, as root).
    /// - Returns: whether the file changed.
    /// - Throws: ``ConfigStoreError`` naming the file and, when it is a permission, the fix.
    public static func write(_ text: String, to path: String) throws(ConfigStoreError) -> Bool {
        let url = URL(fileURLWithPath: path)
        let original = (try? Data(contentsOf: url)) ?? Data()
        guard original != Data(text.utf8) else { return false }
        let attributes = (try? FileManager.default.attributesOfItem(atPath: path)) ?? [:]
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).kfwd-\(UUID().uuidString)")
        do {
            try original.write(to: URL(fileURLWithPath: path + ".kfwd-backup"))
            try Data(text.utf8).write(to: temporary)
            var kept: [FileAttributeKey: Any] = [.posixPermissions: attributes[.posixPermissions] ?? 0o644]
            if getuid() == 0 {
                kept[.ownerAccountID] = attributes[.ownerAccountID]
                kept[.groupOwnerAccountID] = attributes[.groupOwnerAccountID]
            }
            try FileManager.default.setAttributes(kept.compactMapValues { $0 }, ofItemAtPath: temporary.path)
            guard rename(temporary.path, path) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
            return true
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            let denied = (error as NSError).code == NSFileWriteNoPermissionError || (error as? POSIXError)?.code == .EACCES
            throw ConfigStoreError(
                "cannot write \(path): \((error as NSError).localizedDescription)" + (denied ? "; run it as root: sudo kfwd hosts apply" : "")
            )
        }
    }
}
