"""A minimal WebSocket client for load generation: thousands of subscribers per process.

A full client library spends tens of microseconds per received message; at 50,000
messages a second the load generator, not the server, would be what is measured. This one
speaks just enough RFC 6455 for a subscriber (handshake, masked text frames out, unmasked
frames in, ping/close ignored) on an ``asyncio.Protocol``, and hands each payload to a
callback without parsing the JSON.
"""

from __future__ import annotations

import asyncio
import base64
import os
import struct
from collections.abc import Callable
from urllib.parse import urlsplit

OP_TEXT = 0x1
OP_CLOSE = 0x8

Receiver = Callable[[bytes], None]


def masked_text_frame(payload: bytes) -> bytes:
    mask = os.urandom(4)
    length = len(payload)
    if length < 126:
        header = struct.pack("!BB", 0x80 | OP_TEXT, 0x80 | length)
    elif length < 1 << 16:
        header = struct.pack("!BBH", 0x80 | OP_TEXT, 0x80 | 126, length)
    else:
        header = struct.pack("!BBQ", 0x80 | OP_TEXT, 0x80 | 127, length)
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return header + mask + body


class LightClient(asyncio.Protocol):
    def __init__(self, host: str, path: str, receive: Receiver) -> None:
        self.request = (
            f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
            f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}\r\n\r\n"
        ).encode()
        self.receive = receive
        self.buffer = bytearray()
        self.upgraded = asyncio.get_running_loop().create_future()
        self.closed = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is not a subclass
        transport.write(self.request)

    def send_text(self, payload: bytes) -> None:
        assert self.transport is not None
        self.transport.write(masked_text_frame(payload))

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        if not self.upgraded.done():
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            status = bytes(buffer[: buffer.find(b"\r\n")])
            del buffer[: end + 4]
            if b" 101 " not in status:
                self.upgraded.set_exception(ConnectionError(status.decode(errors="replace")))
                return
            self.upgraded.set_result(None)
        offset, size = 0, len(buffer)
        while size - offset >= 2:
            opcode = buffer[offset] & 0x0F
            length = buffer[offset + 1] & 0x7F
            start = offset + 2
            if length == 126:
                if size - start < 2:
                    break
                (length,) = struct.unpack_from("!H", buffer, start)
                start += 2
            elif length == 127:
                if size - start < 8:
                    break
                (length,) = struct.unpack_from("!Q", buffer, start)
                start += 8
            if size - start < length:
                break
            if opcode == OP_TEXT:
                self.receive(bytes(buffer[start : start + length]))
            elif opcode == OP_CLOSE and not self.closed.done():
                self.closed.set_result(None)
            offset = start + length
        if offset:
            del buffer[:offset]

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.upgraded.done():
            self.upgraded.set_exception(exc or ConnectionError("closed during the handshake"))
        if not self.closed.done():
            self.closed.set_result(None)


async def connect(url: str, receive: Receiver) -> LightClient:
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    loop = asyncio.get_running_loop()
    _, client = await loop.create_connection(
        lambda: LightClient(parts.netloc, path or "/", receive),
        parts.hostname,
        parts.port,
    )
    await client.upgraded
    return client
