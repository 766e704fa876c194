"""The error answers every API operation can give, documented in the OpenAPI schema.

FastAPI documents only the success response and a 422 in its own ``HTTPValidationError``
shape, but the server answers every failure as ``ErrorResponse``
(``{"error": {"code", "message", "field"}}``, see ``errors.py``) and with more statuses: a
malformed JSON body is 400, a missing or bad credential 401, a missing scope or role 403, a
resource that is not the caller's 404, a conflict 409, a body over the size limit 413, a
locked account 423, a rate limit 429 (with ``Retry-After``), a server that is starting or
draining 503.

``document_errors(app)``, called once the routes are registered, adds those answers to every
operation under ``/api/`` in the published schema (``/openapi.json``), keeping any answer a
route declared itself, so generated clients and schema-driven tests see the whole contract.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from exchange_server.protocol import ErrorResponse

ERROR_SCHEMA_NAME = ErrorResponse.__name__
ERROR_REF = f"#/components/schemas/{ERROR_SCHEMA_NAME}"

ERROR_DESCRIPTIONS: dict[int, str] = {
    400: "Bad request: the body is not valid JSON, or a one-time code is invalid",
    401: "Unauthorized: sign in (bearer access token or X-API-Key), or the credential is bad",
    403: "Forbidden: the API key lacks the scope, or the user's role is not allowed",
    404: "Not found: no such resource for this caller",
    409: "Conflict with the current state",
    413: "Payload too large: the request body is over the size limit",
    422: "Invalid field: a value is missing, malformed or refused, named in error.field",
    423: "Locked after repeated failed sign-ins: retry after the Retry-After header's seconds",
    429: "Rate limited: retry after the Retry-After header's seconds",
    503: "Unavailable: the exchange is starting or shutting down",
}

# The same shape as a route's ``responses=`` argument, for routers that declare them.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse, "description": description}
    for status, description in ERROR_DESCRIPTIONS.items()
}

FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")
HTTP_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})


def document_errors(app: FastAPI, path_prefix: str = "/api/") -> None:
    """Document ``ERROR_RESPONSES`` on every operation whose path starts with ``path_prefix``.

    Wraps ``app.openapi`` so the schema built on first request carries them; an answer a
    route declared itself (status and description) is kept, but its 422 is the server's
    ``ErrorResponse``, not FastAPI's ``HTTPValidationError`` (never sent by this server)."""
    build: Callable[[], dict[str, Any]] = app.openapi
    app.openapi_schema = None  # built again, with the errors, if it was built already

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = add_error_responses(build(), path_prefix)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def add_error_responses(schema: dict[str, Any], path_prefix: str = "/api/") -> dict[str, Any]:
    """``schema`` (an OpenAPI document) with the error answers added, changed in place."""
    schemas = schema.setdefault("components", {}).setdefault("schemas", {})
    _add_error_model(schemas)
    for path, item in schema.get("paths", {}).items():
        if not path.startswith(path_prefix):
            continue
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            responses = operation.setdefault("responses", {})
            for status, description in ERROR_DESCRIPTIONS.items():
                declared = responses.get(str(status), {})
                responses[str(status)] = {
                    "description": _declared_description(declared, description),
                    "content": {"application/json": {"schema": {"$ref": ERROR_REF}}},
                }
    _drop_unused(schema, FASTAPI_VALIDATION_SCHEMAS)
    return schema


def _declared_description(declared: dict[str, Any], default: str) -> str:
    description = str(declared.get("description", ""))
    # FastAPI's generic descriptions say nothing a client can use.
    if description in ("", "Successful Response", "Validation Error", "Additional Response"):
        return default
    return description


def _add_error_model(schemas: dict[str, Any]) -> None:
    if ERROR_SCHEMA_NAME in schemas:
        return
    model = ErrorResponse.model_json_schema(
        ref_template="#/components/schemas/{model}", mode="serialization"
    )
    for name, definition in model.pop("$defs", {}).items():
        schemas.setdefault(name, definition)
    schemas[ERROR_SCHEMA_NAME] = model


def _drop_unused(schema: dict[str, Any], names: tuple[str, ...]) -> None:
    """Remove the component schemas ``names`` that nothing refers to any more."""
    schemas = schema.get("components", {}).get("schemas", {})
    for _ in names:  # dropping one may leave another unused: repeat as often as needed
        for name in names:
            if name not in schemas:
                continue
            others = {key: value for key, value in schema.items() if key != "components"}
            others["schemas"] = {key: value for key, value in schemas.items() if key != name}
            if f"#/components/schemas/{name}" not in json.dumps(others):
                del schemas[name]
