import ChannelGlue
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The local UDP sockets of a forward: one per mapping and address, all bound before anything
/// is dialed (a port 0 becomes a free port, the same on every address).
struct UDPSockets: Sendable {
    struct Bound: Sendable {
        let address: String
        let mapping: PortMapping
        let channel: any Channel
    }

    let sockets: [Bound]

    /// - Parameter handler: makes the flow table of one socket (on its event loop).
    /// - Throws: ``ForwardError`` naming the port and, when Linux tells, the process holding it.
    static func bind(
        _ mappings: [PortMapping], addresses: ListenAddresses, on loop: any EventLoop, traffic: TrafficCounter?,
        handler: @escaping @Sendable (PortMapping) -> any ChannelHandler
    ) async throws(ForwardError) -> UDPSockets {
        var sockets: [Bound] = []
        do throws(ForwardError) {
            for var mapping in mappings {
                for address in addresses.addresses {
                    let bound = mapping
                    do {
                        let channel = try await DatagramBootstrap(group: loop)
                            .readingWholeDatagrams()
                            .channelInitializer { channel in
                                channel.eventLoop.makeCompletedFuture {
                                    if let traffic { try channel.pipeline.syncOperations.addHandler(DatagramCountingHandler(counter: traffic)) }
                                    try channel.pipeline.syncOperations.addHandler(handler(bound))
                                }
                            }
                            .bind(host: address.host, port: mapping.local).get()
                        mapping.local = channel.localAddress?.port ?? mapping.local
                        sockets.append(Bound(address: address.host, mapping: mapping, channel: channel))
                    } catch let error as IOError where error.errnoCode == EADDRINUSE {
                        throw PortHolder.inUse(mapping, host: address.host, udp: true)
                    } catch let error as ForwardError {
                        throw error
                    } catch {
                        if address.optional { continue }
                        throw ForwardError(code: .bindFailed, "cannot bind UDP \(address.host):\(mapping.local): \(error)")
                    }
                }
            }
        } catch {
            for socket in sockets { try? await socket.channel.close() }
            throw error
        }
        return UDPSockets(sockets: sockets)
    }

    func announce(_ events: @Sendable (ForwardEvent) -> Void) {
        for socket in self.sockets {
            events(.listening(address: socket.address, local: socket.mapping.local, remote: socket.mapping.remote))
        }
    }

    func close() async {
        for socket in self.sockets { try? await socket.channel.close() }
    }
}
