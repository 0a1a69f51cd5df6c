"""Prometheus metrics: requests, latencies, log head, projection lag."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from projections.service import Store

ROUTES = ("/graphql", "/embed/timeline", "/oembed", "/timelinejs.json", "/healthz", "/metrics")


class StoreCollector(Collector):
    """Reads the log head and projection positions at scrape time."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def collect(self) -> Iterator[Metric]:
        try:
            head, projected = self.store.head(), self.store.read_position()
        except Exception:  # an outage: report it instead of failing the scrape
            up = GaugeMetricFamily("policy_timeline_database_up", "1 if the database answers")
            up.add_metric([], 0)
            yield up
            return
        up = GaugeMetricFamily("policy_timeline_database_up", "1 if the database answers")
        up.add_metric([], 1)
        yield up
        appended = CounterMetricFamily(
            "policy_timeline_events_appended", "Events in the log (rate() gives the append rate)"
        )
        appended.add_metric([], head)
        yield appended
        lag = GaugeMetricFamily(
            "policy_timeline_projection_lag_positions", "Log positions not yet projected"
        )
        lag.add_metric([], head - projected)
        yield lag


class Metrics:
    """One registry per application, with the request middleware and the /metrics view."""

    def __init__(self, store: Store) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "policy_timeline_http_requests",
            "HTTP requests",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "policy_timeline_http_request_seconds",
            "HTTP request latency",
            ["route"],
            registry=self.registry,
        )
        self.registry.register(StoreCollector(store))

    async def view(self, _: Request) -> Response:
        return Response(generate_latest(self.registry), media_type="text/plain; version=0.0.4")

    def middleware(self, app: ASGIApp) -> ASGIApp:
        """Count and time every HTTP request by route."""

        async def measured(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            route = scope["path"] if scope["path"] in ROUTES else "other"
            status: dict[str, Any] = {"code": 500}

            async def capture(message: Message) -> None:
                if message["type"] == "http.response.start":
                    status["code"] = message["status"]
                await send(message)

            started = time.perf_counter()
            try:
                await app(scope, receive, capture)
            finally:
                self.latency.labels(route).observe(time.perf_counter() - started)
                self.requests.labels(route, scope["method"], str(status["code"])).inc()

        return measured
