"""Numbers as text: every figure nn-tui shows, in the app, the command line and messages.

Pure Python, so the engine (explanations, error messages) and everything above it use the same
functions. Pick by purpose:

- :func:`significant`: ``digits`` significant digits as Python's ``g`` writes them (``1e-05``):
  explanations, weights, data tables, learning-rate fields.
- :func:`compact`: the same with a narrow exponent (``1e-5``): chart labels and titles.
- :func:`figure`: a table or readout cell that may have no number yet (None, or non-finite):
  a dash then.
- :func:`fixed`: a fixed number of decimals (command-line tables).
- :func:`readout`: four decimals where they say something, else four significant digits (a value
  under a cursor).
- :func:`tick_label` and :func:`abbreviated`: axis ticks (``0.25``, ``12.5k``).
- :func:`byte_size`: ``1.5 MiB``.
"""

from __future__ import annotations

import math

__all__ = [
    "DASH",
    "abbreviated",
    "byte_size",
    "compact",
    "figure",
    "finite_or_none",
    "fixed",
    "readout",
    "short_exponent",
    "significant",
    "tick_label",
]

DASH = "–"
"""What a table shows where it has no number (an en dash)."""


def finite_or_none(value: float | None) -> float | None:
    """None for a missing or non-finite number (NaN and infinity count as no result)."""
    return value if value is not None and math.isfinite(value) else None


def significant(value: float, digits: int = 4) -> str:
    """``value`` to ``digits`` significant digits as Python's ``g`` writes them: ``0.001235``,
    ``1e-05``, ``1.235e+08``; ``-0`` is written ``0``, NaN and infinity ``nan``, ``inf``, ``-inf``."""
    text = f"{float(value):.{digits}g}"
    return "0" if text == "-0" else text


def short_exponent(text: str) -> str:
    """A number's text with its exponent narrowed: ``1e-05`` -> ``1e-5``, ``2.5e+06`` -> ``2.5e6``."""
    if "e" not in text:
        return text
    mantissa, exponent = text.split("e")
    return f"{mantissa}e{int(exponent)}"


def compact(value: float, digits: int = 4) -> str:
    """:func:`significant` with a narrow exponent (``1e-5``, ``2.5e6``): for labels and titles."""
    return short_exponent(significant(value, digits))


def figure(value: float | None, digits: int = 4, *, short: bool = True, missing: str = DASH) -> str:
    """A number for a table or readout that may have none yet: ``missing`` for None, NaN or
    infinity, else :func:`compact` (``short``) or :func:`significant`."""
    value = finite_or_none(value)
    if value is None:
        return missing
    return compact(value, digits) if short else significant(value, digits)


def fixed(value: float | None, places: int = 4, *, missing: str = DASH) -> str:
    """``value`` with ``places`` decimals (``0.6931``; a whole count with 0), ``missing`` for None."""
    return missing if value is None else f"{value:.{places}f}"


def readout(value: float, places: int = 4) -> str:
    """``places`` decimals where they are meaningful (0, and sizes from 0.001 to 100,000:
    ``0.1234``, ``-12.5000``), else ``places`` significant digits (``1.235e-05``)."""
    value = float(value)
    if not math.isfinite(value):
        return str(value)
    if value == 0 or 1e-3 <= abs(value) < 1e5:
        return f"{value:.{places}f}"
    return f"{value:.{places}g}"


def tick_label(value: float, step: float) -> str:
    """A short label for a linear axis tick: enough digits to tell ticks ``step`` apart, no more
    (``0.25``, ``0.5``, ``1``; ``2e-5``, ``3e6`` outside 0.001 to 100,000)."""
    if value == 0:
        return "0"
    magnitude = abs(value)
    if 1e-3 <= magnitude < 1e5 and step >= 1e-4:
        exponent = math.floor(math.log10(step) + 1e-9)
        two_and_a_half = abs(step / 10.0**exponent - 2.5) < 1e-6  # 0.25 steps need one more digit than 0.2 steps
        text = f"{value:.{max(0, -exponent + two_and_a_half)}f}"
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return text
    digits = max(1, math.floor(math.log10(magnitude)) - math.floor(math.log10(step) + 1e-9) + 2)
    return short_exponent(f"{value:.{min(digits, 4)}g}")


def abbreviated(value: float) -> str:
    """A count with a k, M or G suffix, to three decimals of it: ``500``, ``12.5k``, ``1.5M``."""
    magnitude = abs(value)
    for divisor, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if magnitude >= divisor:
            return f"{round(value / divisor, 3):g}{suffix}"
    return f"{round(value, 3):g}"


def byte_size(n: float, *, estimate: bool = False) -> str:
    """A size in binary units: ``256 MiB`` (an exact multiple), ``1.5 MiB``, ``1,024.0 TiB``,
    ``100 bytes``. ``estimate`` writes one decimal even for a whole number (``8.0 GiB``), as for a
    size worked out rather than counted."""
    for unit, scale in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            if n % scale == 0 and not estimate:
                return f"{int(n // scale):,} {unit}"
            return f"{n / scale:,.1f} {unit}"
    return f"{int(n)} bytes"
