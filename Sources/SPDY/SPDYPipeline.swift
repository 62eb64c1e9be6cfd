import NIOCore

/// The names port-forward gives SPDY on the wire, shared by the client and KubeSim.
package enum PortForwardSPDY {
    /// The `X-Stream-Protocol-Version` of port-forward (the only one the kubelet speaks).
    package static let streamProtocol = "portforward.k8s.io"
    /// The WebSocket subprotocol of the tunnel (`SPDY/3.1+` and the stream protocol).
    package static let tunnelSubprotocol = "SPDY/3.1+portforward.k8s.io"
}

extension ChannelPipeline.SynchronousOperations {
    /// Adds the SPDY frame codec (one zlib context per direction), behind a WebSocket byte-stream
    /// adapter when the session is tunnelled (`tunnel` names this end's role).
    package func addSPDYCodec(tunnel: WebSocketTunnelHandler.Role? = nil) throws {
        if let tunnel { try self.addHandler(WebSocketTunnelHandler(role: tunnel)) }
        try self.addHandler(ByteToMessageHandler(SPDYFrameDecoder()))
        // A client's tunnel messages are framed and masked by the encoder, in its one copy.
        try self.addHandler(MessageToByteHandler(SPDYFrameEncoder(framing: tunnel == .client ? .maskedWebSocket : .plain)))
    }
}
