"""Over loopback HTTP: query latency, throughput against a bare route, and deep pages.

Servers run in subprocesses exactly as deployed (`policy-timeline serve`, one uvicorn
worker); the load generator runs in a process of its own, so on a small machine the server
keeps a core to itself. Every figure is measured in the same run as its baseline.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import os
import pickle
import random
import select
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from sqlalchemy import create_engine, text

from bench import postgraphile
from bench.bare import PATH as BARE_PATH
from bench.generator import TREATIES, countries, decision_id, weapon_id

QUERIES = 1000
CLIENTS = 16
PAGE = 50
DEEP = 4000
STARTUP_SECONDS = 120.0
PROFILE_ENV = "POLICY_TIMELINE_BENCH_PROFILE"
"""A directory: when set, each server runs under cProfile and leaves `<name>-<pid>.prof` there."""

# The server settings of a production deployment (docs/deployment.md). The read path has
# no rate limit (api/http/ratelimit.py limits mutations per API key only), so nothing to lift.
SERVER_ENV = {
    "POLICY_TIMELINE_WRITE_RATE": "60/minute",
    "POLICY_TIMELINE_SQLITE_SYNCHRONOUS": "FULL",
    "POLICY_TIMELINE_POOL_SIZE": "10",
    "POLICY_TIMELINE_MAX_OVERFLOW": "10",
}

ENTRY = (
    "decisionId headline action actor recipient treaty scope weapons { system category }"
    " date { edtf precision earliest latest uncertain approximate } role status position"
    " recordedAt"
)
CONNECTION = f"edges {{ cursor node {{ {ENTRY} }} }} pageInfo {{ hasNextPage endCursor }}"
COUNTRY_PAGE = (
    "query CountryPage($country: String!, $after: String) {"
    f" countryTimeline(country: $country, first: {PAGE}, after: $after) {{ {CONNECTION} }} }}"
)
WEAPON_FIRST = 20
"""A weapon system's page: at 10,000 operations most systems have 20 entries, few have 50."""
WEAPON_PAGE = (
    "query WeaponPage($system: String!) {"
    f" weaponTimeline(system: $system, first: {WEAPON_FIRST}) {{ {CONNECTION} }} }}"
)
DECISION = (
    "query Decision($id: ID!) { decision(id: $id) {"
    " id headline summary action actor recipient treaty status date { edtf display }"
    " decidedOn { edtf } weapons { system category } officials { name office }"
    " sources { publisher title url retrievedOn } history { position eventType recordedAt } } }"
)
TREATY_PARTIES = (
    "query Treaty($id: ID!) { treaty(id: $id) { id name prohibits"
    " parties { country status since } } }"
)


RESPONSE_CACHE_ENV = "POLICY_TIMELINE_RESPONSE_CACHE_ENTRIES"
REQUEST_TIMEOUT = 60.0
"""Longest wait, in the load process, for one HTTP answer (or a connection) before it fails."""
CALL_TIMEOUT = 1800.0
"""Longest wait for one call of the load process to answer (a timed load call is bounded by
its own length plus REQUEST_TIMEOUT instead)."""


# --- servers -----------------------------------------------------------------------------


class Served(str):
    """The base URL of a running server; `pid` is its process, `metrics` its /metrics URL."""

    pid: int
    metrics: str


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _python(module_args: Sequence[str], name: str) -> list[str]:
    """`python -m ...`, under cProfile when PROFILE_ENV names a directory."""
    profile_dir = os.environ.get(PROFILE_ENV)
    if not profile_dir:
        return [sys.executable, "-m", *module_args]
    out = Path(profile_dir) / f"{name}-{os.getpid()}-{time.monotonic_ns()}.prof"
    return [sys.executable, "-m", "bench.http", "--profile", str(out), *module_args]


def _profiled(out: str, module: str, args: list[str]) -> None:
    """Run `module` as `python -m` would, under cProfile; SIGTERM ends it with the profile
    written (uvicorn re-raises the signal after its graceful shutdown)."""
    import cProfile
    import runpy

    def stop(*_: Any) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    sys.argv = [module, *args]
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    except SystemExit:
        pass
    finally:
        profiler.disable()
        profiler.dump_stats(out)


def _get_json(base: str, path: str, timeout: float = 5.0) -> tuple[int, Any]:
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        conn.close()


def _child_env() -> dict[str, str]:
    """Our environment, with this checkout importable from any working directory."""
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    return env


@contextlib.contextmanager
def _running(
    args: list[str], port: int, name: str, extra_env: dict[str, str] | None = None
) -> Iterator[Served]:
    """Start `args` (a server on `port`), wait until /healthz is ok and caught up, stop it."""
    env = {**_child_env(), **SERVER_ENV, **(extra_env or {})}
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(
            _python(args, name), stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env
        )
        try:
            base = Served(f"http://127.0.0.1:{port}")
            base.pid = proc.pid
            deadline = time.monotonic() + STARTUP_SECONDS
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} exited with {proc.returncode}: {_tail(log)}")
                with contextlib.suppress(OSError, ValueError):
                    status, body = _get_json(base, "/healthz", timeout=2.0)
                    if status == 200 and body.get("ok") and not body.get("lag"):
                        break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{name} did not become healthy: {_tail(log)}")
                time.sleep(0.05)
            yield base
        finally:
            _stop(proc)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)  # graceful: uvicorn finishes, cProfile writes
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _tail(log: Any, size: int = 2000) -> str:
    log.seek(0)
    return str(log.read()[-size:].decode(errors="replace"))


@contextlib.contextmanager
def serve(db_url: str, *, response_cache: bool = True) -> Iterator[Served]:
    """Our server (`policy-timeline serve --production`, one worker) on a free loopback port.

    `serve` brings the projections up to date before it listens; no seed data is loaded.
    `response_cache=False` turns the GraphQL response cache off (on by default, as deployed)."""
    port, metrics = free_port(), f"127.0.0.1:{free_port()}"
    args = ["api.cli", "serve", "--db", db_url, "--port", str(port), "--production"]
    args += ["--metrics-addr", metrics]  # production serves /metrics only apart
    # No line per request, as PostGraphile runs with --disable-query-log (see "Access log" in
    # docs/performance.md for what the line costs).
    args += ["--no-access-log"]
    extra = {} if response_cache else {RESPONSE_CACHE_ENV: "0"}
    with _running(args, port, "ours" if response_cache else "uncached", extra) as base:
        base.metrics = f"http://{metrics}/metrics"
        yield base


@contextlib.contextmanager
def serve_bare(db_url: str) -> Iterator[Served]:
    """The bare baseline route (bench.bare), one uvicorn worker, on a free loopback port."""
    port = free_port()
    with _running(["bench.bare", "--db", db_url, "--port", str(port)], port, "bare") as base:
        yield base


@contextlib.contextmanager
def serve_postgraphile(db_url: str) -> Iterator[Served]:
    """PostGraphile 4 over a view of the same store's current timeline rows (PostgreSQL)."""
    port = free_port()
    with postgraphile.running(db_url, port) as proc:
        base = Served(f"http://127.0.0.1:{port}")
        base.pid = proc.pid
        yield base


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of a process so far (Linux /proc), None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- the load generator (runs in its own process) ----------------------------------------


def _graphql_request(host: str, query: str, variables: dict[str, Any]) -> bytes:
    body = json.dumps({"query": query, "variables": variables}, separators=(",", ":")).encode()
    head = (
        f"POST /graphql HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Accept: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def _bare_request(host: str, country: str, after: str | None) -> bytes:
    target = f"{BARE_PATH}?country={quote(country)}&first={PAGE}"
    if after:
        target += f"&after={quote(after)}"
    return f"GET {target} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()


def page_request(target: str, base: str, country: str, after: str | None = None) -> bytes:
    """One country page as raw HTTP/1.1: a GraphQL POST (`ours`, `postgraphile`) or the bare
    GET (`bare`)."""
    host = urlsplit(base).netloc
    if target == "ours":
        return _graphql_request(host, COUNTRY_PAGE, {"country": country, "after": after})
    if target == "postgraphile":
        variables = {"key": country, "first": PAGE, "after": after}
        return _graphql_request(host, postgraphile.PAGE_QUERY, variables)
    return _bare_request(host, country, after)


def page_of(target: str, body: bytes) -> dict[str, Any]:
    """The connection (edges, pageInfo) in an answer of any server; raises on errors."""
    if target == "postgraphile":
        return postgraphile.page_of(body)
    doc = json.loads(body)
    if target == "ours":
        if doc.get("errors"):
            raise RuntimeError(f"GraphQL errors: {doc['errors']}")
        return dict(doc["data"]["countryTimeline"])
    return dict(doc)


class _Connection:
    """A minimal keep-alive HTTP/1.1 client connection over asyncio streams."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, base: str = ""
    ) -> None:
        self.reader, self.writer, self.base = reader, writer, base

    @classmethod
    async def open(cls, base: str) -> _Connection:
        parts = urlsplit(base)
        async with asyncio.timeout(REQUEST_TIMEOUT):
            reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return cls(reader, writer, base)

    async def send(self, raw: bytes) -> tuple[int, bytes]:
        """One request's status and body; a server silent for REQUEST_TIMEOUT fails it."""
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT):
                return await self._send(raw)
        except TimeoutError:
            line = raw.split(b"\r\n", 1)[0].decode(errors="replace")
            raise RuntimeError(
                f"no answer to {line} within {REQUEST_TIMEOUT:.0f} s from {self.base}"
            ) from None

    async def _send(self, raw: bytes) -> tuple[int, bytes]:
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        lower = head.lower()
        at = lower.find(b"\r\ncontent-length:")
        if at >= 0:
            end = lower.index(b"\r\n", at + 2)
            return status, await self.reader.readexactly(int(lower[at + 17 : end]))
        if b"transfer-encoding: chunked" not in lower:
            raise RuntimeError(f"response without a length: {head!r}")
        chunks: list[bytes] = []
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
            chunk = await self.reader.readexactly(size + 2)
            if size == 0:
                return status, b"".join(chunks)
            chunks.append(chunk[:-2])

    def close(self) -> None:
        self.writer.close()


def _is_error(target: str, status: int, body: bytes) -> bool:
    return status != 200 or (target != "bare" and b'"errors":' in body)


async def _first_pages(
    target: str, base: str, codes: list[str], clients: int
) -> dict[str, dict[str, Any]]:
    """The first page of every country (decision ids, end cursor), fetched concurrently."""
    pending = list(reversed(codes))
    pages: dict[str, dict[str, Any]] = {}

    async def worker() -> None:
        conn = await _Connection.open(base)
        try:
            while pending:
                code = pending.pop()
                status, body = await conn.send(page_request(target, base, code))
                if _is_error(target, status, body):
                    raise RuntimeError(f"{target} first page of {code}: {status} {body[:500]!r}")
                page = page_of(target, body)
                pages[code] = {
                    "ids": [e["node"]["decisionId"] for e in page["edges"]],
                    "next": page["pageInfo"]["endCursor"]
                    if page["pageInfo"]["hasNextPage"]
                    else None,
                }
        finally:
            conn.close()

    await asyncio.gather(*(worker() for _ in range(min(clients, len(codes)))))
    return pages


async def _load(
    target: str,
    base: str,
    requests: list[bytes],
    clients: int,
    warmup: float,
    seconds: float,
    seed: int,
    server_pid: int,
) -> dict[str, Any]:
    """`clients` keep-alive connections sending random `requests` back to back."""
    rng = random.Random(seed)
    clock = time.perf_counter  # the event loop's clock may tick in whole milliseconds
    start = clock()
    measure_from, stop_at = start + warmup, start + warmup + seconds
    samples: list[float] = []
    errors: list[str] = []

    async def client() -> None:
        conn = await _Connection.open(base)
        try:
            while True:
                raw = rng.choice(requests)
                sent = clock()
                if sent >= stop_at:
                    return
                status, body = await conn.send(raw)
                done = clock()
                if sent >= measure_from:
                    samples.append(done - sent)
                    if _is_error(target, status, body):
                        errors.append(f"{status} {body[:300]!r}")
                elif _is_error(target, status, body):
                    errors.append(f"(warm-up) {status} {body[:300]!r}")
        finally:
            conn.close()

    cpu: dict[str, float | None] = {}

    async def meter() -> None:  # CPU of both sides over the measured window only
        await asyncio.sleep(warmup)
        cpu["client"], cpu["server"] = time.process_time(), _cpu_seconds(server_pid)
        await asyncio.sleep(seconds)
        client_cpu, server_cpu = time.process_time(), _cpu_seconds(server_pid)
        cpu["client"] = client_cpu - (cpu["client"] or 0.0)
        if server_cpu is not None and cpu["server"] is not None:
            cpu["server"] = server_cpu - cpu["server"]

    await asyncio.gather(meter(), *(client() for _ in range(clients)))
    return {"samples": samples, "errors": errors, "cpu": cpu}


async def _sequential(base: str, requests: list[bytes]) -> dict[str, Any]:
    """Send `requests` one after the other on one connection; latency of each."""
    conn = await _Connection.open(base)
    samples, errors = [], []
    try:
        for raw in requests:
            sent = time.perf_counter()
            status, body = await conn.send(raw)
            samples.append(time.perf_counter() - sent)
            if _is_error("ours", status, body):
                errors.append(f"{status} {body[:300]!r}")
    finally:
        conn.close()
    return {"samples": samples, "errors": errors}


def _run(coro: Any) -> Any:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvicorn[standard] brings it
        return asyncio.run(coro)
    return uvloop.run(coro)


def first_pages_in_child(
    target: str, base: str, seed: int, clients: int
) -> dict[str, dict[str, Any]]:
    """Runs in the load process: the first page of every country (ids, next cursor)."""
    return dict(_run(_first_pages(target, base, countries(seed), clients)))


def load_in_child(
    target: str,
    base: str,
    server_pid: int,
    requests: list[bytes],
    clients: int,
    warmup: float,
    seconds: float,
    seed: int,
) -> dict[str, Any]:
    """Runs in the load process: the timed mix of `requests`."""
    return dict(_run(_load(target, base, requests, clients, warmup, seconds, seed, server_pid)))


def sequential_in_child(base: str, requests: list[bytes]) -> dict[str, Any]:
    return dict(_run(_sequential(base, requests)))


def load_timeout(warmup: float, seconds: float) -> float:
    """The bound of one timed load call: its length, the last answers' wait and a margin."""
    return warmup + seconds + REQUEST_TIMEOUT + 60.0


class LoadProcess:
    """The client side in a process of its own (`python -m bench.http --load`): a fresh
    interpreter, whatever the caller's main module; calls and results travel pickled.

    Every call is bounded: the request is written and the answer read against a deadline
    (`timeout`), and a load process that does not answer in time is killed and its stderr
    (a file, never a pipe nobody reads) shown in the error. Inside it, every HTTP request is
    bounded by REQUEST_TIMEOUT, so a server that stops answering fails the call loudly."""

    def __init__(self) -> None:
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.http", "--load"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            env=_child_env(),
            bufsize=0,
        )
        self.pid = self.proc.pid
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.inbox, self.outbox = self.proc.stdin.fileno(), self.proc.stdout.fileno()
        os.set_blocking(self.inbox, False)  # writes wait in select, against the deadline
        self.call(os.getpid, timeout=STARTUP_SECONDS)  # started and imported before timing

    def call(self, function: Any, *args: Any, timeout: float = CALL_TIMEOUT) -> Any:
        """`function(*args)` run in the load process, within `timeout` seconds; its
        exception is raised here, as is a RuntimeError when it does not answer in time."""
        name = f"{function.__module__}.{function.__name__}"
        deadline = time.monotonic() + timeout
        try:
            _send_frame(self.inbox, (function.__module__, function.__name__, args), deadline)
            ok, value = _receive_frame(self.outbox, deadline)
        except TimeoutError:
            # Its Python stacks first (faulthandler, on SIGUSR1, into its stderr): where it is.
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.proc.pid, signal.SIGUSR1)
                time.sleep(1.0)
            self._kill()
            called = ", ".join(a for a in args[:2] if isinstance(a, str))
            raise RuntimeError(
                f"the load process did not answer {name}({called}) within {timeout:.0f} s"
                f" (killed); its stderr: {_tail(self.log, 6000)}"
            ) from None
        except (EOFError, BrokenPipeError):
            self._kill()
            raise RuntimeError(
                f"the load process ended during {name}; its stderr: {_tail(self.log)}"
            ) from None
        if not ok:
            raise RuntimeError(f"in the load process: {value}")
        return value

    def _kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=20)

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=20)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self.log.close()


def _send_frame(fd: int, value: Any, deadline: float) -> None:
    """Write one length-prefixed pickle to the (non-blocking) pipe `fd` before `deadline`."""
    data = pickle.dumps(value)
    view = memoryview(len(data).to_bytes(8, "big") + data)
    while view:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        _, writable, _ = select.select([], [fd], [], remaining)
        if writable:
            try:
                view = view[os.write(fd, view) :]
            except BlockingIOError:
                continue


def _receive_exactly(fd: int, size: int, deadline: float) -> bytes:
    chunks, got = [], 0
    while got < size:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        readable, _, _ = select.select([fd], [], [], remaining)
        if not readable:
            continue
        chunk = os.read(fd, min(size - got, 1 << 20))
        if not chunk:
            raise EOFError("the load process ended")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def _receive_frame(fd: int, deadline: float) -> Any:
    """Read one length-prefixed pickle from the pipe `fd`, all of it before `deadline`."""
    size = int.from_bytes(_receive_exactly(fd, 8, deadline), "big")
    return pickle.loads(_receive_exactly(fd, size, deadline))


def _write_frame(fd: int, value: Any) -> None:
    """Write one length-prefixed pickle to the pipe `fd`, every byte by `os.write`.

    Not through `sys.stdout.buffer`: after a uvloop run in this process, a buffered write
    of an answer larger than the pipe returned having sent only whole 64 KiB pipe buffers,
    and the caller waited for the rest forever (tests/test_bench_load_process.py)."""
    data = pickle.dumps(value)
    view = memoryview(len(data).to_bytes(8, "big") + data)
    while view:
        try:
            view = view[os.write(fd, view) :]
        except BlockingIOError:  # should the pipe ever be left non-blocking: wait for room
            select.select([], [fd], [])


def _read_frame(stream: Any) -> Any:
    size = stream.read(8)
    if len(size) != 8:
        raise EOFError("the load process ended")
    return pickle.loads(stream.read(int.from_bytes(size, "big")))


def _serve_calls() -> None:
    """The load process: run each call read from stdin, answer on stdout, until EOF."""
    import faulthandler
    import importlib
    import traceback

    faulthandler.register(signal.SIGUSR1, all_threads=True)  # the caller asks where it hangs
    inbox, outbox = sys.stdin.buffer, sys.stdout.fileno()
    sys.stdout = sys.stderr  # nothing else may write into the answer stream
    while True:
        try:
            module, name, args = _read_frame(inbox)
        except EOFError:
            return
        try:
            function = getattr(importlib.import_module(module), name)
            answer: tuple[bool, Any] = (True, function(*args))
        except Exception:
            answer = (False, traceback.format_exc(limit=5))
        _write_frame(outbox, answer)


@contextlib.contextmanager
def load_process() -> Iterator[LoadProcess]:
    """One separate process for the client side, stopped afterwards."""
    process = LoadProcess()
    try:
        yield process
    finally:
        process.close()


# --- figures -----------------------------------------------------------------------------


def percentiles(samples: list[float]) -> dict[str, float]:
    """p50 and p99 in milliseconds."""
    if len(samples) < 2:
        raise RuntimeError(f"too few samples ({len(samples)}) for percentiles")
    cuts = statistics.quantiles(samples, n=100)
    return {"p50_ms": round(cuts[49] * 1000, 3), "p99_ms": round(cuts[98] * 1000, 3)}


def _mix(target: str, base: str, pages: dict[str, dict[str, Any]]) -> list[bytes]:
    """First pages of every country and second pages of those that have one."""
    seconds = [(c, p["next"]) for c, p in pages.items() if p["next"]]
    return [page_request(target, base, c) for c in pages] + [
        page_request(target, base, c, after) for c, after in seconds
    ]


def _figures(runs: list[dict[str, Any]], seconds: float) -> dict[str, Any]:
    samples = [x for run in runs for x in run["samples"]]
    client = sum(run["cpu"]["client"] for run in runs)
    server = [run["cpu"]["server"] for run in runs]
    return {
        "requests": len(samples),
        "requests_per_s": round(len(samples) / seconds, 1),
        **percentiles(samples),
        "errors": 0,
        # How much of a core each side used while measured: the server should be near 1.0.
        "client_cpu_share": round(client / seconds, 3),
        "server_cpu_share": None if None in server else round(sum(server) / seconds, 3),
        # Requests per second of server CPU: steadier than req/s when other work shares the
        # machine (a server that gets less than its core is slowed, not made more costly).
        "requests_per_server_cpu_s": None
        if None in server or not sum(server)
        else round(len(samples) / sum(server), 1),
        "server_cpu_ms_per_request": None
        if None in server or not samples
        else round(sum(server) * 1000 / len(samples), 3),
    }


def _cache_counts(metrics: str) -> dict[str, float]:
    """The response cache's hit, miss and bypass counters from the server's /metrics URL."""
    parts = urlsplit(metrics)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=5.0)
    try:
        conn.request("GET", parts.path)
        text = conn.getresponse().read().decode()
    finally:
        conn.close()
    counts = {}
    for line in text.splitlines():
        if line.startswith("policy_timeline_response_cache_requests_total{"):
            label, _, value = line.partition("} ")
            counts[label.split('"')[1]] = float(value)
    return counts


def http_throughput(
    db_url: str,
    seed: int = 0,
    clients: int = CLIENTS,
    seconds: float = 10.0,
    warmup: float = 2.0,
    rounds: int = 2,
    *,
    uncached: bool = True,
    postgraphile: bool = False,
) -> dict[str, Any]:
    """countryTimeline pages per second: our server against the bare route, same store.

    `clients` keep-alive connections from a separate process request first pages and second
    pages (the first page's endCursor) of random countries of `countries(seed)`, `seconds`
    per server after `warmup`, alternating between the servers in `rounds` slices so that
    both see the same background load. Any non-200 answer or GraphQL error raises; both
    servers must answer the same decisions on every country's first page.

    `ratio` is our server as deployed (the response cache on: after the warm-up nearly
    every page is a hit, `cache` gives the counts); with `uncached` a second server of ours
    with the cache off runs in the same rounds, giving `uncached` and `uncached_ratio`. With
    `postgraphile` (PostgreSQL), PostGraphile 4 over the same rows runs in the same rounds
    too and must answer the same decisions: `postgraphile` and ratios against it."""
    wanted = {"ours": True, "uncached": uncached, "postgraphile": postgraphile, "bare": True}
    names = tuple(n for n, on in wanted.items() if on)
    kinds = {"ours": "ours", "uncached": "ours", "postgraphile": "postgraphile", "bare": "bare"}
    with contextlib.ExitStack() as stack:
        pool = stack.enter_context(load_process())
        bases = {"ours": stack.enter_context(serve(db_url))}
        if uncached:
            bases["uncached"] = stack.enter_context(serve(db_url, response_cache=False))
        if postgraphile:
            bases["postgraphile"] = stack.enter_context(serve_postgraphile(db_url))
        bases["bare"] = stack.enter_context(serve_bare(db_url))
        pages = {
            t: pool.call(first_pages_in_child, kinds[t], bases[t], seed, clients) for t in names
        }
        mixes = {t: _mix(kinds[t], bases[t], pages[t]) for t in names}
        runs: dict[str, list[dict[str, Any]]] = {t: [] for t in names}
        for i in range(rounds):
            for t in names:
                ramp = warmup if i == 0 else min(warmup, 0.5)
                run = pool.call(
                    load_in_child,
                    kinds[t],
                    bases[t],
                    bases[t].pid,
                    mixes[t],
                    clients,
                    ramp,
                    seconds / rounds,
                    seed + i,
                    timeout=load_timeout(ramp, seconds / rounds),
                )
                if run["errors"]:
                    raise RuntimeError(
                        f"{t}: {len(run['errors'])} errors, first: {run['errors'][0]}"
                    )
                runs[t].append(run)
        cache = _cache_counts(bases["ours"].metrics)
    ids = {t: {c: p["ids"] for c, p in pages[t].items()} for t in names}
    for t in names:
        differ = sorted(c for c in ids[t] if ids[t][c] != ids["bare"].get(c))
        if differ or len(ids[t]) != len(ids["bare"]):
            raise RuntimeError(f"the bare route answers other rows than {t} for {differ[:5]}")
    figures = {t: _figures(runs[t], seconds) for t in names}
    ours, bare = figures["ours"], figures["bare"]

    def cpu_ratio(side: dict[str, Any]) -> float | None:
        if side["requests_per_server_cpu_s"] is None or bare["requests_per_server_cpu_s"] is None:
            return None
        return round(side["requests_per_server_cpu_s"] / bare["requests_per_server_cpu_s"], 3)

    result: dict[str, Any] = {
        "clients": clients,
        "seconds": seconds,
        "rounds": rounds,
        "countries": len(ids["ours"]),
        "second_pages": sum(1 for p in pages["ours"].values() if p["next"]),
        "same_rows": True,
        "ours": ours,
        "bare": bare,
        "requests_per_s": ours["requests_per_s"],
        "baseline_requests_per_s": bare["requests_per_s"],
        "ratio": round(ours["requests_per_s"] / bare["requests_per_s"], 3),
        "cpu_ratio": cpu_ratio(ours),
        "cache": {
            **cache,
            "hit_rate": round(cache.get("hit", 0) / max(1.0, sum(cache.values())), 3),
        },
    }
    if uncached:
        result["uncached"] = figures["uncached"]
        result["uncached_ratio"] = round(
            figures["uncached"]["requests_per_s"] / bare["requests_per_s"], 3
        )
        result["uncached_cpu_ratio"] = cpu_ratio(figures["uncached"])
    if postgraphile:
        other = figures["postgraphile"]
        result["postgraphile"] = other
        result["postgraphile_ratio"] = round(other["requests_per_s"] / bare["requests_per_s"], 3)
        result["postgraphile_cpu_ratio"] = cpu_ratio(other)
        result["ours_over_postgraphile"] = round(
            ours["requests_per_s"] / other["requests_per_s"], 3
        )
        if uncached:
            result["uncached_over_postgraphile"] = round(
                figures["uncached"]["requests_per_s"] / other["requests_per_s"], 3
            )
    return result


def busiest(db_url: str) -> tuple[str, int]:
    """The country with the most visible timeline rows, and how many."""
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            row = conn.execute(
                text(
                    "SELECT \"key\", COUNT(*) FROM pt_timeline WHERE kind = 'country'"
                    " AND valid_to IS NULL AND status != 'RETRACTED'"
                    ' GROUP BY "key" ORDER BY COUNT(*) DESC, "key" LIMIT 1'
                )
            ).one()
    finally:
        engine.dispose()
    return str(row[0]), int(row[1])


def _cursor_at(db_url: str, country: str, row: int) -> str:
    """The cursor of the `row`-th row (1-based) of the country's timeline, as the API makes it."""
    from projections.readmodels.queries import encode_cursor

    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            earliest, position = conn.execute(
                text(
                    "SELECT earliest, first_position FROM pt_timeline WHERE kind = 'country'"
                    " AND \"key\" = :key AND valid_to IS NULL AND status != 'RETRACTED'"
                    " ORDER BY earliest, first_position LIMIT 1 OFFSET :skip"
                ),
                {"key": country, "skip": row - 1},
            ).one()
    finally:
        engine.dispose()
    day = earliest if isinstance(earliest, str) else earliest.isoformat()
    return encode_cursor(day, int(position))


def deep_page(db_url: str, depth: int = DEEP, count: int = 200) -> dict[str, Any]:
    """A countryTimeline page `depth` rows in against the first page, over HTTP, one client.

    Uses the busiest country; when it has fewer than `depth` + 50 rows, the deepest full
    page it has (`depth` in the answer says which)."""
    country, rows = busiest(db_url)
    used = max(1, min(depth, rows - PAGE))
    if rows <= PAGE:
        raise RuntimeError(f"the busiest country has only {rows} rows: no second page")
    cursor = _cursor_at(db_url, country, used)
    # The same two requests again and again: without the response cache, or it would answer.
    with load_process() as pool, serve(db_url, response_cache=False) as base:
        first = page_request("ours", base, country)
        deep = page_request("ours", base, country, cursor)
        plan = [first, deep] * count  # interleaved: both see the same conditions
        raw = pool.call(sequential_in_child, base, [first, deep] * 20 + plan)
    if raw["errors"]:
        raise RuntimeError(f"deep page: {len(raw['errors'])} errors, first: {raw['errors'][0]}")
    timed = raw["samples"][40:]
    first_lat, deep_lat = percentiles(timed[0::2]), percentiles(timed[1::2])
    return {
        "country": country,
        "rows": rows,
        "depth": used,
        "first": first_lat,
        "deep": deep_lat,
        "ratio": round(deep_lat["p50_ms"] / first_lat["p50_ms"], 3),
    }


def _picks(
    operations: int, seed: int, count: int, pools: dict[str, list[str]] | None = None
) -> list[tuple[str, str, str, str]]:
    """(country, weapon system, decision id, treaty) per request, as reads.query_latencies.

    `pools` (see `reads.full_pages`) are the countries and systems to pick from."""
    rng = random.Random(seed)
    codes = (pools or {}).get("countries") or countries(seed)
    systems = (pools or {}).get("systems") or [
        weapon_id(i) for i in range(max(1, min(300, operations // 5)))
    ]
    decisions = max(1, int((operations - 304) * 0.6))
    return [
        (
            rng.choice(codes),
            rng.choice(systems),
            decision_id(rng.randrange(decisions)),
            rng.choice(TREATIES)[0],
        )
        for _ in range(count)
    ]


def _timed(pool: LoadProcess, name: str, base: str, plan: list[bytes]) -> dict[str, float]:
    raw = pool.call(sequential_in_child, base, plan[:20] + plan)  # 20 to warm up
    if raw["errors"]:
        raise RuntimeError(f"{name}: {len(raw['errors'])} errors, first: {raw['errors'][0]}")
    return percentiles(raw["samples"][20:])


def http_latencies(
    db_url: str,
    operations: int,
    seed: int = 0,
    count: int = QUERIES,
    *,
    response_cache: bool = True,
    pools: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    """p50/p99 of `count` sequential requests (one client, keep-alive) per query, over HTTP.

    countryTimeline first 50, weaponTimeline(system:) first 50, decision(id:) and
    treaty(id:) { parties }, ids picked as the in-process latency bench picks them; and the
    bare route's first page of the same countries, the baseline of the first. Requests
    repeat (the picks are random), so with `response_cache` (as deployed) most are hits."""
    picks = _picks(operations, seed, count, pools)
    result: dict[str, Any] = {}
    with load_process() as pool:
        with serve(db_url, response_cache=response_cache) as base:
            host = urlsplit(base).netloc
            plans = {
                "country_timeline": [page_request("ours", base, p[0]) for p in picks],
                "weapon_timeline": [
                    _graphql_request(host, WEAPON_PAGE, {"system": p[1]}) for p in picks
                ],
                "decision": [_graphql_request(host, DECISION, {"id": p[2]}) for p in picks],
                "treaty_parties": [
                    _graphql_request(host, TREATY_PARTIES, {"id": p[3]}) for p in picks
                ],
            }
            for name, plan in plans.items():
                result[name] = _timed(pool, name, base, plan)
        with serve_bare(db_url) as base:
            plan = [page_request("bare", base, p[0]) for p in picks]
            result["country_timeline_bare"] = _timed(pool, "bare", base, plan)
    result["country_timeline_over_bare"] = round(
        result["country_timeline"]["p50_ms"] / result["country_timeline_bare"]["p50_ms"], 3
    )
    return result


def run_http(db_url: str, operations: int, seed: int = 0, seconds: float = 10.0) -> dict[str, Any]:
    """Every HTTP figure on one store: latencies, throughput against the bare route, deep page."""
    return {
        "latency": http_latencies(db_url, operations, seed),
        "throughput": http_throughput(db_url, seed, seconds=seconds),
        "deep_page": deep_page(db_url),
    }


if __name__ == "__main__":
    if sys.argv[1:2] == ["--profile"]:
        _profiled(sys.argv[2], sys.argv[3], sys.argv[4:])
    elif sys.argv[1:2] == ["--load"]:
        _serve_calls()
