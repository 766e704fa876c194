"""The caller's fee schedule (GET /api/v1/account/fees): what it says is what the exchange
then does, to the cash unit: the fee a fill pays and the cash a buy must have."""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal

from exchange_server.domain.commands import SetFees
from tests.api.conftest import LiveServer, SignedInUser

FEES = "/api/v1/account/fees"


async def set_fees(live: LiveServer, maker_ppm: int, taker_ppm: int) -> None:
    ack = await live.context.submit(SetFees(maker_ppm, taker_ppm))
    assert all(event.kind != "rejected" for event in ack.events), ack.events


def fee(notional: Decimal, ppm: int, cash_decimals: int) -> Decimal:
    """The documented rule: ppm of the notional, rounded down to the cash unit."""
    return (notional * ppm / 1_000_000).quantize(
        Decimal(1).scaleb(-cash_decimals), rounding=ROUND_FLOOR
    )


async def schedule(user: SignedInUser) -> dict[str, int]:
    response = await user.client.get(FEES)
    assert response.status_code == 200, response.text
    body: dict[str, int] = response.json()
    return body


async def test_the_schedule_follows_the_exchange(live_server: LiveServer) -> None:
    trader = await live_server.user()
    assert await schedule(trader) == {
        "maker_fee_ppm": 0,
        "taker_fee_ppm": 0,
        "reserve_fee_ppm": 0,
        "cash_decimals": 4,
    }
    await set_fees(live_server, 200, 500)
    assert await schedule(trader) == {
        "maker_fee_ppm": 200,
        "taker_fee_ppm": 500,
        "reserve_fee_ppm": 500,  # the higher rate: either may apply to a buy
        "cash_decimals": 4,
    }
    # A maker rate above the taker's (unusual, but allowed) is the one reserved.
    await set_fees(live_server, 700, 300)
    assert (await schedule(trader))["reserve_fee_ppm"] == 700


async def test_a_buy_needs_its_cost_plus_the_reserved_fee_to_the_cash_unit(
    live_server: LiveServer,
) -> None:
    await set_fees(live_server, 200, 500)
    # 7 at 1300.05 is 9100.35; 500 ppm of it is 4.550175, held as 4.5501.
    order = {"symbol": "RELIANCE", "side": "buy", "quantity": "7", "price": "1300.05"}
    rates = await schedule(await live_server.user())
    need = Decimal("9100.35") + fee(
        Decimal("9100.35"), rates["reserve_fee_ppm"], rates["cash_decimals"]
    )
    assert need == Decimal("9104.9001")

    short = await live_server.user(cash=str(need - Decimal("0.0001")))
    refused = await short.client.post("/api/v1/orders", json=order)
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["code"] == "insufficient_funds"

    enough = await live_server.user(cash=str(need))
    placed = await enough.client.post("/api/v1/orders", json=order)
    assert placed.status_code == 201, placed.text
    balances = {b["asset"]: b for b in (await enough.client.get("/api/v1/balances")).json()}
    assert Decimal(balances["INR"]["reserved"]) == need
    assert Decimal(balances["INR"]["available"]) == 0


async def test_fills_pay_the_published_maker_and_taker_fees(live_server: LiveServer) -> None:
    await set_fees(live_server, 200, 500)
    seller = await live_server.user(cash="0")
    await live_server.fund(seller.account_id, "RELIANCE", "7")
    buyer = await live_server.user()
    rates = await schedule(buyer)
    resting = {"symbol": "RELIANCE", "side": "sell", "quantity": "7", "price": "1300.05"}
    assert (await seller.client.post("/api/v1/orders", json=resting)).status_code == 201
    taking = {**resting, "side": "buy"}
    assert (await buyer.client.post("/api/v1/orders", json=taking)).status_code == 201

    notional = Decimal("9100.35")
    (bought,) = (await buyer.client.get("/api/v1/fills")).json()["items"]
    (sold,) = (await seller.client.get("/api/v1/fills")).json()["items"]
    assert (bought["liquidity"], Decimal(bought["fee"])) == (
        "taker",
        fee(notional, rates["taker_fee_ppm"], rates["cash_decimals"]),
    )
    assert (sold["liquidity"], Decimal(sold["fee"])) == (
        "maker",
        fee(notional, rates["maker_fee_ppm"], rates["cash_decimals"]),
    )
    assert Decimal(bought["fee"]) == Decimal("4.5501")
    assert Decimal(sold["fee"]) == Decimal("1.8200")


async def test_bad_requests_get_an_error_body_never_a_server_error(
    live_server: LiveServer,
) -> None:
    trader = await live_server.user()
    cases = [
        (live_server.client(), "GET", FEES, 401, "unauthorized"),
        (live_server.client(authorization="Bearer not-a-token"), "GET", FEES, 401, None),
        (trader.client, "POST", FEES, 405, "method_not_allowed"),
        (trader.client, "DELETE", FEES, 405, "method_not_allowed"),
        (trader.client, "GET", FEES + "/extra", 404, None),
    ]
    for client, method, path, status, code in cases:
        response = await client.request(method, path)
        assert response.status_code == status, (method, path, response.text)
        error = response.json()["error"]
        assert set(error) == {"code", "message", "field"}, error
        assert error["message"]
        if code is not None:
            assert error["code"] == code, error
    # Query parameters mean nothing here: ignored, not an error.
    response = await trader.client.get(FEES, params={"symbol": "'; drop table", "x": "\x00"})
    assert response.status_code == 200, response.text


async def test_the_schema_documents_the_route_and_its_errors(live_server: LiveServer) -> None:
    schema = (await live_server.client().get("/openapi.json")).json()
    operation = schema["paths"][FEES]["get"]
    assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/FeeSchedule"
    }
    for status in ("401", "403", "503"):
        assert operation["responses"][status]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ErrorResponse"
        }
