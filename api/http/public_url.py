"""The public base URL: every absolute URL the server emits starts with it, never with Host."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from projections import settings

PUBLIC_URL_ENV = settings.env_name("public_url")
DEFAULT_PORTS = {"http": 80, "https": 443}
EXEMPT_PATHS = frozenset({"/healthz"})
"""Answered whatever the Host: probes call by address, and the answer holds no URL."""


@dataclass(frozen=True)
class PublicURL:
    """A base URL such as https://timeline.example.org: scheme, host and port, no path."""

    scheme: str
    host: str
    port: int

    @property
    def netloc(self) -> str:
        """host[:port] as it appears in a URL, the port left out when it is the default."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == DEFAULT_PORTS[self.scheme] else f"{host}:{self.port}"

    def __str__(self) -> str:
        return f"{self.scheme}://{self.netloc}"

    def serves(self, host_header: str) -> bool:
        """True when a request's Host header names this URL's host and port."""
        try:
            parts = urlsplit(f"//{host_header}")
            port = parts.port or DEFAULT_PORTS[self.scheme]
        except ValueError:  # a port that is not a number, or out of range
            return False
        return (parts.hostname or "") == self.host and port == self.port and not parts.username


def parse_public_url(text: str) -> PublicURL:
    """The public URL a deployer configured, or ValueError saying what is wrong with it."""
    try:
        parts = urlsplit(text.strip())
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"public URL {text!r}: {exc}") from None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        raise ValueError(f"public URL {text!r}: give http:// or https:// and a host name")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise ValueError(
            f"public URL {text!r}: only scheme, host and port (no path, query or user name)"
        )
    return PublicURL(parts.scheme, parts.hostname, port or DEFAULT_PORTS[parts.scheme])


def public_url_from_env() -> PublicURL | None:
    """The public URL in POLICY_TIMELINE_PUBLIC_URL, if set."""
    text = settings.current().public_url
    return parse_public_url(text) if text else None


class PublicOrigin:
    """Fixes the scheme and Host every handler sees: the public URL's, or the bind address.

    With a public URL, a request naming another Host answers 400 (a WebSocket is refused).
    Starlette builds `request.base_url`, `url_for` and its slash redirects from the scope, so
    once the scope says the public URL no handler can emit a URL from what a client sent."""

    def __init__(self, app: ASGIApp, public: PublicURL | None) -> None:
        self.app, self.public = app, public

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or scope["path"] in EXEMPT_PATHS:
            await self.app(scope, receive, send)
            return
        headers = [(k, v) for k, v in scope["headers"] if k != b"host"]
        if self.public is None:
            netloc = _bind_address(scope)
        else:
            sent = next((v for k, v in scope["headers"] if k == b"host"), b"")
            if not self.public.serves(sent.decode("latin-1")):
                await self._refuse(scope, receive, send)
                return
            netloc = self.public.netloc
            secure = self.public.scheme == "https"
            if scope["type"] == "http":
                scope = {**scope, "scheme": self.public.scheme}
            else:
                scope = {**scope, "scheme": "wss" if secure else "ws"}
        if netloc is not None:
            headers.append((b"host", netloc.encode("latin-1")))
        await self.app({**scope, "headers": headers}, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        assert self.public is not None
        message = f"Host: this server answers only as {self.public}"
        response = PlainTextResponse(
            message, status_code=400, headers={"X-Content-Type-Options": "nosniff"}
        )
        await response(scope, receive, send)


def _bind_address(scope: Scope) -> str | None:
    """host:port of the socket the request arrived on (what the server bound), or None."""
    server = scope.get("server")
    if not server:  # a Unix socket: URLs stay relative
        return None
    host, port = server
    host = f"[{host}]" if ":" in host else host
    default = DEFAULT_PORTS.get(scope.get("scheme", "http").replace("ws", "http"), 0)
    return host if port in (None, default) else f"{host}:{port}"
