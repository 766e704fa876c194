"""The embedded exchange: the workstation's own server, in a child process on 127.0.0.1.

``start_embedded`` launches ``exchange-server serve --embedded`` with a one-time secret in
its environment, waits for the address it announces, and returns a handle. The child
provisions a paper-trading user with virtual cash and runs the demo market; the parent
trades the secret for that user's tokens (``POST /api/v1/auth/embedded``). The child exits
when its stdin closes, which the operating system does when the parent exits or crashes.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import subprocess
import sys
import threading
from collections import deque
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import orjson

from exchange_server.paths import default_data_dir

# Light on imports on purpose: the workstation imports this module, and must not load the
# server's stack (FastAPI, the engine) into the UI process.
STARTUP_SECONDS = 120.0
READY_PREFIX = "EXCHANGE-SERVER-READY "  # the line the child prints once it listens


class EmbeddedServerError(RuntimeError):
    """The embedded server did not start; the message carries the end of its log."""


@dataclass
class EmbeddedServer:
    base_url: str
    secret: str  # one-time: trade it for the paper user's tokens
    process: subprocess.Popen[bytes]
    data_dir: Path
    log_tail: deque[str] = field(default_factory=lambda: deque(maxlen=200))

    @property
    def ws_url(self) -> str:
        return self.base_url.replace("http", "ws", 1) + "/ws"

    def stop(self, timeout: float = 30.0) -> int:
        """Close the child's stdin (its signal to drain and exit) and wait for it."""
        if self.process.poll() is None:
            with contextlib.suppress(OSError):
                assert self.process.stdin is not None
                self.process.stdin.close()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def start_embedded(
    data_dir: Path | None = None,
    paper_cash: Decimal | None = None,
    demo_market: bool = True,
    always_open: bool = True,
    database_url: str | None = None,
    extra_env: dict[str, str] | None = None,
) -> EmbeddedServer:
    """Start the embedded server and wait until it accepts connections."""
    data_dir = Path(data_dir) if data_dir is not None else default_data_dir()
    data_dir.mkdir(parents=True, exist_ok=True)
    database_url = database_url or f"sqlite:///{data_dir / 'exchange.db'}"
    secret = secrets.token_urlsafe(32)
    env = dict(os.environ)
    env.update(extra_env or {})
    env["EXCHANGE_EMBEDDED_SECRET"] = secret
    if paper_cash is not None:
        env["EXCHANGE_PAPER_CASH"] = str(paper_cash)
    # Offline practice: the simulated market trades at any hour unless asked not to.
    env["EXCHANGE_ALWAYS_OPEN"] = "true" if always_open else "false"
    arguments = [
        sys.executable,
        "-m",
        "exchange_server.cli",
        "--database",
        database_url,
        "serve",
        "--embedded",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--data-dir",
        str(data_dir),
    ]
    if demo_market:
        arguments.append("--demo-market")
    process = subprocess.Popen(
        arguments,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
    )
    server = EmbeddedServer("", secret, process, data_dir)
    announced = threading.Event()

    def read_output() -> None:
        # Keeps draining the child's output for its whole life (a full pipe would stall
        # it), remembering the end of it for error reports.
        assert process.stdout is not None
        for raw in process.stdout:
            line = raw.decode(errors="replace").rstrip()
            if line.startswith(READY_PREFIX) and not announced.is_set():
                server.base_url = orjson.loads(line[len(READY_PREFIX) :])["url"]
                announced.set()
            else:
                server.log_tail.append(line)
        announced.set()  # the child exited

    threading.Thread(target=read_output, name="embedded-server-output", daemon=True).start()
    if not announced.wait(STARTUP_SECONDS) or not server.base_url:
        server.stop(5.0)
        tail = "\n".join(server.log_tail)
        raise EmbeddedServerError(f"the embedded exchange server did not start:\n{tail}")
    return server
