"""Health, readiness, metrics and rate limits."""

from __future__ import annotations

from pathlib import Path

from exchange_server.api.settings import RateLimit
from tests.api.conftest import LiveServer, serve, server_settings


async def test_health_readiness_and_metrics(live_server: LiveServer) -> None:
    client = live_server.client()
    assert (await client.get("/healthz")).json()["status"] == "ok"
    ready = await client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ok"
    trader = await live_server.user()
    await trader.client.post(
        "/api/v1/orders",
        json={"symbol": "SBIN", "side": "buy", "quantity": "1", "price": "1100.00"},
    )
    metrics = (await client.get("/metrics")).text
    assert 'exchange_commands_total{kind="place_order"} 1.0' in metrics
    assert "exchange_journal_commit_seconds_bucket" in metrics
    assert "exchange_command_seconds_count" in metrics
    schema = (await client.get("/openapi.json")).json()
    assert "/api/v1/orders" in schema["paths"]
    assert (await client.get("/docs")).status_code == 200


async def test_rate_limits_answer_429_with_retry_after(tmp_path: Path) -> None:
    settings = server_settings(tmp_path, ip_rate=RateLimit(1.0, 5))
    async with serve(settings) as live:
        client = live.client()
        statuses = [(await client.get("/api/v1/instruments")).status_code for _ in range(8)]
        assert statuses[:5] == [200] * 5
        assert 429 in statuses[5:]
        limited = await client.get("/api/v1/instruments")
        assert limited.status_code == 429
        assert int(limited.headers["retry-after"]) >= 1
        assert limited.json()["error"]["code"] == "rate_limited"
        assert (await client.get("/healthz")).status_code == 200  # probes are never limited


async def test_metrics_can_require_the_scrapers_token(tmp_path: Path) -> None:
    settings = server_settings(tmp_path, metrics_token="scrape-me")
    async with serve(settings) as live:
        client = live.client()
        for headers in ({}, {"authorization": "Bearer wrong"}, {"authorization": "scrape-me"}):
            refused = await client.get("/metrics", headers=headers)
            assert refused.status_code == 401, headers
            assert refused.json()["error"]["code"] == "unauthorized"
            assert "exchange_" not in refused.text
        scraped = await client.get("/metrics", headers={"authorization": "Bearer scrape-me"})
        assert scraped.status_code == 200 and "exchange_commands_total" in scraped.text
