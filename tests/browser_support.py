"""A real server and Debian's Chromium for the browser tests; nothing leaves this machine."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import uvicorn

from api.cli.main import BUNDLED
from api.http.app import create_app
from api.importing.commands import import_file, import_lines
from bench.embed import CHROMIUM_ARGS, one_page
from bench.http import free_port
from tests.conftest import CHROMIUM, SEED, migrated

__all__ = ["CHROMIUM", "CHROMIUM_ARGS", "parent_page", "running_server"]


@contextmanager
def running_server(
    directory: Path, extra: Sequence[str] = (), *, bundled: bool = False
) -> Iterator[str]:
    """Serve a seeded SQLite store (plus `extra` import lines) with uvicorn in a thread;
    yields its base URL. `bundled`: everything `serve --seed` loads (membership, translations)."""
    store = migrated(f"sqlite:///{directory / 'browser.sqlite3'}")
    for path in BUNDLED if bundled else (SEED,):
        import_file(store, path)
    if extra:
        import_lines(store, list(extra))
    port = free_port()
    config = uvicorn.Config(create_app(store), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:  # waiting for start-up, not asserting on time
        if not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join()
        store.close()


def parent_page(html: str) -> AbstractContextManager[str]:
    """Serve one HTML page from another local origin (a newsroom's article); yields its URL."""
    return one_page(html.encode(), "article.html")
