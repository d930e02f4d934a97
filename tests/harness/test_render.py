"""The pass/fail table, character by character, on a hand-made comparison."""

from __future__ import annotations

import pytest

from pruning.harness.compare import FAIL, INFO, PASS, Check, Comparison
from pruning.harness.render import render_table

pytestmark = pytest.mark.unit


def test_table_layout_number_format_and_verdict():
    comparison = Comparison(
        "runs/a",
        "base.json",
        [
            Check("F2.5", 0.91234, 0.9, "±0.01", FAIL, "Δ = +0.012"),
            Check("training time (s)", 1234.56, None, "report only", INFO),
        ],
    )
    # column widths: 17 (the longest name), 8, 8, 11 ("report only"), 6; two spaces between columns; the detail
    # column is not padded; floats below 1000 get 4 decimals, from 1000 one; None is "-"
    want = [
        "check" + " " * 14 + "obtained  expected  tolerance" + " " * 4 + "status  detail",
        "  ".join("-" * w for w in (17, 8, 8, 11, 6)),
        "F2.5" + " " * 15 + "0.9123    0.9000    ±0.01" + " " * 8 + "FAIL    Δ = +0.012",
        "training time (s)  1234.6    -         report only  info  ",
        "",
        "runs/a vs base.json: FAIL (1 of 2 checks)",
    ]
    assert render_table(comparison).split("\n") == want


def test_verdict_pass_and_integers_as_written():
    comparison = Comparison("r", "b", [Check("FN", 3, 2, "±2", PASS)])
    lines = render_table(comparison).split("\n")
    assert lines[2] == "FN     3         2         ±2         pass  "
    assert lines[-1] == "r vs b: PASS"


def test_one_decimal_from_1000_on():
    lines = render_table(Comparison("r", "b", [Check("t", 1000.0, 999.5, "", PASS)])).split("\n")
    assert lines[2].split()[1:3] == ["1000.0", "999.5000"]
