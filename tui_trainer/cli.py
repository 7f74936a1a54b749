"""The ``nn-tui`` command: opens the app, or runs the engine headless through subcommands."""

from __future__ import annotations

import click


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="nn-tui")
@click.pass_context
def main(ctx: click.Context) -> None:
    """Build and train neural networks in the terminal and see how they learn."""
    if ctx.invoked_subcommand is None:
        from .tui.app import NNTuiApp  # imported here so that headless commands never load Textual

        NNTuiApp().run()
