"""The typed client reads the caller's fee schedule with exact integers."""

from __future__ import annotations

import pytest

from exchange_server.domain.commands import SetFees
from exchange_server.protocol import FeeSchedule
from tests.api.conftest import LiveServer
from workstation.client import ApiError, ExchangeClient


async def test_the_client_reads_the_fee_schedule(
    client: ExchangeClient, live_server: LiveServer
) -> None:
    assert await client.fees() == FeeSchedule(
        maker_fee_ppm=0, taker_fee_ppm=0, reserve_fee_ppm=0, cash_decimals=4
    )
    await live_server.context.submit(SetFees(150, 450))
    fees = await client.fees()
    assert (fees.maker_fee_ppm, fees.taker_fee_ppm, fees.reserve_fee_ppm) == (150, 450, 450)


async def test_signed_out_the_schedule_is_refused_with_the_servers_code(
    live_server: LiveServer,
) -> None:
    async with ExchangeClient(live_server.base_url) as anonymous:
        with pytest.raises(ApiError) as refused:
            await anonymous.fees()
    assert (refused.value.status, refused.value.code) == (401, "unauthorized")
