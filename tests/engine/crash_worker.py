"""A server process under load for the crash test: it prints ``ACK <seq> <client id>`` for
every acknowledged command, until it is killed."""

from __future__ import annotations

import asyncio
import random
import sys

from exchange_server.domain.commands import Deposit, ListInstrument, OpenAccount, PlaceOrder
from exchange_server.domain.enums import AssetClass, OrderType, Side, TimeInForce
from exchange_server.server import EngineSettings, ExchangeService

SYMBOL = "CRASH"
ACCOUNTS = range(100, 108)
PRICE = 100_000


async def main(url: str, submitters: int) -> None:
    service = ExchangeService(EngineSettings(url, snapshot_every=400))
    await service.start()
    if SYMBOL not in service.sequencer.exchange.instruments:
        await service.execute(
            ListInstrument(
                SYMBOL, "Crash Test Ltd.", AssetClass.EQUITY, "NSE", "INR", reference_price=PRICE
            )
        )
        for account in ACCOUNTS:
            await service.execute(OpenAccount(account))
            await service.execute(Deposit(account, "INR", 10**14))
            await service.execute(Deposit(account, SYMBOL, 10**7))
    print("READY", flush=True)
    out = sys.stdout

    async def submit(worker: int) -> None:
        rng = random.Random(worker)
        number = 0
        while True:
            number += 1
            client_order_id = f"w{worker}-{number}"
            side = Side.BUY if rng.random() < 0.5 else Side.SELL
            if rng.random() < 0.2:
                command = PlaceOrder(
                    rng.choice(ACCOUNTS),
                    SYMBOL,
                    side,
                    rng.randint(1, 20),
                    OrderType.MARKET,
                    tif=TimeInForce.IOC,
                    client_order_id=client_order_id,
                )
            else:
                offset = rng.randint(1, 20) * 5
                price = PRICE - offset if side == Side.BUY else PRICE + offset - 50
                command = PlaceOrder(
                    rng.choice(ACCOUNTS),
                    SYMBOL,
                    side,
                    rng.randint(1, 20),
                    price=price,
                    client_order_id=client_order_id,
                )
            ack = await service.execute(command)
            out.write(f"ACK {ack.seq} {client_order_id}\n")
            out.flush()

    await asyncio.gather(*(submit(worker) for worker in range(submitters)))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
