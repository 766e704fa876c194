"""A small WebSocket server on 127.0.0.1 that speaks the stream protocol, with controls the
real server does not offer (drop a connection, skip a sequence number, go silent), so the
client's recovery can be tested deterministically."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve

ORDER = {
    "order_id": 1,
    "client_order_id": "c-1",
    "symbol": "TCS",
    "side": "buy",
    "order_type": "limit",
    "tif": "day",
    "status": "open",
    "quantity": "10",
    "price": "3500.05",
    "trigger_price": None,
    "filled": "0",
    "remaining": "10",
    "average_price": None,
    "fees": "0",
    "post_only": False,
    "expire_at": 0,
    "created_at": 1,
    "updated_at": 1,
    "reason": "",
}


def channel_of(message: dict[str, Any]) -> str:
    name = str(message["channel"])
    if message.get("symbol"):
        name += f":{message['symbol']}"
    if message.get("levels"):
        name += f":{message['levels']}"
    return name


@dataclass
class Session:
    """One client connection as the fake server sees it."""

    socket: ServerConnection
    credentials: dict[str, Any] = field(default_factory=dict)
    channels: dict[str, int] = field(default_factory=dict)  # channel -> last seq sent
    received: list[dict[str, Any]] = field(default_factory=list)


class FakeExchange:
    def __init__(self, heartbeat_seconds: float = 10.0) -> None:
        self.heartbeat_seconds = heartbeat_seconds
        self.sessions: list[Session] = []
        self.silent = False  # stop answering and heartbeating: a dead peer
        self.hold_orders = False  # never answer order ops (to drop the line meanwhile)
        self.refuse_auth: str | None = None  # error code to answer auth with
        self.snapshots = 0
        self._changed = asyncio.Condition()
        self._server: Server | None = None
        self.url = ""

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[FakeExchange]:
        async with serve(self._handle, "127.0.0.1", 0) as server:
            self._server = server
            port = next(iter(server.sockets)).getsockname()[1]
            self.url = f"ws://127.0.0.1:{port}/ws"
            yield self

    @property
    def current(self) -> Session:
        return self.sessions[-1]

    async def wait_for(self, condition: Callable[[], bool], timeout: float = 5.0) -> None:
        """Wait until ``condition()`` holds, re-checked whenever a client message arrives."""
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(condition)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _handle(self, socket: ServerConnection) -> None:
        session = Session(socket)
        self.sessions.append(session)
        await self._notify()
        await socket.send(
            json.dumps({"type": "welcome", "heartbeat_seconds": self.heartbeat_seconds})
        )
        with contextlib.suppress(Exception):
            async for raw in socket:
                message = json.loads(raw)
                session.received.append(message)
                if not self.silent:
                    await self._answer(session, message)
                await self._notify()
        await self._notify()

    async def _answer(self, session: Session, message: dict[str, Any]) -> None:
        op, request_id = message.get("op"), message.get("id")
        send = session.socket.send
        if op == "auth":
            session.credentials = {k: v for k, v in message.items() if k != "op"}
            if self.refuse_auth:
                error = {"code": self.refuse_auth, "message": "no", "field": None}
                await send(json.dumps({"type": "error", "id": request_id, "error": error}))
            else:
                reply = {"type": "authenticated", "id": request_id, "user_id": 7, "role": "trader"}
                await send(json.dumps(reply))
        elif op == "subscribe":
            name = channel_of(message)
            if message.get("symbol") == "NOPE":
                error = {"code": "unknown_symbol", "message": "no such symbol", "field": "symbol"}
                await send(json.dumps({"type": "error", "id": request_id, "error": error}))
                return
            await send(json.dumps({"type": "subscribed", "id": request_id, "channel": name}))
            seq = session.channels.get(name, 0) + 1  # seq continues on a resubscription
            session.channels[name] = seq
            self.snapshots += 1
            snapshot = {"type": "snapshot", "channel": name, "seq": seq, "data": {"n": 0}}
            await send(json.dumps(snapshot))
        elif op == "unsubscribe":
            name = channel_of(message)
            session.channels.pop(name, None)
            await send(json.dumps({"type": "unsubscribed", "id": request_id, "channel": name}))
        elif op == "ping":
            await send(json.dumps({"type": "pong", "id": request_id}))
        elif op in ("place", "modify", "cancel") and not self.hold_orders:
            if op == "place" and message["order"]["symbol"] == "NOPE":
                error = {"code": "unknown_symbol", "message": "no such symbol", "field": "symbol"}
                await send(json.dumps({"type": "error", "id": request_id, "error": error}))
                return
            order = dict(ORDER)
            if op == "place":
                order["client_order_id"] = message["order"]["client_order_id"]
            await send(json.dumps({"type": "result", "id": request_id, "data": order}))

    async def publish(self, channel: str, data: Any, skip: int = 0) -> None:
        """Send an update to every connection subscribed to ``channel``; ``skip`` numbers
        are left out first, as if those messages had been lost."""
        for session in self.sessions:
            if channel in session.channels and session.socket.state.name == "OPEN":
                seq = session.channels[channel] + 1 + skip
                session.channels[channel] = seq
                update = {"type": "update", "channel": channel, "seq": seq, "data": data}
                await session.socket.send(json.dumps(update))

    async def heartbeat(self) -> None:
        for session in self.sessions:
            with contextlib.suppress(Exception):
                await session.socket.send(json.dumps({"type": "heartbeat", "ts": 0}))

    async def drop(self) -> None:
        """Close every connection abruptly, as a crashed server or a cut cable would."""
        for session in self.sessions:
            transport = session.socket.transport
            transport.abort()
