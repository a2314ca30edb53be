"""Item barcodes: GTIN-8 (EAN-8), GTIN-12 (UPC-A), GTIN-13 (EAN-13) and GTIN-14,
checked by their GS1 check digit (the last digit)."""

from __future__ import annotations

from domain.errors import InvalidInput

GTIN_LENGTHS = (8, 12, 13, 14)


def gtin_check_digit(body: str) -> int:
    """The check digit of a GTIN's digits without it: from the right, the digits
    weigh 3, 1, 3, 1...; the check digit tops their sum up to a multiple of 10."""
    total = sum(int(d) * (3 if n % 2 == 0 else 1) for n, d in enumerate(reversed(body)))
    return -total % 10


def gtin_problem(code: str) -> str | None:
    """Why `code` is not a GTIN, or None when it is one."""
    if not code.isascii() or not code.isdigit():
        return f"barcode {code!r} must be digits only"
    if len(code) not in GTIN_LENGTHS:
        return f"barcode {code!r} must have 8, 12, 13 or 14 digits (GTIN/EAN/UPC)"
    expected = gtin_check_digit(code[:-1])
    if int(code[-1]) != expected:
        return f"barcode {code!r} has a wrong check digit (expected {expected})"
    return None


def check_barcodes(codes: tuple[str, ...], field: str = "barcodes") -> None:
    """Every barcode a GTIN, none twice (InvalidInput naming `field.<n>`)."""
    seen: set[str] = set()
    for n, code in enumerate(codes):
        problem = gtin_problem(code)
        if problem is None and code in seen:
            problem = f"barcode {code!r} is listed twice"
        if problem is not None:
            raise InvalidInput(problem, field=f"{field}.{n}")
        seen.add(code)
