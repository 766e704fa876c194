"""A seeded random order flow that keeps a few NSE names trading, for `exchange-server demo`.

Bots are ordinary accounts: they deposit cash and shares and send real limit, IOC and cancel
commands through the sequencer, so every price and trade comes out of the matching engine.
(The full market simulator with fair-value processes and market makers replaces this.)
"""

from __future__ import annotations

import asyncio
import random
from collections import deque
from dataclasses import dataclass

from exchange_server.domain.commands import (
    CancelOrder,
    Command,
    Deposit,
    ListInstrument,
    OpenAccount,
    PlaceOrder,
)
from exchange_server.domain.enums import AssetClass, OrderType, Side, TimeInForce
from exchange_server.domain.events import OrderUpdated
from exchange_server.domain.instruments import CASH_SCALE
from exchange_server.server import ExchangeService


@dataclass(frozen=True, slots=True)
class DemoListing:
    symbol: str
    name: str
    sector: str
    isin: str
    last_close: int  # paise: the 2026-04-24 NSE close from ../shared/data/market/nse/daily


DEMO_LISTINGS = (
    DemoListing(
        "RELIANCE", "Reliance Industries Ltd.", "Oil Gas & Consumable Fuels", "INE002A01018", 132780
    ),
    DemoListing(
        "TCS", "Tata Consultancy Services Ltd.", "Information Technology", "INE467B01029", 239690
    ),
    DemoListing("INFY", "Infosys Ltd.", "Information Technology", "INE009A01021", 115460),
    DemoListing("HDFCBANK", "HDFC Bank Ltd.", "Financial Services", "INE040A01034", 78485),
    DemoListing("SBIN", "State Bank of India", "Financial Services", "INE062A01020", 110110),
)
BOT_ACCOUNTS = range(1001, 1011)
TICK = 5


def setup_commands(listed: set[str], accounts: set[int]) -> list[Command]:
    """What a fresh exchange needs for the demo; nothing for one that already has it."""
    commands: list[Command] = []
    for listing in DEMO_LISTINGS:
        if listing.symbol not in listed:
            commands.append(
                ListInstrument(
                    listing.symbol,
                    listing.name,
                    AssetClass.EQUITY,
                    "NSE",
                    "INR",
                    sector=listing.sector,
                    isin=listing.isin,
                    tick_size=TICK,
                    reference_price=listing.last_close,
                    band_ppm=100_000,
                )
            )
    for account in BOT_ACCOUNTS:
        if account not in accounts:
            commands.append(OpenAccount(account))
            commands.append(Deposit(account, "INR", 1_000_000_000 * CASH_SCALE))
            for listing in DEMO_LISTINGS:
                commands.append(Deposit(account, listing.symbol, 10_000_000))
    return commands


async def set_up_demo_market(service: ExchangeService) -> None:
    """List the demo instruments and open the bots' accounts, if not done before."""
    exchange = service.sequencer.exchange
    for command in setup_commands(set(exchange.instruments), set(exchange.self_trade_prevention)):
        await service.execute(command)


async def run_random_flow(
    service: ExchangeService, seed: int = 7, orders_per_second: int = 200
) -> None:
    """Send orders until cancelled."""
    exchange = service.sequencer.exchange
    await set_up_demo_market(service)
    rng = random.Random(seed)
    fair = {
        listing.symbol: exchange.last_price.get(listing.symbol, listing.last_close)
        for listing in DEMO_LISTINGS
    }
    resting: deque[tuple[int, int]] = deque()  # (account, order id), oldest first
    interval = 0.05
    per_tick = max(1, orders_per_second * interval)
    while True:
        await asyncio.sleep(interval)
        batch: list[Command] = []
        for _ in range(int(per_tick)):
            symbol = rng.choice(DEMO_LISTINGS).symbol
            step = rng.gauss(0, 0.0004) * fair[symbol]
            instrument = exchange.instruments[symbol]
            low, high = instrument.band_low + 20 * TICK, instrument.band_high - 20 * TICK
            fair[symbol] = min(max(round(fair[symbol] + step) // TICK * TICK, low), high)
            side = Side.BUY if rng.random() < 0.5 else Side.SELL
            account = rng.choice(BOT_ACCOUNTS)
            quantity = rng.randint(1, 50)
            if rng.random() < 0.15:
                batch.append(
                    PlaceOrder(
                        account, symbol, side, quantity, OrderType.MARKET, tif=TimeInForce.IOC
                    )
                )
                continue
            offset = rng.randint(1, 12) * TICK
            price = fair[symbol] - offset if side == Side.BUY else fair[symbol] + offset
            batch.append(PlaceOrder(account, symbol, side, quantity, price=price))
        while len(resting) > 2_000:
            account, order_id = resting.popleft()
            batch.append(CancelOrder(account, order_id))
        acks = await asyncio.gather(*(service.execute(command) for command in batch))
        for ack in acks:
            for event in ack.events:
                if isinstance(event, OrderUpdated) and event.status == "new":
                    resting.append((event.account, event.order_id))
