"""The live state of one connection, on the GUI thread, as Qt signals docks can follow.

The stream delivers messages one by one, up to thousands a second. Repainting per message
would freeze the window, so the session only *collects* them as they arrive (no parsing:
state channels keep just their latest message, event channels queue theirs) and a QTimer
applies the lot about 25 times a second, emitting one signal per kind with what changed.
A quote that changed ten times between two flushes is parsed once.

Docks declare interest (``watch_quotes``, ``watch_depth`` ...) and get a function that
withdraws it; the session reference-counts interest per channel, so two docks showing the
same symbol share one subscription and the last one to go ends it.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import time
from collections.abc import Callable, Coroutine, Iterable
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, Signal

from exchange_server.protocol import (
    Balance,
    CancelAllResult,
    Candle,
    Depth,
    Fill,
    InstrumentOut,
    MarketStatus,
    ModifyOrderRequest,
    OrderOut,
    PlaceOrderRequest,
    Position,
    PublicTrade,
    Quote,
    UserOut,
)
from workstation.client import (
    ConnectionLost,
    ConnectionState,
    ExchangeClient,
    NotConnected,
    StreamClient,
    StreamMessage,
    Subscription,
    new_client_order_id,
)
from workstation.session.tasks import spawn

if TYPE_CHECKING:
    from exchange_server.embedded import EmbeddedServer

log = logging.getLogger(__name__)

FLUSH_INTERVAL_MS = 40  # 25 Hz: smooth to the eye, cheap for the loop
HOUSEKEEPING_SECONDS = 2.0  # latency probe and server clock
MARKET_STATUS_SECONDS = 15.0
TRADES_KEPT = 500  # per symbol, for time & sales
CANDLES_KEPT = 5_000  # live tail per (symbol, interval); older bars come from REST
FILLS_KEPT = 5_000
ORDERS_KEPT = 2_000  # closed orders beyond this are forgotten, oldest first
OPEN_STATUSES = frozenset({"new", "partially_filled", "triggered", "pending"})
STATE_CHANNELS = ("quote", "ticker", "depth")  # only the latest message matters
PRIVATE = ("orders", "fills", "positions", "balances")

Withdraw = Callable[[], None]

_STATES = {
    ConnectionState.CONNECTING: "connecting",
    ConnectionState.CONNECTED: "connected",
    ConnectionState.RECONNECTING: "reconnecting",
    ConnectionState.CLOSED: "offline",
}


def _base(channel: str) -> str:
    """``candles.1m:RELIANCE`` -> ``candles``; ``depth:X:20`` -> ``depth``."""
    return channel.split(":", 1)[0].split(".", 1)[0]


def is_open(order: OrderOut) -> bool:
    return order.status in OPEN_STATUSES


class Session(QObject):
    connection_changed = Signal(str)  # connecting | connected | reconnecting | offline
    stale_changed = Signal(bool)
    quotes_changed = Signal(object)  # set[str] of symbols
    depth_changed = Signal(str)
    trades_added = Signal(str)
    candles_changed = Signal(str, str)  # symbol, interval
    orders_changed = Signal()
    fills_added = Signal()
    positions_changed = Signal()
    balances_changed = Signal()
    market_changed = Signal()  # market status, latency or server time refreshed
    notice = Signal(str, str)  # level (info | warning | error), text

    def __init__(
        self,
        client: ExchangeClient,
        *,
        embedded: EmbeddedServer | None = None,
        profile: str = "",
        parent: QObject | None = None,
        flush_interval_ms: int = FLUSH_INTERVAL_MS,
        stream_options: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(parent)
        self.client = client
        self.embedded = embedded  # stopped by close(): the session owns its server
        self.profile = profile  # the connection profile's name, for the status bar
        self.user: UserOut | None = None
        self.instruments: dict[str, InstrumentOut] = {}
        self.quotes: dict[str, Quote] = {}
        self.depth: dict[str, Depth] = {}
        self.trades: dict[str, collections.deque[PublicTrade]] = {}
        self.candles: dict[tuple[str, str], list[Candle]] = {}
        self.orders: dict[int, OrderOut] = {}
        self.fills: list[Fill] = []
        self.positions: dict[str, Position] = {}
        self.balances: dict[str, Balance] = {}
        self.market_status: MarketStatus | None = None
        self.stale = False
        self.latency_ms: float | None = None
        self.connection_state = "offline"
        self.updates_received = 0  # stream messages so far (benchmarks, diagnostics)

        self._stream_options = stream_options or {}
        self.stream: StreamClient | None = None
        self._remove_state_listener: Callable[[], None] | None = None
        self._ever_connected = False
        self._awaiting_snapshot: set[str] = set()
        self._fill_keys: set[tuple[int, int]] = set()
        self._clock_offset_ns = 0  # server clock minus ours, estimated
        self._tasks: list[asyncio.Task[Any]] = []
        self._closed = False

        # Interest: key -> (count, subscription or None before the stream exists).
        self._interest: dict[tuple[str, ...], int] = {}
        self._subscriptions: dict[tuple[str, ...], Subscription] = {}

        # Collected between flushes.
        self._latest: dict[str, StreamMessage] = {}
        self._events: list[StreamMessage] = []
        self._dirty: set[str] = set()  # kinds changed outside the stream (REST answers)

        self._flush_timer = QTimer(self)
        self._flush_timer.setInterval(flush_interval_ms)
        self._flush_timer.timeout.connect(self.flush)

    # -- lifecycle ------------------------------------------------------------------------
    @property
    def is_embedded(self) -> bool:
        return self.embedded is not None

    @property
    def server_url(self) -> str:
        return self.client.base_url

    @property
    def server_time_ns(self) -> int:
        return time.time_ns() + self._clock_offset_ns

    async def start(self, connect_timeout: float = 15.0) -> None:
        """Load the reference data, open the stream and wait for its first connection."""
        self.instruments = {i.symbol: i for i in await self.client.instruments()}
        signed_in = self.client.tokens is not None or self.client.api_key is not None
        self.user = self.client.user or (await self.client.me() if signed_in else None)
        self.stream = self.client.stream(**self._stream_options)
        self._remove_state_listener = self.stream.add_state_listener(self._on_stream_state)
        self.stream.start()
        if self.user is not None:
            for channel in PRIVATE:
                self._interest[(channel,)] = self._interest.get((channel,), 0) + 1
            # In the background: the window need not wait for closed orders (the stream
            # brings the open ones), and the later state of an order wins either way.
            self._tasks.append(asyncio.ensure_future(self._load_order_history()))
        for key in list(self._interest):
            self._subscribe(key)
        self._flush_timer.start()
        self._tasks.append(asyncio.ensure_future(self._housekeeping()))
        self._tasks.append(asyncio.ensure_future(self._poll_market_status()))
        await self.stream.wait_connected(connect_timeout)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._flush_timer.stop()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._remove_state_listener is not None:
            self._remove_state_listener()
        if self.stream is not None:
            await self.stream.close()
        with contextlib.suppress(Exception):
            await self.client.aclose()
        if self.embedded is not None:
            # Stopping waits for the child to drain: off the GUI thread.
            await asyncio.to_thread(self.embedded.stop)
        self._set_connection("offline")

    def run(self, coroutine: Coroutine[Any, Any, Any], what: str = "") -> asyncio.Task[Any]:
        """Run ``coroutine`` from a Qt slot; a failure becomes an error notice."""
        return spawn(coroutine, self.notice.emit, what)

    # -- interest -------------------------------------------------------------------------
    def watch_quotes(self, symbols: Iterable[str]) -> Withdraw:
        withdraws = [self._watch(("quote", symbol)) for symbol in dict.fromkeys(symbols)]

        def withdraw_all() -> None:
            for withdraw in withdraws:
                withdraw()

        return withdraw_all

    def watch_depth(self, symbol: str, levels: int = 20) -> Withdraw:
        return self._watch(("depth", symbol, "5" if levels <= 5 else "20"))

    def watch_trades(self, symbol: str) -> Withdraw:
        return self._watch(("trades", symbol))

    def watch_candles(self, symbol: str, interval: str) -> Withdraw:
        return self._watch((f"candles.{interval}", symbol))

    def watching(self) -> dict[tuple[str, ...], int]:
        """Interest per channel key (tests and diagnostics)."""
        return dict(self._interest)

    def _watch(self, key: tuple[str, ...]) -> Withdraw:
        count = self._interest.get(key, 0)
        self._interest[key] = count + 1
        if count == 0 and self.stream is not None:
            self._subscribe(key)
        withdrawn = False

        def withdraw() -> None:
            nonlocal withdrawn
            if withdrawn:
                return
            withdrawn = True
            remaining = self._interest.get(key, 1) - 1
            if remaining > 0:
                self._interest[key] = remaining
                return
            self._interest.pop(key, None)
            subscription = self._subscriptions.pop(key, None)
            if subscription is not None and not self._closed:
                spawn(subscription.close())

        return withdraw

    def _subscribe(self, key: tuple[str, ...]) -> None:
        assert self.stream is not None
        if key in self._subscriptions:
            return
        channel = key[0]
        symbol = key[1] if len(key) > 1 else None
        levels = int(key[2]) if len(key) > 2 else None
        callback = self._on_state if _base(channel) in STATE_CHANNELS else self._on_event
        try:
            subscription = self.stream.subscribe(channel, symbol, levels, callback=callback)
        except ValueError as error:  # a channel the protocol does not have: a caller's bug
            log.error("cannot subscribe to %s: %s", key, error)
            return
        # Not awaited for staleness: a new channel is loading, not out of date.
        self._subscriptions[key] = subscription

    # -- the stream -----------------------------------------------------------------------
    def _on_state(self, message: StreamMessage) -> None:
        # Called per message: keep it cheap, parse at the flush.
        self.updates_received += 1
        self._latest[message.channel] = message
        if message.kind == "snapshot":
            self._awaiting_snapshot.discard(message.channel)

    def _on_event(self, message: StreamMessage) -> None:
        self.updates_received += 1
        self._events.append(message)
        if message.kind == "snapshot":
            self._awaiting_snapshot.discard(message.channel)

    def _on_stream_state(self, state: ConnectionState) -> None:
        if state is ConnectionState.CONNECTED:
            if self._ever_connected:
                self.notice.emit("info", "Reconnected; resynchronising market and account data")
            self._ever_connected = True
            assert self.stream is not None
            self._awaiting_snapshot = set(self.stream.channels)
        elif state is ConnectionState.RECONNECTING and self.connection_state == "connected":
            self.notice.emit("warning", "Connection lost; reconnecting (data is stale)")
        elif state is ConnectionState.CLOSED and not self._closed and self.stream is not None:
            error = self.stream.error
            self.notice.emit("error", f"Disconnected: {error}" if error else "Disconnected")
        self._set_connection(_STATES[state])
        self._update_stale()

    def _set_connection(self, state: str) -> None:
        if state != self.connection_state:
            self.connection_state = state
            self.connection_changed.emit(state)

    def _update_stale(self) -> None:
        if self.stream is not None and self._awaiting_snapshot:
            # A channel the server refused never sends a snapshot; stop waiting for it.
            self._awaiting_snapshot &= set(self.stream.channels)
        stale = self._ever_connected and (
            self.connection_state != "connected" or bool(self._awaiting_snapshot)
        )
        if stale != self.stale:
            self.stale = stale
            self.stale_changed.emit(stale)

    # -- applying what arrived ------------------------------------------------------------
    def flush(self) -> None:
        """Apply everything collected since the last flush and emit what changed."""
        latest, self._latest = self._latest, {}
        events, self._events = self._events, []
        dirty, self._dirty = self._dirty, set()
        quotes: set[str] = set()
        depth: set[str] = set()
        trades: set[str] = set()
        candles: set[tuple[str, str]] = set()
        newest_ts = 0
        for channel, message in latest.items():
            try:
                data = message.parsed()
            except ValueError:
                log.exception("malformed %s message", channel)
                continue
            if isinstance(data, Depth):
                if channel.endswith(":5") and ("depth", data.symbol, "20") in self._interest:
                    continue  # the 20-level book is watched too and says more
                self.depth[data.symbol] = data
                depth.add(data.symbol)
            else:
                self._merge_quote(data)
                quotes.add(data.symbol)
                newest_ts = max(newest_ts, data.ts)
        for message in events:
            try:
                self._apply_event(message, dirty, trades, candles)
            except ValueError:
                log.exception("malformed %s message", message.channel)
        if newest_ts:
            self._observe_server_time(newest_ts)
        self._update_stale()
        if quotes:
            self.quotes_changed.emit(quotes)
        for symbol in depth:
            self.depth_changed.emit(symbol)
        for symbol in trades:
            self.trades_added.emit(symbol)
        for symbol, interval in candles:
            self.candles_changed.emit(symbol, interval)
        if "orders" in dirty:
            self.orders_changed.emit()
        if "fills" in dirty:
            self.fills_added.emit()
        if "positions" in dirty:
            self.positions_changed.emit()
        if "balances" in dirty:
            self.balances_changed.emit()

    def _merge_quote(self, quote: Quote) -> None:
        previous = self.quotes.get(quote.symbol)
        if previous is not None and "bid" not in quote.model_fields_set:
            # A ticker carries a subset of a quote's fields: keep the book side we know.
            quote = previous.model_copy(update=quote.model_dump(exclude_unset=True))
        self.quotes[quote.symbol] = quote

    def _apply_event(
        self,
        message: StreamMessage,
        dirty: set[str],
        trades: set[str],
        candles: set[tuple[str, str]],
    ) -> None:
        channel = message.channel
        base = _base(channel)
        data = message.parsed()
        snapshot = message.kind == "snapshot"
        if base == "trades":
            symbol = channel.split(":", 1)[1]
            tape = self.trades.get(symbol)
            if tape is None or snapshot:
                tape = self.trades[symbol] = collections.deque(maxlen=TRADES_KEPT)
            tape.extend(data if snapshot else [data])
            trades.add(symbol)
        elif base == "candles":
            interval = channel.split(":", 1)[0].split(".", 1)[1]
            symbol = channel.split(":", 1)[1]
            key = (symbol, interval)
            if snapshot:
                self.candles[key] = list(data)[-CANDLES_KEPT:]
            else:
                self._apply_candle(self.candles.setdefault(key, []), data)
            candles.add(key)
        elif base == "orders":
            if snapshot:
                self._apply_orders_snapshot(data)
            else:
                self._apply_order(data)
            dirty.add("orders")
        elif base == "fills":
            for fill in data if snapshot else [data]:
                self._apply_fill(fill)
            dirty.add("fills")
        elif base == "positions":
            if snapshot:
                self.positions = {p.symbol: p for p in data}
            else:
                self.positions[data.symbol] = data
            dirty.add("positions")
        elif base == "balances":
            if snapshot:
                self.balances = {b.asset: b for b in data}
            else:
                self.balances[data.asset] = data
            dirty.add("balances")

    @staticmethod
    def _apply_candle(series: list[Candle], candle: Candle) -> None:
        if not series or candle.ts > series[-1].ts:
            series.append(candle)
            if len(series) > CANDLES_KEPT:
                del series[: len(series) - CANDLES_KEPT]
        elif candle.ts == series[-1].ts:
            series[-1] = candle  # the forming bar
        else:
            for index in range(len(series) - 1, -1, -1):
                if series[index].ts == candle.ts:
                    series[index] = candle
                    break

    def _apply_order(self, order: OrderOut) -> None:
        known = self.orders.get(order.order_id)
        # Answers and stream updates race; the later state of the order wins.
        if known is None or (order.updated_at, order.filled) >= (known.updated_at, known.filled):
            self.orders[order.order_id] = order
        if len(self.orders) > ORDERS_KEPT:
            closed = sorted(
                (o.updated_at, o.order_id) for o in self.orders.values() if not is_open(o)
            )
            for _, order_id in closed[: len(self.orders) - ORDERS_KEPT]:
                del self.orders[order_id]

    def _apply_orders_snapshot(self, orders: list[OrderOut]) -> None:
        current = {order.order_id for order in orders}
        # Orders we thought open but the snapshot lacks closed while we were away: fetch
        # their final state rather than show them open, or drop them.
        vanished = [
            order_id
            for order_id, order in self.orders.items()
            if is_open(order) and order_id not in current
        ]
        for order in orders:
            self._apply_order(order)
        if vanished:
            self.run(self._refresh_orders(vanished), "Refreshing orders")

    async def _refresh_orders(self, order_ids: list[int]) -> None:
        for order_id in order_ids:
            self._apply_order(await self.client.order(order_id))
        self._dirty.add("orders")

    def _apply_fill(self, fill: Fill) -> None:
        key = (fill.trade_id, fill.order_id)
        if key in self._fill_keys:
            return
        self._fill_keys.add(key)
        if self.fills and fill.ts < self.fills[-1].ts:
            self.fills.append(fill)
            self.fills.sort(key=lambda f: f.ts)
        else:
            self.fills.append(fill)
        if len(self.fills) > FILLS_KEPT:
            for old in self.fills[: len(self.fills) - FILLS_KEPT]:
                self._fill_keys.discard((old.trade_id, old.order_id))
            del self.fills[: len(self.fills) - FILLS_KEPT]

    async def _load_order_history(self) -> None:
        """Recent closed orders for the history blotter (the stream sends open ones)."""
        try:
            page = await self.client.orders("all", limit=200)
        except Exception as error:  # history is a nicety: the session works without it
            log.warning("could not load the order history: %s", error)
            return
        for order in page.items:
            self._apply_order(order)
        self._dirty.add("orders")

    # -- clocks and market status ---------------------------------------------------------
    def _observe_server_time(self, ts: int) -> None:
        # Market data is stamped by the server's clock as it happens, so it is never ahead
        # of the server's now: a stamp ahead of our estimate means the estimate is behind.
        offset = ts - time.time_ns()
        if offset > self._clock_offset_ns:
            self._clock_offset_ns = offset

    async def _housekeeping(self) -> None:
        while True:
            try:
                started = time.perf_counter()
                # healthz is the cheapest round trip; its Date header dates the server.
                response = await self.client._send(
                    "GET", "/healthz", prefix="", authenticated=False
                )
                elapsed = time.perf_counter() - started
                self.latency_ms = elapsed * 1000.0
                date = response.headers.get("date")
                if date:
                    server_ns = int(parsedate_to_datetime(date).timestamp() * 1e9)
                    # Date has one-second resolution: only correct an estimate that is off by more.
                    offset = server_ns + int(elapsed * 5e8) - time.time_ns()
                    if abs(offset - self._clock_offset_ns) > 1_500_000_000:
                        self._clock_offset_ns = offset
            except Exception as error:
                self.latency_ms = None
                log.debug("latency probe failed: %s", error)
            self.market_changed.emit()
            await asyncio.sleep(HOUSEKEEPING_SECONDS)

    async def _poll_market_status(self) -> None:
        while True:
            try:
                self.market_status = await self.client.market_status()
                self.market_changed.emit()
            except Exception as error:
                log.debug("market status failed: %s", error)
            await asyncio.sleep(MARKET_STATUS_SECONDS)

    # -- actions --------------------------------------------------------------------------
    def _live_stream(self) -> StreamClient | None:
        stream = self.stream
        return stream if stream is not None and stream.state is ConnectionState.CONNECTED else None

    async def place_order(self, request: PlaceOrderRequest) -> OrderOut:
        """Place over the socket (fastest), or REST when it is down. Lost mid-flight, the
        order is resent over REST with the same client order id, which is idempotent."""
        if request.client_order_id is None:
            request = request.model_copy(update={"client_order_id": new_client_order_id()})
        stream = self._live_stream()
        order: OrderOut | None = None
        if stream is not None:
            body = request.model_dump(mode="json", exclude_none=True)
            with contextlib.suppress(NotConnected, ConnectionLost):
                order = OrderOut.model_validate(await stream.call({"op": "place", "order": body}))
        if order is None:
            order = await self.client.submit_order(request)
        self._note_order(order)
        return order

    async def modify_order(self, order_id: int, request: ModifyOrderRequest) -> OrderOut:
        stream = self._live_stream()
        order: OrderOut | None = None
        if stream is not None:
            changes = request.model_dump(mode="json", exclude_none=True)
            payload = {"op": "modify", "order_id": int(order_id), "changes": changes}
            with contextlib.suppress(NotConnected):
                order = OrderOut.model_validate(await stream.call(payload))
        if order is None:
            order = await self.client.modify_order(
                order_id,
                quantity=request.quantity,
                price=request.price,
                trigger_price=request.trigger_price,
            )
        self._note_order(order)
        return order

    async def cancel_order(self, order_id: int) -> OrderOut:
        stream = self._live_stream()
        order: OrderOut | None = None
        if stream is not None:
            with contextlib.suppress(NotConnected, ConnectionLost):
                order = await stream.cancel_order(order_id)
        if order is None:
            order = await self.client.cancel_order(order_id)
        self._note_order(order)
        return order

    async def cancel_all(self, symbol: str | None = None) -> CancelAllResult:
        stream = self._live_stream()
        result: CancelAllResult | None = None
        if stream is not None:
            with contextlib.suppress(NotConnected, ConnectionLost):
                result = await stream.cancel_all(symbol)
        if result is None:
            result = await self.client.cancel_all(symbol)
        for order in result.cancelled:
            self._note_order(order)
        return result

    def _note_order(self, order: OrderOut) -> None:
        self._apply_order(order)
        self._dirty.add("orders")

    async def candles_history(
        self, symbol: str, interval: str, end_ns: int | None = None, limit: int = 500
    ) -> list[Candle]:
        """Older bars for scrolling back (REST; the live tail is in ``candles``)."""
        series = await self.client.candles(symbol, interval, end=end_ns, limit=limit)
        return series.candles

    # -- conveniences for docks -----------------------------------------------------------
    def open_orders(self, symbol: str | None = None) -> list[OrderOut]:
        return [
            o for o in self.orders.values() if is_open(o) and (symbol is None or o.symbol == symbol)
        ]

    @property
    def account_label(self) -> str:
        if self.user is None:
            return "not signed in"
        name = self.user.display_name or self.user.email
        return f"{name} (paper)" if self.user.is_paper else name
