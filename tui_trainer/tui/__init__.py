"""The Textual app: screens, panes and the training worker's messages.

Owns what the user sees and the keys; every training decision goes through the session
(``tui_trainer.experiments.session``) and every number comes from the engine through it. May import the
experiments layer and the engine; nothing below imports this package.
"""
