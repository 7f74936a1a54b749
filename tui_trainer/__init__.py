"""nn-tui: build and train small neural networks in the terminal and see how they learn."""

__version__ = "0.1.0"
