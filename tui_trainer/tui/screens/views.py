"""Extra views opened from the main screen by one key each (optimizer lab, inside the network).

Each module that provides a view adds a ``View`` to ``VIEWS``; the main screen turns every entry
into a key binding, a command-palette command and a line of the help screen. A view screen that
defines ``show_snapshot(snapshot)`` receives every training snapshot while it is open.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from textual.screen import Screen

if TYPE_CHECKING:
    from .main import MainScreen


@dataclass(frozen=True)
class View:
    """A screen reachable from the main screen."""

    key: str
    """Textual key name, e.g. ``o``."""
    name: str
    """Identifier used in the action, e.g. ``race``."""
    description: str
    """Short label for the footer and palette."""
    help: str
    """One line for the help screen and the palette."""
    factory: Callable[["MainScreen"], Screen]
    """Builds the screen; gets the main screen (and so its session)."""


VIEWS: list[View] = []
"""Every view, in the order its key appears in the help."""


def register(view: View) -> View:
    """Add a view (called at import time by the module that defines it)."""
    if any(v.key == view.key or v.name == view.name for v in VIEWS):
        raise ValueError(f"a view already uses key {view.key!r} or name {view.name!r}")
    VIEWS.append(view)
    return view


def load_views() -> list[View]:
    """Import the modules that register views, then return them all."""
    from . import inside, lab  # noqa: F401  (each registers its views)

    return VIEWS
