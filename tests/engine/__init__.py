"""The engine's tests: they need only numpy and pytest (no Textual, Rich or click)."""
