"""GUI test fixtures: a real exchange server, a started Session and MainWindow on it.

Every test here runs on a qasync event loop: asyncio and Qt share one loop, as in the app,
so the in-process server (``live_server``), the session's stream and Qt timers all make
progress while a test awaits. Wait on conditions with ``await wait_until(lambda: ...)``
(it keeps the loop running); do not use ``qtbot.waitUntil`` inside an async test, whose
nested Qt loop would run other asyncio tasks inside the test's own step.

    async def test_something(main_window, market, wait_until):
        await wait_until(lambda: "RELIANCE" in main_window.session.quotes)
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import qasync
from PySide6.QtWidgets import QApplication

from tests.api.conftest import TEST_SYMBOLS, LiveServer, SignedInUser, live_server  # noqa: F401
from workstation.client import ExchangeClient
from workstation.session.session import Session

WaitUntil = Callable[..., Awaitable[None]]


class _GuardedTimer(qasync._SimpleTimer):  # type: ignore[misc]
    """qasync's callback timer, holding its callbacks while the loop is not running.

    pytest-qt processes Qt events between tests and fixtures, when asyncio's loop is
    stopped; a callback run then finds no running loop and breaks the task it belongs to.
    A Qt timer keeps firing until killed, so a held callback runs on the next turn."""

    def __init__(self, loop: qasync.QEventLoop) -> None:
        super().__init__()
        self._loop = loop

    def timerEvent(self, event: Any) -> None:
        if not self._stopped and not self._loop.is_running():
            return
        super().timerEvent(event)


class _TestLoop(qasync.QEventLoop):  # type: ignore[misc]
    def __init__(self, app: QApplication) -> None:
        super().__init__(app)
        self._timer = _GuardedTimer(self)


def _qasync_loop() -> asyncio.AbstractEventLoop:
    app = QApplication.instance() or QApplication([])
    return _TestLoop(app)  # type: ignore[arg-type]


def pytest_asyncio_loop_factories(config: pytest.Config, item: pytest.Item) -> dict[str, Any]:
    return {"qasync": _qasync_loop}


@pytest.fixture(autouse=True)
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Settings, workspaces and credentials of a test live in its own directory, never in
    the user's real configuration."""
    directory = tmp_path / "workstation-config"
    monkeypatch.setenv("WORKSTATION_CONFIG_DIR", str(directory))
    yield directory


async def _wait_until(
    condition: Callable[[], Any], timeout: float = 10.0, message: str = ""
) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(message or f"timed out after {timeout} s waiting for {condition}")
        await asyncio.sleep(0.02)  # yields to the loop: Qt events and asyncio tasks run


@pytest.fixture
def wait_until() -> WaitUntil:
    """``await wait_until(condition, timeout=10.0, message="")``."""
    return _wait_until


@pytest.fixture
async def trader(live_server: LiveServer) -> SignedInUser:  # noqa: F811
    """A funded trader on the live server (1,000,000 INR)."""
    return await live_server.user()


async def open_session(base_url: str, user: SignedInUser | None = None, **options: Any) -> Session:
    client = ExchangeClient(base_url)
    if user is not None:
        client.use_tokens(user.tokens)
    session = Session(client, profile="test", **options)
    await session.start()
    return session


@pytest.fixture
async def session(live_server: LiveServer, trader: SignedInUser) -> AsyncIterator[Session]:  # noqa: F811
    """A started Session signed in as ``trader``, stream connected."""
    session = await open_session(live_server.base_url, trader)
    try:
        yield session
    finally:
        await session.close()


class Market:
    """A market maker resting orders on both sides of every test symbol, and trades on
    demand, so quotes, depth, trades and candles have something to show."""

    def __init__(self, server: LiveServer, maker: SignedInUser, taker: SignedInUser) -> None:
        self.server = server
        self.maker = maker
        self.taker = taker
        self.prices: dict[str, Decimal] = {}

    async def _order(self, user: SignedInUser, **body: Any) -> dict[str, Any]:
        response = await user.client.post("/api/v1/orders", json=body)
        assert response.status_code in (200, 201), response.text
        result: dict[str, Any] = response.json()
        return result

    async def quote(self, symbol: str, levels: int = 5) -> None:
        """Rest ``levels`` bids and asks a tick apart around the reference price."""
        instrument = (await self.maker.client.get(f"/api/v1/instruments/{symbol}")).json()
        price = Decimal(instrument["reference_price"])
        tick = Decimal(instrument["tick_size"])
        self.prices[symbol] = price
        for level in range(1, levels + 1):
            for side, sign in (("buy", -1), ("sell", 1)):
                await self._order(
                    self.maker,
                    symbol=symbol,
                    side=side,
                    quantity=str(10 * level),
                    order_type="limit",
                    price=str(price + sign * level * tick),
                )

    async def trade(self, symbol: str, side: str = "buy", quantity: str = "1") -> None:
        """The taker trades at market against the maker's quotes."""
        await self._order(
            self.taker, symbol=symbol, side=side, quantity=quantity, order_type="market"
        )


@pytest.fixture
async def market(live_server: LiveServer) -> Market:  # noqa: F811
    """Every test symbol quoted five levels deep and traded once."""
    maker = await live_server.user(cash="1000000000")
    taker = await live_server.user(cash="1000000000")
    for symbol in TEST_SYMBOLS:
        await live_server.fund(maker.account_id, symbol, "100000")
        await live_server.fund(taker.account_id, symbol, "100000")
    market = Market(live_server, maker, taker)
    for symbol in TEST_SYMBOLS:
        await market.quote(symbol)
        await market.trade(symbol)
    return market


@pytest.fixture
async def main_window(session: Session, config_dir: Path) -> AsyncIterator[Any]:
    """The main window on ``session``, shown with the default (Trading) workspace."""
    from workstation.main_window import MainWindow
    from workstation.settings import Settings

    window = MainWindow(session, Settings.load())
    window.resize(1600, 1000)
    window.show()
    try:
        yield window
    finally:
        with contextlib.suppress(RuntimeError):
            window.close_without_saving()
