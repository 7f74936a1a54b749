"""Key bindings, written once: the footer, the command palette and the help take them from here.

A screen's ``BINDINGS`` are Textual ``Binding``s made by :func:`key`. A binding with help text
(its ``tooltip``) is also a command in the palette, titled ``"<title> (<key>)"``; the title is the
footer's description unless a longer one is given. Bindings without help text (tab, arrows, the
digits of the lane lists) are keys only.
"""

from __future__ import annotations

from typing import Iterator, NamedTuple

from textual.binding import Binding
from textual.screen import Screen


class PaletteEntry(NamedTuple):
    """One palette command of a screen."""

    key: str
    """The key as the palette shows it, e.g. ``space``, ``+``, ``ctrl+s``."""
    action: str
    title: str
    help: str


PALETTE_ACTIONS = {"back": "leave"}
"""Actions that run another one from the palette: escape's ``back`` leaves a lab screen's field
first, but Back chosen in the palette leaves the screen even while a field has focus."""


def key(keys: str, action: str, description: str = "", *, title: str = "", help: str = "",
        show: bool = True, key_display: str | None = None, priority: bool = False) -> Binding:
    """A binding; with ``help`` also a palette command, titled ``title`` (``description`` when
    none). The help (after the title's line when one is given) is the binding's tooltip."""
    tooltip = f"{title}\n{help}" if help and title and title != description else help
    return Binding(keys, action, description, show=show, key_display=key_display, priority=priority,
                   tooltip=tooltip)


def palette_entry(binding: Binding) -> PaletteEntry | None:
    """The palette command a binding stands for; None for a key without help text."""
    if not binding.tooltip:
        return None
    title, newline, help_text = binding.tooltip.partition("\n")
    if not newline:
        title, help_text = binding.description, binding.tooltip
    shown = binding.key_display or binding.key.split(",")[0].strip()
    return PaletteEntry(shown, PALETTE_ACTIONS.get(binding.action, binding.action), title, help_text)


def screen_bindings(screen: object) -> list[Binding]:
    """The bindings of a screen (an instance or its class), its own over those it inherits, in the
    order they are written (a key a subclass binds again moves to the subclass's place)."""
    cls = screen if isinstance(screen, type) else type(screen)
    merged: dict[str, Binding] = {}
    for base in reversed(cls.__mro__):
        if not base.__dict__.get("_inherit_bindings", True):  # Textual's inherit_bindings=False
            merged.clear()
        for binding in base.__dict__.get("BINDINGS", ()):
            if isinstance(binding, Binding):
                merged.pop(binding.key, None)
                merged[binding.key] = binding
    return list(merged.values())


def palette_entries(screen: object) -> Iterator[PaletteEntry]:
    """Every palette command of a screen (an instance or its class): its bindings with help text,
    one per action, then its ``PALETTE_EXTRA`` (commands that are no key of the screen's own)."""
    seen: set[str] = set()
    for binding in screen_bindings(screen):
        entry = palette_entry(binding)
        if entry is not None and entry.action not in seen:
            seen.add(entry.action)
            yield entry
    for extra in getattr(screen, "PALETTE_EXTRA", ()):
        yield PaletteEntry(*extra)


def key_names(screen: object, *actions: str) -> list[str]:
    """How the keys of ``actions`` are shown (each action's first binding on ``screen``, an
    instance or its class), for the help: ``key_names(MainScreen, "lr_up", "lr_down") == ["+", "-"]``."""
    bindings = screen_bindings(screen)
    names = []
    for action in actions:
        binding = next((b for b in bindings if b.action == action), None)
        if binding is None:
            raise LookupError(f"{getattr(screen, '__name__', type(screen).__name__)} binds no key to {action!r}")
        names.append(binding.key_display or binding.key.split(",")[0].strip())
    return names


HELP_KEY = key("question_mark", "help", "Help", key_display="?")
"""? on every screen: the footer keeps it at every width, and quit (``q`` on the main screen, the app's
``ctrl+q`` on the others, where ``q`` goes back)."""


class HelpKey:
    """``HELP_KEY``'s action on a screen other than the main one (a view, a lab screen, the runs)."""

    def action_help(self) -> None:
        """The app's help, over this screen."""
        self.app.action_help()


KEY_NAMES = {"escape": "esc", "question_mark": "?", "plus": "+", "equals_sign": "=", "minus": "-"}
"""Short names of keys, for a help table whose key column must not wrap at 80 columns."""


def keys_markdown(screen: type) -> str:
    """A table of ``screen``'s keys: each binding with its help (or its footer label); Textual's own
    (tab moves the focus) left out."""
    lines = ["| key | what it does |", "|---|---|"]
    textuals = {binding.key for binding in screen_bindings(Screen)}
    for binding in screen_bindings(screen):
        if binding.key in textuals:
            continue
        entry = palette_entry(binding)
        keys = binding.key_display or "/".join(KEY_NAMES.get(k.strip(), k.strip()) for k in binding.key.split(","))
        lines.append(f"| `{keys}` | {entry.help if entry else binding.description} |")
    lines += [f"| `{keys}` | {text} |" for keys, text in getattr(screen, "HELP_ROWS", ())]
    return "\n".join(lines) + "\n"
