"""The ``socialcredit`` command line (``main.py`` assembles it): a module per
group of commands, ``common.py`` for what they share, and the commands the
plugins add."""
