"""Every error nertag raises for bad input, a bad model or a path it will not write, under one base.

``except nertag.NertagError`` catches them all; each is also a ``ValueError``, as before.
"""

from __future__ import annotations

from pathlib import Path


class NertagError(ValueError):
    """Base of nertag's own errors: the message says what was wrong and where."""


class InputError(NertagError):
    """Bad user input, with the place it was found: ``file:line: what is wrong``."""

    def __init__(self, source: str, line: int | None, message: str) -> None:
        self.source, self.line, self.message = source, line, message
        where = f"{source}:{line}" if line is not None else source
        super().__init__(f"{where}: {message}")

    def __reduce__(self) -> tuple[type, tuple[str, int | None, str]]:
        """Rebuilt from its parts, so that it crosses from a worker process whole."""
        return type(self), (self.source, self.line, self.message)


class TagError(NertagError):
    """A tag string that no scheme can read."""


class ModelError(NertagError):
    """A model directory that cannot be loaded, and why."""


class OutputError(NertagError):
    """A path nertag will not write to, and why: ``path: reason``."""

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path, self.reason = str(path), reason
        super().__init__(f"{path}: {reason}")

    def __reduce__(self) -> tuple[type, tuple[str, str]]:
        return type(self), (self.path, self.reason)


class WorkerError(NertagError):
    """A worker process (``nertag tag --workers``) that ended before it answered: killed, out of
    memory, or unable to start."""
