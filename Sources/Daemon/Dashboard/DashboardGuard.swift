import ControlAPI
import Foundation
import HTTPTypes
import Hummingbird

/// In front of every dashboard route: the Host must be this dashboard's (DNS rebinding), the
/// request must carry the token (query, cookie or bearer), and a state-changing request sent
/// with the cookie must come from the dashboard's own page (CSRF): its Origin, when the browser
/// sends one, is this dashboard, and it carries the page's CSRF header.
struct DashboardGuard<Context: RequestContext>: RouterMiddleware {
    let access: DashboardAccess

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard self.access.allowsHost(request.head.authority) else {
            return Self.refuse(
                .forbidden,
                "kfwd dashboard: Host '\(request.head.authority ?? "")' is not this dashboard; open it as 127.0.0.1:\(self.access.port ?? 0) (kfwd dashboard prints the URL)"
            )
        }
        let bearer = request.headers[.authorization].flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil }
        if DashboardAccess.same(bearer, self.access.token) {
            // Browsers never add this header by themselves: no CSRF check needed.
            return try await next(request, context)
        }
        if DashboardAccess.same(request.uri.queryParameters["token"].map(String.init), self.access.token) {
            // The token leaves the address bar and the history at once, kept in the cookie.
            var response = Response(status: .seeOther, headers: [.location: request.uri.path])
            response.setCookie(Cookie(name: self.access.cookieName, value: self.access.token, path: "/", httpOnly: true, sameSite: .strict))
            return response
        }
        guard DashboardAccess.same(request.cookies[self.access.cookieName]?.value, self.access.token) else {
            return Self.refuse(.unauthorized, "kfwd dashboard: no valid token; run kfwd dashboard for a URL that carries it")
        }
        if ![.get, .head].contains(request.method) {
            if let origin = request.headers[.origin], !self.access.allowsOrigin(origin) {
                return Self.refuse(.forbidden, "kfwd dashboard: a page from \(origin) cannot change forwards")
            }
            guard DashboardAccess.same(request.headers[DashboardAccess.csrfHeader], self.access.csrfToken) else {
                return Self.refuse(.forbidden, "kfwd dashboard: this request did not come from the dashboard's page (no CSRF header); reload the page")
            }
        }
        return try await next(request, context)
    }

    static func refuse(_ status: HTTPResponse.Status, _ message: String) -> Response {
        Response(
            status: status, headers: [.contentType: "text/plain; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: message + "\n"))
        )
    }
}
