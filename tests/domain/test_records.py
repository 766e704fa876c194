"""Commands and events behave like the dataclasses they were: built by position or keyword,
compared field by field, and list their fields in declaration order for the journal."""

from __future__ import annotations

import inspect
from enum import Enum

import pytest

from exchange_server.domain.commands import COMMAND_TYPES, Command, PlaceOrder
from exchange_server.domain.events import EVENT_TYPES, BookChanged, Event, journal_rows


@pytest.mark.parametrize("cls", EVENT_TYPES.values(), ids=list(EVENT_TYPES))
def test_fields_are_the_constructor_parameters_in_order(cls: type[Event]) -> None:
    assert tuple(inspect.signature(cls).parameters) == cls.FIELDS


@pytest.mark.parametrize("cls", EVENT_TYPES.values(), ids=list(EVENT_TYPES))
def test_values_dict_and_equality_follow_the_fields(cls: type[Event]) -> None:
    # Every field's type is str or int (bool for post_only): build with matching types.
    hints = {name: type(getattr(_built(cls), name)) for name in cls.FIELDS}
    values = [_typed(hints[name], i) for i, name in enumerate(cls.FIELDS)]
    by_position = cls(*values)  # type: ignore[call-arg]
    by_keyword = cls(**dict(zip(cls.FIELDS, values, strict=True)))  # type: ignore[arg-type]
    assert by_position.values() == values
    assert by_position.__dict__ == dict(zip(cls.FIELDS, values, strict=True))
    assert [getattr(by_position, name) for name in cls.FIELDS] == values
    assert by_position == by_keyword
    assert (by_position != by_keyword) is False
    changed = list(values)
    changed[0] = _typed(type(values[0]), 99)
    assert by_position != cls(*changed)  # type: ignore[call-arg]
    assert repr(by_position).startswith(f"{cls.__name__}({cls.FIELDS[0]}=")
    assert journal_rows([by_position]) == [(cls.kind, values)]


def test_events_of_different_types_are_never_equal() -> None:
    assert BookChanged("X", "buy", 1, 2, 3) != ("X", "buy", 1, 2, 3)
    assert BookChanged("X", "buy", 1, 2, 3) == BookChanged("X", "buy", 1, 2, 3)


def _built(cls: type[Event]) -> Event:
    """An instance with default-typed fields, to learn each field's type."""
    from exchange_server.domain.exchange import Exchange
    from tests.engine.test_codec import SESSION

    exchange = Exchange()
    for now, command in enumerate(SESSION, start=1):
        for event in exchange.apply(command, now):
            if type(event) is cls:
                return event
    raise AssertionError(f"no {cls.__name__} in the session")


def _typed(kind: type, n: int) -> object:
    if kind is bool:
        return bool(n % 2)
    if issubclass(kind, Enum):
        return list(kind)[n % len(kind)]
    if issubclass(kind, str):
        return f"s{n}"
    return 1000 + n


@pytest.mark.parametrize("cls", COMMAND_TYPES.values(), ids=list(COMMAND_TYPES))
def test_commands_list_their_fields_and_types_in_order(cls: type[Command]) -> None:
    # (Compiled, a signature with enum defaults is not introspectable and shows as empty;
    # building by position and by keyword below checks the order then.)
    assert tuple(inspect.signature(cls).parameters) in (cls.FIELDS, ())
    assert len(cls.TYPES) == len(cls.FIELDS)
    values = [_typed(kind, i) for i, kind in enumerate(cls.TYPES)]
    by_position = cls(*values)
    by_keyword = cls(**dict(zip(cls.FIELDS, values, strict=True)))
    assert by_position.values() == values
    assert [getattr(by_position, name) for name in cls.FIELDS] == values
    assert by_position.__dict__ == dict(zip(cls.FIELDS, values, strict=True))
    assert by_position == by_keyword
    assert repr(by_position).startswith(f"{cls.__name__}(")


def test_commands_hold_any_value_until_checked() -> None:
    order = PlaceOrder("1", ["ACME"], "long", 1.5, price=None)  # type: ignore[arg-type]
    assert (order.account, order.symbol, order.side, order.quantity, order.price) == (
        "1",
        ["ACME"],
        "long",
        1.5,
        None,
    )
    order.quantity = 2
    assert order.quantity == 2


def test_commands_and_events_may_be_subclassed_in_python() -> None:
    class Ping(Command):
        kind = "ping"

    class Pinged(Event):
        kind = "pinged"

    assert Ping().kind == "ping" and Ping().values() == []
    assert Pinged() == Pinged()
