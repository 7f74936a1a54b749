"""Colours that tell the optimizer lab's lanes apart, on any terminal.

They are the exact RGB triplets of the 16 standard terminal colours: shown as they are in truecolor, and mapped
back exactly onto the standard palette on a 16-colour terminal (``TERM=xterm``). Rich's ANSI colour *numbers*
would not do: Textual maps them through its theme, where red, magenta and their bright versions are one pink.
"""

from __future__ import annotations

__all__ = ["RGB", "rgb", "RED", "YELLOW", "ORANGE", "GREEN", "CYAN", "MAGENTA", "BLUE", "WHITE", "GREY", "DARK_GREY"]

RGB = tuple[int, int, int]

RED: RGB = (255, 85, 85)
YELLOW: RGB = (255, 255, 85)
ORANGE: RGB = (170, 85, 0)
"""The standard "yellow", brown or orange on most terminals."""
GREEN: RGB = (85, 255, 85)
CYAN: RGB = (85, 255, 255)
MAGENTA: RGB = (255, 85, 255)
BLUE: RGB = (85, 85, 255)
WHITE: RGB = (255, 255, 255)
GREY: RGB = (170, 170, 170)
DARK_GREY: RGB = (85, 85, 85)


def rgb(color: RGB) -> str:
    """The Rich style text of a colour, e.g. ``rgb(255,85,85)``."""
    r, g, b = color
    return f"rgb({r},{g},{b})"
