import Foundation

/// The least a forwarding process can cost: it accepts on loopback, connects to the target and
/// copies bytes both ways with blocking reads and writes of 256 KiB, with no TLS, no framing and
/// no event loop. Its CPU per GiB is what the kernel charges any forwarder for two sockets; the
/// kubectl benchmark runs it beside the others as that floor.
///
/// `kfwd-bench copy-relay HOST PORT` prints `Forwarding from 127.0.0.1:LOCAL -> PORT` (the line
/// the benchmark reads from every forwarder) and relays until killed.
enum CopyRelay {
    static func run(_ arguments: [String]) throws {
        guard arguments.count == 2, let port = Int(arguments[1]) else {
            throw ProbeError("usage: kfwd-bench copy-relay HOST PORT")
        }
        // Started from a thread of the benchmark that blocks signals, the relay inherits that
        // mask, and SIGTERM would never end it.
        var none = sigset_t()
        sigemptyset(&none)
        pthread_sigmask(SIG_SETMASK, &none, nil)
        let listener = try Self.listen()
        // Unbuffered: the benchmark reads this line from a pipe before it measures.
        FileHandle.standardOutput.write(Data("Forwarding from 127.0.0.1:\(try Self.localPort(listener)) -> \(port)\n".utf8))
        while true {
            let client = accept(listener, nil, nil)
            guard client >= 0 else { continue }
            guard let target = try? Probe.connect(host: arguments[0], port: port) else {
                close(client)
                continue
            }
            var one: Int32 = 1
            setsockopt(client, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            // The thread copying back closes both sockets once the other direction is done too.
            let upDone = DispatchSemaphore(value: 0)
            Thread {
                Self.copy(from: client, to: target)
                upDone.signal()
            }.start()
            Thread {
                Self.copy(from: target, to: client)
                upDone.wait()
                close(client)
                close(target)
            }.start()
        }
    }

    private static func copy(from: Int32, to: Int32) {
        var buffer = [UInt8](repeating: 0, count: 256 << 10)
        buffer.withUnsafeMutableBytes { buffer in
            while true {
                let count = read(from, buffer.baseAddress!, buffer.count)
                if count <= 0 { break }
                var written = 0
                while written < count {
                    let n = write(to, buffer.baseAddress! + written, count - written)
                    if n <= 0 { return }
                    written += n
                }
            }
        }
        shutdown(to, Int32(SHUT_WR))
    }

    private static func listen() throws -> Int32 {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, Glibc.listen(socket, 256) == 0 else { throw ProbeError("copy-relay cannot listen: errno \(errno)") }
        return socket
    }

    private static func localPort(_ socket: Int32) throws -> Int {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let status = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket, $0, &length) }
        }
        guard status == 0 else { throw ProbeError("copy-relay: getsockname failed") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
