"""Watchlists and preferences: each user's own, ordered, validated."""

from __future__ import annotations

from tests.api.conftest import LiveServer


async def test_watchlists_keep_their_order_and_belong_to_their_user(
    live_server: LiveServer,
) -> None:
    trader = await live_server.user(cash=None)
    other = await live_server.user(cash=None)
    created = await trader.client.post(
        "/api/v1/watchlists", json={"name": "Banks", "symbols": ["SBIN", "hdfcbank", "SBIN"]}
    )
    assert created.status_code == 201, created.text
    watchlist = created.json()
    assert watchlist["symbols"] == ["SBIN", "HDFCBANK"]
    replaced = await trader.client.put(
        f"/api/v1/watchlists/{watchlist['watchlist_id']}",
        json={"name": "Lenders", "symbols": ["HDFCBANK", "SBIN", "INFY"]},
    )
    assert replaced.json()["symbols"] == ["HDFCBANK", "SBIN", "INFY"]
    await trader.client.post("/api/v1/watchlists", json={"name": "Tech", "symbols": ["TCS"]})
    names = [w["name"] for w in (await trader.client.get("/api/v1/watchlists")).json()]
    assert names == ["Lenders", "Tech"]

    assert (await other.client.get("/api/v1/watchlists")).json() == []
    stolen = await other.client.delete(f"/api/v1/watchlists/{watchlist['watchlist_id']}")
    assert stolen.status_code == 404

    duplicate = await trader.client.post("/api/v1/watchlists", json={"name": "Tech"})
    assert duplicate.status_code == 409
    assert duplicate.json()["error"]["code"] == "watchlist_exists"
    unknown = await trader.client.post(
        "/api/v1/watchlists", json={"name": "X", "symbols": ["TCS", "NOSUCH"]}
    )
    assert unknown.status_code == 422
    assert unknown.json()["error"] == {
        "code": "unknown_instrument",
        "message": "no instrument 'NOSUCH'",
        "field": "symbols.1",
    }
    deleted = await trader.client.delete(f"/api/v1/watchlists/{watchlist['watchlist_id']}")
    assert deleted.status_code == 204
    names = [w["name"] for w in (await trader.client.get("/api/v1/watchlists")).json()]
    assert names == ["Tech"]


async def test_preferences_store_any_json_per_user(live_server: LiveServer) -> None:
    trader = await live_server.user(cash=None)
    other = await live_server.user(cash=None)
    layout = {"docks": ["chart", "depth"], "theme": "dark", "sizes": [1.5, 2]}
    stored = await trader.client.put("/api/v1/preferences/layout.main", json=layout)
    assert stored.status_code == 200, stored.text
    assert (await trader.client.get("/api/v1/preferences/layout.main")).json()["value"] == layout
    await trader.client.put("/api/v1/preferences/layout.main", json={"theme": "light"})
    listed = (await trader.client.get("/api/v1/preferences")).json()
    assert listed == [{"key": "layout.main", "value": {"theme": "light"}}]
    missing = await other.client.get("/api/v1/preferences/layout.main")
    assert missing.status_code == 404
    too_big = await trader.client.put("/api/v1/preferences/big", json="x" * 70_000)
    assert too_big.status_code == 413
    bad_key = await trader.client.put("/api/v1/preferences/bad key", json=1)
    assert bad_key.status_code == 422
    assert (await trader.client.delete("/api/v1/preferences/layout.main")).status_code == 204
    assert (await trader.client.get("/api/v1/preferences")).json() == []
