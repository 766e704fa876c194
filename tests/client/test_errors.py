"""Error parsing and argument conversion: callers branch on stable codes, and no float ever
reaches an order."""

from __future__ import annotations

from decimal import Decimal

import pytest

from workstation.client.errors import ApiError
from workstation.client.wire import (
    order_request,
    parse_retry_after,
    to_decimal,
    websocket_url,
)


def test_the_documented_error_shape_keeps_code_message_and_field() -> None:
    body = b'{"error": {"code": "invalid_field", "message": "too small", "field": "quantity"}}'
    error = ApiError.from_body(422, body)
    assert (error.status, error.code, error.message, error.field) == (
        422,
        "invalid_field",
        "too small",
        "quantity",
    )
    assert "quantity" in str(error)


@pytest.mark.parametrize(
    ("status", "body", "code"),
    [
        (502, b"<html>Bad Gateway</html>", "bad_gateway"),
        (503, b"", "unavailable"),
        (418, b"teapot", "http_418"),
        (400, b'{"detail": "not our shape"}', "bad_request"),
        (500, b'{"error": "a string"}', "internal_error"),
    ],
)
def test_other_bodies_still_give_a_stable_code(status: int, body: bytes, code: str) -> None:
    error = ApiError.from_body(status, body)
    assert error.status == status
    assert error.code == code
    assert error.message


def test_retry_after_in_seconds_or_as_a_date() -> None:
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    # 2015-10-21 07:28:00 UTC
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412490.0) == 0.0


@pytest.mark.parametrize(
    ("base", "ws"),
    [
        ("http://127.0.0.1:8000", "ws://127.0.0.1:8000/ws"),
        ("https://broker.example/", "wss://broker.example/ws"),
        ("https://broker.example/exchange", "wss://broker.example/exchange/ws"),
    ],
)
def test_the_stream_url_follows_the_base_url(base: str, ws: str) -> None:
    assert websocket_url(base) == ws


def test_decimals_ints_and_strings_are_exact_and_floats_refused() -> None:
    assert to_decimal("2450.05") == Decimal("2450.05")
    assert to_decimal(10) == Decimal(10)
    with pytest.raises(TypeError):
        to_decimal(0.1)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        to_decimal(True)


def test_an_order_with_a_price_is_a_limit_order_and_goes_out_as_strings() -> None:
    request = order_request("TCS", "buy", 10, Decimal("3500.05"))
    body = request.model_dump(mode="json", exclude_none=True)
    assert body["order_type"] == "limit"
    assert body["price"] == "3500.05" and body["quantity"] == "10"
    assert body["client_order_id"]  # generated, so resending is idempotent
    assert order_request("TCS", "sell", "1").order_type == "market"
