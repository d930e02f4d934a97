"""pruning-exec's single-example mode (-q QUERY -c CTX ...): the seed's line per threshold, or JSON.

    th: 0.3, q: <query>, score: 0.87, contexts: <c1> <del><c2></del> <c3>

score is the sigmoid of the ranking logit (two decimals); deleted contexts are wrapped in <del>…</del> and
the contexts are joined by single spaces, as the seed's pruning_exec.py printed them.
"""

from __future__ import annotations

import argparse
import json

from pruning.data.eval_files import parse_eval_items


def format_line(threshold: float, query: str, score: float, contexts: list[str], kept: list[bool]) -> str:
    """The seed's output line for one threshold."""
    shown = " ".join(c if k else f"<del>{c}</del>" for c, k in zip(contexts, kept, strict=True))
    return f"th: {threshold}, q: {query}, score: {score:.2f}, contexts: {shown}"


def run_single(args: argparse.Namespace) -> int:
    """Score one (query, contexts) example with -m and print a line per threshold (or --format json)."""
    from pruning.cli.exec import score_with_model

    # validated as an evaluation item (labels are not used): empty query or context is a named error
    items = parse_eval_items(
        [{"query": args.query, "contexts": list(args.contexts), "labels": [0] * len(args.contexts)}],
        "command line (-q/-c)",
    )
    scores, extra = score_with_model(args, items)
    import torch

    # float32, as the seed computed it: the two printed decimals then round the same way
    ranking_score = torch.sigmoid(torch.tensor(extra["ranking_logits"][0], dtype=torch.float32)).item()
    rows = [{"threshold": t, "kept": [s >= t for s in scores[0]]} for t in args.thresholds]
    if args.format == "json":
        out = {
            "query": args.query,
            "contexts": list(args.contexts),
            "scores": scores[0],
            "ranking_score": ranking_score,
            "model": extra["model"],
            "input_format": extra["input_format"],
            "ranges": extra["ranges"],
            "rule": extra["rule"],
            "thresholds": rows,
        }
        print(json.dumps(out, ensure_ascii=False, indent=2))
        return 0
    for row in rows:
        print(format_line(row["threshold"], args.query, ranking_score, list(args.contexts), row["kept"]))
    return 0
