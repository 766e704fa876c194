"""The published schema documents the error answers every API operation can give."""

from __future__ import annotations

from pathlib import Path

from exchange_server.api.app import create_app
from exchange_server.api.openapi import ERROR_RESPONSES, document_errors
from tests.api.conftest import server_settings

ERROR_REF = {"$ref": "#/components/schemas/ErrorResponse"}


def test_every_api_operation_documents_the_error_answers(tmp_path: Path) -> None:
    app = create_app(server_settings(tmp_path))
    document_errors(app)
    schema = app.openapi()
    operations = [
        (path, method, operation)
        for path, item in schema["paths"].items()
        if path.startswith("/api/")
        for method, operation in item.items()
    ]
    assert len(operations) > 40
    for path, method, operation in operations:
        responses = operation["responses"]
        for status in ERROR_RESPONSES:
            answer = responses[str(status)]
            assert answer["content"]["application/json"]["schema"] == ERROR_REF, (path, method)
            assert answer["description"], (path, method, status)
    # The success answers and the routes' own descriptions are kept.
    login = schema["paths"]["/api/v1/auth/login"]["post"]["responses"]
    assert login["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/TokenPair"
    }
    assert login["423"]["description"] == "locked; see Retry-After"
    # FastAPI's validation error shape is never sent by this server: it is gone.
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    assert schema["components"]["schemas"]["ErrorResponse"]["required"] == ["error"]
    # Health checks sit outside the API and keep their own answers.
    assert set(schema["paths"]["/readyz"]["get"]["responses"]) == {"200", "503"}


def test_documenting_twice_or_after_the_schema_was_built_changes_nothing(
    tmp_path: Path,
) -> None:
    app = create_app(server_settings(tmp_path))
    app.openapi()  # built (and cached) before the errors are documented
    document_errors(app)
    once = app.openapi()
    document_errors(app)
    assert app.openapi() == once
    assert "404" in once["paths"]["/api/v1/orders/{order_id}"]["get"]["responses"]
