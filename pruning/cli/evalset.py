"""``pruning-evalset``: build a held-out evaluation file in the seed's format from a SQuAD-format QA corpus.

Example (from the project root)::

    pruning-evalset --qa ../shared/data/qa/jaquad/dev --max-queries 300 --name jaquad-dev-sentences

Per question: its gold window of whole sentences (answer sentences relevant, the rest not) and one other paragraph
of the same article (every sentence irrelevant), each an item of `pruning-exec -j`. The file
(default ``$PRUNING_CACHE/eval/<name>.json``) derives from CC BY-SA data: keep it out of the repository.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

from pruning.cache import cache_root
from pruning.cli._common import ArgumentParser, run_cli, write_output
from pruning.data.evalset import build_eval_set
from pruning.data.qa.reader import QA_FORMATS, load_qa, log_skips


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog="pruning-evalset",
        description="Build a held-out evaluation file (the seed's JSON format) from SQuAD-format QA files.",
    )
    parser.add_argument("--qa", nargs="+", required=True, metavar="PATH", help="QA files or folders of *.json files")
    parser.add_argument("--qa-format", choices=QA_FORMATS, default="auto", help="as pruning-data's (default auto)")
    parser.add_argument("--max-queries", type=int, required=True, help="questions to draw (by a seeded hash)")
    parser.add_argument("--seed", type=int, default=42, help="seed of the question subset and windows (default 42)")
    parser.add_argument("--negatives", type=int, default=1, help="items without an answer per question (default 1)")
    parser.add_argument(
        "--hard-negatives",
        type=int,
        default=1,
        help="how many of the negatives are other paragraphs of the question's own article (default 1)",
    )
    parser.add_argument(
        "--max-passage-chars", type=int, default=400, help="window of whole sentences per item (default 400)"
    )
    parser.add_argument(
        "--min-sentences", type=int, default=2, help="leave out (and count) items with fewer sentences (default 2)"
    )
    out = parser.add_mutually_exclusive_group()
    out.add_argument("--out", type=Path, help="output JSON file")
    out.add_argument("--name", help="output file name under the cache folder's eval/ (default from the options)")
    return parser


def _body(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
    corpus = load_qa(args.qa, qa_format=args.qa_format)
    log_skips(corpus, "input")
    evalset = build_eval_set(
        corpus,
        max_queries=args.max_queries,
        seed=args.seed,
        negatives=args.negatives,
        hard_negatives=args.hard_negatives,
        max_passage_chars=args.max_passage_chars,
        min_sentences=args.min_sentences,
    )
    name = args.name or f"evalset-q{args.max_queries}-n{args.negatives}-h{args.hard_negatives}-s{args.seed}"
    path = args.out or cache_root() / "eval" / f"{name}.json"
    write_output(path, json.dumps(evalset.items, ensure_ascii=False, indent=1) + "\n")
    print(f"wrote {path}")
    print("  " + ", ".join(f"{key.replace('_', ' ')} {n}" for key, n in evalset.summary().items()))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``pruning-evalset``; exit 0 on success, 2 on a user error."""
    return run_cli(_body, argv)


if __name__ == "__main__":
    raise SystemExit(main())
