"""Option lists whose page keys are safe at any moment: a select's open list and a plain option list.

Textual's page keys (``OptionList._move_page``) read the list's lines, which it cannot lay out without
room: a list opened or shown by the key just before (not drawn yet) has none, and paging it failed
(KeyError: the highlighted option's index). Keys come in bursts; there is no page to move by yet, so
nothing moves.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import OptionList, Select
from textual.widgets._select import SelectCurrent, SelectOverlay


class PagesWhenLaidOut:
    """Mixed into an ``OptionList`` before it: page keys move only once the list is laid out."""

    def _move_page(self, direction) -> None:
        if not self._lines or (self.highlighted or 0) not in self._index_to_line:  # type: ignore[attr-defined]
            return
        super()._move_page(direction)  # type: ignore[misc]


class SafeOptionList(PagesWhenLaidOut, OptionList):
    """Textual's ``OptionList`` with page keys safe before it is laid out."""


class SafeSelectOverlay(PagesWhenLaidOut, SelectOverlay):
    """A select's open list with page keys safe before it is laid out."""


class SafeSelect(Select):
    """Textual's ``Select`` whose open list's page keys are safe at any moment."""

    OVERLAY: type[SafeSelectOverlay] = SafeSelectOverlay
    """The open list's class (a subclass of ``SafeSelectOverlay``)."""

    def compose(self) -> ComposeResult:
        yield SelectCurrent(self.prompt)
        yield self.OVERLAY(type_to_search=self._type_to_search).data_bind(compact=Select.compact)
