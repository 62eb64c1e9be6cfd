import ChannelGlue
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// Dials the API server for a port-forward upgrade, whatever protocol follows it: a TCP and TLS
/// connection with the client's settings and credentials, one HTTP/1.1 request, the upgrader's
/// pipeline on a 101, or the status and body of a refusal. A 401 refreshes the credentials once,
/// as REST does. The upgrade, and whatever `settle` waits for after it, must finish within the
/// client's connect timeout.
struct PortForwardDialer: Sendable {
    let client: KubeClient

    /// What an upgrader hands back once the server answered.
    enum Upgrade<T: Sendable>: Sendable {
        case upgraded(T)
        case refused(EventLoopFuture<(status: Int, body: ByteBuffer)>)
        /// A 101 that did not agree on the protocol (its subprotocol or stream version).
        case wrongProtocol(String?)
    }

    /// The end of a dial.
    enum Outcome<R: Sendable>: Sendable {
        case upgraded(R)
        case refused(status: Int, body: ByteBuffer)
        case wrongProtocol(String?)
    }

    /// Makes the upgrader for a request: `notUpgrading` is the pipeline to install when the
    /// server refuses (it collects the answer).
    typealias MakeUpgrader<T: Sendable> = @Sendable () -> any NIOTypedHTTPClientProtocolUpgrader<Upgrade<T>>

    func dial<T: Sendable, R: Sendable>(
        method: HTTPMethod, path: String, query: String? = nil, headers: [(String, String)], on eventLoop: any EventLoop,
        upgrader makeUpgrader: MakeUpgrader<T>, settle: @escaping @Sendable (any Channel, T) async throws(PortForwardError) -> R
    ) async throws(PortForwardError) -> Outcome<R> {
        var refreshed = false
        while true {
            let endpoint: KubeClient.UpgradeEndpoint
            do {
                endpoint = try await self.client.upgradeEndpoint()
            } catch {
                throw PortForwardError(kind: .configuration, message: error.message)
            }
            var head = HTTPRequestHead(version: .http1_1, method: method, uri: endpoint.pathPrefix + path + (query.map { "?\($0)" } ?? ""))
            head.headers.add(name: "Host", value: endpoint.hostHeader)
            head.headers.add(name: "User-Agent", value: "kfwd/0.1 (swift)")
            if method == .POST { head.headers.add(name: "Content-Length", value: "0") }
            for (name, value) in headers { head.headers.add(name: name, value: value) }
            if let authorization = endpoint.presented.authorization { head.headers.add(name: "Authorization", value: authorization) }
            let outcome = try await self.upgrade(endpoint, head: head, on: eventLoop, upgrader: makeUpgrader(), settle: settle)
            if case .refused(401, _) = outcome, !refreshed, await self.client.refreshCredentials(after: endpoint.presented) {
                refreshed = true
                continue
            }
            return outcome
        }
    }

    private func upgrade<T: Sendable, R: Sendable>(
        _ endpoint: KubeClient.UpgradeEndpoint, head: HTTPRequestHead, on eventLoop: any EventLoop,
        upgrader: any NIOTypedHTTPClientProtocolUpgrader<Upgrade<T>>,
        settle: @escaping @Sendable (any Channel, T) async throws(PortForwardError) -> R
    ) async throws(PortForwardError) -> Outcome<R> {
        let channel: any Channel
        let upgrade: EventLoopFuture<Upgrade<T>>
        do {
            (channel, upgrade) = try await ClientBootstrap(group: eventLoop)
                .connectTimeout(TimeAmount(self.client.options.connectTimeout))
                .channelOption(.tcpOption(.tcp_nodelay), value: 1)
                .connect(literalOrHost: endpoint.host, port: endpoint.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let tls = try NIOSSLClientHandler(context: endpoint.sslContext, serverHostname: endpoint.serverHostname)
                        try channel.pipeline.syncOperations.addHandler(tls)
                        var configuration = NIOUpgradableHTTPClientPipelineConfiguration(
                            upgradeConfiguration: NIOTypedHTTPClientUpgradeConfiguration(
                                upgradeRequestHead: head, upgraders: [upgrader],
                                notUpgradingCompletionHandler: { channel in
                                    channel.eventLoop.makeCompletedFuture {
                                        let answer = channel.eventLoop.makePromise(of: (status: Int, body: ByteBuffer).self)
                                        try channel.pipeline.syncOperations.addHandler(UpgradeRefusalCollector(promise: answer))
                                        return .refused(answer.futureResult)
                                    }
                                }
                            )
                        )
                        // The server's first frames may arrive with the 101 (swift-notes gotcha 3).
                        configuration.leftOverBytesStrategy = .forwardBytes
                        let upgrade = try channel.pipeline.syncOperations.configureUpgradableHTTPClientPipeline(configuration: configuration)
                        return (channel, upgrade)
                    }
                }
        } catch {
            throw PortForwardError(kind: .transport, message: self.client.transportError(error).message)
        }

        let limit = self.client.options.connectTimeout
        let timeout = eventLoop.scheduleTask(in: TimeAmount(limit)) { channel.close(promise: nil) }
        defer { timeout.cancel() }
        do {
            switch try await upgrade.get() {
            case .upgraded(let value):
                do {
                    return .upgraded(try await settle(channel, value))
                } catch {
                    channel.close(promise: nil)
                    throw error
                }
            case .refused(let answer):
                let (status, body) = try await answer.get()
                channel.close(promise: nil)
                return .refused(status: status, body: body)
            case .wrongProtocol(let chosen):
                channel.close(promise: nil)
                return .wrongProtocol(chosen)
            }
        } catch let error as PortForwardError {
            throw error
        } catch {
            channel.close(promise: nil)
            timeout.cancel()
            // The timer ran (and closed the channel) if it can no longer be cancelled.
            if (try? await timeout.futureResult.get()) != nil {
                throw PortForwardError(
                    kind: .transport,
                    message: "the API server of context '\(self.client.context.name)' did not complete the port-forward upgrade within \(limit)"
                )
            }
            throw PortForwardError(kind: .transport, message: self.client.transportError(error).message)
        }
    }

    /// What a refused upgrade means for the user. `protocolName` names what was asked for, for
    /// an empty 403 (the server's refusal of the subprotocol).
    func refusal(status: Int, body: ByteBuffer, path: String, namespace: String, pod: String, protocolName: String) -> PortForwardError {
        let apiError = self.client.apiError(code: status, body: body, path: path)
        let detail = (try? JSONDecoder().decode(Status.self, from: body))?.message ?? ""
        let context = "context '\(self.client.context.name)'"
        switch status {
        case 404:
            return PortForwardError(kind: .podNotFound, message: "pod \(namespace)/\(pod) not found (\(context))", httpStatus: status)
        case 400 where detail.contains("not running") || detail.contains("does not have a host"):
            return PortForwardError(kind: .podNotRunning, message: "pod \(namespace)/\(pod) cannot be forwarded to: \(detail) (\(context))", httpStatus: status)
        case 401:
            return PortForwardError(kind: .unauthorized, message: apiError.message, httpStatus: status)
        case 403 where body.readableBytes == 0:
            return PortForwardError(kind: .forbidden, message: "the API server of \(context) refused \(protocolName) (403)", httpStatus: status)
        case 403:
            return PortForwardError(kind: .forbidden, message: "port-forward to pod \(namespace)/\(pod) is forbidden: \(apiError.message)", httpStatus: status)
        default:
            return PortForwardError(kind: .rejected, message: "port-forward to pod \(namespace)/\(pod) was refused: \(apiError.message)", httpStatus: status)
        }
    }

    /// The user's error for what the pod's runtime wrote on a port's error channel or stream.
    func errorStreamError(_ text: String, pod: String, namespace: String, port: Int) -> PortForwardError {
        let error = PortForwardError.fromErrorChannel(text, pod: pod, namespace: namespace, port: port)
        return PortForwardError(kind: error.kind, message: "\(error.message) (context '\(self.client.context.name)')")
    }

    /// The message for a 101 that did not agree on `expected`.
    func wrongProtocol(_ chosen: String?, expected: String) -> PortForwardError {
        PortForwardError(
            kind: .protocolViolation,
            message: "the API server of context '\(self.client.context.name)' upgraded to '\(chosen ?? "none")' instead of \(expected)"
        )
    }
}
