"""The ``nn-tui`` command's entry point (also ``python -m tui_trainer``).

Ctrl-C while the command is still starting (importing NumPy and the rest) ends it quietly
with status 130, as Ctrl-C does later, instead of printing a traceback.
"""

import sys


def run() -> None:
    try:
        from .cli import main
    except KeyboardInterrupt:
        sys.exit(130)
    main(prog_name="nn-tui")


if __name__ == "__main__":
    run()
