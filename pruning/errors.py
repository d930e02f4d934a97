"""The one exception type for problems a user can fix (bad input file, bad config, missing model)."""

from __future__ import annotations


class PruningError(Exception):
    """A user-caused error. Its message names the file, item and field; the CLI prints it and exits 2."""
