"""The footer: Textual's look, drawn as one line of text.

Textual's footer builds all its keys afresh (new widgets, mounted and styled) each time the screen
says its bindings changed, and the screen says so twice for every focus change: with the main
screen's ~18 keys that cost 60-70 ms of CPU per focus move. Kept as widgets and updated in place,
every change of a key's width or of the keys' number still laid the whole screen out again
(10-25 ms at 120x36 while training, most of a Down in the config pane). This footer draws its keys
itself: a change repaints one line. It updates once per change of focus, not at all when the keys
shown are the same. A click on a key presses it, as in Textual's (grouped keys are shown one by one:
the app has none).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from rich.style import Style
from rich.text import Text
from textual import events
from textual.keys import KEY_NAME_REPLACEMENTS, key_to_character
from textual.widgets import Footer

if TYPE_CHECKING:
    from textual.screen import Screen


KEPT = ("help", "quit")
"""Shown at every width."""
DROPPED_FIRST = ("single_step", "reset", "lr_down", "lr_up")
"""Left out first where the width is short (80 columns): in this order, each still in help and the palette."""
PALETTE_WIDTH = 12
"""The palette key at the right end, ``▏^p palette`` and its margin."""
PALETTE_SEPARATOR = "\u258f"
"""The bar left of the palette key (Textual's ``vkey`` border)."""


def _width(key) -> int:
    """Columns a footer key takes: `` key description ``."""
    return len(key.key_display) + len(key.description) + 3


def _typed_by(focused):
    """Whether a key types into ``focused`` (a text field) rather than reaching its binding: the
    footer leaves such keys out. Textual's own check misses the keys it names ``plus`` and ``minus``."""
    if focused is None:
        return lambda key: False

    def typed(key: str) -> bool:
        character = key_to_character(_KEY_NAMES.get(key, key))
        return character is not None and focused.check_consume_key(key, character)

    return typed


_KEY_NAMES = {short: full for full, short in KEY_NAME_REPLACEMENTS.items()}
"""Textual's short key names (``plus``) to the Unicode names it reads characters from (``plus_sign``)."""


class _Key(NamedTuple):
    """One key as the footer shows it."""

    key: str
    key_display: str
    description: str
    action: str
    disabled: bool
    tooltip: str
    classes: str = ""


class KeyFooter(Footer):
    """Textual's footer, cheap to update: its keys are one line of text, repainted."""

    COMPONENT_CLASSES = {"key-footer--key", "key-footer--description", "key-footer--item",
                         "key-footer--hover", "key-footer--separator"}
    DEFAULT_CSS = """
    KeyFooter {
        .key-footer--item { background: $footer-item-background; }
        .key-footer--key { color: $footer-key-foreground; background: $footer-key-background; text-style: bold; }
        .key-footer--description { color: $footer-description-foreground; background: $footer-description-background; }
        .key-footer--hover { background: $block-hover-background; }
        .key-footer--separator { color: $foreground 20%; }
    }
    """

    _update_pending = False
    _shown: list[_Key] | None = None
    """The keys on show (None: not yet)."""
    _spans: list[tuple[int, int, _Key]] = []
    """Where each key is drawn: its first and past-the-last column."""
    _hover: int | None = None
    """The column the mouse is over (None: elsewhere)."""

    def compose(self):
        """No widgets: ``render`` draws the keys."""
        return iter(())

    def bindings_changed(self, screen: Screen) -> None:
        self._bindings_ready = True
        if screen.app.app_focus and self.is_attached and screen is self.screen:
            self._update_soon()

    def on_resize(self) -> None:
        """A new width may hold more keys, or fewer."""
        if self._bindings_ready:
            self._update_soon()

    def _update_soon(self) -> None:
        """Look at the keys once, in the same frame, however many changes come meanwhile."""
        if not self._update_pending:
            self._update_pending = True
            self.call_later(self._update_keys)

    def _update_keys(self) -> None:
        self._update_pending = False
        if not self.is_attached:
            return
        keys = self._keys()
        if keys != self._shown:
            self._shown = keys
            self.refresh()

    def _keys(self) -> list[_Key]:
        """The keys to show now: one per action, the first bound, those that fit."""
        screen = self.screen
        active = screen.active_bindings
        describe = getattr(screen, "footer_description", None)
        typed = _typed_by(screen.focused)
        first: dict[str, _Key] = {}
        for _node, binding, enabled, tooltip in active.values():
            if not binding.show or binding.action in first or typed(binding.key):
                continue
            description = binding.description if describe is None else describe(binding)
            if not description:
                continue
            first[binding.action] = _Key(
                binding.key, self.app.get_key_display(binding), description, binding.action,
                not enabled, tooltip,
            )
        keys = self._fitted(list(first.values()))
        if self.show_command_palette and self.app.ENABLE_COMMAND_PALETTE:
            palette = active.get(self.app.COMMAND_PALETTE_BINDING)
            if palette is not None:
                _node, binding, enabled, _tooltip = palette
                keys.append(_Key(
                    binding.key, self.app.get_key_display(binding), binding.description, binding.action,
                    not enabled, binding.tooltip or binding.description, "-command-palette",
                ))
        return keys

    def _fitted(self, keys: list[_Key]) -> list[_Key]:
        """As many keys as the terminal's width holds beside the palette key, help and quit last: the
        least needed (the screen's ``FOOTER_LEFT_OUT_FIRST``, else ``DROPPED_FIRST``; then from the
        right) left out first, help and quit never (every key stays in the help and the palette)."""
        room = self.app.size.width - PALETTE_WIDTH
        order = getattr(self.screen, "FOOTER_LEFT_OUT_FIRST", DROPPED_FIRST)
        rank = lambda key: order.index(key.action.partition("(")[0])  # noqa: E731  (a digit's toggle_lane(1))
        keys = [key for key in keys if key.action not in KEPT] + [key for key in keys if key.action in KEPT]
        while sum(_width(key) for key in keys) > room:
            droppable = [key for key in keys if key.action not in KEPT]
            if not droppable:
                break
            first = [key for key in droppable if key.action.partition("(")[0] in order]
            keys.remove(min(first, key=rank) if first else droppable[-1])
        return keys

    def render(self) -> Text:
        """The keys from the left, `` key description `` each, and the palette key at the right end."""
        if self._shown is None:
            if not self._bindings_ready:
                return Text()
            self._shown = self._keys()
        style = self.get_component_rich_style
        item, key_style, description_style = (
            style("key-footer--item"), style("key-footer--key"), style("key-footer--description"))
        hover = Style(bgcolor=style("key-footer--hover").bgcolor)
        dim = Style(dim=True)
        width = self.size.width
        text, spans = Text(no_wrap=True, overflow="crop", end=""), []

        def add(key: _Key) -> None:
            begin = len(text)
            if key.classes:  # the palette key: a bar, ``^p palette`` and a space, as Textual draws it
                text.append(PALETTE_SEPARATOR, style("key-footer--separator"))
                text.append(key.key_display, key_style)
                text.append(f" {key.description}", description_style)
                text.append(" ")
            else:
                text.append(f" {key.key_display} ", key_style)
                text.append(f"{key.description} ", description_style)
            text.stylize_before(item + dim if key.disabled else item, begin, len(text))
            if self._hover is not None and begin <= self._hover < len(text):
                text.stylize(hover, begin, len(text))  # over the key's own colours, as Textual's :hover
            spans.append((begin, len(text), key))

        for key in self._shown:
            if not key.classes:
                add(key)
        palette = next((key for key in self._shown if key.classes), None)
        if palette is not None:
            text.append(" " * max(0, width - len(text) - _width(palette)))
            add(palette)
        self._spans = spans
        return text

    def _key_at(self, x: int) -> _Key | None:
        return next((key for start, end, key in self._spans if start <= x < end), None)

    def on_mouse_move(self, event: events.MouseMove) -> None:
        """The key under the mouse is highlighted, its tooltip shown, as in Textual's footer."""
        key = self._key_at(event.x)
        if key is not self._key_at(-1 if self._hover is None else self._hover):
            self.refresh()
        self._hover = None if key is None else event.x
        self.tooltip = (key.tooltip or None) if key is not None else None

    def on_leave(self) -> None:
        if self._hover is not None:
            self._hover = None
            self.refresh()

    def on_mouse_down(self, event: events.MouseDown) -> None:
        """A click on a key presses it (a disabled one rings the bell)."""
        key = self._key_at(event.x)
        if key is None:
            return
        if key.disabled:
            self.app.bell()
        else:
            self.app.simulate_key(key.key)
