"""The stream hub: fans committed exchange events out to WebSocket connections.

Market data (ticker, quote, depth, candles) is state: a change only marks the channel
dirty, and the hub encodes each dirty channel's current state once and hands the same
bytes to every subscriber, at once after a quiet spell and then at most every
``flush_seconds``. A connection keeps only the latest pending message of such a channel
(conflation), so a slow reader costs one slot per channel, not a queue. Trades and
private updates (orders, fills) are events: they queue in order, and a connection whose
queue passes ``settings.ws_queue_messages`` is closed with 1008 "slow consumer". Balances
and positions carry the full state of one asset or symbol and conflate per asset/symbol.

Each connection has one writer task (a socket allows one sender at a time and a stalled
peer must not hold up anyone else). Everything pending when it wakes goes out in one frame
(a JSON array when there is more than one message), stamped with the connection's own
per-channel ``seq``: every message on a channel counts, so conflation leaves no gaps.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from pydantic import BaseModel
from pydantic_core import to_json

from exchange_server.api import convert
from exchange_server.api.deps import Principal
from exchange_server.api.metrics import Metrics
from exchange_server.api.settings import ServerSettings
from exchange_server.domain.commands import Adjust, Deposit, Withdraw
from exchange_server.domain.events import (
    BalanceChanged,
    CommandRejected,
    OrderUpdated,
    TradeExecuted,
)
from exchange_server.engine.projections import Position
from exchange_server.engine.sequencer import Committed
from exchange_server.marketdata.candles import CandleBar
from exchange_server.marketdata.market_state import MarketChanges, MarketState
from exchange_server.protocol import DEPTH_LEVELS
from exchange_server.protocol import Position as PositionOut

log = logging.getLogger(__name__)

FLUSH_SECONDS = 0.05  # market data cadence: bounds both latency and sends per connection
MAX_FRAME_MESSAGES = 500  # bounds the size of one outbound frame
HOUSEKEEPING_SECONDS = 1.0
CLOSE_TIMEOUT_SECONDS = 5.0
SNAPSHOT_TRADES = 50
SNAPSHOT_CANDLES = 200
TICKER_FIELDS = (
    "symbol",
    "status",
    "last",
    "last_size",
    "change",
    "change_percent",
    "volume",
    "trades",
    "ts",
)

SendFrame = Callable[[str], Awaitable[None]]
CloseSocket = Callable[[int, str], Awaitable[None]]

# Message prefixes by (channel, is_snapshot); the channel set is finite (validated names).
_prefixes: dict[tuple[str, bool], bytes] = {}


def _prefix(channel: str, snapshot: bool) -> bytes:
    prefix = _prefixes.get((channel, snapshot))
    if prefix is None:
        kind = "snapshot" if snapshot else "update"
        prefix = b'{"type":"%s","channel":%s,"seq":' % (kind.encode(), orjson.dumps(channel))
        _prefixes[channel, snapshot] = prefix
    return prefix


def encode(value: BaseModel | list[Any] | dict[str, Any]) -> bytes:
    """Wire JSON: decimals as strings, exactly as the REST API writes them."""
    return to_json(value)


def control(message: dict[str, Any]) -> bytes:
    """A message outside any channel (replies, heartbeats): no seq."""
    return to_json(message)


class SlowConsumer(Exception):
    pass


class Connection:
    """One client's subscriptions and outbound queue. Lives on the event loop."""

    __slots__ = (
        "__weakref__",
        "_close_socket",
        "_send",
        "_waiter",
        "closing",
        "hub",
        "last_received",
        "latest",
        "limit",
        "loading",
        "pending",
        "principal",
        "sending_since",
        "seqs",
        "writer",
    )

    def __init__(self, hub: StreamHub, send: SendFrame, close: CloseSocket) -> None:
        self.hub = hub
        self._send = send
        self._close_socket = close
        self.limit = hub.settings.ws_queue_messages
        self.principal: Principal | None = None
        self.seqs: dict[str, int] = {}  # subscribed channel -> seq of its last message
        # Private channels waiting for their snapshot: deltas buffered meanwhile.
        self.loading: dict[str, list[tuple[str | None, bytes]]] = {}
        # Pending messages in order: complete control messages (bytes), channel messages
        # (channel, data, is_snapshot) and conflation keys (str) looked up in ``latest``.
        self.pending: deque[Any] = deque()
        self.latest: dict[str, tuple[str, bytes, bool]] = {}
        self.last_received = time.monotonic()
        self.sending_since = 0.0
        self.closing: tuple[int, str] | None = None
        self._waiter: asyncio.Future[None] | None = None
        self.writer: asyncio.Task[None] | None = None

    @property
    def account_id(self) -> int | None:
        return self.principal.account_id if self.principal is not None else None

    # -- queueing -------------------------------------------------------------------------
    def send_control(self, message: bytes) -> None:
        if self.closing is not None:
            return
        self.pending.append(message)
        self._check_limit()
        self.wake()

    def push(self, channel: str, data: bytes, snapshot: bool = False) -> None:
        """An event: queued in order, never dropped."""
        self.pending.append((channel, data, snapshot))
        self._check_limit()

    def push_state(self, key: str, channel: str, data: bytes, snapshot: bool = False) -> None:
        """A full state: replaces a pending message with the same ``key``. A snapshot stays a
        snapshot when a newer state replaces it before it went out."""
        latest = self.latest
        previous = latest.get(key)
        if previous is None:
            latest[key] = (channel, data, snapshot)
            self.pending.append(key)
        else:
            latest[key] = (channel, data, snapshot or previous[2])

    def deliver(self, channel: str, key: str | None, data: bytes) -> None:
        """A private update, buffered while the channel's snapshot is loading."""
        if channel not in self.seqs or self.closing is not None:
            return
        buffered = self.loading.get(channel)
        if buffered is not None:
            buffered.append((key, data))
            if len(buffered) > self.limit:
                self.hub.cut_off(self)
            return
        if key is None:
            self.push(channel, data)
        else:
            self.push_state(key, channel, data)
        self.wake()

    def _check_limit(self) -> None:
        # Only a reader that holds up a send is behind: a queue waiting for the next flush
        # drains at once (and grows by at most one flush interval's worth of commits).
        if len(self.pending) > self.limit and self.sending_since and self.closing is None:
            self.hub.cut_off(self)

    def reset_channel(self, channel: str) -> None:
        """Forget what is pending on ``channel``: a new snapshot starts it again from 1."""
        self.seqs[channel] = 0
        stale = [key for key, entry in self.latest.items() if entry[0] == channel]
        for key in stale:
            del self.latest[key]
        if any(type(item) is tuple and item[0] == channel for item in self.pending):
            self.pending = deque(
                item for item in self.pending if not (type(item) is tuple and item[0] == channel)
            )

    # -- writing --------------------------------------------------------------------------
    def wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def take_frame(self) -> tuple[str, int] | None:
        """Everything pending (up to a frame's worth) as one frame, and its message count."""
        pending, latest, seqs = self.pending, self.latest, self.seqs
        parts: list[bytes] = []
        while pending and len(parts) < MAX_FRAME_MESSAGES:
            item = pending.popleft()
            if type(item) is bytes:
                parts.append(item)
                continue
            if type(item) is str:
                entry = latest.pop(item, None)
                if entry is None:
                    continue
                channel, data, snapshot = entry
            else:
                channel, data, snapshot = item
            seq = seqs.get(channel)
            if seq is None:  # unsubscribed since it was queued
                continue
            seq += 1
            seqs[channel] = seq
            parts.append(
                b"".join((_prefix(channel, snapshot), b"%d" % seq, b',"data":', data, b"}"))
            )
        if not parts:
            return None
        frame = parts[0] if len(parts) == 1 else b"[" + b",".join(parts) + b"]"
        return frame.decode(), len(parts)

    async def run_writer(self) -> None:
        loop = asyncio.get_running_loop()
        metrics = self.hub.metrics
        try:
            while self.closing is None:
                taken = self.take_frame()
                if taken is None:
                    waiter = self._waiter = loop.create_future()
                    await waiter
                    self._waiter = None
                    continue
                self.sending_since = time.monotonic()
                await self._send(taken[0])
                self.sending_since = 0.0
                metrics.ws_messages.inc(taken[1])
            code, reason = self.closing
            # The close frame waits behind what the socket already holds; a peer that never
            # reads again never gets it, so do not wait for it forever.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._close_socket(code, reason), CLOSE_TIMEOUT_SECONDS)
        except asyncio.CancelledError:
            raise
        except Exception:  # the peer went away mid-send: the gateway sees the disconnect
            self.closing = self.closing or (1006, "")
        finally:
            self.hub.disconnect(self)

    def close(self, code: int, reason: str) -> None:
        """Close after what is already being sent; nothing queued goes out any more."""
        if self.closing is not None:
            return
        self.closing = (code, reason)
        self.pending.clear()
        self.latest.clear()
        self.loading.clear()
        self.hub.unsubscribe_all(self)
        self.wake()


class AccountPositions:
    """Live average-cost positions of one account while someone subscribes to them.

    Seeded from the read models, whose rows carry the sequence of their last change: updates
    buffered while the rows load are applied only when newer than the row they touch."""

    __slots__ = ("buffer", "loaded", "positions", "waiting")

    def __init__(self) -> None:
        self.positions: dict[str, Position] = {}
        self.loaded = False
        # seq, symbol, quantity (signed), cash, is a transfer
        self.buffer: list[tuple[int, str, int, int, bool]] = []
        self.waiting: list[Connection] = []

    def apply(self, symbol: str, quantity: int, cash: int, transfer: bool) -> None:
        """Bought (``quantity`` > 0) or sold for ``cash``, by the projection's rules (see
        ``Projector``): transfers in enter at zero cost, transfers out realise nothing."""
        position = self.positions.get(symbol)
        if position is None:
            position = self.positions[symbol] = Position()
        if quantity > 0:
            position.bought(quantity, cash)
        elif not transfer:
            position.sold(-quantity, cash)
        else:
            realised = position.realised
            position.sold(-quantity, 0)
            position.realised = realised

    def seed(self, rows: dict[str, tuple[Position, int]]) -> None:
        self.positions = {symbol: position for symbol, (position, _) in rows.items()}
        for seq, symbol, quantity, cash, transfer in self.buffer:
            row = rows.get(symbol)
            if row is None or seq > row[1]:
                self.apply(symbol, quantity, cash, transfer)
        self.buffer = []
        self.loaded = True


class StreamHub:
    def __init__(
        self,
        market: MarketState,
        settings: ServerSettings,
        metrics: Metrics,
        flush_seconds: float = FLUSH_SECONDS,
    ) -> None:
        self.market = market
        self.settings = settings
        self.metrics = metrics
        self.flush_seconds = flush_seconds
        self.connections: set[Connection] = set()
        self._public: dict[str, set[Connection]] = {}
        self._private: dict[int, set[Connection]] = {}  # account -> its connections
        self._positions: dict[int, AccountPositions] = {}
        self._dirty_quotes: set[str] = set()
        self._dirty_tickers: set[str] = set()
        self._dirty_books: set[str] = set()
        self._dirty_candles: dict[str, tuple[str, CandleBar]] = {}  # key -> symbol, bar
        self._ready: set[Connection] = set()
        self._flush_handle: asyncio.TimerHandle | None = None
        self._last_flush = float("-inf")  # loop time of the last flush
        self._housekeeping: asyncio.Task[None] | None = None
        self._stopping = False

    # -- lifecycle ------------------------------------------------------------------------
    async def start(self) -> None:
        self._housekeeping = asyncio.create_task(self._keep_house(), name="stream-housekeeping")

    async def stop(self, reason: str) -> None:
        self._stopping = True
        if self._housekeeping is not None:
            self._housekeeping.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._housekeeping
        if self._flush_handle is not None:
            self._flush_handle.cancel()
        writers = [c.writer for c in self.connections if c.writer is not None]
        for connection in list(self.connections):
            connection.close(1001, reason)
        if writers:
            _, late = await asyncio.wait(writers, timeout=CLOSE_TIMEOUT_SECONDS + 1)
            for task in late:
                task.cancel()

    def connect(self, send: SendFrame, close: CloseSocket) -> Connection:
        if self._stopping:
            raise RuntimeError("the stream is stopping")
        connection = Connection(self, send, close)
        self.connections.add(connection)
        self.metrics.ws_connections.set(len(self.connections))
        connection.writer = asyncio.create_task(connection.run_writer(), name="ws-writer")
        return connection

    def disconnect(self, connection: Connection) -> None:
        """Forget ``connection`` (idempotent); its writer stops."""
        if connection.closing is None:
            connection.closing = (1000, "")
        self.unsubscribe_all(connection)
        connection.pending.clear()
        connection.latest.clear()
        self._ready.discard(connection)
        if connection in self.connections:
            self.connections.discard(connection)
            self.metrics.ws_connections.set(len(self.connections))
        connection.wake()

    def cut_off(self, connection: Connection) -> None:
        if connection.closing is not None:
            return
        self.metrics.ws_dropped.inc()
        connection.close(1008, "slow consumer")

    # -- subscriptions --------------------------------------------------------------------
    def subscribe_public(self, connection: Connection, channel: str) -> None:
        """Subscribe and queue the snapshot (market state is current on the loop)."""
        self._public.setdefault(channel, set()).add(connection)
        connection.reset_channel(channel)
        kind, _, rest = channel.partition(":")
        if kind == "trades":
            connection.push(channel, encode(self._recent_trades(rest)), snapshot=True)
        elif kind.startswith("candles."):
            bars = self._recent_candles(rest, kind.partition(".")[2])
            connection.push(channel, encode(bars), snapshot=True)
        else:
            connection.push_state(channel, channel, self._state(channel), snapshot=True)
        connection.wake()

    def subscribe_private(self, connection: Connection, channel: str) -> bool:
        """Subscribe to a private channel, buffering its updates. Returns whether the caller
        must load the snapshot and pass it to ``snapshot_loaded``; positions snapshots come
        from the hub's own live positions (loaded once per account, see ``seed_positions``)."""
        account = connection.account_id
        assert account is not None
        self._private.setdefault(account, set()).add(connection)
        connection.reset_channel(channel)
        connection.loading[channel] = []
        if channel != "positions":
            return True
        live = self._positions.get(account)
        if live is None:
            live = self._positions[account] = AccountPositions()
            live.waiting.append(connection)
            return True  # this caller seeds the account's positions
        if live.loaded:
            self._positions_snapshot(connection, live)
        else:
            live.waiting.append(connection)
        return False

    def snapshot_loaded(self, connection: Connection, channel: str, data: list[Any]) -> None:
        """Queue a private snapshot, then the updates buffered while it loaded (full states,
        so one that the snapshot already includes is harmless)."""
        buffered = connection.loading.pop(channel, None)
        if buffered is None or connection.closing is not None:
            return
        connection.push(channel, encode(data), snapshot=True)
        for key, update in buffered:
            if key is None:
                connection.push(channel, update)
            else:
                connection.push_state(key, channel, update)
        connection.wake()

    def seed_positions(self, account: int, rows: dict[str, tuple[Position, int]]) -> None:
        """The read models' positions of ``account`` with each row's last sequence."""
        live = self._positions.get(account)
        if live is None or live.loaded:
            return
        live.seed(rows)
        waiting, live.waiting = live.waiting, []
        for connection in waiting:
            if "positions" in connection.loading:
                self._positions_snapshot(connection, live)

    def positions_failed(self, account: int) -> None:
        """Loading failed: let the next subscriber try again."""
        live = self._positions.get(account)
        if live is not None and not live.loaded:
            del self._positions[account]

    def _positions_snapshot(self, connection: Connection, live: AccountPositions) -> None:
        snapshot = [
            self._position_out(symbol, position)
            for symbol, position in sorted(live.positions.items())
            if position.quantity or position.realised
        ]
        connection.loading["positions"] = []  # live state is current: nothing to replay
        self.snapshot_loaded(connection, "positions", snapshot)

    def unsubscribe(self, connection: Connection, channel: str) -> None:
        connection.seqs.pop(channel, None)
        connection.loading.pop(channel, None)
        for key in [k for k, entry in connection.latest.items() if entry[0] == channel]:
            del connection.latest[key]
        subscribers = self._public.get(channel)
        if subscribers is not None:
            subscribers.discard(connection)
            if not subscribers:
                del self._public[channel]
        self._forget_private(connection)

    def unsubscribe_all(self, connection: Connection) -> None:
        for channel in list(connection.seqs):
            self.unsubscribe(connection, channel)
        self._forget_private(connection)

    def _forget_private(self, connection: Connection) -> None:
        account = connection.account_id
        if account is None:
            return
        seqs = connection.seqs
        connections = self._private.get(account, set())
        if connection.closing is not None or not any(c in seqs for c in PRIVATE):
            connections.discard(connection)
            if not connections:
                self._private.pop(account, None)
        live = self._positions.get(account)
        if live is None or ("positions" in seqs and connection.closing is None):
            return
        if connection in live.waiting:
            live.waiting.remove(connection)
        if not any("positions" in c.seqs for c in connections if c.closing is None):
            # Nobody watches this account's positions: stop keeping them.
            del self._positions[account]

    # -- publishing -----------------------------------------------------------------------
    def publish(self, batch: list[Committed], changes: MarketChanges) -> None:
        """Called on the loop after each journal commit, in sequence order."""
        if not self.connections:
            return
        public = self._public
        if public:
            self._dirty_quotes.update(changes.tickers)
            self._dirty_quotes.update(changes.books)
            self._dirty_tickers.update(changes.tickers)
            self._dirty_books.update(changes.books)
            for symbol, interval, bar in changes.candles:
                channel = f"candles.{interval}:{symbol}"
                if channel in public:
                    self._dirty_candles[f"{channel}@{bar.start}"] = (channel, bar)
            for trade in changes.trades:
                self._publish_trade(trade)
            if self._flush_handle is None:
                # At once after a quiet spell, else one interval after the last flush: the
                # cadence bound holds under load, and a lone change does not wait for it.
                loop = asyncio.get_running_loop()
                due = max(0.0, self._last_flush + self.flush_seconds - loop.time())
                self._flush_handle = loop.call_later(due, self._flush)
        if self._private:
            self._publish_private(batch)

    def _publish_trade(self, trade: TradeExecuted) -> None:
        channel = "trades:" + trade.symbol
        subscribers = self._public.get(channel)
        if not subscribers:
            return
        data = encode(convert.public_trade(self.market.instruments[trade.symbol], trade))
        for connection in list(subscribers):
            connection.push(channel, data)
        self._ready.update(subscribers)

    def _flush(self) -> None:
        """Encode each dirty market-data channel once and wake every connection with
        something to send."""
        self._flush_handle = None
        self._last_flush = asyncio.get_running_loop().time()
        public, ready = self._public, self._ready
        for kind, symbols in (("quote:", self._dirty_quotes), ("ticker:", self._dirty_tickers)):
            for symbol in symbols:
                channel = kind + symbol
                subscribers = public.get(channel)
                if subscribers:
                    self._fan_out(channel, channel, self._state(channel), subscribers)
        for symbol in self._dirty_books:
            for levels in DEPTH_LEVELS:
                channel = f"depth:{symbol}:{levels}"
                subscribers = public.get(channel)
                if subscribers:
                    self._fan_out(channel, channel, self._state(channel), subscribers)
        for key, (channel, bar) in self._dirty_candles.items():
            subscribers = public.get(channel)
            if subscribers:
                symbol = channel.partition(":")[2]
                data = encode(convert.candle_out(self.market.instruments[symbol], bar))
                self._fan_out(key, channel, data, subscribers)
        self._dirty_quotes.clear()
        self._dirty_tickers.clear()
        self._dirty_books.clear()
        self._dirty_candles.clear()
        for connection in ready:
            connection.wake()
        ready.clear()

    def _fan_out(self, key: str, channel: str, data: bytes, subscribers: set[Connection]) -> None:
        # push_state inlined: this loop runs subscribers x channels times per flush.
        entry = (channel, data, False)
        for connection in subscribers:
            latest = connection.latest
            previous = latest.get(key)
            if previous is None:
                latest[key] = entry
                connection.pending.append(key)
            elif previous[2]:
                latest[key] = (channel, data, True)
            else:
                latest[key] = entry
        self._ready.update(subscribers)

    def _publish_private(self, batch: list[Committed]) -> None:
        private, instruments = self._private, self.market.instruments
        for entry in batch:
            for event in entry.events:
                kind = type(event)
                if kind is OrderUpdated:
                    assert isinstance(event, OrderUpdated)
                    connections = private.get(event.account)
                    if connections:
                        data = encode(convert.order_out(instruments[event.symbol], event))
                        for connection in list(connections):
                            connection.deliver("orders", None, data)
                elif kind is TradeExecuted:
                    assert isinstance(event, TradeExecuted)
                    self._private_trade(entry.seq, event)
                elif kind is BalanceChanged:
                    assert isinstance(event, BalanceChanged)
                    connections = private.get(event.account)
                    if connections:
                        balance = convert.asset_balance(
                            self.market, event.asset, event.balance, event.reserved
                        )
                        data = encode(balance)
                        for connection in list(connections):
                            connection.deliver("balances", "balances@" + event.asset, data)
            command = entry.command
            if (
                isinstance(command, Deposit | Withdraw | Adjust)
                and command.account in self._positions
                and command.asset in instruments
                and not any(type(e) is CommandRejected for e in entry.events)
            ):
                amount = -command.amount if type(command) is Withdraw else command.amount
                self._position_change(entry.seq, command.account, command.asset, amount, 0, True)

    def _private_trade(self, seq: int, trade: TradeExecuted) -> None:
        instrument = self.market.instruments[trade.symbol]
        for account in {trade.buyer, trade.seller}:
            connections = self._private.get(account)
            if not connections:
                continue
            data = encode(convert.fill_out(instrument, trade, account))
            for connection in list(connections):
                connection.deliver("fills", None, data)
        if trade.buyer in self._positions:
            cost = trade.notional + trade.buyer_fee
            self._position_change(seq, trade.buyer, trade.symbol, trade.quantity, cost, False)
        if trade.seller in self._positions:
            proceeds = trade.notional - trade.seller_fee
            self._position_change(seq, trade.seller, trade.symbol, -trade.quantity, proceeds, False)

    def _position_change(
        self, seq: int, account: int, symbol: str, quantity: int, cash: int, transfer: bool
    ) -> None:
        live = self._positions[account]
        if not live.loaded:
            live.buffer.append((seq, symbol, quantity, cash, transfer))
            return
        live.apply(symbol, quantity, cash, transfer)
        data = encode(self._position_out(symbol, live.positions[symbol]))
        for connection in list(self._private.get(account, ())):
            connection.deliver("positions", "positions@" + symbol, data)

    # -- state ----------------------------------------------------------------------------
    def _state(self, channel: str) -> bytes:
        kind, _, rest = channel.partition(":")
        market = self.market
        if kind == "quote":
            return encode(convert.quote_out(market, rest))
        if kind == "ticker":
            quote = convert.quote_out(market, rest)
            return encode({name: getattr(quote, name) for name in TICKER_FIELDS})
        if kind == "depth":
            symbol, _, levels = rest.partition(":")
            return encode(convert.depth_out(market, symbol, int(levels)))
        raise ValueError(f"not a state channel: {channel}")

    def _recent_trades(self, symbol: str) -> list[Any]:
        instrument = self.market.instruments[symbol]
        trades = list(self.market.trades[symbol])[-SNAPSHOT_TRADES:]
        return [convert.public_trade(instrument, trade) for trade in trades]

    def _recent_candles(self, symbol: str, interval: str) -> list[Any]:
        instrument = self.market.instruments[symbol]
        series = self.market.candles.get(symbol, interval)
        bars = list(series.bars)[-SNAPSHOT_CANDLES:] if series is not None else []
        return [convert.candle_out(instrument, bar) for bar in bars]

    def _position_out(self, symbol: str, position: Position) -> PositionOut:
        market = self.market
        return convert.position_out(
            market.instruments[symbol],
            position.quantity,
            position.cost,
            position.realised,
            market.tickers[symbol].last,
        )

    # -- heartbeats, idle and stalled connections -----------------------------------------
    async def _keep_house(self) -> None:
        settings = self.settings
        next_heartbeat = time.monotonic() + settings.ws_heartbeat_seconds
        while True:
            await asyncio.sleep(min(HOUSEKEEPING_SECONDS, settings.ws_heartbeat_seconds))
            now = time.monotonic()
            beat = now >= next_heartbeat
            if beat:
                next_heartbeat = now + settings.ws_heartbeat_seconds
                heartbeat = control({"type": "heartbeat", "ts": time.time_ns()})
            self.sweep(now, heartbeat if beat else None)

    def sweep(self, now: float, heartbeat: bytes | None) -> None:
        """Close idle connections and stalled readers; queue a heartbeat to the rest."""
        settings = self.settings
        idle_before = now - settings.ws_idle_timeout_seconds
        # A reader that has not taken one frame in this long has stayed behind.
        stalled_before = now - 2 * settings.ws_heartbeat_seconds
        queued = 0
        for connection in list(self.connections):
            if connection.closing is not None:
                continue
            if connection.last_received < idle_before:
                connection.close(1008, "idle timeout")
            elif connection.sending_since and connection.sending_since < stalled_before:
                self.cut_off(connection)
            else:
                if heartbeat is not None:
                    connection.send_control(heartbeat)
                queued += len(connection.pending)
        self.metrics.ws_queued.set(queued)


PRIVATE = ("orders", "fills", "positions", "balances")
