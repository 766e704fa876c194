"""Sessions through the real engine: statuses, bands and day orders at the open and close."""

from datetime import UTC, datetime
from pathlib import Path

from exchange_server.domain.commands import PlaceOrder, SetTradingStatus
from exchange_server.domain.enums import Side, TradingStatus
from exchange_server.domain.events import CommandRejected
from exchange_server.engine.clock import ManualClock
from exchange_server.marketdata.sessions import SessionKeeper
from exchange_server.marketdata.simulator import set_up_demo_market
from tests.marketdata.sim_support import LISTINGS, engine_on


def ns(year: int, month: int, day: int, hour: int, minute: int) -> int:
    """Epoch ns of a UTC wall time."""
    return int(datetime(year, month, day, hour, minute, tzinfo=UTC).timestamp()) * 10**9


MON_0905_IST = ns(2026, 4, 27, 3, 35)
MON_0915_IST = ns(2026, 4, 27, 3, 45)
MON_1530_IST = ns(2026, 4, 27, 10, 0)
TUE_0915_IST = ns(2026, 4, 28, 3, 45)


async def test_instruments_follow_the_session_and_crypto_never_closes(tmp_path: Path) -> None:
    clock = ManualClock(MON_0905_IST)
    async with engine_on(tmp_path, clock) as service:
        await set_up_demo_market(service, LISTINGS)
        exchange = service.sequencer.exchange
        keeper = SessionKeeper({listing.symbol: listing.session for listing in LISTINGS})

        async def update_at(now: int) -> None:
            clock.set(now)
            for command in keeper.update(exchange, now):
                await service.execute(command)

        await update_at(MON_0905_IST)
        assert exchange.instruments["SBIN"].status == TradingStatus.POST_ONLY
        assert exchange.instruments["BTC-INR"].status == TradingStatus.OPEN
        await update_at(MON_0915_IST)
        assert exchange.instruments["SBIN"].status == TradingStatus.OPEN
        # A day order rests until the close, then expires; nobody can place after the close.
        ack = await service.execute(PlaceOrder(1011, "SBIN", Side.BUY, 10, price=105_000))
        order_id = ack.events[0].order_id  # type: ignore[attr-defined]
        exchange.last_price["SBIN"] = 115_000  # as if SBIN had traded there
        await update_at(MON_1530_IST)
        assert exchange.instruments["SBIN"].status == TradingStatus.CANCEL_ONLY
        assert order_id not in exchange.orders
        ack = await service.execute(PlaceOrder(1011, "SBIN", Side.BUY, 10, price=105_000))
        assert isinstance(ack.events[0], CommandRejected)
        assert exchange.instruments["BTC-INR"].status == TradingStatus.OPEN
        # The next session's band is centred on the last price.
        await update_at(TUE_0915_IST)
        sbin = exchange.instruments["SBIN"]
        assert sbin.status == TradingStatus.OPEN
        assert sbin.reference_price == 115_000


async def test_an_operator_halt_is_left_alone(tmp_path: Path) -> None:
    clock = ManualClock(MON_0905_IST)
    async with engine_on(tmp_path, clock) as service:
        await set_up_demo_market(service, LISTINGS)
        exchange = service.sequencer.exchange
        keeper = SessionKeeper({listing.symbol: listing.session for listing in LISTINGS})
        await service.execute(SetTradingStatus("TCS", TradingStatus.HALTED, "news pending"))
        for now in (MON_0905_IST, MON_0915_IST, MON_1530_IST, TUE_0915_IST):
            for command in keeper.update(exchange, now):
                await service.execute(command)
            assert exchange.instruments["TCS"].status == TradingStatus.HALTED


async def test_always_open_opens_everything_at_any_hour(tmp_path: Path) -> None:
    saturday = ns(2026, 4, 25, 20, 0)
    clock = ManualClock(saturday)
    async with engine_on(tmp_path, clock) as service:
        await set_up_demo_market(service, LISTINGS)
        exchange = service.sequencer.exchange
        await service.execute(SetTradingStatus("SBIN", TradingStatus.CANCEL_ONLY, "closed"))
        keeper = SessionKeeper(
            {listing.symbol: listing.session for listing in LISTINGS}, always_open=True
        )
        for command in keeper.update(exchange, saturday):
            await service.execute(command)
        assert exchange.instruments["SBIN"].status == TradingStatus.OPEN
        assert keeper.phase("SBIN") == "open"
        assert keeper.intensity("SBIN", saturday) == 1.0
