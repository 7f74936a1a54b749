"""The ``nn-tui`` command's entry point (also ``python -m tui_trainer``).

Ctrl-C while the command is still starting (importing NumPy and the rest) ends it quietly
with status 130, as Ctrl-C does later, instead of printing a traceback.
"""

import os
import sys


def _standard_streams() -> None:
    """A standard stream the caller closed (``2>&-``) is opened on the null device: what goes
    there is dropped instead of failing, and its descriptor is never taken by a file the command
    opens (a run's metrics, a model), which would then get what was meant for the terminal."""
    for fd, name, mode in ((0, "stdin", "r"), (1, "stdout", "w"), (2, "stderr", "w")):
        try:
            os.fstat(fd)
        except OSError:
            null = os.open(os.devnull, os.O_RDWR)
            if null != fd:
                os.dup2(null, fd)
                os.close(null)
            if getattr(sys, name) is None:
                setattr(sys, name, open(fd, mode, closefd=False, encoding="utf-8", errors="backslashreplace"))


def run() -> None:
    _standard_streams()
    try:
        from .cli import main
    except KeyboardInterrupt:
        sys.exit(130)
    main(prog_name="nn-tui")


if __name__ == "__main__":
    run()
