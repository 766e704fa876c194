"""The WebSocket gateway at ``/ws``: one per connection, it reads the client's messages
(authentication, subscriptions, pings, order entry) and answers through the stream hub's
connection queue, which also carries the market and account updates (see ``stream``).

Bad input gets an error message and the connection stays open; only a message over the
size limit (1009), a silent client (idle timeout) or a client that cannot keep up (slow
consumer) is disconnected, always with a close reason.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Any

import orjson
from fastapi import APIRouter, WebSocket
from pydantic import BaseModel, ValidationError
from sqlalchemy import select

from exchange_server.api import orders, queries
from exchange_server.api.deps import Principal
from exchange_server.api.errors import ApiError
from exchange_server.api.stream import PRIVATE, StreamHub, control
from exchange_server.engine.projections import Position
from exchange_server.marketdata.candles import INTERVALS
from exchange_server.protocol import (
    CANDLE_INTERVALS,
    DEPTH_LEVELS,
    PUBLIC_CHANNELS,
    ModifyOrderRequest,
    PlaceOrderRequest,
    WsSubscribe,
)
from exchange_server.storage.models import PositionRow

if TYPE_CHECKING:
    from exchange_server.api.context import ServerContext

log = logging.getLogger(__name__)

router = APIRouter()

MAX_SUBSCRIPTIONS = 200  # per connection: bounds the hub's per-connection state
# Order operations one connection may have in flight. They run concurrently, so a client can
# pipeline orders and the sequencer commits them in one group; past this many the gateway
# stops reading the socket until one finishes (back-pressure, bounded memory).
MAX_ORDERS_IN_FLIGHT = 32
ORDER_OPS = frozenset({"place", "modify", "cancel", "cancel_all"})
CLOSE_TOO_BIG = 1009
CLOSE_TRY_AGAIN = 1013
WRITER_GRACE_SECONDS = 6.0
assert set(CANDLE_INTERVALS) <= set(INTERVALS)


@router.websocket("/ws")
async def stream(websocket: WebSocket) -> None:
    context: ServerContext = websocket.app.state.context
    await websocket.accept()
    try:
        hub = context.hub
        if not context.ready or context.draining:
            raise ApiError(503, "starting", "the exchange is not ready")
    except ApiError:
        await websocket.close(CLOSE_TRY_AGAIN, "the exchange is not ready")
        return
    await Gateway(context, hub, websocket).run()


class Gateway:
    def __init__(self, context: ServerContext, hub: StreamHub, websocket: WebSocket) -> None:
        self.context = context
        self.hub = hub
        self.websocket = websocket
        self.max_message = context.settings.max_body_bytes
        self.orders_in_flight = asyncio.Semaphore(MAX_ORDERS_IN_FLIGHT)
        self.order_tasks: set[asyncio.Task[None]] = set()

    async def _send(self, frame: str) -> None:
        await self.websocket.send({"type": "websocket.send", "text": frame})

    async def _close(self, code: int, reason: str) -> None:
        await self.websocket.close(code, reason)

    async def run(self) -> None:
        connection = self.hub.connect(self._send, self._close)
        self.connection = connection
        try:
            connection.send_control(
                control(
                    {
                        "type": "welcome",
                        "heartbeat_seconds": self.context.settings.ws_heartbeat_seconds,
                        "idle_timeout_seconds": self.context.settings.ws_idle_timeout_seconds,
                    }
                )
            )
            await self._authenticate_on_connect()
            await self._read()
        finally:
            self.hub.disconnect(connection)
            writer = connection.writer
            if writer is not None and not writer.done():
                # Let the writer send the close frame; do not wait on a peer that never reads.
                _, late = await asyncio.wait([writer], timeout=WRITER_GRACE_SECONDS)
                if late:
                    writer.cancel()

    async def _authenticate_on_connect(self) -> None:
        """Credentials in the URL (``?token=``, for browsers) or the upgrade's headers."""
        websocket = self.websocket
        token = websocket.query_params.get("token")
        header = websocket.headers.get("authorization", "")
        scheme, _, bearer = header.partition(" ")
        if token is None and scheme.lower() == "bearer" and bearer.strip():
            token = bearer.strip()
        api_key = websocket.headers.get("x-api-key", "").strip()
        if token is None and not api_key:
            return
        await self._handle(
            {"op": "auth", "token": token} if token else {"op": "auth", "api_key": api_key}
        )

    async def _read(self) -> None:
        websocket, connection = self.websocket, self.connection
        while connection.closing is None:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            connection.last_received = time.monotonic()
            raw = message.get("text")
            if raw is None:
                raw = message.get("bytes") or b""
            if len(raw) > self.max_message:
                connection.close(CLOSE_TOO_BIG, "message too big")
                return
            try:
                request = orjson.loads(raw)
            except orjson.JSONDecodeError:
                self._error(None, "malformed_json", "the message is not valid JSON")
                continue
            if not isinstance(request, dict):
                self._error(None, "invalid_message", "a message is a JSON object with an op")
                continue
            if request.get("op") in ORDER_OPS:
                # Submitted in arrival order (a place reaches the sequencer before its task
                # first waits); answered as each becomes durable, matched by ``id``.
                await self.orders_in_flight.acquire()
                task = asyncio.create_task(self._handle_order(request))
                self.order_tasks.add(task)
                task.add_done_callback(self.order_tasks.discard)
                continue
            await self._handle(request)

    async def _handle_order(self, request: dict[str, Any]) -> None:
        try:
            await self._handle(request)
        finally:
            self.orders_in_flight.release()

    # -- replies --------------------------------------------------------------------------
    def _reply(self, message: dict[str, Any]) -> None:
        self.connection.send_control(control(message))

    def _error(self, request_id: Any, code: str, message: str, field: str | None = None) -> None:
        self._reply(
            {
                "type": "error",
                "id": request_id,
                "error": {"code": code, "message": message, "field": field},
            }
        )

    # -- dispatch -------------------------------------------------------------------------
    async def _handle(self, request: dict[str, Any]) -> None:
        request_id = request.get("id")
        if not isinstance(request_id, int | str) or isinstance(request_id, bool):
            request_id = None
        op = request.get("op")
        handler = OPS.get(op) if isinstance(op, str) else None
        if handler is None:
            self._error(request_id, "unknown_op", f"unknown op {op!r}", "op")
            return
        try:
            await handler(self, request_id, request)
        except ApiError as error:
            self._error(request_id, error.code, error.message, error.field)
        except ValidationError as error:
            code, message, field = describe(error)
            self._error(request_id, code, message, field)
        except Exception:  # a defect: logged in full, reported without internals
            log.exception("unhandled error on a WebSocket %r op", op)
            self._error(request_id, "internal_error", "the server failed to handle this")

    def _principal(self, scope: str) -> Principal:
        principal = self.connection.principal
        if principal is None:
            raise ApiError(401, "unauthorized", "authenticate first: send an auth op")
        if scope not in principal.scopes:
            raise ApiError(403, "insufficient_scope", f"this API key lacks the {scope!r} scope")
        return principal

    async def _auth(self, request_id: Any, request: dict[str, Any]) -> None:
        if self.connection.principal is not None:
            raise ApiError(409, "already_authenticated", "this connection is authenticated")
        token, api_key = request.get("token"), request.get("api_key")
        auth = self.context.auth
        if isinstance(token, str) and token:
            principal = auth.principal_from_access_token(token)
        elif isinstance(api_key, str) and api_key:
            principal = await auth.principal_from_api_key(api_key)
        else:
            raise ApiError(422, "missing_field", "send a token or an api_key", "token")
        self.connection.principal = principal
        self._reply(
            {
                "type": "authenticated",
                "id": request_id,
                "user_id": principal.user_id,
                "account_id": principal.account_id,
                "role": principal.role,
                "scopes": sorted(principal.scopes),
            }
        )

    async def _ping(self, request_id: Any, request: dict[str, Any]) -> None:
        self._reply({"type": "pong", "id": request_id, "ts": time.time_ns()})

    async def _subscribe(self, request_id: Any, request: dict[str, Any]) -> None:
        subscription = WsSubscribe.model_validate(request)
        channel = channel_name(self.context, subscription)
        connection, hub = self.connection, self.hub
        if subscription.op == "unsubscribe":
            hub.unsubscribe(connection, channel)
            self._reply({"type": "unsubscribed", "id": request_id, "channel": channel})
            return
        if channel not in connection.seqs and len(connection.seqs) >= MAX_SUBSCRIPTIONS:
            raise ApiError(429, "too_many_subscriptions", f"at most {MAX_SUBSCRIPTIONS} channels")
        if channel in PRIVATE:
            self._principal("read")
        self._reply({"type": "subscribed", "id": request_id, "channel": channel})
        if channel not in PRIVATE:
            hub.subscribe_public(connection, channel)
            return
        if not hub.subscribe_private(connection, channel):
            return
        try:
            await self._load_snapshot(channel)
        except ApiError as error:
            hub.unsubscribe(connection, channel)
            if channel == "positions":
                hub.positions_failed(self._principal("read").account_id)
            raise error from None

    async def _load_snapshot(self, channel: str) -> None:
        context, account = self.context, self._principal("read").account_id
        data: list[Any]
        if channel == "orders":
            data = await queries.open_orders(context, account)
        elif channel == "fills":
            data = await queries.recent_fills(context, account)
        elif channel == "balances":
            data = await queries.balances(context, account)
        else:
            self.hub.seed_positions(account, await position_rows(context, account))
            return
        self.hub.snapshot_loaded(self.connection, channel, data)

    async def _place(self, request_id: Any, request: dict[str, Any]) -> None:
        principal = self._principal("trade")
        order = PlaceOrderRequest.model_validate(request.get("order"))
        result = await orders.place_order(self.context, principal, order)
        self._result(request_id, result)

    async def _modify(self, request_id: Any, request: dict[str, Any]) -> None:
        principal = self._principal("trade")
        changes = ModifyOrderRequest.model_validate(request.get("changes"))
        order_id = order_id_of(request)
        self._result(
            request_id, await orders.modify_order(self.context, principal, order_id, changes)
        )

    async def _cancel(self, request_id: Any, request: dict[str, Any]) -> None:
        principal = self._principal("trade")
        result = await orders.cancel_order(self.context, principal, order_id_of(request))
        self._result(request_id, result)

    async def _cancel_all(self, request_id: Any, request: dict[str, Any]) -> None:
        principal = self._principal("trade")
        symbol = request.get("symbol")
        if symbol is not None and not isinstance(symbol, str):
            raise ApiError(422, "invalid_field", "symbol is a string or null", "symbol")
        self._result(request_id, await orders.cancel_all(self.context, principal, symbol))

    def _result(self, request_id: Any, result: BaseModel) -> None:
        self._reply({"type": "result", "id": request_id, "data": result})


OPS = {
    "auth": Gateway._auth,
    "ping": Gateway._ping,
    "subscribe": Gateway._subscribe,
    "unsubscribe": Gateway._subscribe,
    "place": Gateway._place,
    "modify": Gateway._modify,
    "cancel": Gateway._cancel,
    "cancel_all": Gateway._cancel_all,
}


def order_id_of(request: dict[str, Any]) -> int:
    order_id = request.get("order_id")
    if not isinstance(order_id, int) or isinstance(order_id, bool) or order_id <= 0:
        raise ApiError(422, "invalid_field", "order_id is a positive integer", "order_id")
    return order_id


def channel_name(context: ServerContext, request: WsSubscribe) -> str:
    """The canonical channel name of a subscription, or an ApiError saying what is wrong.
    A full name (``depth:RELIANCE:5``) or its parts (channel, symbol, levels) both work."""
    kind, symbol, levels = request.channel, request.symbol, request.levels
    if ":" in kind:
        if symbol is not None or levels is not None:
            raise ApiError(422, "invalid_field", "give a full channel name or its parts", "channel")
        parts = kind.split(":")
        kind, symbol = parts[0], parts[1]
        if kind == "depth" and len(parts) == 3 and parts[2].isdigit() and len(parts[2]) < 4:
            levels = int(parts[2])
        elif len(parts) != 2:
            raise ApiError(
                422, "unknown_channel", f"unknown channel {request.channel!r}", "channel"
            )
    if kind in PRIVATE:
        if symbol is not None or levels is not None:
            raise ApiError(422, "invalid_field", f"{kind} takes no symbol or levels", "symbol")
        return kind
    base, _, interval = kind.partition(".")
    if base not in PUBLIC_CHANNELS or (base == "candles") != bool(interval):
        raise unknown_channel(request.channel)
    if base == "candles" and interval not in CANDLE_INTERVALS:
        raise ApiError(
            422,
            "unknown_interval",
            f"candle intervals: {', '.join(CANDLE_INTERVALS)}",
            "channel",
        )
    if not symbol:
        raise ApiError(422, "missing_field", f"{base} needs a symbol", "symbol")
    if symbol not in context.market.instruments:
        raise ApiError(404, "unknown_symbol", f"no instrument {symbol!r}", "symbol")
    if base != "depth":
        if levels is not None:
            raise ApiError(422, "invalid_field", "only depth takes levels", "levels")
        return f"{kind}:{symbol}"
    if levels is None:
        levels = DEPTH_LEVELS[0]
    if levels not in DEPTH_LEVELS:
        raise ApiError(
            422, "invalid_levels", f"depth levels: {', '.join(map(str, DEPTH_LEVELS))}", "levels"
        )
    return f"depth:{symbol}:{levels}"


def unknown_channel(channel: str) -> ApiError:
    return ApiError(422, "unknown_channel", f"unknown channel {channel!r}", "channel")


def describe(error: ValidationError) -> tuple[str, str, str | None]:
    problems = error.errors()
    if not problems:
        return "invalid_field", "invalid message", None
    problem = problems[0]
    kind = problem["type"]
    field = ".".join(str(part) for part in problem["loc"]) or None
    if kind == "missing":
        code = "missing_field"
    elif kind == "extra_forbidden":
        code = "unknown_field"
    else:
        code = "invalid_field"
    return code, problem["msg"], field


async def position_rows(context: ServerContext, account: int) -> dict[str, tuple[Position, int]]:
    """The account's positions in the read models with the sequence of each row's last
    change, once they include everything committed before this call."""
    await queries.caught_up(context)
    engine = context.service.read_engine
    if engine is None:
        raise ApiError(503, "unavailable", "account data is not available")
    statement = select(PositionRow).where(PositionRow.account == account)

    def run() -> dict[str, tuple[Position, int]]:
        with engine.connect() as connection:
            return {
                row.symbol: (Position(row.quantity, row.cost, row.realised_pnl), row.updated_seq)
                for row in connection.execute(statement).all()
            }

    return await asyncio.to_thread(run)
