"""Journal encoding: every command and event type survives the round trip exactly."""

from __future__ import annotations

import pytest

from exchange_server.domain.commands import (
    COMMAND_TYPES,
    Adjust,
    CancelAll,
    CancelOrder,
    Command,
    Deposit,
    EndOfDay,
    ListInstrument,
    ModifyOrder,
    OpenAccount,
    PlaceOrder,
    SetFees,
    SetReferencePrice,
    SetSelfTradePrevention,
    SetTradingStatus,
    Tick,
    Withdraw,
)
from exchange_server.domain.enums import (
    AssetClass,
    SelfTradePrevention,
    Side,
    TimeInForce,
    TradingStatus,
)
from exchange_server.domain.events import EVENT_TYPES, Event
from exchange_server.domain.exchange import Exchange
from exchange_server.engine.codec import (
    CodecError,
    decode_command,
    decode_events,
    encode_command,
    encode_events,
)

SESSION: list[Command] = [
    ListInstrument("ACME", "Acme", AssetClass.EQUITY, "NSE", "INR", reference_price=10_000),
    OpenAccount(10),
    OpenAccount(11, SelfTradePrevention.CANCEL_BOTH),
    SetSelfTradePrevention(10, SelfTradePrevention.CANCEL_OLDEST),
    SetFees(100, 200),
    Deposit(10, "INR", 10**10),
    Deposit(11, "ACME", 100),
    PlaceOrder(11, "ACME", Side.SELL, 10, price=10_000, client_order_id="s1"),
    PlaceOrder(11, "ACME", Side.SELL, 10, price=10_000, client_order_id="s1"),  # resubmitted
    PlaceOrder(10, "ACME", Side.BUY, 4, price=10_000, tif=TimeInForce.IOC),
    ModifyOrder(11, 1, quantity=5),
    PlaceOrder(10, "ACME", Side.BUY, 1, price=-5),  # refused
    SetReferencePrice("ACME", 10_050),
    SetTradingStatus("ACME", TradingStatus.HALTED, "news pending"),
    CancelOrder(11, 1),
    CancelAll(10),
    Withdraw(10, "INR", 1),
    Adjust(10, "INR", -1, "correction"),
    EndOfDay(),
    Tick(),
]


def test_every_command_type_round_trips() -> None:
    assert {type(command) for command in SESSION} == set(COMMAND_TYPES.values())
    for command in SESSION:
        assert decode_command(command.kind, encode_command(command)) == command


def test_every_event_type_round_trips() -> None:
    exchange = Exchange()
    seen: list[Event] = []
    for now, command in enumerate(SESSION, start=1):
        events = exchange.apply(command, now)
        assert decode_events(encode_events(events)) == events
        seen.extend(events)
    assert {event.kind for event in seen} == set(EVENT_TYPES)


@pytest.mark.parametrize(
    ("kind", "data"),
    [
        ("place_order", b"not json"),
        ("place_order", b'{"nope": 1}'),
        ("teleport", b"{}"),
    ],
)
def test_bad_stored_commands_are_reported(kind: str, data: bytes) -> None:
    with pytest.raises(CodecError):
        decode_command(kind, data)


def test_bad_stored_events_are_reported() -> None:
    with pytest.raises(CodecError):
        decode_events(b'[["order", [1, 2]]]')
