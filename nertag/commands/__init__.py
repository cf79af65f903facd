"""The jobs behind the CLI's commands, one module each, as plain typed functions that can be
imported: ``train`` (train from files), ``tag`` (tag a stream of text), ``score`` (score files).

They raise :class:`~nertag.errors.NertagError` for bad input and never print; the top-level
``cli.py`` parses options, calls them and turns errors into one-line messages.
"""
