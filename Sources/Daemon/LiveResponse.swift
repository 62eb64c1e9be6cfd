import ControlAPI
import Hummingbird
import ServiceLifecycle

/// A response that streams for as long as its source has something to say: server-sent events
/// and `kfwd logs -f`. It ends when the source ends, when the client goes away, or when the
/// daemon shuts down (an open stream must not hold the shutdown).
enum LiveResponse {
    /// - Parameters:
    ///   - feed: yields elements until it returns (or is cancelled).
    ///   - renderer: makes, once per response, what turns each element into bytes to send (nil:
    ///     nothing this time); it may keep state between elements.
    static func body<Element: Sendable>(
        _ request: Request,
        feed: @escaping @Sendable (AsyncStream<Element>.Continuation) async -> Void,
        renderer: @escaping @Sendable () -> (Element) throws -> ByteBuffer?
    ) -> ResponseBody {
        ResponseBody { writer in
            let (elements, sink) = AsyncStream<Element>.makeStream()
            let render = renderer()
            try await request.body.consumeWithInboundCloseHandler { _ in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        await feed(sink)
                        sink.finish()
                    }
                    group.addTask {
                        try? await gracefulShutdown()
                        sink.finish()
                    }
                    for await element in elements {
                        if let bytes = try render(element) { try await writer.write(bytes) }
                    }
                    group.cancelAll()
                }
            } onInboundClosed: {
                sink.finish()
            }
            try await writer.finish(nil)
        }
    }
}
