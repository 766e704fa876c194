"""Funding accounts and halting instruments: admins only, through the engine."""

from __future__ import annotations

from tests.api.conftest import LiveServer


async def test_admin_funds_accounts_and_others_may_not(live_server: LiveServer) -> None:
    admin = await live_server.user(role="admin", cash=None)
    trader = await live_server.user(cash=None)
    path = f"/api/v1/admin/accounts/{trader.account_id}"

    deposited = await admin.client.post(f"{path}/deposit", json={"amount": "2500.50"})
    assert deposited.status_code == 200, deposited.text
    assert deposited.json()["balance"] == "2500.5000"
    adjusted = await admin.client.post(
        f"{path}/adjust", json={"amount": "-0.50", "reference": "fee refund reversal"}
    )
    assert adjusted.json()["balance"] == "2500.0000"
    withdrawn = await admin.client.post(f"{path}/withdraw", json={"amount": "500"})
    assert withdrawn.json()["available"] == "2000.0000"
    overdrawn = await admin.client.post(f"{path}/withdraw", json={"amount": "5000"})
    assert overdrawn.status_code == 422
    assert overdrawn.json()["error"]["code"] == "insufficient_funds"
    shares = await admin.client.post(f"{path}/deposit", json={"amount": "7", "asset": "SBIN"})
    assert shares.json() == {"asset": "SBIN", "balance": "7", "reserved": "0", "available": "7"}

    for amount in ("0", "-1", "NaN", "0.00001"):
        response = await admin.client.post(f"{path}/deposit", json={"amount": amount})
        assert response.status_code == 422, (amount, response.text)
    unknown = await admin.client.post(
        "/api/v1/admin/accounts/999999999/deposit", json={"amount": "1"}
    )
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "unknown_account"
    bad_asset = await admin.client.post(f"{path}/deposit", json={"amount": "1", "asset": "XYZ"})
    assert bad_asset.status_code == 422

    forbidden = await trader.client.post(f"{path}/deposit", json={"amount": "1000000"})
    assert forbidden.status_code == 403
    balances = {b["asset"]: b for b in (await trader.client.get("/api/v1/balances")).json()}
    assert balances["INR"]["balance"] == "2000.0000"


async def test_halting_an_instrument_stops_orders_until_resumed(live_server: LiveServer) -> None:
    admin = await live_server.user(role="admin", cash=None)
    trader = await live_server.user()
    halted = await admin.client.post(
        "/api/v1/admin/instruments/INFY/status", json={"status": "halted", "reason": "news"}
    )
    assert halted.status_code == 200 and halted.json()["status"] == "halted"
    order = {"symbol": "INFY", "side": "buy", "quantity": "1", "price": "1150.00"}
    refused = await trader.client.post("/api/v1/orders", json=order)
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "instrument_halted"
    status = (await live_server.client().get("/api/v1/market/status")).json()
    assert status["halted_symbols"] == ["INFY"]
    forbidden = await trader.client.post(
        "/api/v1/admin/instruments/INFY/status", json={"status": "open"}
    )
    assert forbidden.status_code == 403
    await admin.client.post("/api/v1/admin/instruments/INFY/status", json={"status": "open"})
    accepted = await trader.client.post("/api/v1/orders", json=order)
    assert accepted.status_code == 201, accepted.text


async def test_admin_sets_the_fees_traders_then_pay_and_bad_schedules_change_nothing(
    live_server: LiveServer,
) -> None:
    admin = await live_server.user(role="admin", cash=None)
    trader = await live_server.user()
    seller = await live_server.user()
    await live_server.fund(seller.account_id, "SBIN", "10")

    set_fees = await admin.client.put(
        "/api/v1/admin/fees", json={"maker_fee_ppm": 200, "taker_fee_ppm": 500}
    )
    assert set_fees.status_code == 200, set_fees.text
    assert set_fees.json()["reserve_fee_ppm"] == 500
    schedule = (await trader.client.get("/api/v1/account/fees")).json()
    assert (schedule["maker_fee_ppm"], schedule["taker_fee_ppm"]) == (200, 500)

    # The seller rests (maker), the trader takes: 10 x 1000.00 = 10,000.00 notional.
    order = {"symbol": "SBIN", "quantity": "10", "price": "1000.00"}
    rested = await seller.client.post("/api/v1/orders", json={**order, "side": "sell"})
    assert rested.status_code == 201, rested.text
    taken = await trader.client.post("/api/v1/orders", json={**order, "side": "buy"})
    assert taken.json()["status"] == "filled", taken.text
    [fill] = (await trader.client.get("/api/v1/fills")).json()["items"]
    assert fill["fee"] == "5.0000"  # 500 ppm of 10,000
    [maker_fill] = (await seller.client.get("/api/v1/fills")).json()["items"]
    assert maker_fill["fee"] == "2.0000"

    for body in (
        {"maker_fee_ppm": -1, "taker_fee_ppm": 0},
        {"maker_fee_ppm": 0, "taker_fee_ppm": 100_001},
        {"maker_fee_ppm": 0.5, "taker_fee_ppm": 0},
        {"maker_fee_ppm": "200", "taker_fee_ppm": 0},
        {"maker_fee_ppm": True, "taker_fee_ppm": 0},
        {"maker_fee_ppm": 0},
        {"maker_fee_ppm": 0, "taker_fee_ppm": 0, "rebate": 1},
    ):
        refused = await admin.client.put("/api/v1/admin/fees", json=body)
        assert refused.status_code == 422, (body, refused.text)
        assert refused.json()["error"]["code"]
    forbidden = await trader.client.put(
        "/api/v1/admin/fees", json={"maker_fee_ppm": 0, "taker_fee_ppm": 0}
    )
    assert forbidden.status_code == 403
    schedule = (await trader.client.get("/api/v1/account/fees")).json()
    assert (schedule["maker_fee_ppm"], schedule["taker_fee_ppm"]) == (200, 500)
