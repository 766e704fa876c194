"""Trading through the REST API on a real server: orders between two users, what each then
sees, and every kind of bad input refused with a reason and no change."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.api.conftest import LiveServer, SignedInUser


async def place(user: SignedInUser, **order: object) -> dict:
    body = {"symbol": "RELIANCE", "side": "buy", "quantity": "10", "price": "1327.80"}
    body.update(order)
    response = await user.client.post("/api/v1/orders", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def refused(user: SignedInUser, status: int, code: str, **order: object) -> dict:
    body: dict[str, object] = {
        "symbol": "RELIANCE",
        "side": "buy",
        "quantity": "10",
        "price": "1327.80",
    }
    body.update(order)
    body = {k: v for k, v in body.items() if v is not None}
    response = await user.client.post("/api/v1/orders", json=body)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code, error
    return error


async def test_two_users_trade_and_each_sees_their_side(live_server: LiveServer) -> None:
    buyer = await live_server.user()
    seller = await live_server.user(cash="0")
    await live_server.fund(seller.account_id, "RELIANCE", "25")

    resting = await place(seller, side="sell", quantity="10", price="1330.00")
    assert resting["status"] == "new" and resting["remaining"] == "10"
    taken = await place(buyer, side="buy", quantity="4", price="1330.00", client_order_id="b-1")
    assert taken["status"] == "filled"
    assert Decimal(taken["average_price"]) == Decimal("1330")
    assert taken["client_order_id"] == "b-1"

    fills = (await buyer.client.get("/api/v1/fills")).json()["items"]
    assert [(f["side"], f["quantity"], f["price"], f["liquidity"]) for f in fills] == [
        ("buy", "4", "1330.00", "taker")
    ]
    seller_fills = (await seller.client.get("/api/v1/fills")).json()["items"]
    assert seller_fills[0]["side"] == "sell" and seller_fills[0]["liquidity"] == "maker"

    positions = (await buyer.client.get("/api/v1/positions")).json()
    assert positions[0]["symbol"] == "RELIANCE" and positions[0]["quantity"] == "4"
    assert Decimal(positions[0]["average_price"]) == Decimal("1330")

    balances = {b["asset"]: b for b in (await buyer.client.get("/api/v1/balances")).json()}
    assert Decimal(balances["INR"]["balance"]) == Decimal("1000000") - Decimal("5320")
    assert balances["RELIANCE"]["balance"] == "4"
    seller_balances = {b["asset"]: b for b in (await seller.client.get("/api/v1/balances")).json()}
    # 6 shares still offered are reserved; the seller was paid for 4.
    assert seller_balances["RELIANCE"]["reserved"] == "6"
    assert Decimal(seller_balances["INR"]["balance"]) == Decimal("5320")

    open_orders = (await seller.client.get("/api/v1/orders?status=open")).json()["items"]
    assert [(o["order_id"], o["status"], o["filled"]) for o in open_orders] == [
        (resting["order_id"], "partially_filled", "4")
    ]
    ledger = (await buyer.client.get("/api/v1/ledger?asset=INR")).json()["items"]
    assert [Decimal(e["delta"]) for e in ledger][:1] == [Decimal("-5320")]


async def test_public_market_data_follows_the_trades(live_server: LiveServer) -> None:
    buyer = await live_server.user()
    seller = await live_server.user(cash="0")
    await live_server.fund(seller.account_id, "TCS", "10")
    await place(seller, symbol="TCS", side="sell", quantity="5", price="2400.00")
    await place(seller, symbol="TCS", side="sell", quantity="5", price="2401.00")
    await place(buyer, symbol="TCS", side="buy", quantity="2", price="2390.00")
    await place(buyer, symbol="TCS", side="buy", quantity="3", price="2400.00")
    public = live_server.client()

    depth = (await public.get("/api/v1/depth/TCS?levels=5")).json()
    assert [(level["price"], level["quantity"]) for level in depth["asks"]] == [
        ("2400.00", "2"),
        ("2401.00", "5"),
    ]
    assert [(level["price"], level["quantity"]) for level in depth["bids"]] == [("2390.00", "2")]
    quote = (await public.get("/api/v1/quotes/TCS")).json()
    assert (quote["bid"], quote["ask"], quote["last"], quote["volume"]) == (
        "2390.00",
        "2400.00",
        "2400.00",
        "3",
    )
    assert quote["previous_close"] == "2396.90" and quote["change"] == "3.10"
    trades = (await public.get("/api/v1/trades/TCS")).json()
    assert [(t["price"], t["quantity"], t["aggressor"]) for t in trades] == [
        ("2400.00", "3", "buy")
    ]
    candles = (await public.get("/api/v1/candles/TCS?interval=1m")).json()["candles"]
    assert len(candles) == 1 and candles[0]["close"] == "2400.00" and candles[0]["volume"] == "3"

    found = (await public.get("/api/v1/instruments?search=consult")).json()
    assert [i["symbol"] for i in found] == ["TCS"]
    banks = (await public.get("/api/v1/instruments?sector=Financial Services")).json()
    assert {i["symbol"] for i in banks} == {"HDFCBANK", "SBIN"}
    instrument = (await public.get("/api/v1/instruments/TCS")).json()
    assert instrument["tick_size"] == "0.05" and instrument["lot_size"] == "1"
    status = (await public.get("/api/v1/market/status")).json()
    assert status["exchange"] == "NSE" and status["timezone"] == "Asia/Kolkata"
    calendar = (await public.get("/api/v1/market/calendar?days=7")).json()
    assert len(calendar["days"]) == 7
    missing = await public.get("/api/v1/quotes/NOSUCH")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "unknown_instrument"


async def test_resubmitting_a_client_order_id_returns_the_original(
    live_server: LiveServer,
) -> None:
    trader = await live_server.user()
    first = await place(trader, client_order_id="same-1")
    again = await place(trader, client_order_id="same-1")
    assert again["order_id"] == first["order_id"]
    listed = (await trader.client.get("/api/v1/orders")).json()["items"]
    assert len(listed) == 1
    await refused(trader, 409, "duplicate_client_order_id", client_order_id="same-1", quantity="11")


async def test_modify_and_cancel(live_server: LiveServer) -> None:
    trader = await live_server.user()
    order = await place(trader, quantity="10", price="1300.00")
    order_id = order["order_id"]
    modified = await trader.client.patch(f"/api/v1/orders/{order_id}", json={"quantity": "6"})
    assert modified.status_code == 200, modified.text
    assert modified.json()["quantity"] == "6"
    repriced = await trader.client.patch(f"/api/v1/orders/{order_id}", json={"price": "1301.05"})
    assert repriced.status_code == 200 and repriced.json()["price"] == "1301.05"
    off_tick = await trader.client.patch(f"/api/v1/orders/{order_id}", json={"price": "1301.03"})
    assert off_tick.status_code == 422 and off_tick.json()["error"]["field"] == "price"
    cancelled = await trader.client.delete(f"/api/v1/orders/{order_id}")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    again = await trader.client.delete(f"/api/v1/orders/{order_id}")
    assert again.status_code == 409 and again.json()["error"]["code"] == "order_not_open"
    balances = {b["asset"]: b for b in (await trader.client.get("/api/v1/balances")).json()}
    assert Decimal(balances["INR"]["reserved"]) == 0  # the cancel released the reservation


async def test_nobody_touches_another_users_orders(live_server: LiveServer) -> None:
    owner = await live_server.user()
    other = await live_server.user()
    order = await place(owner)
    order_id = order["order_id"]
    for response in (
        await other.client.get(f"/api/v1/orders/{order_id}"),
        await other.client.delete(f"/api/v1/orders/{order_id}"),
        await other.client.patch(f"/api/v1/orders/{order_id}", json={"quantity": "1"}),
    ):
        assert response.status_code == 404, response.text
        assert response.json()["error"]["code"] == "unknown_order"
    assert (await other.client.get("/api/v1/orders")).json()["items"] == []
    still = (await owner.client.get(f"/api/v1/orders/{order_id}")).json()
    assert still["status"] == "new" and still["quantity"] == "10"


async def test_cancel_all_cancels_only_the_callers_orders(live_server: LiveServer) -> None:
    trader = await live_server.user()
    other = await live_server.user()
    await place(trader, price="1300.00")
    await place(trader, symbol="INFY", price="1150.00")
    kept = await place(other, price="1300.00")
    response = await trader.client.post("/api/v1/orders/cancel-all", json={"symbol": "INFY"})
    assert [o["symbol"] for o in response.json()["cancelled"]] == ["INFY"]
    response = await trader.client.post("/api/v1/orders/cancel-all", json={})
    assert [o["symbol"] for o in response.json()["cancelled"]] == ["RELIANCE"]
    assert (await other.client.get(f"/api/v1/orders/{kept['order_id']}")).json()["status"] == "new"


@pytest.mark.parametrize(
    ("order", "status", "code", "field"),
    [
        ({"quantity": "-1"}, 422, "invalid_quantity", "quantity"),
        ({"quantity": "0"}, 422, "invalid_quantity", "quantity"),
        ({"quantity": "1.5"}, 422, "invalid_quantity", "quantity"),
        ({"quantity": "NaN"}, 422, "invalid_field", "quantity"),
        ({"quantity": "Infinity"}, 422, "invalid_field", "quantity"),
        ({"quantity": "1e40"}, 422, "invalid_field", "quantity"),
        ({"quantity": "100000000000000000"}, 422, "invalid_quantity", "quantity"),
        ({"quantity": [1]}, 422, "invalid_field", "quantity"),
        ({"quantity": None}, 422, "missing_field", "quantity"),
        ({"price": "1327.83"}, 422, "tick_size", "price"),
        ({"price": "1327.805"}, 422, "invalid_price", "price"),
        ({"price": "-5"}, 422, "invalid_price", "price"),
        ({"price": "99999.00"}, 422, "price_outside_band", "price"),
        ({"symbol": "NOSUCH"}, 404, "unknown_instrument", "symbol"),
        ({"symbol": "bad symbol!"}, 422, "invalid_field", "symbol"),
        ({"side": "long"}, 422, "invalid_field", "side"),
        ({"order_type": "market", "price": "1327.80"}, 422, "invalid_price", "price"),
        ({"order_type": "stop_limit"}, 422, "missing_field", "trigger_price"),
        ({"tif": "gtd"}, 422, "missing_field", "expire_at"),
        ({"colour": "red"}, 422, "unknown_field", "colour"),
        ({"quantity": "100000"}, 422, "insufficient_funds", None),
        ({"client_order_id": "x" * 65}, 422, "invalid_field", "client_order_id"),
    ],
)
async def test_bad_orders_are_refused_with_a_reason_and_change_nothing(
    live_server: LiveServer, order: dict, status: int, code: str, field: str | None
) -> None:
    trader = await live_server.user()
    error = await refused(trader, status, code, **order)
    assert error["field"] == field
    assert error["message"]
    assert (await trader.client.get("/api/v1/orders")).json()["items"] == []
    balances = {b["asset"]: b for b in (await trader.client.get("/api/v1/balances")).json()}
    assert Decimal(balances["INR"]["reserved"]) == 0


async def test_malformed_and_oversize_bodies(live_server: LiveServer) -> None:
    trader = await live_server.user()
    malformed = await trader.client.post(
        "/api/v1/orders",
        content=b'{"symbol": "RELIANCE",',
        headers={"content-type": "application/json"},
    )
    assert malformed.status_code == 400
    assert malformed.json()["error"]["code"] == "malformed_json"
    huge = await trader.client.post(
        "/api/v1/orders",
        content=b'{"symbol": "' + b"A" * 100_000 + b'"}',
        headers={"content-type": "application/json"},
    )
    assert huge.status_code == 413
    assert huge.json()["error"]["code"] == "payload_too_large"


async def test_reads_need_sign_in_and_trading_is_per_user(live_server: LiveServer) -> None:
    anonymous = live_server.client()
    for method, path in (
        ("GET", "/api/v1/orders"),
        ("POST", "/api/v1/orders"),
        ("GET", "/api/v1/fills"),
        ("GET", "/api/v1/positions"),
        ("GET", "/api/v1/balances"),
        ("GET", "/api/v1/ledger"),
        ("GET", "/api/v1/watchlists"),
    ):
        response = await anonymous.request(method, path, json={} if method == "POST" else None)
        assert response.status_code == 401, (path, response.text)
        assert response.json()["error"]["code"] == "unauthorized"


async def test_a_crossing_post_only_order_is_refused_naming_the_flag(
    live_server: LiveServer,
) -> None:
    seller = await live_server.user()
    await live_server.fund(seller.account_id, "RELIANCE", "10")
    await place(seller, side="sell", quantity="10", price="1327.80")
    buyer = await live_server.user()
    error = await refused(buyer, 409, "post_only_would_cross", post_only=True)
    assert error["field"] == "post_only"
    assert (await buyer.client.get("/api/v1/orders")).json()["items"] == []
