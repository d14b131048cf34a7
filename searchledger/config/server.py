"""The production web server: gunicorn serving ``config.wsgi`` from pre-forked worker
processes (``searchledger serve``).

Why processes: a Python process runs one thread of Python at a time, and a request here is
mostly Python (templates, the ledger's hashing, the ORM), so throughput on N cores comes
from N or more processes. Each worker holds its own database connections; the ledger's
writers are serialised by the database (SQLite's ``BEGIN IMMEDIATE`` with a busy timeout,
PostgreSQL's row lock on the tree head), not by the server. gunicorn restarts a worker that
dies or hangs for longer than ``timeout`` and stops gracefully on SIGTERM (requests in
flight finish). Put it behind a TLS-terminating proxy (docs/operations.md).
"""

from __future__ import annotations

import os
from typing import Any

from gunicorn.app.base import BaseApplication
from typing_extensions import override

__all__ = ["default_web_workers", "serve_with_gunicorn"]

# More workers than this only add memory and contention for the ledger's write lock.
_MAX_DEFAULT_WORKERS = 9
_GRACEFUL_SECONDS = 30


def default_web_workers() -> int:
    """gunicorn's rule of thumb, two workers per core plus one (one waits on the database
    while another computes), capped."""
    return min(2 * (os.cpu_count() or 1) + 1, _MAX_DEFAULT_WORKERS)


class _Application(BaseApplication):  # type: ignore[misc]  # gunicorn has no type information
    """gunicorn's embedding interface: options from the command line, the app from wsgi."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    @override
    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    @override
    def load(self) -> Any:
        from searchledger.config.wsgi import application  # noqa: PLC0415  # in the worker

        return application


def serve_with_gunicorn(
    *, bind: str, workers: int, threads: int = 1, timeout: int = 300, access_log: bool = False
) -> None:
    """Serve until SIGTERM or SIGINT. ``threads`` above 1 selects gunicorn's threaded
    worker (keep-alive connections, several requests per process). A synchronous worker
    busy with one request for longer than ``timeout`` seconds is killed and replaced (its
    transaction rolls back); the longest legitimate request is reconciling a large period
    from the web page, about a minute for ten million log rows."""
    from django.db import connections  # noqa: PLC0415  # Django is set up by the caller

    # The workers are forked from this process: none may inherit an open connection.
    connections.close_all()
    _Application(
        {
            "bind": bind,
            "workers": workers,
            "threads": threads,
            "timeout": timeout,
            # On SIGTERM, requests in flight get this long to finish (systemd's stop timeout
            # is 90 s); one still running then is killed and its transaction rolls back.
            "graceful_timeout": min(timeout, _GRACEFUL_SECONDS),
            "accesslog": "-" if access_log else None,
            "errorlog": "-",
            "proc_name": "searchledger",
            # gunicorn 27's control socket (a shared path under ~/.gunicorn by default, so a
            # second server on the host would take it over) is not used: signals suffice.
            "control_socket_disable": True,
        }
    ).run()
