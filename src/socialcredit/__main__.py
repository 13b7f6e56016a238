"""``python -m socialcredit``: the command line, also as a file that
``spark-submit`` can run (docs/batch.md)."""

from socialcredit.entrypoints.cli.main import main

if __name__ == "__main__":
    main()
