"""Exceptions raised by the client.

Everything the client raises on purpose derives from :class:`ClientError`, so a caller (a
script or the workstation's session layer) can catch one type. Server refusals keep the
server's machine-readable ``code`` so callers branch on it, never on message text.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

# When the body is not the documented error shape (a proxy's HTML page, an empty 502), the
# code still says what happened in a stable, machine-readable way.
GENERIC_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    409: "conflict",
    413: "payload_too_large",
    422: "invalid_field",
    429: "rate_limited",
    500: "internal_error",
    502: "bad_gateway",
    503: "unavailable",
    504: "gateway_timeout",
}


class ClientError(Exception):
    """Base of every error the client raises."""


class ApiError(ClientError):
    """The server refused a request: HTTP ``status`` (0 over the WebSocket), stable ``code``,
    human ``message`` and the offending input ``field`` when there is one."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        field: str | None = None,
        *,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{code}: {message}" + (f" ({field})" if field else ""))
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.retry_after = retry_after  # seconds, from a 429's Retry-After header

    def __repr__(self) -> str:
        return (
            f"ApiError(status={self.status}, code={self.code!r}, message={self.message!r}, "
            f"field={self.field!r})"
        )

    @classmethod
    def from_detail(cls, status: int, detail: Any, retry_after: float | None = None) -> ApiError:
        """From the inner ``{"code", "message", "field"}`` object (REST and WebSocket)."""
        if not isinstance(detail, Mapping):
            return cls(status, GENERIC_CODES.get(status, "error"), str(detail), None)
        code = detail.get("code")
        message = detail.get("message")
        field = detail.get("field")
        return cls(
            status,
            str(code) if code else GENERIC_CODES.get(status, "error"),
            str(message) if message else "",
            str(field) if field else None,
            retry_after=retry_after,
        )

    @classmethod
    def from_body(cls, status: int, body: bytes, retry_after: float | None = None) -> ApiError:
        """From a whole error response body; anything not in the documented shape still
        becomes an ApiError with a generic code and (a bounded piece of) the text."""
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = None
        if isinstance(parsed, Mapping) and isinstance(parsed.get("error"), Mapping):
            return cls.from_detail(status, parsed["error"], retry_after)
        text = body[:200].decode("utf-8", "replace").strip()
        return cls(
            status,
            GENERIC_CODES.get(status, f"http_{status}"),
            text or f"HTTP {status}",
            retry_after=retry_after,
        )


class TransportError(ClientError):
    """The server could not be reached or the connection broke before an answer."""


class NotAuthenticated(ClientError):
    """A call needs credentials and the client has none (log in or set an API key)."""


class StreamError(ClientError):
    """Base of WebSocket stream failures."""


class NotConnected(StreamError):
    """A stream operation needs a live connection and there is none right now."""


class ConnectionLost(StreamError):
    """The connection dropped while a request on it was pending; whether the server acted on
    it is unknown (an order resent with the same client order id is idempotent)."""


class StreamClosed(StreamError):
    """The stream was closed by its owner; no more messages will come."""
