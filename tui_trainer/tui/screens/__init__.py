"""Screens: the main screen, the inside-the-network views, the optimizer lab, help and dialogs."""
