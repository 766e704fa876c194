"""Candles through the API: years of shipped daily history merged with today's live candle,
and the market status of each session."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from itertools import pairwise
from pathlib import Path
from zoneinfo import ZoneInfo

from tests.api.conftest import LiveServer, serve, server_settings

IST = ZoneInfo("Asia/Kolkata")


async def test_daily_candles_open_on_real_adjusted_history_and_end_live(tmp_path: Path) -> None:
    async with serve(server_settings(tmp_path, seed_history=True)) as live:
        buyer = await live.user()
        seller = await live.user(cash="0")
        await live.fund(seller.account_id, "RELIANCE", "5")
        order = {"symbol": "RELIANCE", "quantity": "5", "price": "1330.00"}
        assert (
            await seller.client.post("/api/v1/orders", json=order | {"side": "sell"})
        ).is_success
        assert (await buyer.client.post("/api/v1/orders", json=order | {"side": "buy"})).is_success

        response = await live.client().get("/api/v1/candles/RELIANCE?interval=1d&limit=5000")
        assert response.status_code == 200, response.text
        candles = response.json()["candles"]
        days = [datetime.fromtimestamp(c["ts"] / 1e9, UTC).astimezone(IST).date() for c in candles]
        assert days[0].year <= 2017 and len(candles) > 1500  # years of sessions
        assert days == sorted(set(days))  # one candle a day, in order
        # The 1:1 bonus of 2017-09-07 is adjusted away: no day halves the price.
        closes = [Decimal(c["close"]) for c in candles]
        assert all(b / a > Decimal("0.75") for a, b in pairwise(closes))
        # The last candle is today's, made by the trade above.
        assert candles[-1]["close"] == "1330.00" and candles[-1]["volume"] == "5"
        # Daily candles run midnight to midnight in the exchange's time zone.
        start = datetime.fromtimestamp(candles[-1]["ts"] / 1e9, UTC).astimezone(IST)
        assert (start.date(), start.hour, start.minute) == (datetime.now(IST).date(), 0, 0)


async def test_market_status_by_session(live_server: LiveServer) -> None:
    client = live_server.client()
    nse = (await client.get("/api/v1/market/status")).json()
    assert nse["exchange"] == "NSE" and nse["halted_symbols"] == []
    crypto = (await client.get("/api/v1/market/status?session=24x7")).json()
    assert crypto["is_open"] is True and crypto["next_open"] is None
    bad = await client.get("/api/v1/market/status?session=LSE")
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "session"
    calendar = (await client.get("/api/v1/market/calendar?days=7&session=24x7")).json()
    assert all(day["open"] is not None for day in calendar["days"])
