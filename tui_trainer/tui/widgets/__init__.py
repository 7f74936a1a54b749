"""Panes of the app, one widget per module."""
