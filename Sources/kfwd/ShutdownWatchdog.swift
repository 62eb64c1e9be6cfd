import Foundation

/// A stop must not hang the user's terminal: if the graceful shutdown (closing connections,
/// watches and clients) stalls, say so and exit anyway, non-zero so that tests notice.
enum ShutdownWatchdog {
    static func arm() {
        DispatchQueue.global().asyncAfter(deadline: .now() + 5) {
            Terminal.error("shutdown did not finish within 5 seconds; exiting anyway")
            Foundation.exit(70)
        }
    }
}
