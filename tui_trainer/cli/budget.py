"""The ``--memory-budget SIZE`` option's callback: the command line's side of ``experiments.budget``."""

from __future__ import annotations

import click

from ..experiments.budget import parse_size, set_budget


def memory_budget_callback(ctx, param, value):
    """A click callback for a ``--memory-budget SIZE`` option: checks the size and uses it until
    the command ends (``expose_value=False`` suits it: the command need not pass it on)."""
    if value is not None:
        try:
            nbytes = parse_size(value)
        except ValueError as exc:
            raise click.BadParameter(str(exc)) from None
        restore = set_budget(nbytes, f"--memory-budget {value}")
        if ctx is not None:
            ctx.call_on_close(restore)
    return value
