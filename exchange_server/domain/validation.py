"""Field types of incoming commands, checked before any rule runs.

Commands arrive from outside (the API, the journal, scripts) as plain dataclasses whose
fields could hold anything. Here each field is checked against its annotation: integers must
be real ``int`` (not ``bool``, not ``float``), strings ``str``, and enum fields a valid
value, which is converted to the enum member in place. A wrong field refuses the command with
the reason that belongs to that field, so a fractional quantity is ``invalid_quantity`` just
as a negative one is. Past this point the rules (and the compiled engine, which enforces its
annotations) only ever see well-typed values.
"""

from __future__ import annotations

import typing
from dataclasses import fields
from enum import Enum

from exchange_server.domain.commands import COMMAND_TYPES, Command
from exchange_server.domain.rejections import Reject, Rejected

# The refusal for a malformed field, by field name.
FIELD_REASONS: dict[str, Reject] = {
    "account": Reject.UNKNOWN_ACCOUNT,
    "symbol": Reject.UNKNOWN_INSTRUMENT,
    "asset": Reject.UNKNOWN_ASSET,
    "side": Reject.INVALID_SIDE,
    "order_type": Reject.INVALID_ORDER_TYPE,
    "tif": Reject.INVALID_TIME_IN_FORCE,
    "quantity": Reject.INVALID_QUANTITY,
    "price": Reject.INVALID_PRICE,
    "trigger_price": Reject.INVALID_TRIGGER,
    "expire_at": Reject.INVALID_EXPIRY,
    "client_order_id": Reject.INVALID_CLIENT_ORDER_ID,
    "post_only": Reject.INVALID_TIME_IN_FORCE,
    "order_id": Reject.UNKNOWN_ORDER,
    "amount": Reject.INVALID_AMOUNT,
    "reference": Reject.INVALID_AMOUNT,
    "maker_ppm": Reject.INVALID_FEES,
    "taker_ppm": Reject.INVALID_FEES,
    "status": Reject.INVALID_STATUS,
    "reason": Reject.INVALID_STATUS,
    "self_trade_prevention": Reject.INVALID_SELF_TRADE_PREVENTION,
    "mode": Reject.INVALID_SELF_TRADE_PREVENTION,
}
MAX_TEXT = 200  # longest free-text field (names, references, reasons)

_FieldSpec = tuple[str, type, Reject]


def _specs(cls: type[Command]) -> list[_FieldSpec]:
    hints = typing.get_type_hints(cls)
    return [
        (f.name, hints[f.name], FIELD_REASONS.get(f.name, Reject.INVALID_INSTRUMENT))
        for f in fields(cls)
    ]


_SPECS: dict[type[Command], list[_FieldSpec]] = {cls: _specs(cls) for cls in COMMAND_TYPES.values()}


def check_command(command: Command) -> None:
    """Refuse a command with a malformed field; normalise enum fields to their members."""
    specs = _SPECS.get(type(command))
    if specs is None:
        raise Rejected(Reject.UNKNOWN_COMMAND, type(command).__name__)
    for name, expected, reason in specs:
        value = getattr(command, name)
        if expected is int:
            if type(value) is not int:
                raise Rejected(reason, f"{name} must be an integer")
        elif expected is str:
            if type(value) is not str or len(value) > MAX_TEXT:
                raise Rejected(reason, f"{name} must be text of at most {MAX_TEXT} characters")
        elif expected is bool:
            if type(value) is not bool:
                raise Rejected(reason, f"{name} must be true or false")
        elif issubclass(expected, Enum) and type(value) is not expected:
            try:
                setattr(command, name, expected(value))
            except (ValueError, TypeError):
                allowed = ", ".join(str(member.value) for member in expected)
                raise Rejected(reason, f"{name} must be one of: {allowed}") from None
