"""The ASGI application: routes, error handling, limits and the server's lifespan."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from exchange_server.api import ws
from exchange_server.api.context import ServerContext
from exchange_server.api.errors import ApiError, error_body, install_error_handlers
from exchange_server.api.openapi import document_errors
from exchange_server.api.ratelimit import TokenBuckets
from exchange_server.api.routes import (
    admin_market,
    admin_users,
    auth,
    health,
    market,
    paper,
    trading,
    user,
)
from exchange_server.api.settings import ServerSettings
from exchange_server.engine.clock import Clock

EXEMPT_PATHS = ("/healthz", "/readyz", "/metrics")


def create_app(settings: ServerSettings, clock: Clock | None = None) -> FastAPI:
    context = ServerContext(settings, clock)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await context.start()
        try:
            yield
        finally:
            await context.stop()

    app = FastAPI(
        title="Exchange server",
        version="1.0",
        description="Matching engine, accounts and market data of the trading workstation.",
        lifespan=lifespan,
    )
    app.state.context = context
    install_error_handlers(app)
    for module in (auth, admin_users, market, trading, user, paper, admin_market, health):
        app.include_router(module.router)
    app.include_router(ws.router)
    document_errors(app)
    # Outermost first: limits are checked before anything reads the body.
    app.add_middleware(GuardMiddleware, context=context)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["*"],
            allow_headers=["*"],
        )
    return app


class GuardMiddleware:
    """Per-IP rate limit, the body size limit and request metrics, in plain ASGI (cheap).

    A body larger than ``max_body_bytes`` is refused with 413 whether or not it announces
    its length: the stream is counted as it is read."""

    def __init__(self, app: ASGIApp, context: ServerContext) -> None:
        self.app = app
        self.context = context
        settings = context.settings
        self.ip_buckets = TokenBuckets(settings.ip_rate)
        self.auth_buckets = TokenBuckets(settings.auth_ip_rate)
        self.max_body = settings.max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path in EXEMPT_PATHS:
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        ip = client[0] if client else ""
        try:
            self.ip_buckets.check(ip, "address")
            if path.startswith("/api/v1/auth/") and scope["method"] == "POST":
                self.auth_buckets.check(ip, "address")  # slows password guessing
            declared = _content_length(scope)
            if declared is not None and declared > self.max_body:
                raise _too_large(self.max_body)
        except ApiError as refused:
            await _send_error(send, refused)
            return
        started = time.perf_counter()
        status_holder: dict[str, Any] = {}
        received = 0
        max_body = self.max_body

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_body:
                    raise BodyTooLarge
            return message

        async def observed_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
            await send(message)

        try:
            await self.app(scope, limited_receive, observed_send)
        except BodyTooLarge:
            if "status" not in status_holder:
                await _send_error(send, _too_large(max_body))
        status = status_holder.get("status", 500)
        self.context.metrics.http_requests.labels(f"{status // 100}xx").inc()
        self.context.metrics.http_latency.observe(time.perf_counter() - started)


class BodyTooLarge(Exception):
    pass


def _too_large(limit: int) -> ApiError:
    return ApiError(413, "payload_too_large", f"request bodies are limited to {limit} bytes")


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _send_error(send: Send, error: ApiError) -> None:
    body = orjson.dumps(error_body(error.code, error.message, error.field))
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    for name, value in (error.headers or {}).items():
        headers.append((name.lower().encode(), value.encode()))
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
