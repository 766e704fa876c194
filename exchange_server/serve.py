"""Running the API server under uvicorn: TLS, graceful drain on SIGTERM, and the embedded
mode's hand-shake with its parent (announce the address on stdout, exit when stdin closes)."""

from __future__ import annotations

import logging
import os
import sys
import threading
from types import FrameType
from typing import Any

import orjson
import uvicorn

from exchange_server import event_loop
from exchange_server.api.app import create_app
from exchange_server.api.context import ServerContext
from exchange_server.api.settings import ServerSettings
from exchange_server.embedded import READY_PREFIX

log = logging.getLogger(__name__)


class ExchangeServer(uvicorn.Server):
    """uvicorn with a drain that closes streams with a reason before connections go."""

    def __init__(self, config: uvicorn.Config, context: ServerContext, announce: bool) -> None:
        super().__init__(config)
        self.context = context
        self.announce = announce

    async def startup(self, sockets: Any = None) -> None:
        await super().startup(sockets)
        if self.should_exit or not self.servers:
            return
        host, port = self.servers[0].sockets[0].getsockname()[:2]
        scheme = "https" if self.config.ssl_certfile else "http"
        address = {"url": f"{scheme}://{host}:{port}", "port": port, "pid": os.getpid()}
        log.info("exchange server listening on %s", address["url"])
        if self.announce:
            print(READY_PREFIX + orjson.dumps(address).decode(), flush=True)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        # uvicorn re-raises the signal after shutting down; a drained stop is a clean exit.
        self._captured_signals.clear()

    async def shutdown(self, sockets: Any = None) -> None:
        await self.context.begin_drain("server shutting down")
        await super().shutdown(sockets)


def run_server(settings: ServerSettings, watch_stdin: bool = False) -> int:
    """Serve until SIGINT/SIGTERM (or, embedded, until the parent closes our stdin)."""
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        ssl_certfile=settings.tls_certfile or None,
        ssl_keyfile=settings.tls_keyfile or None,
        log_level=logging.getLevelName(logging.getLogger().level).lower(),
        ws="websockets-sansio",
        ws_max_size=64 * 1024,
        # Compression costs CPU per frame and zlib buffers per connection; market data is
        # small JSON, and thousands of subscribers must stay cheap.
        ws_per_message_deflate=False,
        timeout_graceful_shutdown=10,
        server_header=False,
        proxy_headers=False,
    )
    server = ExchangeServer(config, app.state.context, announce=watch_stdin)
    if watch_stdin:
        threading.Thread(target=_exit_when_stdin_closes, args=(server,), daemon=True).start()
    event_loop.run(server.serve(), settings.event_loop)
    return 0


def _exit_when_stdin_closes(server: ExchangeServer) -> None:
    """The parent holds our stdin open for as long as it lives; end of file means it has
    exited or crashed, and an embedded exchange must not outlive its workstation."""
    # os.read on the descriptor, not sys.stdin: a daemon thread blocked inside the buffered
    # reader holds its lock and aborts interpreter shutdown.
    descriptor = sys.stdin.fileno()
    try:
        while os.read(descriptor, 4096):
            pass
    except OSError:
        pass
    server.should_exit = True
