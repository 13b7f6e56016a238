"""The command line's plumbing, for a plugin's commands: the options every
command takes, opening the ledger, printing, progress, and the one mapping of
errors to a line on stderr and an exit status (decorate a command with
``handled``)."""

from socialcredit.adapters.files.readers import count_lines
from socialcredit.entrypoints.cli.common import (
    CLI_ACTOR,
    DEFAULT_DB,
    At,
    Db,
    Json,
    Kind,
    err,
    handled,
    moment,
    opened,
    out,
    print_json,
    progress_bar,
    write_rejects,
)

__all__ = [
    "CLI_ACTOR",
    "DEFAULT_DB",
    "At",
    "Db",
    "Json",
    "Kind",
    "count_lines",
    "err",
    "handled",
    "moment",
    "opened",
    "out",
    "print_json",
    "progress_bar",
    "write_rejects",
]
