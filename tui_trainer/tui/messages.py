"""Messages from the training worker to the UI. They carry copies, never live engine arrays."""

from __future__ import annotations

from textual.message import Message

from ..experiments.session import Snapshot


class TrainingUpdate(Message):
    """A new snapshot of the training; a newer one replaces one still waiting in the queue."""

    def __init__(self, snapshot: Snapshot) -> None:
        super().__init__()
        self.snapshot = snapshot

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, TrainingUpdate)
