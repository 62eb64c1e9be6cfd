import Foundation

#if canImport(Glibc)
import Glibc
private let systemWrite = Glibc.write
#elseif canImport(Darwin)
import Darwin
private let systemWrite = Darwin.write
#endif

/// The controlling terminal while `kfwd tui` runs: raw mode, the alternate screen, the cursor
/// hidden, mouse reports on. ``leave()`` gives it back as it was, on every way out: `q`,
/// SIGTERM and SIGINT (through the runner), Ctrl-Z (and ``enter()`` again on `fg`), and a
/// crash (a handler for the fatal signals restores it before the process dies).
final class TerminalSession: @unchecked Sendable {
    /// Written once before the fatal-signal handlers are set; read by them only.
    nonisolated(unsafe) private static var savedTermios = termios()
    nonisolated(unsafe) private static var savedDescriptor: Int32 = -1

    /// What turns the alternate screen, the cursor and mouse reports off again.
    private static let leaveSequence = Array("\u{1B}[?1006l\u{1B}[?1000l\u{1B}[0m\u{1B}[?25h\u{1B}[?1049l".utf8)

    /// Where frames are written (blocking, a file description of its own).
    let output: Int32
    private let original: termios

    /// - Throws: when there is no terminal to draw on.
    init() throws {
        let descriptor = open("/dev/tty", O_WRONLY | O_NOCTTY | O_CLOEXEC)
        guard descriptor >= 0, isatty(descriptor) == 1 else {
            if descriptor >= 0 { close(descriptor) }
            throw TUIError("kfwd tui needs a terminal: run it in one (kfwd status --watch prints the same live state as lines)")
        }
        var settings = termios()
        guard tcgetattr(descriptor, &settings) == 0 else {
            close(descriptor)
            throw TUIError("cannot read the terminal's settings: \(String(cString: strerror(errno)))")
        }
        self.output = descriptor
        self.original = settings
        Self.savedTermios = settings
        Self.savedDescriptor = descriptor
        for signal in [SIGSEGV, SIGBUS, SIGILL, SIGABRT, SIGFPE, SIGTRAP] {
            var action = sigaction()
            #if canImport(Glibc)
            action.__sigaction_handler.sa_handler = TerminalSession.restoreAndDie
            #else
            action.__sigaction_u.__sa_handler = TerminalSession.restoreAndDie
            #endif
            action.sa_flags = Int32(bitPattern: UInt32(SA_RESETHAND))
            sigaction(signal, &action, nil)
        }
    }

    deinit {
        close(self.output)
    }

    /// A fresh descriptor to read keys from: its own file description, so that making it
    /// non-blocking (NIO does) leaves the shell's standard input as it was.
    func inputDescriptor() throws -> Int32 {
        let descriptor = open("/dev/tty", O_RDONLY | O_NOCTTY | O_CLOEXEC)
        guard descriptor >= 0 else { throw TUIError("cannot open the terminal to read keys: \(String(cString: strerror(errno)))") }
        return descriptor
    }

    /// Raw mode (keys as they are typed, no echo, Ctrl-C and Ctrl-Z as keys), the alternate
    /// screen, the cursor hidden, mouse clicks and the wheel reported.
    func enter() {
        var raw = self.original
        cfmakeraw(&raw)
        // Output keeps turning \n into \r\n: a crash message stays readable.
        raw.c_oflag |= tcflag_t(OPOST)
        tcsetattr(self.output, TCSAFLUSH, &raw)
        self.write("\u{1B}[?1049h\u{1B}[?25l\u{1B}[?1000h\u{1B}[?1006h\u{1B}[2J")
    }

    /// The terminal as it was before ``enter()``.
    func leave() {
        Self.leaveSequence.withUnsafeBytes { _ = systemWrite(self.output, $0.baseAddress, $0.count) }
        var settings = self.original
        tcsetattr(self.output, TCSAFLUSH, &settings)
    }

    /// Columns and rows.
    func size() -> (width: Int, height: Int) {
        var size = winsize()
        guard ioctl(self.output, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0, size.ws_row > 0 else { return (80, 24) }
        return (Int(size.ws_col), Int(size.ws_row))
    }

    func write(_ text: String) {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { systemWrite(self.output, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                return
            }
            bytes = bytes.dropFirst(written)
        }
    }

    /// Gives the terminal back and stops the process, as Ctrl-Z would in a cooked terminal.
    /// The stop may land after this returns (another thread takes the signal): the runner
    /// draws nothing until SIGCONT says `fg` continued it, then calls ``enter()``.
    func suspend() {
        self.leave()
        kill(getpid(), SIGTSTP)
    }

    /// Async-signal-safe: write(2) and tcsetattr(3) only, then the signal again with its
    /// default action (SA_RESETHAND put it back).
    private static let restoreAndDie: @convention(c) (Int32) -> Void = { signal in
        leaveSequence.withUnsafeBytes { _ = systemWrite(savedDescriptor, $0.baseAddress, $0.count) }
        tcsetattr(savedDescriptor, TCSANOW, &savedTermios)
        raise(signal)
    }
}

/// What stops `kfwd tui` from starting, said in one line.
struct TUIError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
