"""One weight's last update written out with its numbers: what every optimizer's ``explain`` returns.

An optimizer writes its own explanation (its ``_explain``, next to its ``_update``) on a :class:`Worked`:
the weight and its gradient before the update, the optimizer's state for it after the update, and the
lines written so far. The numbers are computed from those copies with the update's own operations in its
own order, so the last line's result is the value ``step`` wrote, not an approximation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..numbers import significant

__all__ = ["UpdateExplanation", "Worked", "format_number", "paren", "f", "fp"]


format_number = significant
"""A number for an explanation: ``digits`` significant digits (``numbers.significant``)."""


def paren(text: str) -> str:
    """Wrap a negative number in parentheses where it follows an operator."""
    return f"({text})" if text.startswith("-") else text


f = significant
"""Short name for the dense lines of an explanation."""


def fp(value: float, digits: int = 4) -> str:
    """``significant``, in parentheses when negative (for a number after an operator)."""
    return paren(significant(value, digits))


@dataclass
class UpdateExplanation:
    """An optimizer's last update of one weight, with every number plugged in."""

    optimizer: str
    rule: str
    """The optimizer's update rule in symbols, for the settings it ran with."""
    lines: list[str]
    """The computation, one step per line; the last line ends with the new weight."""
    w_before: float
    grad: float
    new_value: float
    """The weight after the update, computed as the optimizer computes it."""
    state: dict[str, float] = field(default_factory=dict)
    """The optimizer's state for this weight after the update (e.g. ``m``, ``v``)."""

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@dataclass
class Worked:
    """One weight's last update while an optimizer writes it out."""

    hp: dict[str, Any]
    """The hyperparameters the update ran with."""
    t: int
    """The update's number (1 for the first)."""
    state: dict[str, np.ndarray]
    """The optimizer's state arrays for this parameter, after the update."""
    index: tuple[int, ...]
    """The weight's position in its parameter array."""
    w_arr: np.ndarray
    """The whole parameter array before the update (float64)."""
    g_arr: np.ndarray
    """The gradient the update used (float64)."""
    lines: list[str] = field(default_factory=list)

    @property
    def w(self) -> float:
        """The weight before the update."""
        return float(self.w_arr[self.index])

    @property
    def g(self) -> float:
        """Its gradient."""
        return float(self.g_arr[self.index])

    def value(self, name: str) -> float:
        """State ``name`` of this weight after the update."""
        return float(self.state[name][self.index])

    def add(self, line: str) -> None:
        """Write one more line."""
        self.lines.append(line)
