"""What every entry point shares: logging set-up and turning user errors into exit status 2."""

from __future__ import annotations

import argparse
import logging
import math
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

from pruning.errors import PruningError


class ArgumentParser(argparse.ArgumentParser):
    """Usage errors become a PruningError: one line on stderr, exit status 2."""

    def error(self, message: str) -> NoReturn:
        raise PruningError(f"{self.prog}: {message} (see --help)")


def unit_interval(text: str, what: str) -> float:
    """An argparse value in [0, 1]; anything else (a word, NaN, out of range) is a usage error naming `what`."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value) or not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{what} {text!r} is outside [0, 1]")
    return value


def run_cli(body: Callable[[Sequence[str] | None], int | None], argv: Sequence[str] | None = None) -> int:
    """Run `body(argv)`; a PruningError becomes one line on stderr and exit status 2, no traceback; a closed
    pipe on stdout ends quietly with 141 (128 + SIGPIPE, what a shell reports for `yes | head`)."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    try:
        return int(body(argv) or 0)
    except PruningError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except SystemExit as exc:  # --help / --version
        return exc.code if isinstance(exc.code, int) else 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (`... | head`): end quietly, as a shell tool does
        _silence_stdout()
        return 141


def _silence_stdout() -> None:
    """Point stdout at /dev/null so that the interpreter's final flush cannot raise a second BrokenPipeError."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # no real file behind stdout (a test's capture): nothing will be flushed to it
        pass


def write_output(path: Path, text: str) -> None:
    """Write an output file the user named, creating its folder; failure is a PruningError naming it."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise PruningError(f"{path}: cannot write: {exc.strerror or exc}") from None
