"""The streaming half of the client: one WebSocket to ``/ws`` that stays up.

``StreamClient`` keeps the set of channels its users want, not the set the current socket
happens to have: after a reconnect (exponential backoff with jitter) it authenticates with a
fresh token and subscribes to all of them again, and each channel starts over from a
snapshot. A gap in a channel's ``seq`` (messages lost) resubscribes that channel alone.
Silence longer than about three heartbeats counts as a dead connection.

Consumers either iterate a :class:`Subscription` (``async for message in sub``) or register
a callback. Every message is a :class:`StreamMessage`; a ``snapshot`` replaces whatever the
consumer held for that channel, an ``update`` applies on top of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, Self

import websockets
from websockets.asyncio.client import ClientConnection, connect

from exchange_server.backoff import Backoff
from exchange_server.protocol import CancelAllResult, OrderOut, OrderType, Side, TimeInForce
from workstation.client.channels import SequenceTracker, Verdict, channel_name, parse_data
from workstation.client.errors import (
    ApiError,
    ClientError,
    ConnectionLost,
    NotConnected,
    StreamClosed,
    TransportError,
)
from workstation.client.wire import Number, modify_request, order_request

if TYPE_CHECKING:
    from workstation.client.rest import ExchangeClient

log = logging.getLogger(__name__)

DEFAULT_HEARTBEAT_SECONDS = 10.0
MISSED_HEARTBEATS = 3  # silence for this many intervals means the connection is dead
# Auth refusals a later reconnect may get past; any other refusal (bad or revoked token or
# key, disabled account) closes the stream, since retrying would only hammer the server.
TRANSIENT_AUTH_CODES = frozenset(
    {"starting", "unavailable", "shutting_down", "rate_limited", "internal_error"}
)


class ConnectionState(StrEnum):
    CONNECTING = "connecting"  # first attempt
    CONNECTED = "connected"  # authenticated, subscriptions (re)sent
    RECONNECTING = "reconnecting"  # lost; waiting out the backoff or trying again
    CLOSED = "closed"  # by the owner, or for good (credentials refused)


@dataclass(frozen=True, slots=True)
class StreamMessage:
    channel: str  # the server's channel name, e.g. "depth:RELIANCE:5"
    kind: Literal["snapshot", "update"]
    seq: int
    data: Any  # JSON as sent: decimals are strings; ``parsed()`` gives protocol models

    def parsed(self) -> Any:
        """``data`` as protocol models (see :func:`~workstation.client.channels.parse_data`):
        e.g. a Quote, a Depth, an OrderOut update or the snapshot's list[OrderOut]."""
        return parse_data(self.channel, self.kind, self.data)


MessageCallback = Callable[[StreamMessage], None]
StateListener = Callable[[ConnectionState], None]

_END = object()  # queued to end an iteration


class Subscription:
    """One consumer of one channel. Iterate it, or give ``subscribe`` a callback.

    Messages wait in a bounded queue: a consumer that falls ``max_pending`` behind loses
    what is queued and gets a fresh snapshot instead of growing memory without limit.
    """

    def __init__(
        self,
        stream: StreamClient,
        channel: str,
        callback: MessageCallback | None,
        max_pending: int,
    ) -> None:
        self.stream = stream
        self.channel = channel
        self._callback = callback
        self._queue: asyncio.Queue[StreamMessage | BaseException | object] = asyncio.Queue()
        self._max_pending = max_pending
        self.closed = False

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> StreamMessage:
        if self._callback is not None:
            raise TypeError("this subscription delivers to its callback")
        if self.closed and self._queue.empty():
            raise StopAsyncIteration
        item = await self._queue.get()
        if item is _END:
            raise StopAsyncIteration
        if isinstance(item, BaseException):
            raise item
        assert isinstance(item, StreamMessage)
        return item

    async def get(self, timeout: float | None = None) -> StreamMessage:
        """The next message, waiting at most ``timeout`` seconds (TimeoutError)."""
        async with asyncio.timeout(timeout):
            return await self.__anext__()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Stop receiving; the server subscription ends with its last consumer."""
        await self.stream._remove(self)

    # -- called by the stream -------------------------------------------------------------
    def _deliver(self, message: StreamMessage) -> bool:
        """False when this consumer fell too far behind and needs a fresh snapshot."""
        if self._callback is not None:
            try:
                self._callback(message)
            except Exception:  # a consumer's bug must not take the stream down
                log.exception("stream callback for %s failed", self.channel)
            return True
        if message.kind == "update" and self._queue.qsize() >= self._max_pending:
            while not self._queue.empty():
                self._queue.get_nowait()
            return False
        self._queue.put_nowait(message)
        return True

    def _finish(self, error: BaseException | None = None) -> None:
        if self.closed:
            return
        self.closed = True
        if error is not None and self._callback is None:
            self._queue.put_nowait(error)
        self._queue.put_nowait(_END)


class _Channel:
    """A channel the stream wants, with its consumers and sequence state."""

    def __init__(self, name: str, request: dict[str, Any]) -> None:
        self.name = name
        self.request = request  # the subscribe op's channel/symbol/levels
        self.subscribers: list[Subscription] = []
        self.tracker = SequenceTracker()
        self.resyncing = False


class StreamClient:
    """A self-healing WebSocket stream to one exchange server.

    ``async with StreamClient(client) as stream`` connects in the background; ``await
    stream.wait_connected()`` waits for the first connection. ``client`` (an
    :class:`~workstation.client.rest.ExchangeClient`) supplies the URL and credentials;
    without credentials only public channels work.
    """

    def __init__(
        self,
        client: ExchangeClient | None = None,
        *,
        url: str | None = None,
        backoff: Backoff | None = None,
        dead_after: float | None = None,
        open_timeout: float = 10.0,
        request_timeout: float = 10.0,
        max_pending: int = 10_000,
    ) -> None:
        if url is None:
            if client is None:
                raise ValueError("give an ExchangeClient or a url")
            url = client.ws_url
        self.url = url
        self.client = client
        self.backoff = backoff or Backoff()
        self.open_timeout = open_timeout
        self.request_timeout = request_timeout
        self.max_pending = max_pending
        self._dead_after = dead_after  # None: MISSED_HEARTBEATS x the server's interval
        self._heartbeat_seconds = DEFAULT_HEARTBEAT_SECONDS
        self._state = ConnectionState.CLOSED
        self._state_listeners: list[StateListener] = []
        self._state_waiters: list[tuple[frozenset[ConnectionState], asyncio.Future[None]]] = []
        self._channels: dict[str, _Channel] = {}
        self._aliases: dict[str, str] = {}  # server's channel name -> ours, if they differ
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._subscribe_ids: dict[int, str] = {}
        self._outbox: asyncio.Queue[dict[str, Any]] | None = None  # None: not live
        self._socket: ClientConnection | None = None
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._wake = asyncio.Event()
        # As the server authenticated us: user_id, account_id, role, scopes.
        self.user: dict[str, Any] | None = None
        self.error: BaseException | None = None  # why the stream closed for good
        self.connections = 0  # successful connections so far (1 + reconnects)
        self.resyncs = 0  # resubscriptions after gaps or overflow

    # -- lifecycle ------------------------------------------------------------------------
    async def __aenter__(self) -> Self:
        self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    def start(self) -> None:
        if self._task is not None:
            return
        self._closing = False
        self._set_state(ConnectionState.CONNECTING)
        self._task = asyncio.create_task(self._run(), name=f"stream {self.url}")

    async def close(self) -> None:
        """Close for good: subscriptions end, pending requests fail with StreamClosed."""
        self._closing = True
        self._wake.set()
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._shutdown(StreamClosed("the stream was closed"))

    def _shutdown(self, error: BaseException | None) -> None:
        for channel in self._channels.values():
            for subscription in channel.subscribers:
                subscription._finish(error if not isinstance(error, StreamClosed) else None)
        self._channels.clear()
        self._fail_pending(error or StreamClosed("the stream was closed"))
        self._set_state(ConnectionState.CLOSED)

    # -- state ----------------------------------------------------------------------------
    @property
    def state(self) -> ConnectionState:
        return self._state

    def add_state_listener(self, listener: StateListener) -> Callable[[], None]:
        """Call ``listener(state)`` on every change; returns a function that removes it."""
        self._state_listeners.append(listener)
        return lambda: self._state_listeners.remove(listener)

    async def wait_for_state(self, *states: ConnectionState, timeout: float | None = None) -> None:
        if self._state in states:
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (frozenset(states), future)
        self._state_waiters.append(entry)
        try:
            async with asyncio.timeout(timeout):
                await future
        finally:
            if entry in self._state_waiters:
                self._state_waiters.remove(entry)

    async def wait_connected(self, timeout: float | None = None) -> None:
        """Wait for a live connection; raises the reason if the stream closed instead."""
        await self.wait_for_state(
            ConnectionState.CONNECTED, ConnectionState.CLOSED, timeout=timeout
        )
        if self._state is ConnectionState.CLOSED:
            raise self.error or StreamClosed("the stream is closed")

    def _set_state(self, state: ConnectionState) -> None:
        if state is self._state:
            return
        self._state = state
        for listener in list(self._state_listeners):
            try:
                listener(state)
            except Exception:
                log.exception("stream state listener failed")
        for states, future in list(self._state_waiters):
            if state in states and not future.done():
                future.set_result(None)

    # -- subscriptions --------------------------------------------------------------------
    def subscribe(
        self,
        channel: str,
        symbol: str | None = None,
        levels: int | None = None,
        *,
        callback: MessageCallback | None = None,
    ) -> Subscription:
        """Subscribe (now if connected, else as soon as it is) and return the consumer.

        The first message is the channel's snapshot. An error from the server (an unknown
        symbol, a private channel without credentials) ends the subscription: iterating it
        raises the ApiError."""
        name = channel_name(channel, symbol, levels)
        if self._closing:
            raise StreamClosed("the stream was closed")
        subscription = Subscription(self, name, callback, self.max_pending)
        state = self._channels.get(name)
        if state is None:
            request: dict[str, Any] = {"channel": channel}
            if symbol is not None:
                request["symbol"] = symbol
            if channel.startswith("depth"):
                request["levels"] = int(name.rsplit(":", 1)[1])
            state = self._channels[name] = _Channel(name, request)
            state.subscribers.append(subscription)
            self._send_subscribe(state)
        else:
            # The newcomer needs a snapshot too; the others just get a fresh one.
            state.subscribers.append(subscription)
            self._resync(state)
        return subscription

    async def _remove(self, subscription: Subscription) -> None:
        subscription._finish()
        state = self._channels.get(subscription.channel)
        if state is None or subscription not in state.subscribers:
            return
        state.subscribers.remove(subscription)
        if not state.subscribers:
            del self._channels[state.name]
            self._enqueue({"op": "unsubscribe", **state.request, "id": next(self._ids)})

    @property
    def channels(self) -> list[str]:
        """The channels wanted (kept across reconnects)."""
        return list(self._channels)

    def _send_subscribe(self, state: _Channel) -> None:
        state.tracker.reset()
        if self._outbox is None:
            return  # sent by the next connection's resubscription
        request_id = next(self._ids)
        self._subscribe_ids[request_id] = state.name
        self._enqueue({"op": "subscribe", **state.request, "id": request_id})

    def _resync(self, state: _Channel) -> None:
        """Fresh snapshot for a channel: unsubscribe and subscribe again. Updates arriving
        meanwhile are dropped (the tracker waits for the snapshot)."""
        state.tracker.reset()
        if self._outbox is None or state.resyncing:
            return
        state.resyncing = True
        self.resyncs += 1
        self._enqueue({"op": "unsubscribe", **state.request, "id": next(self._ids)})
        self._send_subscribe(state)

    # -- order entry over the socket ------------------------------------------------------
    async def place_order(
        self,
        symbol: str,
        side: Side,
        quantity: Number,
        price: Number | None = None,
        *,
        order_type: OrderType | None = None,
        trigger_price: Number | None = None,
        tif: TimeInForce = "day",
        client_order_id: str | None = None,
        post_only: bool = False,
        expire_at: int | None = None,
    ) -> OrderOut:
        """As :meth:`ExchangeClient.place_order`, over the socket. If the connection drops
        before the answer, ConnectionLost is raised and the order's fate is unknown: resend
        with the same ``client_order_id`` (idempotent) or look it up."""
        request = order_request(
            symbol,
            side,
            quantity,
            price,
            order_type=order_type,
            trigger_price=trigger_price,
            tif=tif,
            client_order_id=client_order_id,
            post_only=post_only,
            expire_at=expire_at,
        )
        order = request.model_dump(mode="json", exclude_none=True)
        return OrderOut.model_validate(await self.call({"op": "place", "order": order}))

    async def modify_order(
        self,
        order_id: int,
        *,
        quantity: Number | None = None,
        price: Number | None = None,
        trigger_price: Number | None = None,
    ) -> OrderOut:
        changes = modify_request(quantity=quantity, price=price, trigger_price=trigger_price)
        payload = {
            "op": "modify",
            "order_id": int(order_id),
            "changes": changes.model_dump(mode="json", exclude_none=True),
        }
        return OrderOut.model_validate(await self.call(payload))

    async def cancel_order(self, order_id: int) -> OrderOut:
        return OrderOut.model_validate(await self.call({"op": "cancel", "order_id": int(order_id)}))

    async def cancel_all(self, symbol: str | None = None) -> CancelAllResult:
        data = await self.call({"op": "cancel_all", "symbol": symbol})
        return CancelAllResult.model_validate(data)

    async def ping(self) -> None:
        await self.call({"op": "ping"})

    async def call(self, payload: dict[str, Any], timeout: float | None = None) -> Any:
        """Send an op with a fresh request id and wait for its result (its ``data``)."""
        if self._outbox is None:
            raise NotConnected(f"the stream is {self._state.value}")
        request_id = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        self._enqueue({**payload, "id": request_id})
        try:
            async with asyncio.timeout(self.request_timeout if timeout is None else timeout):
                return await future
        finally:
            self._pending.pop(request_id, None)

    def _fail_pending(self, error: BaseException) -> None:
        pending, self._pending = self._pending, {}
        for future in pending.values():
            if not future.done():
                future.set_exception(error)

    # -- the connection -------------------------------------------------------------------
    def _enqueue(self, message: dict[str, Any]) -> None:
        if self._outbox is not None:
            self._outbox.put_nowait(message)

    async def _run(self) -> None:
        attempt = 0
        while not self._closing:
            try:
                await self._connect_and_serve()
                attempt = 0  # the connection worked; a new outage starts from the short delay
            except asyncio.CancelledError:
                raise
            except _FatalStreamError as fatal:
                self._closing = True
                self.error = fatal.error
                log.warning("stream closed for good: %s", fatal.error)
                self._shutdown(fatal.error)
                return
            except (OSError, TimeoutError, websockets.WebSocketException, TransportError) as error:
                log.info("stream to %s failed: %r", self.url, error)
            except Exception:
                log.exception("stream to %s failed unexpectedly", self.url)
            if self._closing:
                break
            self._set_state(ConnectionState.RECONNECTING)
            delay = self.backoff.delay(attempt)
            attempt += 1
            # Waiting out the backoff, but a close() must not wait for it.
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await self._wake.wait()

    async def _connect_and_serve(self) -> None:
        async with connect(
            self.url,
            open_timeout=self.open_timeout,
            ping_interval=None,  # liveness is the protocol's heartbeats, checked below
            close_timeout=2,
            max_size=2**23,
        ) as socket:
            self._socket = socket
            try:
                await self._handshake(socket)
                await self._serve(socket)
            finally:
                self._socket = None
                self._outbox = None
                self._subscribe_ids.clear()
                self._aliases.clear()
                for state in self._channels.values():
                    state.tracker.reset()
                    state.resyncing = False
                self._fail_pending(ConnectionLost("the stream connection was lost"))

    async def _receive(self, socket: ClientConnection, timeout: float) -> list[dict[str, Any]]:
        """The messages of the next frame: the server batches whatever is pending when its
        writer wakes into one JSON array, and sends a lone message as an object."""
        async with asyncio.timeout(timeout):
            raw = await socket.recv()
        frame = json.loads(raw)
        messages = frame if isinstance(frame, list) else [frame]
        if not all(isinstance(message, dict) for message in messages):
            raise websockets.InvalidMessage(f"expected JSON objects, got {raw!r:.100}")
        return messages

    async def _handshake(self, socket: ClientConnection) -> None:
        for message in await self._receive(socket, self.open_timeout):
            if message.get("type") == "welcome":
                self._heartbeat_seconds = float(
                    message.get("heartbeat_seconds") or DEFAULT_HEARTBEAT_SECONDS
                )
        await self._authenticate(socket)
        self._outbox = asyncio.Queue()
        # No await between going live and queueing every wanted channel, so a subscribe()
        # call cannot fall between the two and be missed or sent twice.
        for state in self._channels.values():
            state.resyncing = False
            self._send_subscribe(state)
        self.connections += 1
        self._set_state(ConnectionState.CONNECTED)

    async def _authenticate(self, socket: ClientConnection) -> None:
        client = self.client
        if client is None:
            return
        for attempt in range(2):
            credentials = await self._credentials(client, force_refresh=attempt > 0)
            if credentials is None:
                return  # anonymous: public channels only
            await socket.send(json.dumps({"op": "auth", **credentials}))
            reply = await self._auth_reply(socket)
            if reply.get("type") == "authenticated":
                self.user = _principal_of(reply)
                return
            error = ApiError.from_detail(401, reply.get("error"))
            if error.code == "token_expired" and attempt == 0 and client.tokens is not None:
                continue  # the clock raced the expiry: refresh once and retry
            if error.code in TRANSIENT_AUTH_CODES:
                raise TransportError(f"authentication failed for now: {error}")
            raise _FatalStreamError(error)

    async def _auth_reply(self, socket: ClientConnection) -> dict[str, Any]:
        async with asyncio.timeout(self.open_timeout):
            while True:  # heartbeats and the like may come first
                for message in await self._receive(socket, self.open_timeout):
                    if message.get("type") in ("authenticated", "error"):
                        return message

    @staticmethod
    async def _credentials(client: ExchangeClient, force_refresh: bool) -> dict[str, str] | None:
        if client.api_key is not None:
            return {"api_key": client.api_key}
        if client.tokens is None:
            return None
        try:
            if force_refresh:
                await client.refresh()
            token = await client.fresh_access_token()
        except ApiError as error:
            if error.status in (400, 401, 403):
                raise _FatalStreamError(error) from error  # the session is over: log in again
            raise TransportError(f"token refresh failed: {error}") from error
        except ClientError as error:
            raise _FatalStreamError(error) from error
        return {"token": token} if token else None

    async def _serve(self, socket: ClientConnection) -> None:
        outbox = self._outbox
        assert outbox is not None
        writer = asyncio.create_task(self._write(socket, outbox), name="stream writer")
        pinger = asyncio.create_task(self._ping(outbox), name="stream pinger")
        dead_after = self._dead_after or MISSED_HEARTBEATS * self._heartbeat_seconds + 1.0
        try:
            while True:
                if writer.done():  # a failed send means the connection is gone
                    writer.result()
                    return
                try:
                    messages = await self._receive(socket, dead_after)
                except TimeoutError:
                    log.warning("no traffic on the stream for %.0f s; reconnecting", dead_after)
                    # A dead peer will not answer a close handshake: drop the socket.
                    socket.transport.abort()
                    return
                for message in messages:
                    self._dispatch(message)
        finally:
            for task in (writer, pinger):
                task.cancel()
            for task in (writer, pinger):
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    async def _write(self, socket: ClientConnection, outbox: asyncio.Queue[dict[str, Any]]) -> None:
        while True:
            message = await outbox.get()
            await socket.send(json.dumps(message))

    async def _ping(self, outbox: asyncio.Queue[dict[str, Any]]) -> None:
        # Heartbeats both ways: the server also drops clients it has not heard from.
        while True:
            await asyncio.sleep(self._heartbeat_seconds)
            outbox.put_nowait({"op": "ping", "id": next(self._ids)})

    # -- incoming -------------------------------------------------------------------------
    def _dispatch(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind in ("snapshot", "update"):
            self._on_data(kind, message)
        elif kind == "result":
            future = self._pending.get(message.get("id"))  # type: ignore[arg-type]
            if future is not None and not future.done():
                future.set_result(message.get("data"))
        elif kind == "error":
            self._on_error(message)
        elif kind == "subscribed":
            name = self._subscribe_ids.pop(message.get("id"), None)  # type: ignore[arg-type]
            server_name = message.get("channel")
            if name is not None and isinstance(server_name, str) and server_name != name:
                self._aliases[server_name] = name
        elif kind == "authenticated":
            self.user = _principal_of(message)
        # heartbeat, pong, unsubscribed, welcome: receiving them is the point (liveness)

    def _on_data(self, kind: Literal["snapshot", "update"], message: dict[str, Any]) -> None:
        name = message.get("channel")
        if not isinstance(name, str):
            return
        name = self._aliases.get(name, name)
        state = self._channels.get(name)
        seq = message.get("seq")
        if state is None or not isinstance(seq, int):
            return  # a channel given up on; its last messages may still be in flight
        verdict = state.tracker.accept(kind, seq)
        if verdict is Verdict.GAP:
            log.info("gap on %s at seq %d; resubscribing", name, seq)
            self._resync(state)
            return
        if verdict is Verdict.DROP:
            return
        if kind == "snapshot":
            state.resyncing = False
        item = StreamMessage(name, kind, seq, message.get("data"))
        behind = [s for s in list(state.subscribers) if not s._deliver(item)]
        if behind:
            log.warning("a consumer of %s fell behind; resending the snapshot", name)
            self._resync(state)

    def _on_error(self, message: dict[str, Any]) -> None:
        request_id = message.get("id")
        error = ApiError.from_detail(0, message.get("error"))
        future = self._pending.get(request_id)  # type: ignore[arg-type]
        if future is not None:
            if not future.done():
                future.set_exception(error)
            return
        name = self._subscribe_ids.pop(request_id, None)  # type: ignore[arg-type]
        state = self._channels.pop(name, None) if name is not None else None
        if state is None:
            log.warning("stream error: %s", error)
            return
        for subscription in state.subscribers:
            subscription._finish(error)


def _principal_of(message: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in message.items() if key not in ("type", "id")}


class _FatalStreamError(Exception):
    """Raised inside the connection loop when reconnecting cannot help."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


# A shorter name for scripts that only read market data.
MarketStream = StreamClient
