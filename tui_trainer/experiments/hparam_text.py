"""Hyperparameters as text, the way they are typed and shown in the app: one writer, one reader.

Alone in its field (the config pane), a value is written as it is typed: ``0.01``, ``0.9, 0.999``,
``true``. Among others (a lab's ``name=value`` field, a caption), a pair goes in parentheses so
that it reads as one value: ``betas=(0.9, 0.999) amsgrad=false``. The reader takes either form
back and reads a value by its hyperparameter's kind (``HParam.kind``); whether the value is in its
range stays the optimizer's own check (``HParam.check``), whose messages name the range.

Textual-free: the config pane, the lab screens and the inspector use it alike.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from ..engine import optimizers
from ..engine.optimizers import OPTIMIZERS

__all__ = [
    "UnreadableText",
    "hparam_text",
    "hparams_hint",
    "hparams_text",
    "parse_hparam",
    "parse_hparams",
    "parse_number",
    "parse_positive",
]

BETAS_EXAMPLE = "0.9, 0.999"


class UnreadableText(ValueError):
    """Text that cannot even be read as the kind of value asked for (letters where a number goes)."""


def hparam_text(value: Any, *, enclosed: bool = False) -> str:
    """``value`` as it is typed: ``0.01``, ``1e-08``, ``true``, ``0.9, 0.999``; ``enclosed``
    puts a pair in parentheses, for a value written among others."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (tuple, list)):
        text = ", ".join(hparam_text(v) for v in value)
        return f"({text})" if enclosed else text
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def hparams_text(hparams: Mapping[str, Any]) -> str:
    """Several hyperparameters on one line, as a lab field takes them: ``momentum=0.9 nesterov=false``."""
    return " ".join(f"{name}={hparam_text(value, enclosed=True)}" for name, value in hparams.items())


def hparams_hint(name: str) -> str:
    """Optimizer ``name``'s hyperparameters other than the learning rate, at their defaults
    (``momentum=0.9 nesterov=false``); empty when it has none."""
    return hparams_text({spec.name: spec.default for spec in OPTIMIZERS[name].hparam_specs if spec.name != "lr"})


def parse_hparam(text: str, kind: str = "float") -> Any:
    """A value of ``kind`` (``HParam.kind``: ``float``, ``bool`` or ``betas``) from its text, or
    :class:`UnreadableText` saying what to type."""
    if kind == "bool":
        word = text.strip().lower()
        if word not in ("true", "false"):
            raise UnreadableText(f"{_quoted(text)} is not true or false" if word else "needs true or false")
        return word == "true"
    if kind == "betas":
        parts = text.strip().removeprefix("(").removesuffix(")").replace(",", " ").split()
        if len(parts) != 2:
            raise UnreadableText(f"two numbers, e.g. {BETAS_EXAMPLE}")
        return (parse_number(parts[0]), parse_number(parts[1]))
    return parse_number(text)


_WORD = r"[^=\s(),]+"
_PAIR = re.compile(  # name=value: a value in parentheses, or one or two words (a second that is no name=)
    rf"\s*([A-Za-z_]\w*)\s*=\s*(\([^()=]*\)|{_WORD}(?:\s*,\s*{_WORD}(?![^=\s(),]|\s*=))?)\s*,?"
)


def parse_hparams(name: str, text: str) -> dict[str, Any]:
    """``momentum=0.8 nesterov=true`` -> the values for optimizer ``name``, checked by the
    optimizer itself; ``ValueError`` saying what is wrong. The learning rate has its own field."""
    specs = {spec.name: spec for spec in OPTIMIZERS[name].hparam_specs}
    text = text.strip()
    hparams: dict[str, Any] = {}
    pos = 0
    while pos < len(text):
        match = _PAIR.match(text, pos)
        if match is None or match.end() == pos:
            raise ValueError(f"write hyperparameters as name=value, e.g. {hparams_hint(name) or 'eps=1e-8'}")
        key, raw = match.group(1), match.group(2).strip("()")
        if key == "lr":
            raise ValueError("set the learning rate in the lane's own field")
        if key not in specs:
            raise ValueError(f"{name} has no hyperparameter {key!r}; it has: {', '.join(specs)}")
        hparams[key] = parse_hparam(raw, specs[key].kind)
        pos = match.end()
    optimizers.create(name, **hparams)  # the optimizer's own checks, with the value and the range in the message
    return hparams


def parse_number(text: str, *, whole: bool = False) -> float | int:
    """A number (``whole``: a whole number) typed into a field, or :class:`UnreadableText`:
    ``needs a number``, ``'abc' is not a number``."""
    wanted = "a whole number" if whole else "a number"
    if not text.strip():
        raise UnreadableText(f"needs {wanted}")
    try:
        return int(text.strip()) if whole else float(text.strip())
    except ValueError:
        raise UnreadableText(f"{_quoted(text)} is not {wanted}") from None


def parse_positive(text: str, what: str, *, whole: bool = False) -> float | int:
    """A number > 0 (``whole``: a whole number >= 1) typed into a field, e.g. a learning rate, or
    ``ValueError`` naming ``what`` (``lr must be a number > 0, got 'abc'``)."""
    shown = text.strip()
    wanted = "a whole number >= 1" if whole else "a number > 0"
    try:
        value = int(shown) if whole else float(shown)
    except ValueError:
        raise ValueError(f"{what} must be {wanted}, got {shown!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{what} must be {wanted}, got {shown!r}")
    return value


def _quoted(text: str, limit: int = 10) -> str:
    """``text`` in quotes, shortened so that a message about it fits under its field."""
    text = text.strip()
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")
