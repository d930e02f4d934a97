"""What every entry point shares: logging set-up and turning user errors into exit status 2."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Sequence

from pruning.errors import PruningError


def run_cli(body: Callable[[Sequence[str] | None], int | None], argv: Sequence[str] | None = None) -> int:
    """Run `body(argv)`; a PruningError becomes one line on stderr and exit status 2, no traceback."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    try:
        return int(body(argv) or 0)
    except PruningError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
