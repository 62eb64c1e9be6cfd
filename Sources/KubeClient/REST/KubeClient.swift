import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// A client for one Kubernetes cluster as one user: REST, watch and the connection details the
/// port-forward transports reuse.
///
/// One `HTTPClient` (HTTP/2 when the server offers it) serves every request of a cluster and
/// credentials pair; call ``shutdown()`` when done, or use ``withClient(context:options:logger:_:)``.
public final class KubeClient: Sendable {
    /// Tuning knobs; the defaults are client-go's.
    public struct Options: Sendable {
        /// How often a `tokenFile` is re-read (client-go: 1 minute).
        public var tokenFileRefresh: Duration = .seconds(60)
        /// Connect timeout for each request.
        public var connectTimeout: Duration = .seconds(10)
        /// How many times a 429 (or a 5xx with Retry-After) is retried (client-go: 10).
        public var maxRetries = 10
        public init() {}
    }

    public let context: KubeContext
    let options: Options
    let logger: Logger
    let credentials: CredentialProvider
    private let clients: Mutex<(identity: CredentialProvider.Presented?, client: HTTPClient?, retired: [HTTPClient])>
    /// Who hears of ``NetworkNotice``s (``observeNetwork(_:)``).
    let networkObservers = Mutex<(observers: [UInt64: @Sendable (NetworkNotice) -> Void], next: UInt64)>(([:], 0))
    /// The port-forward sessions every SPDY transport of this client shares.
    let portForwardSessions = SPDYSessionPools()
    private let baseURL: URL
    private let connectHost: String?
    /// The TLS context of the current client identity, shared by every upgraded connection.
    private let sslContext: Mutex<(identity: CredentialProvider.Presented, context: NIOSSLContext)?>

    public init(context: KubeContext, options: Options = Options(), logger: Logger = Logger(label: "kfwd.kube")) throws(KubeError) {
        self.context = context
        self.options = options
        self.logger = logger
        self.credentials = CredentialProvider(context: context, tokenFileRefresh: options.tokenFileRefresh)
        self.clients = Mutex((nil, nil, []))
        self.sslContext = Mutex(nil)
        guard var components = URLComponents(string: context.server), let host = components.host else {
            throw KubeError.config("cluster '\(context.clusterName)' has an invalid server URL '\(context.server)'")
        }
        // AHC verifies the URL host; to verify `tls-server-name` instead, the URL names it and
        // DNS for that name is pointed at the real host.
        if let serverName = context.cluster.tlsServerName, !serverName.isEmpty {
            components.host = serverName
            self.connectHost = host
        } else {
            self.connectHost = nil
        }
        self.baseURL = components.url!
        // The TLS material the kubeconfig names is checked now, not at the first connection, so
        // that a context kfwd cannot connect with is refused before anything switches to it.
        // (An exec plugin's client certificate comes later, with its first run.)
        _ = try TLSSettings.configuration(for: context, identity: CredentialProvider.Presented())
    }

    /// Runs `body` with a client and shuts it down afterwards.
    public static func withClient<T: Sendable>(
        context: KubeContext, options: Options = Options(), logger: Logger = Logger(label: "kfwd.kube"),
        _ body: (KubeClient) async throws -> T
    ) async throws -> T {
        let client = try KubeClient(context: context, options: options, logger: logger)
        do {
            let result = try await body(client)
            try? await client.shutdown()
            return result
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    public func shutdown() async throws {
        let all = self.clients.withLock { state -> [HTTPClient] in
            defer { state = (nil, nil, []) }
            return state.retired + (state.client.map { [$0] } ?? [])
        }
        for client in all { try await client.shutdown() }
    }

    /// How many times the exec plugin ran; the rest of the time its cached credential was used.
    public var execPluginRuns: Int { get async { await self.credentials.execPluginRuns } }

    // MARK: requests

    /// A response whose body has been read.
    public struct Response: Sendable {
        public let status: Int
        public let headers: HTTPHeaders
        public let body: ByteBuffer
    }

    /// Sends one request and reads the whole answer; API errors become ``KubeError``.
    public func send(
        _ method: HTTPMethod, _ path: String, query: [(String, String)] = [], body: Data? = nil, contentType: String = "application/json",
        deadline: Duration = .seconds(60)
    ) async throws(KubeError) -> Response {
        let response = try await self.execute(method, path, query: query, body: body, contentType: contentType, deadline: deadline)
        let data: ByteBuffer
        do {
            data = try await response.body.collect(upTo: 64 << 20)
        } catch {
            throw KubeError.transport("reading the answer of \(self.context.server) failed: \(error)")
        }
        return Response(status: Int(response.status.code), headers: response.headers, body: data)
    }

    /// Sends one request and returns as soon as the head arrived, for streamed bodies (watch).
    /// - Parameter pool: the connection pool to send through, instead of the shared one.
    func execute(
        _ method: HTTPMethod, _ path: String, query: [(String, String)] = [], body: Data? = nil, contentType: String = "application/json",
        deadline: Duration = .seconds(60), pool: HTTPClient? = nil
    ) async throws(KubeError) -> HTTPClientResponse {
        var retriedAuth = false
        var attempts = 0
        while true {
            let presented = try await self.credentials.current()
            let client: HTTPClient
            if let pool { client = pool } else { client = try self.httpClient(for: presented) }
            var request = HTTPClientRequest(url: self.url(path, query))
            request.method = method
            request.headers.add(name: "Accept", value: "application/json")
            request.headers.add(name: "User-Agent", value: "kfwd/0.1 (swift)")
            if let authorization = presented.authorization { request.headers.add(name: "Authorization", value: authorization) }
            if let body {
                request.headers.add(name: "Content-Type", value: contentType)
                request.body = .bytes(ByteBuffer(data: body))
            }
            let response: HTTPClientResponse
            do {
                response = try await client.execute(request, timeout: TimeAmount(deadline), logger: self.logger)
            } catch {
                throw self.transportError(error)
            }
            let code = Int(response.status.code)
            if code < 400 { return response }
            let body = (try? await response.body.collect(upTo: 1 << 20)) ?? ByteBuffer()
            if code == 401, !retriedAuth, await self.credentials.refresh(after: presented) {
                retriedAuth = true
                continue
            }
            let retryAfter = response.headers.first(name: "Retry-After").flatMap(Int.init)
            if (code == 429 || (code >= 500 && retryAfter != nil)) && attempts < self.options.maxRetries {
                attempts += 1
                do { try await Task.sleep(for: .seconds(max(retryAfter ?? 1, 1))) } catch { throw KubeError.transport("cancelled") }
                continue
            }
            throw self.apiError(code: code, body: body, path: path, retryAfter: retryAfter)
        }
    }

    private func url(_ path: String, _ query: [(String, String)]) -> String {
        var components = URLComponents(url: self.baseURL, resolvingAgainstBaseURL: false)!
        components.percentEncodedPath = components.percentEncodedPath + path
        if !query.isEmpty {
            var allowed = CharacterSet.urlQueryAllowed
            allowed.remove(charactersIn: "&=+,")
            components.percentEncodedQuery = query.map {
                "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed) ?? $0.1)"
            }.joined(separator: "&")
        }
        return components.string!
    }

    /// Sends the next requests through a new connection pool. The old pool's requests carry on
    /// (a watch ends when its reflector moves on); it is shut down with the client, or at the
    /// retirement after next, long after whatever it carried.
    func retireConnectionPool() {
        let stale = self.clients.withLock { state -> [HTTPClient] in
            guard let current = state.client else { return [] }
            state.client = nil
            state.identity = nil
            let stale = state.retired.count > 4 ? Array(state.retired.prefix(state.retired.count - 4)) : []
            state.retired.removeFirst(stale.count)
            state.retired.append(current)
            return stale
        }
        for client in stale { client.shutdown().whenComplete { _ in } }
    }

    /// The client for these credentials; a new client certificate (from an exec plugin) means a
    /// new TLS identity and so a new connection pool, as client-go closes connections on rotation.
    private func httpClient(for presented: CredentialProvider.Presented) throws(KubeError) -> HTTPClient {
        let identity = CredentialProvider.Presented(clientCertificatePEM: presented.clientCertificatePEM, clientKeyPEM: presented.clientKeyPEM)
        if let client = self.clients.withLock({ $0.identity == identity ? $0.client : nil }) { return client }
        let client = try self.makePool(identity: identity)
        return self.clients.withLock { state in
            if state.identity == identity, let existing = state.client {
                state.retired.append(client)
                return existing
            }
            if let old = state.client { state.retired.append(old) }
            state.identity = identity
            state.client = client
            return client
        }
    }

    /// A new connection pool presenting `identity` (a client certificate, or none).
    func makePool(identity: CredentialProvider.Presented) throws(KubeError) -> HTTPClient {
        let tls = try TLSSettings.configuration(for: self.context, identity: identity)
        var configuration = HTTPClient.Configuration(
            tlsConfiguration: tls,
            timeout: .init(connect: TimeAmount(self.options.connectTimeout), read: nil)
        )
        configuration.httpVersion = .automatic
        // client-go dials once and lets its callers (reflector, engine) back off; AHC's own
        // retries would hide a refused connection for the whole connect timeout.
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.decompression = .enabled(limit: .none)
        if let proxy = self.context.cluster.proxyURL, !proxy.isEmpty {
            guard let url = URL(string: proxy), let host = url.host else {
                throw KubeError.config("cluster '\(self.context.clusterName)' has an invalid proxy-url '\(proxy)'")
            }
            switch url.scheme {
            case "http": configuration.proxy = .server(host: host, port: url.port ?? 80)
            case "socks5": configuration.proxy = .socksServer(host: host, port: url.port ?? 1080)
            default: throw KubeError.config("cluster '\(self.context.clusterName)': proxy-url scheme '\(url.scheme ?? "")' is not supported: use http:// or socks5://")
            }
        }
        if let connectHost = self.connectHost, let name = self.context.cluster.tlsServerName {
            configuration.dnsOverride = [name: connectHost]
        }
        return HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
    }

    // MARK: upgraded connections

    /// Where and how to open a raw connection to the API server for an upgrade (port-forward):
    /// the same server, TLS material and credentials as REST.
    struct UpgradeEndpoint: Sendable {
        let host: String
        let port: Int
        /// The name TLS verifies: `tls-server-name`, else the URL host when it is a name.
        let serverHostname: String?
        let sslContext: NIOSSLContext
        let presented: CredentialProvider.Presented
        /// The request path prefix of the server URL (a server may live under a path).
        let pathPrefix: String
        let hostHeader: String
    }

    func upgradeEndpoint() async throws(KubeError) -> UpgradeEndpoint {
        if let proxy = self.context.cluster.proxyURL, !proxy.isEmpty {
            throw KubeError.config("cluster '\(self.context.clusterName)' uses proxy-url '\(proxy)': port-forward through a proxy is not supported yet")
        }
        let presented = try await self.credentials.current()
        let identity = CredentialProvider.Presented(clientCertificatePEM: presented.clientCertificatePEM, clientKeyPEM: presented.clientKeyPEM)
        let sslContext: NIOSSLContext
        if let cached = self.sslContext.withLock({ $0?.identity == identity ? $0?.context : nil }) {
            sslContext = cached
        } else {
            do {
                sslContext = try NIOSSLContext(configuration: try TLSSettings.configuration(for: self.context, identity: identity))
            } catch let error as KubeError {
                throw error
            } catch {
                throw KubeError.config("the TLS settings of context '\(self.context.name)' are unusable: \(error)")
            }
            self.sslContext.withLock { $0 = (identity, sslContext) }
        }
        // Validated in init; the URL as written, not the one rewritten for tls-server-name.
        let server = URLComponents(string: self.context.server)!
        let host = (server.host ?? "localhost").trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        let port = server.port ?? 443
        let name = self.context.cluster.tlsServerName.flatMap { $0.isEmpty ? nil : $0 } ?? host
        let isAddress = name.contains(":") || name.allSatisfy { $0.isNumber || $0 == "." }
        let path = server.percentEncodedPath
        return UpgradeEndpoint(
            host: host, port: port, serverHostname: isAddress ? nil : name, sslContext: sslContext, presented: presented,
            pathPrefix: path.hasSuffix("/") ? String(path.dropLast()) : path,
            hostHeader: host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        )
    }

    /// After an upgrade was refused with 401: refresh the credentials once, as REST does.
    func refreshCredentials(after refused: CredentialProvider.Presented) async -> Bool {
        await self.credentials.refresh(after: refused)
    }

    /// The error a refused upgrade (or a failed REST call) stands for.
    func apiError(code: Int, body: ByteBuffer, path: String) -> KubeError {
        self.apiError(code: code, body: body, path: path, retryAfter: nil)
    }

    func transportError(_ error: any Error) -> KubeError {
        KubeError.transport("cannot reach cluster '\(self.context.clusterName)' at \(self.context.server) (context '\(self.context.name)'): \(Self.describe(error))")
    }

    private func apiError(code: Int, body: ByteBuffer, path: String, retryAfter: Int?) -> KubeError {
        let status = try? JSONDecoder().decode(Status.self, from: body)
        let detail = status?.message ?? (body.readableBytes > 0 ? String(buffer: body).prefix(200).description : "HTTP \(code)")
        let context = "context '\(self.context.name)'"
        let message: String
        switch code {
        case 401:
            message = "credentials for \(context) were rejected (401): \(self.loginHint())"
        case 403:
            message = "\(detail) (403 Forbidden in \(context)): ask for RBAC access or use a context with more rights"
        case 404:
            message = "\(detail) (\(context))"
        case 410:
            message = "\(detail) (410 \(status?.reason ?? "Gone")): the resourceVersion is too old, list again"
        case 429:
            message = "the API server of \(context) is throttling requests (429): retry later"
        default:
            message = "\(detail) (HTTP \(code)\(status?.reason.map { " \($0)" } ?? "") from \(path) in \(context))"
        }
        return KubeError(
            code: .api, message: message, httpStatus: code, reason: status?.reason,
            retryAfterSeconds: retryAfter ?? status?.details?.retryAfterSeconds
        )
    }

    private func loginHint() -> String {
        let user = self.context.user
        let entry = "the user entry '\(self.context.userName)'"
        if let exec = user.exec {
            if let hint = exec.installHint { return "\(hint.trimmingCharacters(in: .whitespacesAndNewlines)), or check \(entry)" }
            return "log in again with the tool behind '\(exec.command)' (e.g. `aws sso login`, `gcloud auth login`) or check \(entry)"
        }
        if user.tokenFile != nil { return "renew the token in '\(user.tokenFile!)' or check \(entry)" }
        if user.token != nil { return "the token has expired or was revoked: get a new one or check \(entry)" }
        if user.clientCertificate != nil || user.clientCertificateData != nil {
            return "the client certificate is not accepted (expired or from another CA): renew it or check \(entry)"
        }
        if user.username != nil { return "check the username and password of \(entry)" }
        return "\(entry) has no credentials: add a token, a client certificate or an exec plugin"
    }

    private static func describe(_ error: any Error) -> String {
        if let error = error as? NIOSSLError { return "TLS failed: \(error)" }
        if let error = error as? NIOSSLExtraError {
            if error == .failedToValidateHostname {
                return "TLS failed: the server's certificate does not name the host connected to (set tls-server-name to a name it holds): \(error)"
            }
            return "TLS failed: \(error)"
        }
        if let error = error as? BoringSSLError { return "TLS failed (is the certificate-authority right?): \(error)" }
        if let error = error as? HTTPClientError { return "\(error)" }
        return "\(error)"
    }
}
