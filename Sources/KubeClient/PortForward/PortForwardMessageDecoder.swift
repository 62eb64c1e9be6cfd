import NIOCore

/// Reads the messages of a single-port `v4.channel.k8s.io` stream (section 1 of
/// kubernetes-wire.md): channel 0 carries data, channel 1 error text, and the first message on
/// each must be exactly the 2-byte little-endian port, as the Python client and kube-rs insist.
struct PortForwardMessageDecoder {
    enum Event: Equatable {
        /// Both port prefixes arrived: the stream is open.
        case ready
        case data(ByteBuffer)
        case errorText(String)
    }

    let port: UInt16
    private var dataPrefixSeen = false
    private var errorPrefixSeen = false

    init(port: UInt16) {
        self.port = port
    }

    /// Decodes one complete message (the channel byte then the payload). Empty messages carry
    /// nothing and are skipped, as the server side skips them.
    mutating func decode(_ message: ByteBuffer) throws(PortForwardError) -> Event? {
        var message = message
        guard let channel = message.readInteger(as: UInt8.self) else { return nil }
        switch channel {
        case 0:
            if !self.dataPrefixSeen {
                try self.checkPrefix(message, channel: "data")
                self.dataPrefixSeen = true
                return self.errorPrefixSeen ? .ready : nil
            }
            return message.readableBytes > 0 ? .data(message) : nil
        case 1:
            if !self.errorPrefixSeen {
                try self.checkPrefix(message, channel: "error")
                self.errorPrefixSeen = true
                return self.dataPrefixSeen ? .ready : nil
            }
            return message.readableBytes > 0 ? .errorText(String(buffer: message)) : nil
        default:
            throw Self.violation("the server sent on channel \(channel), but a single-port forward has only channels 0 and 1")
        }
    }

    private func checkPrefix(_ payload: ByteBuffer, channel: String) throws(PortForwardError) {
        guard payload.readableBytes == 2, let port = payload.getInteger(at: payload.readerIndex, endianness: .little, as: UInt16.self) else {
            throw Self.violation("the first message on the \(channel) channel must be the 2-byte port \(self.port), got \(payload.readableBytes) bytes")
        }
        guard port == self.port else {
            throw Self.violation("the \(channel) channel announced port \(port), but port \(self.port) was requested")
        }
    }

    private static func violation(_ message: String) -> PortForwardError {
        PortForwardError(kind: .protocolViolation, message: "port-forward protocol error: \(message)")
    }
}
