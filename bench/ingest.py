"""Ingest: the full import path against raw eventsourcing saves of the same events."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from eventsourcing.persistence import Notification

from api.importing.commands import BATCH_LINES, import_file
from bench.generator import lines
from domain.application import PolicyRecord
from domain.commands import parse_input
from projections.service import Store

READ_BATCH = 500


def notifications(app: Any, limit: int = READ_BATCH) -> Iterator[list[Notification]]:
    """The whole notification log of `app`, a page at a time (memory flat in N)."""
    start = 1
    while True:
        page = list(app.recorder.select_notifications(start=start, limit=limit))
        if not page:
            return
        yield page
        start = page[-1].id + 1


def baseline_app(url: str) -> PolicyRecord:
    """The same application on eventsourcing-sqlalchemy's own factory: no chain, no projections."""
    return PolicyRecord(
        env={"PERSISTENCE_MODULE": "eventsourcing_sqlalchemy", "SQLALCHEMY_URL": url}
    )


def measure(store_url: str, baseline_url: str, n: int, seed: int) -> dict[str, Any]:
    """Import a file of `n` generated operations, then save the same events raw; events/s of
    each. The file is written first, untimed: `import FILE` reads it as users do."""
    store = Store(store_url)
    store.migrate()
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as folder:
        path = Path(folder) / "operations.jsonl"
        with path.open("w", encoding="utf-8") as handle:
            handle.writelines(f"{line}\n" for line in lines(n, seed))
        cpu_before = _cpu()
        start = time.perf_counter()
        report = import_file(store, path)
        import_seconds = time.perf_counter() - start
        cpu = [round(after - before, 3) for after, before in zip(_cpu(), cpu_before, strict=True)]
        parse_seconds = parse_floor(path)
    if report.errors:
        raise RuntimeError(f"generated data was rejected: {report.errors[:3]}")
    events = store.head()
    raw = baseline_app(baseline_url)
    save_seconds = 0.0
    for page in notifications(store.app, BATCH_LINES):
        decoded = [store.app.mapper.to_domain_event(n) for n in page]
        start = time.perf_counter()
        raw.save(*decoded)
        save_seconds += time.perf_counter() - start
    raw.close()
    store.close()
    return {
        "operations": n,
        "events": events,
        "seconds": round(import_seconds, 3),
        "events_per_s": round(events / import_seconds, 1),
        "baseline_events_per_s": round(events / save_seconds, 1),
        "ratio": round(save_seconds / import_seconds, 3),
        "cpu_seconds": cpu[0],
        "projecting_cpu_seconds": cpu[1],
        "save_seconds": round(save_seconds, 3),
        "parse_seconds": round(parse_seconds, 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def _cpu() -> tuple[float, float]:
    """CPU seconds (user + system) of this process, and of the child processes it waited for
    (an import's projecting process on PostgreSQL)."""
    own, children = (
        resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def parse_floor(path: Path) -> float:
    """Seconds to read every line of `path` as JSON and validate its input (the contract's
    models), the least an import must do to a line before anything else."""
    start = time.perf_counter()
    with path.open(encoding="utf-8") as handle:
        for text in handle:
            operation = json.loads(text)
            parse_input(operation["op"], operation["input"])
    return time.perf_counter() - start


def measure_in_child(store_url: str, baseline_url: str, n: int, seed: int) -> dict[str, Any]:
    """Run `measure` in a fresh process, so its peak memory is its own."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.ingest", store_url, baseline_url, str(n), str(seed)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"ingest of {n} operations failed:\n{done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


if __name__ == "__main__":
    store_url, baseline_url, n, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    print(json.dumps(measure(store_url, baseline_url, n, seed)))
