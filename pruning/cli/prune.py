r"""pruning-prune: prune contexts in bulk with a saved pruner, JSON Lines in, JSON Lines out.

    pruning-prune -m MODEL_DIR [INPUT.jsonl | -] [-o OUT.jsonl] [--threshold T] [--batch-size 32] \
        [--device cpu] [--splitter project|fast-bunkai] [--skip-invalid] [--no-progress]

Each input line is {"query": str, "context": str} or {"query": str, "sentences": [str, ...]}; other keys are
passed through. Each output line adds "pruned_context", "reranking_score", "threshold", "sentences" (index, text,
start, end, score, kept) and "compression"; a "sentences" line also gets "context", the joined text the offsets
index. Every line is checked before any output is written: a malformed line
is an error naming its line number and field (exit 2), unless --skip-invalid, which skips, counts and reports.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pruning.cli._common import ArgumentParser, run_cli, unit_interval
from pruning.errors import PruningError

logger = logging.getLogger(__name__)

#: Keys this command writes; an input line may not bring them as pass-through keys.
OUTPUT_KEYS = ("pruned_context", "reranking_score", "threshold", "compression")


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(prog="pruning-prune", description="Prune contexts (JSON Lines) with a saved pruner.")
    parser.add_argument("-m", "--model", metavar="MODEL_DIR", type=Path, required=True, help="a saved pruner")
    parser.add_argument("input", nargs="?", default="-", help="JSON Lines file, or - for stdin (default)")
    parser.add_argument("-o", "--output", type=Path, help="write here instead of stdout")
    parser.add_argument(
        "--threshold", type=lambda t: unit_interval(t, "threshold"), help="keep threshold (default: the model's)"
    )
    parser.add_argument("--batch-size", type=int, default=32, help="sequences per forward pass (default 32)")
    parser.add_argument("--device", help="torch device (default: cuda if available, else cpu)")
    parser.add_argument(
        "--backend", choices=("torch", "onnx", "onnx-int8"), default="torch", help="inference backend (default torch)"
    )
    parser.add_argument("--splitter", default="project", help="sentence splitter for 'context' strings")
    parser.add_argument("--skip-invalid", action="store_true", help="skip malformed lines, count and report them")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def _check_line(n: int, line: str, source: str = "-") -> tuple[dict[str, Any], str, Any]:
    """One input line → (record, query, context) or a PruningError naming the file, line `n` and the field."""
    where = f"{'stdin' if source == '-' else source}: line {n}"
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise PruningError(f"{where}: invalid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(record, dict):
        raise PruningError(f"{where}: expected a JSON object, got {type(record).__name__}")
    query = record.get("query")
    if not isinstance(query, str) or not query.strip():
        raise PruningError(f"{where}: field 'query': expected a non-empty string, got {query!r}")
    if ("context" in record) == ("sentences" in record):
        raise PruningError(f"{where}: give exactly one of the fields 'context' (a string) or 'sentences' (a list)")
    if "context" in record:
        context = record["context"]
        if not isinstance(context, str) or not context.strip():
            raise PruningError(f"{where}: field 'context': expected a non-empty string, got {context!r}")
    else:
        context = record["sentences"]
        if not isinstance(context, list) or not context:
            raise PruningError(f"{where}: field 'sentences': expected a non-empty list of strings")
        for k, s in enumerate(context):
            if not isinstance(s, str) or not s.strip():
                raise PruningError(f"{where}: field 'sentences[{k}]': expected a non-empty string, got {s!r}")
    clash = [k for k in OUTPUT_KEYS if k in record]
    if clash:
        raise PruningError(f"{where}: field {clash[0]!r}: an output field of pruning-prune; rename it")
    return record, query, context


def read_lines(
    lines: Sequence[str], skip_invalid: bool, source: str = "-"
) -> tuple[list[tuple[dict[str, Any], str, Any]], list[str]]:
    """Every non-blank line of `source` checked; with skip_invalid the bad ones are returned as messages instead of
    raised."""
    good, bad = [], []
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            good.append(_check_line(n, line, source))
        except PruningError as exc:
            if not skip_invalid:
                raise
            bad.append(str(exc))
    return good, bad


def _read_input(source: str) -> list[str]:
    """The input's lines; a UTF-8 byte-order mark (as Windows tools write) is not part of the first line."""
    if source == "-":
        return sys.stdin.read().removeprefix("\ufeff").splitlines()
    try:
        return Path(source).read_text(encoding="utf-8-sig").splitlines()
    except OSError as exc:
        raise PruningError(f"{source}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise PruningError(f"{source}: not valid UTF-8 (byte offset {exc.start})") from None


def _output_record(record: dict[str, Any], result: Any) -> dict[str, Any]:
    out = dict(record)
    full = result.as_dict()
    if "sentences" in record:  # the sentences' start/end index this joined text, which the input did not hold
        out["context"] = full["context"]
    out["pruned_context"] = full["pruned_context"]
    out["reranking_score"] = full["reranking_score"]
    out["threshold"] = full["threshold"]
    out["sentences"] = full["sentences"]
    out["compression"] = full["compression"]
    return out


def _run(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
    if args.batch_size < 1:
        raise PruningError(f"--batch-size must be >= 1, got {args.batch_size}")
    good, bad = read_lines(_read_input(args.input), args.skip_invalid, args.input)
    for message in bad:
        logger.warning("skipped %s", message)
    if not good:
        raise PruningError(f"{args.input}: no valid input lines" + (f" ({len(bad)} skipped)" if bad else ""))
    from pruning.prune.pruner import Pruner

    pruner = Pruner.from_pretrained(
        args.model, device=args.device, backend=args.backend, splitter=args.splitter, batch_size=args.batch_size
    )
    results = pruner.prune(
        [q for _, q, _ in good], [c for _, _, c in good], threshold=args.threshold, progress=not args.no_progress
    )
    records = [_output_record(r, res) for (r, _, _), res in zip(good, results, strict=True)]
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    if args.output is not None:
        from pruning.cli._common import write_output

        write_output(args.output, text)
    else:
        sys.stdout.write(text)
    kept = sum(s.kept for res in results for s in res.sentences)
    total = sum(len(res.sentences) for res in results)
    logger.info("pruned %d contexts: kept %d of %d sentences", len(results), kept, total)
    if bad:
        logger.warning("%d invalid lines skipped, %d pruned", len(bad), len(results))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: returns the exit status (0 ok, 2 user error)."""
    return run_cli(_run, argv)


if __name__ == "__main__":
    raise SystemExit(main())
