"""The REST client against the real server: typed answers with exact decimals, refusals as
ApiError with the server's code, and sessions that survive token expiry and rate limits."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal
from pathlib import Path

import jwt
import pyotp
import pytest

from exchange_server.api.settings import RateLimit
from exchange_server.backoffice.tokens import AccessTokens
from exchange_server.protocol import OrderOut, TokenPair
from tests.api.conftest import LiveServer, serve, server_settings
from tests.client.conftest import Trader, new_trader
from workstation.client import ApiError, ExchangeClient


async def test_a_trader_logs_in_places_finds_and_cancels_an_order(
    client: ExchangeClient, trader: Trader
) -> None:
    assert client.user is not None and client.user.email == trader.email
    assert (await client.me()).user_id == trader.user.user_id

    reliance = await client.instrument("RELIANCE")
    assert reliance.tick_size == Decimal("0.05")
    order = await client.place_order("RELIANCE", "buy", 10, Decimal("1300.05"))
    assert isinstance(order, OrderOut)
    assert (order.price, order.remaining, order.status) == (Decimal("1300.05"), 10, "new")
    assert order.client_order_id.startswith("c-")

    page = await client.orders()
    assert [o.order_id for o in page.items] == [order.order_id]
    assert [o.order_id async for o in client.iter_orders(limit=1)] == [order.order_id]
    modified = await client.modify_order(order.order_id, price="1301.00")
    assert modified.price == Decimal("1301.00")
    cancelled = await client.cancel_order(order.order_id)
    assert cancelled.status == "cancelled"
    assert (await client.orders()).items == []

    inr = next(b for b in await client.balances() if b.asset == "INR")
    assert inr.available == Decimal("1000000")  # the reservation came back exactly


async def test_market_data_comes_back_typed(client: ExchangeClient) -> None:
    instruments = await client.instruments(search="REL")
    assert "RELIANCE" in [i.symbol for i in instruments]
    await client.place_order("RELIANCE", "buy", 3, "1320.00")
    depth = await client.depth("RELIANCE", levels=5)
    assert [(level.price, level.quantity) for level in depth.bids] == [
        (Decimal("1320.00"), Decimal(3))
    ]
    quotes = await client.quotes(["RELIANCE", "TCS"])
    assert [q.symbol for q in quotes] == ["RELIANCE", "TCS"]
    assert (await client.quote("RELIANCE")).bid == Decimal("1320.00")
    assert (await client.candles("RELIANCE", "1m", limit=10)).interval == "1m"
    assert await client.trades("RELIANCE") == []
    status = await client.market_status()
    assert status.session in ("pre_open", "open", "closed")
    assert (await client.market_calendar(days=3)).days


async def test_refusals_carry_the_servers_code_and_field(client: ExchangeClient) -> None:
    with pytest.raises(ApiError) as unknown:
        await client.instrument("NOSUCH")
    assert (unknown.value.status, unknown.value.code) == (404, "unknown_instrument")

    with pytest.raises(ApiError) as off_tick:
        await client.place_order("RELIANCE", "buy", 1, "1300.01")
    assert off_tick.value.status == 422
    assert off_tick.value.code  # the engine's reason, e.g. a price off the tick
    assert (await client.orders()).items == []  # a refusal changes nothing

    with pytest.raises(ApiError) as wrong:
        await client.login("trader@example.com", "not the password")
    assert wrong.value.status == 401


async def test_watchlists_and_preferences_round_trip(client: ExchangeClient) -> None:
    created = await client.create_watchlist("Banks", ["HDFCBANK"])
    updated = await client.update_watchlist(created.watchlist_id, "Banks", ["HDFCBANK", "TCS"])
    assert [w.symbols for w in await client.watchlists()] == [updated.symbols]
    await client.delete_watchlist(created.watchlist_id)
    assert await client.watchlists() == []

    stored = await client.set_preference("layout", {"docks": ["ticket"], "zoom": Decimal("1.5")})
    assert stored.value == {"docks": ["ticket"], "zoom": "1.5"}  # exact, as a string
    assert (await client.preference("layout")).value == stored.value
    await client.delete_preference("layout")
    with pytest.raises(ApiError) as gone:
        await client.preference("layout")
    assert gone.value.status == 404


async def test_concurrent_calls_with_an_expired_token_share_one_refresh(
    live_server: LiveServer, trader: Trader
) -> None:
    issued: list[TokenPair | None] = []
    async with ExchangeClient(live_server.base_url, on_tokens=issued.append) as client:
        tokens = await client.login(trader.email, trader.password)
        # A token the server considers expired while the client still thinks it is fresh
        # (clock skew, a suspended laptop): the server's 401 token_expired is the signal.
        claims = jwt.decode(tokens.access_token, options={"verify_signature": False})
        expired = AccessTokens(live_server.settings.secret_key, -60).issue(
            trader.user.user_id, "trader", trader.user.account_id, claims["sid"]
        )
        client.use_tokens(tokens.model_copy(update={"access_token": expired}))
        issued.clear()

        users = await asyncio.gather(*(client.me() for _ in range(5)))
        assert {u.user_id for u in users} == {trader.user.user_id}
        # One refresh: a second one would reuse the rotated refresh token, which the server
        # treats as theft and ends the session.
        assert len(issued) == 1 and issued[0] is not None
        assert client.tokens is not None and client.tokens.access_token != expired
        assert (await client.me()).user_id == trader.user.user_id


async def test_a_token_about_to_expire_is_refreshed_before_the_call(
    live_server: LiveServer, trader: Trader
) -> None:
    now = [1000.0]
    issued: list[TokenPair | None] = []
    async with ExchangeClient(
        live_server.base_url, on_tokens=issued.append, clock=lambda: now[0]
    ) as client:
        first = await client.login(trader.email, trader.password)
        await client.me()
        assert len(issued) == 1
        now[0] += first.expires_in - 5  # within the margin before expiry
        await client.me()
        assert len(issued) == 2
        assert client.tokens is not None and client.tokens.refresh_token != first.refresh_token


async def test_an_ended_session_says_so_and_forgets_the_tokens(
    client: ExchangeClient,
) -> None:
    tokens = client.tokens
    assert tokens is not None
    await client.logout()
    assert client.tokens is None
    client.use_tokens(tokens)
    with pytest.raises(ApiError) as ended:
        await client.refresh()
    assert ended.value.status == 401
    assert client.tokens is None  # the caller must log in again


async def test_rate_limited_gets_wait_and_retry_but_posts_do_not(tmp_path: Path) -> None:
    settings = server_settings(tmp_path, user_rate=RateLimit(1.0, 2))
    async with serve(settings) as server:
        trader = await new_trader(server)
        async with ExchangeClient(server.base_url) as client:
            await client.login(trader.email, trader.password)
            for _ in range(3):  # the third waits out Retry-After, then succeeds
                assert (await client.me()).email == trader.email
            with pytest.raises(ApiError) as limited:
                await client.place_order("RELIANCE", "buy", 1, "1300.00")
                await client.place_order("RELIANCE", "buy", 1, "1300.00")
            assert limited.value.status == 429
            assert limited.value.retry_after is not None and limited.value.retry_after >= 1


async def test_api_keys_work_instead_of_a_login(
    live_server: LiveServer, client: ExchangeClient
) -> None:
    created = await client.create_api_key("script", ["read"])
    assert created.key_id in [k.key_id for k in await client.api_keys()]
    async with ExchangeClient(live_server.base_url) as script:
        script.use_api_key(created.api_key)
        assert {b.asset for b in await script.balances()} >= {"INR"}
        with pytest.raises(ApiError) as no_trade:
            await script.place_order("RELIANCE", "buy", 1, "1300.00")
        assert no_trade.value.code == "insufficient_scope"
        await client.revoke_api_key(created.key_id)
        with pytest.raises(ApiError) as revoked:
            await script.balances()
        assert revoked.value.status == 401


async def test_two_factor_login_asks_for_the_code(
    live_server: LiveServer, client: ExchangeClient, trader: Trader
) -> None:
    enrolment = await client.enrol_totp()
    totp = pyotp.TOTP(enrolment.secret)
    assert len((await client.confirm_totp(totp.now())).codes) > 0
    async with ExchangeClient(live_server.base_url) as again:
        with pytest.raises(ApiError) as needs_code:
            await again.login(trader.email, trader.password)
        assert (needs_code.value.status, needs_code.value.code) == (401, "mfa_required")
        # The confirmation used this 30 s step's code and codes are single-use: the next
        # step's code is within the server's drift allowance.
        await again.login(trader.email, trader.password, otp=totp.at(time.time() + 30))
        assert again.user is not None and again.user.totp_enabled


async def test_the_embedded_secret_logs_the_paper_trader_in_once(tmp_path: Path) -> None:
    settings = server_settings(tmp_path, embedded_secret="one-time-secret")
    async with serve(settings) as server, ExchangeClient(server.base_url) as client:
        tokens = await client.login_embedded("one-time-secret")
        assert tokens.user.is_paper and client.user == tokens.user
        assert (await client.me()).user_id == tokens.user.user_id
        balances = await client.balances()
        assert any(b.asset == "INR" and b.balance > 0 for b in balances), balances
        with pytest.raises(ApiError) as used:
            await client.login_embedded("one-time-secret")
        assert used.value.code == "invalid_secret"


async def test_health_needs_no_credentials(live_server: LiveServer) -> None:
    async with ExchangeClient(live_server.base_url) as client:
        assert (await client.healthz()).status == "ok"
        assert (await client.readyz()).status == "ok"


async def test_registration_waits_for_the_mailed_verification(live_server: LiveServer) -> None:
    async with ExchangeClient(live_server.base_url) as client:
        user = await client.register("new@example.com", "a long enough password", "New")
        assert (user.email, user.email_verified) == ("new@example.com", False)
        with pytest.raises(ApiError) as unverified:
            await client.login("new@example.com", "a long enough password")
        assert unverified.value.status in (401, 403)
        with pytest.raises(ApiError) as taken:
            await client.register("new@example.com", "a long enough password")
        assert taken.value.status == 409


async def test_an_admin_funds_accounts_and_halts_a_symbol(
    live_server: LiveServer, client: ExchangeClient, trader: Trader
) -> None:
    await live_server.context.auth.create_user(
        "admin@example.com", trader.password, role="admin", verified=True
    )
    async with ExchangeClient(live_server.base_url) as admin:
        await admin.login("admin@example.com", trader.password)
        users = await admin.admin_users(search="trader@")
        assert [u.user_id for u in users.items] == [trader.user.user_id]
        assert (await admin.admin_user(trader.user.user_id)).email == trader.email

        balance = await admin.admin_funds(trader.user.account_id, "deposit", Decimal("250.50"))
        assert (balance.asset, balance.balance) == ("INR", Decimal("1000250.50"))

        halted = await admin.admin_set_trading_status("TCS", "halted", "news pending")
        assert halted.status == "halted"
        with pytest.raises(ApiError) as refused:
            await client.place_order("TCS", "buy", 1, halted.reference_price)
        assert refused.value.status in (409, 422)

        with pytest.raises(ApiError) as forbidden:
            await client.admin_funds(trader.user.account_id, "deposit", 1)
        assert forbidden.value.status == 403
