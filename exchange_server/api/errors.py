"""One error shape for every failure: ``{"error": {"code", "message", "field"}}``.

Handlers turn FastAPI's validation errors, Starlette's HTTP errors and anything unexpected
into that shape, so a client never sees an HTML page or a bare string.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)


class ApiError(Exception):
    """A refusal with an HTTP status, a stable code, a message and the field at fault."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        field: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.headers = headers


def error_body(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "field": field}}


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps(body), status_code=status, headers=headers, media_type="application/json"
    )


def error_response(error: ApiError) -> Response:
    return json_response(
        error_body(error.code, error.message, error.field), error.status, error.headers
    )


HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    503: "unavailable",
}


def validation_field(location: tuple[Any, ...]) -> str | None:
    """``("body", "order", "price")`` -> ``"order.price"``; the request part is dropped."""
    return ".".join(str(part) for part in location[1:]) or None


def describe_validation(exc: RequestValidationError) -> tuple[str, str, str | None]:
    problem = exc.errors()[0] if exc.errors() else {}
    location = tuple(problem.get("loc", ()))
    kind = str(problem.get("type", "invalid"))
    message = str(problem.get("msg", "invalid request"))
    if kind == "json_invalid":
        return "malformed_json", "the body is not valid JSON", None
    if kind == "missing":
        code = "missing_field"
    elif kind == "extra_forbidden":
        code = "unknown_field"
    else:
        code = "invalid_field"
    return code, message, validation_field(location)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def on_api_error(request: Request, exc: ApiError) -> Response:
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def on_validation_error(request: Request, exc: RequestValidationError) -> Response:
        code, message, field = describe_validation(exc)
        status = 400 if code == "malformed_json" else 422
        return json_response(error_body(code, message, field), status)

    @app.exception_handler(StarletteHTTPException)
    async def on_http_error(request: Request, exc: StarletteHTTPException) -> Response:
        code = HTTP_CODES.get(exc.status_code, "error")
        message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        headers = dict(exc.headers) if exc.headers else None
        return json_response(error_body(code, message), exc.status_code, headers)

    @app.exception_handler(Exception)
    async def on_unexpected(request: Request, exc: Exception) -> Response:
        # A defect: logged in full for the operator, reported without internals.
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return json_response(
            error_body("internal_error", "the server failed to handle this request"), 500
        )
