"""``python -m nertag`` and the ``nertag`` console script.

The CLI lives in the checkout's top-level ``cli.py``. A wheel installs it inside the package as
``nertag/cli.py`` (see pyproject.toml); an editable install (``pip install -e .``) and a plain
checkout find it on the path as ``cli``.
"""

from __future__ import annotations

import atexit
import os
import sys


def main() -> None:
    try:
        from nertag.cli import main as command
    except ModuleNotFoundError as error:
        if error.name != "nertag.cli":
            raise
        from cli import main as command
    try:
        command(prog_name="nertag")
    except SystemExit as stop:
        _exit(stop.code)
    _exit(0)


def _exit(code: object) -> None:
    """End the process with ``code`` as ``sys.exit`` would, but without tearing torch down.

    Once torch is imported, the interpreter's own shutdown (freeing every module and object one by
    one) takes about 0.4 s on 2 cores: a third of tagging one line. The exit handlers still run
    (logging's, multiprocessing's, temporary folders', Ray's) and standard output and error are
    flushed; only that teardown is skipped. Without torch, exiting normally is already quick.
    """
    run_exit_handlers = getattr(atexit, "_run_exitfuncs", None)  # CPython's, in every release since 3.0
    # A profiler or coverage tool around us (python -m cProfile -m nertag) writes its report after
    # we return: the process must end normally for it.
    watched = sys.getprofile() is not None or sys.gettrace() is not None
    if "torch" not in sys.modules or run_exit_handlers is None or watched:
        sys.exit(code)
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:  # sys.exit("message") prints the message and exits 1
        print(code, file=sys.stderr)
        status = 1
    run_exit_handlers()
    for stream in (sys.stdout, sys.stderr):
        if stream is None:  # started with that descriptor closed (>&-)
            continue
        try:
            stream.flush()
        except BrokenPipeError:  # the reader left after the last write: as a filter killed by SIGPIPE
            status = status or 141
        except (OSError, ValueError):
            pass
    os._exit(status & 0xFF)


if __name__ == "__main__":
    main()
