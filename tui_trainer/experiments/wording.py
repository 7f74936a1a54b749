"""Counted nouns for what the app and the CLI print, so that one feature is never "1 features"."""

from __future__ import annotations


def plural(n: int, word: str, many: str | None = None) -> str:
    """``"1 sample"``, ``"3 samples"``; ``many`` for irregular plurals (``plural(2, "class", "classes")``)."""
    return f"{n} {word}" if n == 1 else f"{n} {many or word + 's'}"
