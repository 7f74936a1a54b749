"""The nn-tui Textual app."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import Footer, Header, Static

from ..engine import Network


class NNTuiApp(App):
    """Shows the default network; training panes come next."""

    TITLE = "nn-tui"
    BINDINGS = [("q", "quit", "Quit")]

    def compose(self) -> ComposeResult:
        net = Network([2, 16, 16, 1], ["relu", "relu", "sigmoid"], seed=0)
        shapes = "\n".join(
            f"  W{i + 1}: {W.shape[0]} x {W.shape[1]}   b{i + 1}: {W.shape[1]}"
            for i, W in enumerate(net.weights)
        )
        yield Header()
        yield Static(
            f"Network {net.summary()}  ({net.n_params} parameters)\n\n{shapes}\n\n"
            "The engine is ready; training panes are on their way. Press q to quit.",
            id="placeholder",
        )
        yield Footer()
