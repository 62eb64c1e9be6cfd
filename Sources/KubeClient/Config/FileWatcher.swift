import Foundation
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// Tells when one of some files changes on disk (a kubeconfig's, a project file): written in
/// place, replaced by a rename (as editors and `kubectl config` write them), created or removed.
/// On Linux it reads inotify events for the files' directories through a NIO pipe channel, so
/// nothing polls; elsewhere it reports nothing (the caller then keeps what it read at start).
public struct FileWatcher: Sendable {
    public let paths: [String]
    /// What the files are, for errors (`the kubeconfig`).
    let what: String

    public init(paths: [String], what: String) {
        self.paths = paths.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
        self.what = what
    }

    /// Calls `onChange` after every batch of events that touches one of the files, until
    /// cancelled.
    /// - Throws: ``KubeError`` when the platform's file watch cannot be set up.
    public func run(group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, _ onChange: @Sendable () async -> Void) async throws {
        #if canImport(Glibc)
        let descriptor = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard descriptor >= 0 else { throw KubeError.config("cannot watch \(self.what) for changes: inotify_init1 failed (errno \(errno))") }
        // Directories, not files: a file replaced by a rename is a new inode a file watch misses.
        var names: [Int32: Set<String>] = [:]
        let mask = UInt32(IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | IN_ATTRIB)
        for (directory, files) in Dictionary(grouping: self.paths, by: { URL(fileURLWithPath: $0).deletingLastPathComponent().path }) {
            let watch = inotify_add_watch(descriptor, directory, mask)
            if watch >= 0 { names[watch, default: []].formUnion(files.map { URL(fileURLWithPath: $0).lastPathComponent }) }
        }
        let watched = names
        let channel: NIOAsyncChannel<ByteBuffer, Never>
        do {
            channel = try await NIOPipeBootstrap(group: group)
                // inotify refuses a read into a buffer smaller than one event.
                .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 64 << 10))
                .takingOwnershipOfDescriptor(input: descriptor) { channel in
                    channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, Never>(wrappingChannelSynchronously: channel) }
                }
        } catch {
            close(descriptor)
            throw KubeError.config("cannot watch \(self.what) for changes: \(error)")
        }
        try await channel.executeThenClose { inbound, _ in
            for try await var events in inbound {
                if Self.touches(&events, watched) { await onChange() }
            }
        }
        #endif
    }

    #if canImport(Glibc)
    /// Reads `struct inotify_event` records (wd, mask, cookie, len, then a NUL-padded name).
    private static func touches(_ buffer: inout ByteBuffer, _ watched: [Int32: Set<String>]) -> Bool {
        var touched = false
        while let watch: Int32 = buffer.readInteger(endianness: .host), let _: UInt32 = buffer.readInteger(endianness: .host),
            let _: UInt32 = buffer.readInteger(endianness: .host), let length: UInt32 = buffer.readInteger(endianness: .host),
            let raw = buffer.readString(length: Int(length))
        {
            let name = String(raw.prefix { $0 != "\0" })
            if watched[watch]?.contains(name) ?? false { touched = true }
        }
        return touched
    }
    #endif
}
