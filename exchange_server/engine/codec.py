"""Commands and events to and from the bytes stored in the journal (JSON via orjson)."""

from __future__ import annotations

import typing
from dataclasses import fields
from enum import Enum
from typing import Any

import orjson

from exchange_server.domain.commands import COMMAND_TYPES, Command
from exchange_server.domain.events import EVENT_TYPES, Event


class CodecError(ValueError):
    """Stored bytes that do not decode into a known command or event."""


def _enum_fields(cls: type) -> list[tuple[str, type[Enum]]]:
    hints = typing.get_type_hints(cls)
    return [
        (f.name, hints[f.name])
        for f in fields(cls)
        if isinstance(hints[f.name], type) and issubclass(hints[f.name], Enum)
    ]


_COMMAND_ENUMS = {kind: _enum_fields(cls) for kind, cls in COMMAND_TYPES.items()}


def encode_command(command: Command) -> bytes:
    return orjson.dumps(command)


def decode_command(kind: str, data: bytes) -> Command:
    cls = COMMAND_TYPES.get(kind)
    if cls is None:
        raise CodecError(f"unknown command kind {kind!r}")
    try:
        values: dict[str, Any] = orjson.loads(data)
        for name, enum in _COMMAND_ENUMS[kind]:
            if name in values:
                values[name] = enum(values[name])
        return cls(**values)
    except (orjson.JSONDecodeError, TypeError, ValueError) as problem:
        raise CodecError(f"bad {kind} command: {problem}") from None


def encode_events(events: list[Event]) -> bytes:
    return orjson.dumps([(event.kind, event) for event in events])


def decode_events(data: bytes) -> list[Event]:
    try:
        return [EVENT_TYPES[kind](**values) for kind, values in orjson.loads(data)]
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as problem:
        raise CodecError(f"bad event list: {problem}") from None
