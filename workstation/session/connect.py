"""Opening a session: the embedded exchange (offline paper trading) or a remote server."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

from exchange_server.protocol import TokenPair
from workstation.client import ExchangeClient
from workstation.session.session import Session

log = logging.getLogger(__name__)

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


async def open_embedded(
    data_dir: Path | None = None, progress: Progress = _quiet, **stream_options: object
) -> Session:
    """Start the embedded exchange (a child process) and sign in as its paper user."""
    # Imported here: the module is light, but a remote-only session never needs it.
    from exchange_server.embedded import start_embedded

    progress("Starting the embedded exchange...")
    # start_embedded blocks until the child listens (seconds): never on the GUI thread.
    server = await asyncio.to_thread(start_embedded, data_dir)
    client = ExchangeClient(server.base_url)
    try:
        progress("Signing in to the paper account...")
        await client.login_embedded(server.secret)
        session = Session(
            client, embedded=server, profile="Offline paper trading", stream_options=stream_options
        )
        progress("Loading the market...")
        await session.start()
    except BaseException:
        await client.aclose()
        await asyncio.to_thread(server.stop)
        raise
    return session


async def open_remote(
    url: str,
    username: str = "",
    password: str = "",
    otp: str | None = None,
    *,
    tokens: TokenPair | None = None,
    api_key: str | None = None,
    profile: str = "",
    progress: Progress = _quiet,
    on_tokens: Callable[[TokenPair | None], None] | None = None,
) -> Session:
    """Sign in to a remote server (password and 2FA code, a saved token pair, or an API
    key; with none of them the session is anonymous: market data only)."""
    client = ExchangeClient(url, on_tokens=on_tokens)
    try:
        if api_key:
            client.use_api_key(api_key)
        elif tokens is not None:
            client.use_tokens(tokens)
            progress("Resuming the saved session...")
            await client.refresh()  # proves the saved tokens still work
        elif username:
            progress(f"Signing in as {username}...")
            await client.login(username, password, otp or None)
        session = Session(client, profile=profile or url)
        progress("Loading the market...")
        await session.start()
    except BaseException:
        await client.aclose()
        raise
    return session
