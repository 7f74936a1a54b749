"""The Textual app: screens, panes and the training worker's messages."""
