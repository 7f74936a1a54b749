"""The footer: Textual's, with its keys updated in place when focus moves.

Textual's footer builds all its keys afresh (new widgets, mounted and styled) each time the screen
says its bindings changed, and the screen says so twice for every focus change. With the main
screen's ~18 keys that cost 60-70 ms of CPU per focus move (two thirds of a move in the config
pane: a held down key lagged). This footer updates once for both, not at all when the keys shown
are the same, and otherwise rewrites the keys it has, adding or removing only the difference.
It looks the same as Textual's (grouped keys, which the main screen has none of, are left to
Textual's compose).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from rich.cells import cell_len
from textual.keys import KEY_NAME_REPLACEMENTS, key_to_character
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

if TYPE_CHECKING:
    from textual.screen import Screen


KEPT = ("help", "quit")
"""Shown at every width."""
DROPPED_FIRST = ("single_step", "reset", "lr_down", "lr_up")
"""Left out first where the width is short (80 columns): in this order, each still in help and the palette."""
PALETTE_WIDTH = 12
"""The palette key at the right end, ``▏^p palette`` and its margin."""


def _width(key) -> int:
    """Columns a footer key takes: `` key description `` and the gap after it."""
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
    """One key as Textual's footer composes it."""

    key: str
    key_display: str
    description: str
    action: str
    disabled: bool
    tooltip: str
    classes: str = ""


class KeyFooter(Footer):
    """Textual's footer, cheap to update."""

    _update_pending = False
    _updating = False
    _shown: list[_Key] | None = None
    """The keys on show (None: composed by Textual's footer, or not yet)."""

    def bindings_changed(self, screen: Screen) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen and not self._update_pending:
            self._update_pending = True
            self.call_later(self._update_keys)  # in the same frame as the change

    def _keys(self) -> list[_Key] | None:
        """The keys Textual's footer would show now; None when some are grouped (left to it)."""
        screen = self.screen
        active = screen.active_bindings
        describe = getattr(screen, "footer_description", None)
        typed = _typed_by(screen.focused)
        first: dict[str, _Key] = {}  # one key per action, the first bound, as Textual's footer
        for _node, binding, enabled, tooltip in active.values():
            if not binding.show or binding.action in first or typed(binding.key):
                continue
            if binding.group is not None:
                return None
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

    def on_resize(self) -> None:
        """A new width may hold more keys, or fewer."""
        if self._shown is not None and not self._update_pending:
            self._update_pending = True
            self.call_later(self._update_keys)

    def compose(self):
        """Textual's footer, of the keys ``_keys`` gives (those that fit)."""
        keys = self._keys() if self._bindings_ready else None
        if keys is None:
            yield from super().compose()
            return
        self.styles.grid_size_columns = len([key for key in keys if not key.classes])
        for key in keys:
            if key.classes:  # the palette key, as Textual's footer makes it (FooterKey's own compact, not the footer's)
                yield FooterKey(key.key, key.key_display, key.description, key.action,
                                classes=f"{key.classes} -compact", disabled=key.disabled, tooltip=key.tooltip)
            else:
                yield self._new(key)

    async def _update_keys(self) -> None:
        if self._updating:  # mounting or removing keys: look again once that is done
            self.call_after_refresh(self._update_keys)
            return
        self._update_pending = False
        if not self.is_attached:
            return
        self._updating = True
        try:
            keys = self._keys()
            if keys is not None and keys == self._shown:
                return
            shown, self._shown = self._shown, keys
            widgets = list(self.query_children(FooterKey))
            if keys is None or shown is None or len(widgets) != len(shown):
                await self.recompose()
                return
            old = [(w, k) for w, k in zip(widgets, shown) if not k.classes]
            new = [k for k in keys if not k.classes]
            old_palette = [(w, k) for w, k in zip(widgets, shown) if k.classes]
            new_palette = [k for k in keys if k.classes]
            if len(old_palette) != len(new_palette):
                await self.recompose()  # the palette key came or went
                return
            for (widget, _), key in [*zip(old, new), *zip(old_palette, new_palette)]:
                self._set(widget, key)
            if len(old) > len(new):
                await self.remove_children([w for w, _ in old[len(new):]])
            elif len(new) > len(old):
                before = old_palette[0][0] if old_palette else None
                await self.mount_all([self._new(key) for key in new[len(old):]], before=before)
        finally:
            self._updating = False

    @staticmethod
    def _set(widget: FooterKey, key: _Key) -> None:
        """Make ``widget`` show ``key``, as a new FooterKey would."""
        if (widget.key, widget.key_display, widget.description, widget.action, widget._disabled) != key[:5]:
            # A key as wide as before is repainted in place: laying out again reflows the whole
            # screen (10-30 ms at 120x36), a repaint draws one key.
            resized = cell_len(widget.key_display + widget.description) != cell_len(key.key_display + key.description)
            widget.key, widget.key_display, widget.description, widget.action = key[:4]
            widget._disabled = key.disabled
            widget.set_class(key.disabled, "-disabled")
            widget.refresh(layout=resized)
        if widget.tooltip != (key.tooltip or None):
            widget.tooltip = key.tooltip or None

    def _new(self, key: _Key) -> FooterKey:
        """A key styled once, as it mounts: made with the footer's compact class, it has none to
        change when its ``compact`` follows the footer's (bound, it changed class twice while
        mounting, restyled each time: a fifth of the CPU time of opening a view)."""
        widget = FooterKey(
            key.key, key.key_display, key.description, key.action, disabled=key.disabled, tooltip=key.tooltip,
            classes="-compact" if self.compact else "",
        )
        widget.set_reactive(FooterKey.compact, self.compact)
        return widget.data_bind(compact=KeyFooter.compact)
