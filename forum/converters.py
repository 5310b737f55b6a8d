"""URL converters shared by every blueprint."""

from __future__ import annotations

from werkzeug.routing import IntegerConverter, Map

# Row ids are INTEGER columns: PostgreSQL's integer is 32-bit, and SQLite refuses anything
# past 64 bits with an OverflowError. A larger number in a URL names no row.
ID_MAX = 2**31 - 1


class IdConverter(IntegerConverter):
    """``<int:...>``: a row id. A number no row can have does not match the rule, so the
    request is a 404 page rather than a database error."""

    def __init__(
        self,
        map: Map,
        fixed_digits: int = 0,
        min: int | None = None,  # noqa: A002
        max: int | None = ID_MAX,
        signed: bool = False,
    ) -> None:  # noqa: A002
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def parse_id(raw) -> int:
    """A row id sent in a form field or query parameter. ValueError when it is not a whole
    number a row can have (so callers answer 400 or "not found", not a database error)."""
    value = int(raw)
    if not 0 < value <= ID_MAX:
        raise ValueError(f"not a row id: {value}")
    return value
