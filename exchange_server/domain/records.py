"""The base of commands and events: a record of named fields.

Commands and events are hand-written classes rather than dataclasses, so that mypyc compiles
them as native classes (see ``native_build``): the compiled engine reads their fields
directly and builds several events per command, where an interpreted dataclass costs a
dictionary lookup per field read and hundreds of nanoseconds per construction. (mypyc's own
dataclass support does not accept the ``kind`` class variable.)

They behave like the dataclasses they replace: built by position or by keyword, equal when of
the same type with equal fields, a field-by-field ``repr``. Each lists its fields in
``FIELDS`` (declaration order) and returns their values in that order from ``values()``,
which is what the journal stores; ``__dict__`` is the fields by name.
"""

from __future__ import annotations

from typing import Any, ClassVar

from exchange_server.domain.mypyc_compat import mypyc_attr


# Subclasses of commands and events may be written in Python too (mypyc forbids that
# unless asked; only calls through the base types pay for it, and only a little).
@mypyc_attr(allow_interpreted_subclasses=True)
class Record:
    __slots__ = ()
    kind: ClassVar[str] = ""
    FIELDS: ClassVar[tuple[str, ...]] = ()

    def values(self) -> list[Any]:
        """The field values in ``FIELDS`` order."""
        return []

    @property
    def __dict__(self) -> dict[str, Any]:  # type: ignore[override]
        names = self.FIELDS
        values = self.values()
        return {names[i]: values[i] for i in range(len(names))}

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, Record)
        return self.values() == other.values()

    def __ne__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, Record)
        return self.values() != other.values()

    def __repr__(self) -> str:
        shown = ", ".join(f"{n}={v!r}" for n, v in zip(self.FIELDS, self.values(), strict=True))
        return f"{type(self).__name__}({shown})"
