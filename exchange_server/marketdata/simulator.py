"""The live market simulator: fair values, sessions and bots driving the real engine.

Each tick the simulator reads the simulated clock, brings sessions up to date (open, close,
band re-centring: ``sessions``), advances every fair value (``fair_value``; replayed
instruments follow their real bars: ``replay``), lets the bots decide (``bots``) and submits
their commands through the sequencer in one batch, so a tick costs about one group commit.
Prices, trades, depth and candles all come out of the matching engine.

Time: the clock gives simulated time (``SimulatedClock`` runs ``speed`` times faster than
the wall). Fair values move with simulated time, but the bots' order rates are per *wall*
second: a 100x replay compresses the day without multiplying the load.

Determinism: with the same seed, listings and clock readings, and nobody else trading, the
simulator sends the same commands and the engine makes the same trades.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Protocol

from exchange_server.domain.commands import (
    Command,
    Deposit,
    ListInstrument,
    OpenAccount,
    SetReferencePrice,
)
from exchange_server.domain.enums import AssetClass
from exchange_server.domain.exchange import MAX_AMOUNT, Exchange
from exchange_server.domain.instruments import CASH_SCALE, Instrument
from exchange_server.engine.clock import Clock, SystemClock
from exchange_server.engine.sequencer import Ack, SequencerFailure, SequencerStopped
from exchange_server.marketdata.bots import (
    Flow,
    MakerStyle,
    MarketMaker,
    MomentumTrader,
    NoiseTrader,
    Quote,
    lots,
    poisson,
    price_step,
)
from exchange_server.marketdata.calendar import calendar_for
from exchange_server.marketdata.fair_value import (
    CONTINUOUS_SECONDS_PER_YEAR,
    NSE_SECONDS_PER_YEAR,
    AssetSpec,
    FairValueModel,
)
from exchange_server.marketdata.feeds.adapter import ExternalPrices
from exchange_server.marketdata.replay import ReplayPath
from exchange_server.marketdata.sessions import SessionKeeper
from exchange_server.server import ExchangeService

log = logging.getLogger(__name__)

DAY_NS = 86_400 * 1_000_000_000


class Listing(Protocol):
    """What the simulator needs of a listing (``universe.Listing`` has all of it)."""

    @property
    def symbol(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def asset_class(self) -> str: ...
    @property
    def exchange(self) -> str: ...
    @property
    def currency(self) -> str: ...
    @property
    def sector(self) -> str: ...
    @property
    def isin(self) -> str: ...
    @property
    def price_decimals(self) -> int: ...
    @property
    def quantity_decimals(self) -> int: ...
    @property
    def tick_size(self) -> int: ...
    @property
    def lot_size(self) -> int: ...
    @property
    def band_ppm(self) -> int: ...
    @property
    def last_close(self) -> int: ...
    @property
    def session(self) -> str: ...


# -- bots and their money --------------------------------------------------------------------
# Accounts 1001-1099 are reserved for bots.
MAKER_STYLES = {
    1001: MakerStyle(half_spread=1, levels=3, size=0.6, requote=1),
    1002: MakerStyle(half_spread=2, levels=5, size=1.0, requote=1),
    1003: MakerStyle(half_spread=4, levels=5, level_gap=2, size=2.0, requote=2),
}
NOISE_ACCOUNTS = tuple(range(1011, 1017))
MOMENTUM_ACCOUNTS = (1021, 1022)
BOT_ACCOUNTS = (*MAKER_STYLES, *NOISE_ACCOUNTS, *MOMENTUM_ACCOUNTS)
# Holdings each bot keeps of every instrument, in base order quantities (see base_quantity).
MAKER_INVENTORY = 400
TRADER_INVENTORY = 200
# A typical order's value in major currency units (INR 2 lakh; 2,500 in dollar-like units).
ORDER_VALUE = {"INR": 200_000}
DEFAULT_ORDER_VALUE = 2_500


def base_quantity(listing: Listing, price: int) -> int:
    """A typical order of ``listing`` at ``price``, in quantity units, whole lots."""
    value = ORDER_VALUE.get(listing.currency, DEFAULT_ORDER_VALUE)
    units_value = price * 10.0 ** (-listing.price_decimals)  # one whole unit, in currency
    quantity = value / max(units_value, 1e-9) * 10**listing.quantity_decimals
    return lots(quantity, listing.lot_size)


def is_tradable(listing: Listing) -> bool:
    return AssetClass(listing.asset_class) != AssetClass.INDEX


def listing_command(listing: Listing) -> ListInstrument:
    tick = listing.tick_size
    reference = max(tick, round(listing.last_close / tick) * tick)
    return ListInstrument(
        listing.symbol,
        listing.name,
        AssetClass(listing.asset_class),
        listing.exchange,
        listing.currency,
        sector=listing.sector,
        isin=listing.isin,
        price_decimals=listing.price_decimals,
        quantity_decimals=listing.quantity_decimals,
        tick_size=tick,
        lot_size=listing.lot_size,
        reference_price=reference,
        band_ppm=listing.band_ppm,
    )


def inventory_target(account: int, base: int) -> int:
    return base * (MAKER_INVENTORY if account in MAKER_STYLES else TRADER_INVENTORY)


def funding_commands(exchange: Exchange, listings: Sequence[Listing]) -> list[Command]:
    """Open missing bot accounts and top each bot up to its holdings and cash, so bots never
    run dry across restarts (a top-up only happens below half the target)."""
    commands: list[Command] = []
    cash_needed: dict[str, int] = {}
    ledger = exchange.ledger
    for account in BOT_ACCOUNTS:
        exists = account in exchange.self_trade_prevention
        if not exists:
            commands.append(OpenAccount(account))
        for listing in listings:
            if not is_tradable(listing):
                continue
            instrument = exchange.instruments.get(listing.symbol)
            price = instrument.reference_price if instrument else listing.last_close
            target = inventory_target(account, base_quantity(listing, price))
            held = ledger.balance(account, listing.symbol) if exists else 0
            if held < target // 2:
                commands.append(Deposit(account, listing.symbol, target - held, "bot inventory"))
            value = price * target * 10 ** (4 - listing.price_decimals - listing.quantity_decimals)
            cash_needed[listing.currency] = cash_needed.get(listing.currency, 0) + 3 * value
        for currency, amount in sorted(cash_needed.items()):
            amount = min(amount + 1_000_000 * CASH_SCALE, MAX_AMOUNT)
            held = ledger.balance(account, currency) if exists else 0
            if held < amount // 2:
                commands.append(Deposit(account, currency, amount - held, "bot cash"))
        cash_needed.clear()
    return commands


async def set_up_demo_market(service: ExchangeService, listings: Sequence[Listing]) -> None:
    """List the instruments not yet listed and fund the bots; idempotent."""
    exchange = service.sequencer.exchange
    for listing in listings:
        if listing.symbol not in exchange.instruments:
            await service.execute(listing_command(listing))
    for command in funding_commands(exchange, listings):
        await service.execute(command)


# -- clocks ----------------------------------------------------------------------------------
class SimulatedClock:
    """Simulated time: from ``start_ns`` (default: now), ``speed`` times the wall clock.

    Give the same clock to the engine (``ServerContext(settings, clock=...)``) when the
    simulated time is not the real time (replaying a past day, speed above 1), so trades
    and candles carry simulated time; the journal's time never runs backwards, so do that
    on a database of its own."""

    def __init__(self, speed: float = 1.0, start_ns: int | None = None) -> None:
        if not 0 < speed <= 1000:
            raise ValueError("speed must be between 0 and 1000")
        self.speed = speed
        self._start_ns = time.time_ns() if start_ns is None else start_ns
        self._wall_origin = time.monotonic_ns()

    def now_ns(self) -> int:
        return self._start_ns + int((time.monotonic_ns() - self._wall_origin) * self.speed)


# -- the simulator ---------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SimulatorConfig:
    seed: int = 7
    trades_per_second: float = 2.0  # aimed at, per instrument, per wall second
    tick_seconds: float = 0.1  # wall time between ticks
    speed: float = 1.0  # simulated seconds per wall second (the clock's; used for rates)
    always_open: bool = False
    index_publish_seconds: float = 1.0  # how often an index's level is published
    passive_lifetime_seconds: float = 60.0  # wall seconds a noise trader's passive order lives


ASSET_MODELS = {
    # annual vol, market beta, sector beta
    AssetClass.EQUITY: (0.25, 0.5, 0.4),
    AssetClass.INDEX: (0.15, 0.97, 0.0),
    AssetClass.CRYPTO: (0.60, 0.1, 0.75),
    AssetClass.COMMODITY: (0.25, 0.1, 0.5),
}


def asset_spec(listing: Listing, price: int, rng: random.Random) -> AssetSpec:
    asset_class = AssetClass(listing.asset_class)
    vol, market_beta, sector_beta = ASSET_MODELS[asset_class]
    sector = listing.sector or ("crypto" if asset_class == AssetClass.CRYPTO else "")
    continuous = listing.session == "24x7"
    return AssetSpec(
        listing.symbol,
        float(price),
        annual_vol=vol * rng.uniform(0.8, 1.25),
        sector=sector,
        market_beta=market_beta,
        sector_beta=sector_beta,
        seconds_per_year=CONTINUOUS_SECONDS_PER_YEAR if continuous else NSE_SECONDS_PER_YEAR,
    )


class Simulator:
    def __init__(
        self,
        service: ExchangeService,
        listings: Sequence[Listing],
        config: SimulatorConfig | None = None,
        clock: Clock | None = None,
        replays: Sequence[ReplayPath] = (),
        external: ExternalPrices | None = None,
    ) -> None:
        self.service = service
        self.external = external  # an outside feed's prices anchor fair values (mirror mode)
        self.listings = list(listings)
        self.config = config or SimulatorConfig()
        self.clock = clock or SystemClock()
        self.replays = {replay.symbol: replay for replay in replays}
        self._rng = random.Random(self.config.seed)
        self._model: FairValueModel | None = None
        self._last_ns = 0
        self._last_index_publish: dict[str, float] = {}  # index -> wall time published
        self._wall = 0.0  # wall seconds simulated so far
        self._stopping = asyncio.Event()
        self._base: dict[str, int] = {}
        self.sessions = SessionKeeper(
            {listing.symbol: listing.session for listing in self.listings},
            always_open=self.config.always_open,
            reference=self._session_reference,
        )
        target = self._inventory_target
        self.makers = [
            MarketMaker(account, style, partial(target, account))
            for account, style in MAKER_STYLES.items()
        ]
        self.noise = [NoiseTrader(account, partial(target, account)) for account in NOISE_ACCOUNTS]
        self.momentum = [MomentumTrader(account) for account in MOMENTUM_ACCOUNTS]
        self.ticks = 0

    def _inventory_target(self, account: int, symbol: str) -> int:
        return inventory_target(account, self._base[symbol])

    @property
    def exchange(self) -> Exchange:
        return self.service.sequencer.exchange

    @property
    def model(self) -> FairValueModel:
        if self._model is None:
            raise RuntimeError("the simulator has not started")
        return self._model

    def fair_value(self, symbol: str) -> float:
        return self.model.value(symbol)

    # -- lifecycle ---------------------------------------------------------------------
    async def prepare(self) -> None:
        """List and fund what is missing, and start every fair value from the last price
        (the last real close on a fresh exchange)."""
        await set_up_demo_market(self.service, self.listings)
        exchange = self.exchange
        specs = []
        for listing in self.listings:
            instrument = exchange.instruments[listing.symbol]
            price = (
                exchange.last_price.get(listing.symbol)
                or instrument.reference_price
                or listing.last_close
            )
            specs.append(asset_spec(listing, price, self._rng))
            self._base[listing.symbol] = base_quantity(listing, instrument.reference_price or price)
        self._model = FairValueModel(specs, self._rng.randrange(2**63))
        self._last_ns = self.clock.now_ns()
        await self._place_replays()

    async def _place_replays(self) -> None:
        """Put each replay on the timeline: on its real day with real prices when the clock
        is on that day, otherwise the day's shape from the next open at today's price."""
        now = self._last_ns
        exchange = self.exchange
        by_symbol = {listing.symbol: listing for listing in self.listings}
        flow = Flow()
        for symbol, replay in list(self.replays.items()):
            if symbol not in by_symbol:
                raise ValueError(f"cannot replay {symbol!r}: it is not listed")
            instrument = exchange.instruments[symbol]
            if replay.start_ns - DAY_NS <= now <= replay.end_ns:
                # Bars are in currency units; fair values in the instrument's price units.
                replay = replay.scaled(replay.first_price * 10**instrument.price_decimals)
                self.replays[symbol] = replay
                self.model.set_value(symbol, replay.first_price)
                tick = instrument.tick_size
                level = max(tick, round(replay.first_price / tick) * tick)
                if level != instrument.reference_price:
                    flow.add(SetReferencePrice(symbol, level))
                continue
            start = now
            calendar = calendar_for(by_symbol[symbol].session)
            moment = datetime.fromtimestamp(now / 1e9, UTC)
            if not self.config.always_open and calendar.phase(moment) != "open":
                start = int(calendar.next_session(moment)[0].timestamp()) * 1_000_000_000
            self.replays[symbol] = replay.shifted(start).scaled(self.model.value(symbol))
        await self._submit(flow)

    def _session_reference(self, exchange: Exchange, symbol: str) -> int:
        """The price a new session's band centres on: the last trade, or for a replayed or
        never-traded instrument its fair value."""
        last = exchange.last_price.get(symbol, 0)
        if last and symbol not in self.replays:
            return last
        tick = exchange.instruments[symbol].tick_size
        return max(tick, round(self.model.value(symbol) / tick) * tick)

    async def run(self) -> None:
        """Tick until ``stop``; a stopped sequencer (server shutdown) also ends the run."""
        if self._model is None:
            await self.prepare()
        loop = asyncio.get_running_loop()
        interval = self.config.tick_seconds
        next_tick = loop.time()
        try:
            while not self._stopping.is_set():
                next_tick += interval
                delay = next_tick - loop.time()
                if delay < -interval:  # fell behind (a stall): skip ticks, never burst
                    next_tick = loop.time()
                    delay = 0
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), max(delay, 0))
                    break
                await self.step()
        except (SequencerStopped, SequencerFailure):
            log.info("market simulator stopped with the engine")

    async def stop(self) -> None:
        self._stopping.set()

    # -- one tick ----------------------------------------------------------------------
    async def step(self) -> None:
        """Advance to the clock's time: sessions, fair values, then the bots' orders."""
        if self._model is None:
            await self.prepare()
        model = self.model
        now = self.clock.now_ns()
        sim_seconds = max(0, now - self._last_ns) / 1e9
        self._last_ns = max(now, self._last_ns)
        wall_seconds = self.config.tick_seconds
        self._wall += wall_seconds
        self.ticks += 1
        exchange = self.exchange
        session_commands = self.sessions.update(exchange, now)
        if session_commands:
            await self._submit(Flow(session_commands, [None] * len(session_commands)))
        intensity = [self.sessions.intensity(spec.symbol, now) for spec in model.specs]
        model.step(sim_seconds, intensity)
        flow = Flow()
        for listing in self.listings:
            symbol = listing.symbol
            replay = self.replays.get(symbol)
            if replay is not None and intensity[model.index[symbol]] > 0:
                price = replay.price_at(now)
                if price is not None:
                    model.set_value(symbol, price)
            elif self.external is not None and intensity[model.index[symbol]] > 0:
                external = self.external.latest(symbol)
                if external is not None:
                    model.set_value(symbol, float(external))
            instrument = exchange.instruments[symbol]
            self._keep_in_band(instrument)
            if not instrument.tradable:
                self._publish_index(instrument, flow)
                continue
            phase = self.sessions.phase(symbol)
            if phase == "closed" or instrument.status not in ("open", "post_only"):
                continue
            self._trade(instrument, phase == "open", wall_seconds, flow)
        await self._submit(flow)

    def _keep_in_band(self, instrument: Instrument) -> None:
        """Keep the fair value inside the band with room for the makers' first levels:
        the price pins at a circuit limit rather than leaving the book one-sided."""
        if instrument.band_high:
            room = 3 * instrument.tick_size
            self.model.clamp(
                instrument.symbol, instrument.band_low + room, instrument.band_high - room
            )

    def _publish_index(self, instrument: Instrument, flow: Flow) -> None:
        """An index is quoted, never traded: its level goes out as its reference price."""
        last = self._last_index_publish.get(instrument.symbol)
        if last is not None and self._wall - last < self.config.index_publish_seconds:
            return
        self._last_index_publish[instrument.symbol] = self._wall
        tick = instrument.tick_size
        level = max(tick, round(self.model.value(instrument.symbol) / tick) * tick)
        if level != instrument.reference_price:
            flow.add(SetReferencePrice(instrument.symbol, level))

    def _trade(
        self, instrument: Instrument, is_open: bool, wall_seconds: float, flow: Flow
    ) -> None:
        exchange, rng, config = self.exchange, self._rng, self.config
        symbol = instrument.symbol
        fair = self.model.value(symbol)
        quote = Quote(instrument, fair, self._base[symbol], price_step(instrument, fair))
        for maker in self.makers:
            maker.quote(exchange, quote, rng, flow)
        if not is_open:  # pre-open: quotes only, nothing marketable
            return
        rate = config.trades_per_second
        for _ in range(poisson(rng, 0.7 * rate * wall_seconds)):
            rng.choice(self.noise).take(exchange, quote, rng, flow)
        lifetime = int(config.passive_lifetime_seconds * config.speed * 1e9)
        for _ in range(poisson(rng, 0.6 * rate * wall_seconds)):
            rng.choice(self.noise).rest(exchange, quote, lifetime, rng, flow)
        for trader in self.momentum:
            signal = trader.observe(exchange, symbol)
            for _ in range(poisson(rng, 0.15 * rate * abs(signal) * wall_seconds)):
                trader.chase(exchange, quote, signal, rng, flow)

    async def _submit(self, flow: Flow) -> None:
        """Submit in order, wait for the group commit, then let the bots read the acks."""
        if not flow.commands:
            return
        sequencer = self.service.sequencer
        futures = [sequencer.submit(command) for command in flow.commands]
        acks: list[Ack] = await asyncio.gather(*futures)
        for handler, ack in zip(flow.handlers, acks, strict=True):
            if handler is not None:
                handler(ack)
