"""Screens: the main screen, help and dialogs."""
