"""``python -m nertag`` and the ``nertag`` console script.

The CLI lives in the checkout's top-level ``cli.py``. A wheel installs it inside the package as
``nertag/cli.py`` (see pyproject.toml); an editable install (``pip install -e .``) and a plain
checkout find it on the path as ``cli``.
"""

from __future__ import annotations


def main() -> None:
    try:
        from nertag.cli import main as command
    except ModuleNotFoundError as error:
        if error.name != "nertag.cli":
            raise
        from cli import main as command
    command(prog_name="nertag")


if __name__ == "__main__":
    main()
