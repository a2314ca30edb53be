"""An item import: a CSV body read as it streams in, each row checked by the rules
of `POST /v1/items` (ItemCreate), every bad row collected; nothing is created unless
every row is good (the route inserts them in one transaction)."""

from __future__ import annotations

import codecs
import csv
import hashlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from api.problems import Problem
from api.schemas.catalogue import ItemCreate
from api.schemas.master_data import ImportRowError
from domain.catalogue import ItemSpec
from domain.errors import DomainError

_UOM = ("unit", "base_units_per_unit", "min_increment", "min_cut", "rounding")
# The columns a file may have (in any order); `sku` and `name` are required. An
# empty cell takes the default of POST /v1/items; `barcodes` are separated by `|`.
COLUMNS = (
    "sku",
    "name",
    *_UOM,
    *(name for name in ItemCreate.model_fields if name not in ("sku", "name", "uom", "suppliers")),
)
REQUIRED = ("sku", "name")
MAX_ROWS = 100_000


@dataclass
class Parsed:
    """The good rows' items (by line number) and every bad row's problems."""

    items: list[tuple[int, ItemSpec]] = field(default_factory=list)
    errors: list[ImportRowError] = field(default_factory=list)
    digest: str = ""

    def bad(self, row: int, column: str, message: str) -> None:
        self.errors.append(ImportRowError(row=row, field=column, message=message))


def _column(path: str) -> str:
    """The column a field of ItemCreate comes from (`uom.min_increment` ->
    `min_increment`, `barcodes.1` -> `barcodes`)."""
    parts = path.split(".")
    return parts[1] if parts[0] == "uom" and len(parts) > 1 else parts[0]


def _body(header: list[str], cells: list[str]) -> dict[str, Any]:
    """A row as the JSON body of POST /v1/items (empty cells left out)."""
    body: dict[str, Any] = {}
    for name, cell in zip(header, cells, strict=True):
        value = cell.strip()
        if not value:
            continue
        if name in _UOM:
            body.setdefault("uom", {})[name] = value
        elif name == "barcodes":
            body[name] = [code.strip() for code in value.split("|") if code.strip()]
        else:
            body[name] = value
    return body


def check_header(header: list[str]) -> None:
    names = [name.strip() for name in header]
    unknown = [name for name in names if name not in COLUMNS]
    twice = sorted({name for name in names if names.count(name) > 1})
    missing = [name for name in REQUIRED if name not in names]
    for wrong, why in ((unknown, "unknown"), (twice, "repeated"), (missing, "missing")):
        if wrong:
            raise Problem(
                422,
                "invalid-header",
                f"the header has {why} column(s): {', '.join(wrong)} (columns: "
                f"{', '.join(COLUMNS)}; sku and name are required)",
                field="header",
            )


def _row(parsed: Parsed, row: int, header: list[str], cells: list[str]) -> None:
    if len(cells) != len(header):
        parsed.bad(row, "row", f"{len(cells)} cells where the header has {len(header)}")
        return
    try:
        parsed.items.append((row, ItemCreate.model_validate(_body(header, cells)).to_domain()))
    except ValidationError as error:
        for e in error.errors():
            where = ".".join(str(part) for part in e["loc"])
            parsed.bad(row, _column(where), e["msg"])
    except DomainError as error:
        parsed.bad(row, _column(error.field or "row"), error.detail)


class _Records:
    """Splits text into CSV records as it arrives: a record ends at a line break
    outside quotes (an even number of `"` so far), so a quoted cell may hold one."""

    def __init__(self) -> None:
        self._rest = ""
        self._lines: list[str] = []
        self._quotes = 0
        self.line = 0  # line number of the last line read
        self._start = 1

    def feed(self, text: str, final: bool = False) -> Iterator[tuple[int, str]]:
        lines = (self._rest + text).split("\n")
        self._rest = "" if final else lines.pop()
        for line in lines:
            self.line += 1
            if not self._lines:
                self._start = self.line
            self._lines.append(line)
            self._quotes += line.count('"')
            if self._quotes % 2 == 0:
                yield self._start, "\n".join(self._lines)
                self._lines, self._quotes = [], 0

    @property
    def open_quote_at(self) -> int | None:
        return self._start if self._lines else None


async def parse_items(chunks: AsyncIterator[bytes]) -> Parsed:
    """Read and check a CSV of items as it streams in (UTF-8, a header first)."""
    parsed = Parsed()
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    records = _Records()
    header: list[str] | None = None

    def take(text: str, final: bool = False) -> None:
        nonlocal header
        for row, record in records.feed(text, final):
            if not record.strip():
                continue
            cells = next(csv.reader([record]))
            if header is None:
                check_header(cells)
                header = [name.strip() for name in cells]
            elif len(parsed.items) + len(parsed.errors) >= MAX_ROWS:
                raise Problem(422, "too-many-rows", f"at most {MAX_ROWS} rows", field="body")
            else:
                _row(parsed, row, header, cells)

    try:
        async for chunk in chunks:
            digest.update(chunk)
            take(decoder.decode(chunk))
        take(decoder.decode(b"", final=True), final=True)
    except UnicodeDecodeError as error:
        raise Problem(
            422, "invalid-input", f"the file is not UTF-8: {error}", field="body"
        ) from error
    except csv.Error as error:
        raise Problem(422, "invalid-input", f"not CSV: {error}", field="body") from error
    if records.open_quote_at is not None:
        parsed.bad(records.open_quote_at, "row", "a quoted cell is not closed")
    if header is None:
        raise Problem(422, "invalid-header", "the file is empty: no header", field="header")
    parsed.digest = digest.hexdigest()
    _cross_check(parsed)
    return parsed


def _cross_check(parsed: Parsed) -> None:
    """A SKU or a barcode on two rows: the later row is bad."""
    skus: dict[str, int] = {}
    codes: dict[str, int] = {}
    for row, spec in parsed.items:
        if spec.sku in skus:
            parsed.bad(row, "sku", f"sku {spec.sku!r} is also on row {skus[spec.sku]}")
        skus.setdefault(spec.sku, row)
        for code in spec.barcodes:
            if code in codes and codes[code] != row:
                parsed.bad(row, "barcodes", f"barcode {code!r} is also on row {codes[code]}")
            codes.setdefault(code, row)


def refuse(errors: list[ImportRowError]) -> Problem:
    """422 listing every bad row (sorted by row); nothing was created."""
    errors = sorted(errors, key=lambda e: e.row)
    rows = sorted({e.row for e in errors})
    shown = ", ".join(str(r) for r in rows[:20]) + (" …" if len(rows) > 20 else "")
    return Problem(
        422,
        "invalid-rows",
        f"{len(rows)} bad row(s), nothing imported: rows {shown}",
        field="body",
        extensions={"rows": [e.model_dump() for e in errors]},
    )
