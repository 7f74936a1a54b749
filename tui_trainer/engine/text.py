"""Text from outside (files, the run store, the command line) made safe to show on a terminal.

One sanitizer for every output, CLI and app alike: a name, a header, a label or a value that came
from outside is data, never terminal control. Every character that is not printable (C0 and C1
control characters, DEL, escape sequences' ESC, bidi and other format characters, line and
paragraph separators, unassigned or private code points, lone surrogates) is shown as a visible
escape, as Python's ``repr`` writes it (``\\x1b``, ``\\n``, ``\\u202e``), so that nothing reaches the
terminal raw and a newline in a name cannot forge a line of a table.
"""

from __future__ import annotations

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(char: str) -> str:
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def visible(text: object, limit: int | None = None) -> str:
    """``text`` (``str()`` of it) with every unprintable character written as a visible escape;
    cut to ``limit`` characters (an ellipsis last) when given. A space stays a space."""
    text = text if isinstance(text, str) else str(text)
    if not text.isprintable():
        text = "".join(c if c.isprintable() else _escape(c) for c in text)
    if limit is not None and len(text) > limit:
        text = text[: max(0, limit - 1)] + "…"
    return text


def visible_lines(text: object) -> str:
    """``visible`` line by line: the message's own line breaks (``\\n``) kept, all else escaped."""
    return "\n".join(visible(line) for line in str(text).split("\n"))
