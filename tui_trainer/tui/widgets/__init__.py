"""Panes and charts of the app, one widget per module; plots are drawn through ``plotting``."""
