"""/metrics on its own listen address, apart from the public port."""

from __future__ import annotations

import socket
import threading
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import urlsplit
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, make_wsgi_app

from projections import settings

METRICS_ADDR_ENV = settings.env_name("metrics_addr")


def parse_metrics_addr(text: str) -> tuple[str, int]:
    """HOST:PORT (an IPv6 host in brackets), or ValueError saying what is wrong."""
    try:
        parts = urlsplit(f"//{text.strip()}")
        host, port = parts.hostname, parts.port
    except ValueError as exc:
        raise ValueError(f"metrics address {text!r}: {exc}") from None
    if not host or port is None or parts.path or parts.username:
        raise ValueError(f"metrics address {text!r}: give HOST:PORT, such as 127.0.0.1:9100")
    return host, port


def metrics_addr_from_env() -> tuple[str, int] | None:
    """The address in POLICY_TIMELINE_METRICS_ADDR, if set."""
    text = settings.current().metrics_addr
    return parse_metrics_addr(text) if text else None


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True

    def server_bind(self) -> None:
        # `serve --workers N` starts N processes, each with its own counters: they share the
        # address, and the kernel hands each scrape to one of them, as on the public port.
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        super().server_bind()


class _Server6(_Server):
    address_family = socket.AF_INET6


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Scrapes are not logged: one every few seconds would drown the server's log."""


def _nosniff(app: Any) -> Any:
    """The WSGI app with `X-Content-Type-Options: nosniff` on each answer, as on the public port."""

    def wrapped(environ: dict[str, Any], start_response: Any) -> Any:
        def starting(status: str, headers: list[tuple[str, str]], *exc: Any) -> Any:
            return start_response(status, [*headers, ("X-Content-Type-Options", "nosniff")], *exc)

        return app(environ, starting)

    return wrapped


class MetricsListener:
    """A small threaded HTTP server answering the registry's metrics at `address`."""

    def __init__(self, registry: CollectorRegistry, address: tuple[str, int]) -> None:
        host, port = address
        server_class = _Server6 if ":" in host else _Server
        self.server = make_server(
            host, port, _nosniff(make_wsgi_app(registry)), server_class, handler_class=_Quiet
        )
        self.thread = threading.Thread(
            target=self.server.serve_forever, name="metrics", daemon=True
        )

    @property
    def port(self) -> int:
        """The port bound (useful when 0 asked for any free one)."""
        return int(self.server.server_address[1])

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()
