"""Values quoted in messages as they would be written in TOML, cut short when long."""

from __future__ import annotations

import json
from typing import Any

MAX_SHOWN_CHARS = 80
"""Longest value a message quotes; longer ones are cut short."""


def show(value: Any) -> str:
    """``value`` as it would be written in TOML, so messages quote what the user wrote; a long
    one is cut short (with its length), so a message stays a line."""
    text = toml_text(value)
    if len(text) <= MAX_SHOWN_CHARS:
        return text
    size = f" ({len(value):,} items)" if isinstance(value, (list, tuple, dict)) else ""
    return text[: MAX_SHOWN_CHARS - 3] + "..." + size


def toml_text(value: Any) -> str:
    if isinstance(value, (list, tuple)) and len(value) > MAX_SHOWN_CHARS:
        value = value[:MAX_SHOWN_CHARS]  # enough to fill the line; no need to write them all
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(show(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {show(v)}" for k, v in value.items()) + "}"
    return str(value)
