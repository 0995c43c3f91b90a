"""Who may talk to a served index, and the headers every answer carries: the HTTP server's gate (an ASGI
middleware in front of search/serve/app.py).

    access = Access(port)            # the Bearer token, the one-time login token, the browser sessions
    app = Guard(inner_app, access)   # refuses what is not for us before the app sees it

Every request must name a loopback host (`Host: localhost:PORT`, `127.0.0.1`,
`[::1]`, or the host `serve --host` bound), else 403: a web page on another
site that makes its own name resolve to 127.0.0.1 (DNS rebinding) is refused.
A request that a browser marks as coming from another origin (`Origin`,
`Sec-Fetch-Site`) is refused too, so a page on another port of localhost cannot
make the browser act with its cookie. Every call of `/api/` and every file of the
page needs the token: `Authorization: Bearer <token>` (the command line reads it from
serve.json, which only its owner can read), or the session cookie a browser
gets by opening the one-time login URL `serve` prints (`/?token=<login>`, see
search/serve/app.py). Anything else is refused (401) and its connection closed,
so a connection that never shows the token lives for one request at most.

Every answer carries a Content-Security-Policy that forbids inline script
and every other origin, `X-Content-Type-Options: nosniff` and `Referrer-Policy:
no-referrer`; none carries a CORS header.
"""

from __future__ import annotations

import hmac
import json
import secrets
import threading
from collections.abc import Awaitable, Callable
from http.cookies import SimpleCookie

LOOPBACK = ("localhost", "127.0.0.1", "[::1]")
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
SECURITY_HEADERS = [(b"content-security-policy", CSP.encode()), (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer")]
MAX_SESSIONS = 64  # browser sessions kept; the oldest is forgotten first


class Access:
    """The secrets of one server: the Bearer token the command line sends, the one-time login token of the page's
    URL, and the sessions of the browsers that used one.

    A login token works once: using it starts a session (a cookie) and makes the
    next login token, which `changed(url)` hears of (the server writes it into serve.json).
    """

    def __init__(self, port: int, host: str = "127.0.0.1", changed: Callable[[str], None] | None = None):
        """`host` is the address the server listens on; a name other than a loopback one is allowed too."""
        self.port = port
        self.host = host if ":" not in host or host.startswith("[") else f"[{host}]"  # an IPv6 address in a URL
        wildcard = host in ("0.0.0.0", "::", "")
        self.hosts = LOOPBACK if wildcard or self.host.lower() in LOOPBACK else (*LOOPBACK, self.host.lower())
        self.token = secrets.token_hex(16)
        self.login = secrets.token_urlsafe(24)
        self.cookie = f"notesearch-{port}"  # cookies are shared by every port of a host: one name per server
        self.changed = changed
        self._sessions: dict[str, None] = {}
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        """The page's URL with the current one-time login token."""
        host = "127.0.0.1" if self.host in ("0.0.0.0", "[::]", "") else self.host
        return f"http://{host}:{self.port}/?token={self.login}"

    def bearer(self, header: str) -> bool:
        """Whether an Authorization header carries this server's token."""
        scheme, _sep, token = header.partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), self.token.encode())

    def session(self, cookie_header: str) -> bool:
        """Whether a Cookie header carries a session this server started."""
        try:
            cookie = SimpleCookie(cookie_header).get(self.cookie)
        except Exception:  # noqa: BLE001 (a cookie header we cannot parse carries no session)
            return False
        if cookie is None:
            return False
        with self._lock:
            return any(hmac.compare_digest(cookie.value.encode(), known.encode()) for known in self._sessions)

    def use_login(self, token: str) -> str | None:
        """A new session for a browser that opened the login URL with `token`, or None when it is not the current
        login token (a wrong one, or one used already)."""
        with self._lock:
            if not hmac.compare_digest(token.encode(), self.login.encode()):
                return None
            self.login = secrets.token_urlsafe(24)
            session = secrets.token_urlsafe(32)
            self._sessions[session] = None
            while len(self._sessions) > MAX_SESSIONS:
                del self._sessions[next(iter(self._sessions))]
        if self.changed is not None:
            self.changed(self.url)
        return session

    def set_cookie(self, session: str) -> bytes:
        """The Set-Cookie header value of a session: HttpOnly (no script reads it), SameSite=Strict."""
        return f"{self.cookie}={session}; Path=/; HttpOnly; SameSite=Strict".encode()

    def host_allowed(self, host: str) -> bool:
        """Whether a Host header names this server (a loopback name, with no port or with ours)."""
        name, port = host, ""
        if host.startswith("["):
            end = host.find("]")
            name, port = host[:end + 1], host[end + 1:].removeprefix(":")
        elif host.count(":") == 1:
            name, _sep, port = host.partition(":")
        return name.lower() in self.hosts and port in ("", str(self.port))


Scope = dict
Message = dict
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]]


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return ""


class Guard:
    """ASGI middleware: refuses foreign hosts, other origins and requests without the token; adds the security
    headers to every answer. `public` paths (the page's entry, which handles its own login) pass without the
    token."""

    def __init__(self, app: ASGIApp, access: Access, public: tuple[str, ...] = ("/",)):
        self.app = app
        self.access = access
        self.public = public

    async def __call__(self, scope: Scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", ()), *SECURITY_HEADERS]}
            await send(message)

        refusal = self.refusal(scope)
        if refusal is not None:
            await _refuse(secured, *refusal)
            return
        scope.setdefault("state", {})["authenticated"] = self.authenticated(scope)
        if not scope["state"]["authenticated"] and scope["path"] not in self.public:
            await _refuse(secured, 401, "Unauthorized",
                          "this call needs the token: send 'Authorization: Bearer <token>' (the token in "
                          "serve.json in the index folder), or open the page's one-time url from there")
            return
        await self.app(scope, receive, secured)

    def refusal(self, scope: Scope) -> tuple[int, str, str] | None:
        """(status, kind, message) for a request that is not for this server, else None."""
        host = _header(scope, b"host")
        if not self.access.host_allowed(host):
            return 403, "ForeignHost", f"this server answers for localhost only, not for the host {host[:80]!r}"
        origin = _header(scope, b"origin")
        if origin and origin != f"http://{host}":
            return 403, "ForeignOrigin", f"calls from a page of another origin ({origin[:80]!r}) are refused"
        site = _header(scope, b"sec-fetch-site")
        if site in ("cross-site", "same-site") and not (scope["path"] in self.public and scope["method"] == "GET"
                                                         and _header(scope, b"sec-fetch-mode") == "navigate"):
            return 403, "ForeignOrigin", "calls from a page of another origin are refused"
        return None

    def authenticated(self, scope: Scope) -> bool:
        """Whether the request carries the Bearer token or a session cookie of this server."""
        authorization = _header(scope, b"authorization")
        if authorization:
            return self.access.bearer(authorization)
        cookie = _header(scope, b"cookie")
        return bool(cookie) and self.access.session(cookie)


async def _refuse(send, status: int, kind: str, message: str) -> None:
    """A JSON error answer, and the connection closed after it (a refused client keeps no connection open)."""
    body = json.dumps({"error": {"kind": kind, "message": message}}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
               (b"connection", b"close")]
    if status == 401:
        headers.append((b"www-authenticate", b'Bearer realm="notesearch"'))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
