"""Field types of incoming commands, checked before any rule runs.

Commands arrive from outside (the API, the journal, scripts) and their fields could hold
anything. Here each field is checked against its declared type (``TYPES``): integers must
be real ``int`` (not ``bool``, not ``float``), strings ``str``, and enum fields a valid
value, which is converted to the enum member in place. A wrong field refuses the command with
the reason that belongs to that field, so a fractional quantity is ``invalid_quantity`` just
as a negative one is. Past this point the rules (and the compiled engine, which enforces its
annotations) only ever see well-typed values.
"""

from __future__ import annotations

from typing import Any, Final, NoReturn

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
MAX_TEXT: Final = 200  # longest free-text field (names, references, reasons)

# Each command type's field types, in ``FIELDS`` order.
_TYPES: Final[dict[type[Command], tuple[type, ...]]] = {
    cls: cls.TYPES for cls in COMMAND_TYPES.values()
}


def check_command(command: Command) -> None:
    """Refuse a command with a malformed field; normalise enum fields to their members."""
    types = _TYPES.get(type(command))
    if types is None:
        raise Rejected(Reject.UNKNOWN_COMMAND, type(command).__name__)
    values = command.values()
    for i in range(len(values)):
        value = values[i]
        expected = types[i]
        well_typed = type(value) is expected  # (no narrowing: value stays Any)
        if well_typed:
            if expected is str and len(value) > MAX_TEXT:
                _refuse(command, i, f"text of at most {MAX_TEXT} characters")
        else:
            _convert(command, i, value, expected)


def _convert(command: Command, i: int, value: Any, expected: type) -> None:
    """A field not of its declared type: an enum given as its value becomes the member;
    anything else refuses the command."""
    if expected is int:
        _refuse(command, i, "an integer")
    if expected is str:
        _refuse(command, i, f"text of at most {MAX_TEXT} characters")
    if expected is bool:
        _refuse(command, i, "true or false")
    try:
        member = expected(value)
    except (ValueError, TypeError):
        allowed = ", ".join(str(option.value) for option in expected)  # type: ignore[attr-defined]
        _refuse(command, i, f"one of: {allowed}")
    setattr(command, command.FIELDS[i], member)


def _refuse(command: Command, i: int, what: str) -> NoReturn:
    name = command.FIELDS[i]
    raise Rejected(FIELD_REASONS.get(name, Reject.INVALID_INSTRUMENT), f"{name} must be {what}")
