"""The report page: its sections in order, what it says when the baseline cannot support one, and escaping."""

from __future__ import annotations

import base64
import copy
import json
import re
from html.parser import HTMLParser

import pytest

from pruning.cli.baseline import main as baseline_main
from pruning.data.eval_files import EvalItem
from pruning.evaluate.seed_baseline import load_seed_baseline
from pruning.harness.artefacts import load_run
from pruning.harness.baseline import baseline_from_seed, capture
from pruning.harness.compare import compare
from pruning.harness.report_page import render_page, verdict_sentence
from tests.harness.helpers import SETUP, make_run

pytestmark = pytest.mark.unit

HOSTILE = ["<script>alert(1)</script>", '<img src=x onerror="alert(2)">', "</table></td>"]


class _Tags(HTMLParser):
    """Every start tag with its attributes, and the text, as a browser's parser sees them."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def _parse(page: str) -> _Tags:
    parser = _Tags()
    parser.feed(page)
    return parser


def _hostile_runs(tmp_path):
    """A baseline and a drifted run of an evaluation file whose queries, contexts and setup carry markup."""
    items = [
        EvalItem(HOSTILE[0], [HOSTILE[1], "plain"], [1, 0]),
        EvalItem("q2 " + HOSTILE[2], ["a", HOSTILE[0]], [0, 1]),
    ] * 10
    data = tmp_path / "evil.json"
    data.write_text(json.dumps([{"query": i.query, "contexts": i.contexts, "labels": i.labels} for i in items]))
    setup = copy.deepcopy(SETUP)
    setup["versions"][HOSTILE[1]] = HOSTILE[0]
    setup["config"]["model_args"]["max_length"] = HOSTILE[2]
    base = make_run(tmp_path / "base", items=items, scores=[[0.8, 0.2], [0.1, 0.7]] * 10, data=str(data))
    run = make_run(tmp_path / "run", items=items, scores=[[0.25, 0.2], [0.1, 0.7]] * 10, data=str(data), setup=setup)
    return load_run(run), capture(load_run(base))


@pytest.fixture(scope="module")
def hostile_page(tmp_path_factory):
    """The drifted hostile run against its baseline, compared and rendered once for the tests that read the page."""
    run, baseline = _hostile_runs(tmp_path_factory.mktemp("hostile"))
    comparison = compare(run, baseline, "base.json")
    return run, comparison, render_page(run, baseline, comparison)


def test_markup_from_data_shows_as_text_and_runs_nothing(hostile_page):
    _, _, page = hostile_page
    parsed = _parse(page)
    tags = [t for t, _ in parsed.tags]
    assert "script" not in tags
    assert not [a for _, attrs in parsed.tags for a in attrs if a.startswith("on")]
    # every image is one of the page's own pictures: an inline SVG, nothing fetched
    images = [attrs["src"] for t, attrs in parsed.tags if t == "img"]
    assert images and all(src.startswith("data:image/svg+xml;base64,") for src in images)
    # the markup is in the page as text: the hostile query, context and setup values read back verbatim
    text = "".join(parsed.text)
    for value in HOSTILE:
        assert value in text
    assert tags.count("table") == page.count("</table>")  # the hostile </table> closed nothing
    assert re.search(r"(src|href)=\"(https?:|//)", page) is None and "<link" not in page and "url(" not in page


def test_sections_in_order_with_the_drifting_contexts(hostile_page):
    run, comparison, page = hostile_page
    order = [
        'id="verdict"',
        "<h2>Checks</h2>",
        "Threshold curves",
        "Is the change real?",
        "Per-context score drift",
        "contexts that moved most",
        "<h2>Eval-loss trajectory</h2>",
        "<h2>What else differs</h2>",
    ]
    positions = [page.index(marker) for marker in order]
    assert positions == sorted(positions)
    # the first row of the checks table is a failure; the verdict names the failed checks
    first = re.search(r"<h2>Checks</h2>.*?<tbody><tr class=\"(\w+)\">", page, re.S)
    assert first is not None and first.group(1) == "FAIL"
    sentence = verdict_sentence(comparison)
    assert sentence.startswith(f"FAIL: {run.run_dir} against base.json: 6 of 25 checks failed: evil.json: best")
    assert "evil.json: FN at 0.3 = 10 (baseline 0, ±2); and 3 more." in sentence
    # 10 contexts moved from 0.8 to 0.25 and all flip at the baseline's best threshold
    assert "10 keep/delete decisions flip (10 kept by the baseline and deleted by the run, 0 the other way)" in page
    assert "significant" in page and page.count('src="data:image/svg+xml;base64,') == 3


def test_a_seed_baseline_says_what_it_cannot_support(tmp_path):
    seed = baseline_from_seed(load_seed_baseline())
    run = load_run(make_run(tmp_path / "run"))
    page = render_page(run, seed, compare(run, seed, "seed.yaml"))
    assert "The run has no result for this evaluation" in page
    assert (
        "<td>code</td><td>-</td><td>-</td><td>not compared: the seed&#x27;s recorded numbers hold no code</td>" in page
    )
    run_dir = tmp_path / "seedlike"
    make_run(run_dir, data="pruning_data_ja_v3.json")
    result = json.loads((run_dir / "eval" / "easy.json").read_text())
    (run_dir / "eval" / "easy.json").unlink()
    (run_dir / "eval" / "ja.json").write_text(
        json.dumps({**result, "thresholds": seed["evaluations"]["pruning_data_ja_v3.json"]["thresholds"]})
    )
    run = load_run(run_dir)
    page = render_page(run, seed, compare(run, seed, "seed.yaml"))
    assert "The baseline holds no per-context scores" in page
    assert "No paired bootstrap: baseline has no per-context scores to pair with." in page
    assert "Threshold curves" in page and "<h2>Eval-loss trajectory</h2><img" in page


def test_context_text_unavailable_is_said(tmp_path):
    run = load_run(make_run(tmp_path / "run", data=str(tmp_path / "gone.json")))
    baseline = capture(load_run(make_run(tmp_path / "base", data=str(tmp_path / "gone.json"))))
    page = render_page(run, baseline, compare(run, baseline))
    assert f"Context text not shown: the evaluation file {tmp_path / 'gone.json'} is not on this machine." in page
    assert "<td>(text unavailable)</td>" in page


def test_pictures_are_svg_without_fonts_or_links(hostile_page):
    _, _, page = hostile_page
    for src in re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', page):
        svg = base64.b64decode(src).decode("utf-8")
        assert svg.lstrip().startswith("<?xml") and "<svg" in svg
        assert "@font-face" not in svg and 'xlink:href="http' not in svg and "<script" not in svg


def test_cli_report_and_compare_report(tmp_path, capsys):
    run, baseline = _hostile_runs(tmp_path)
    (tmp_path / "base.json").write_text(json.dumps(baseline))
    out = tmp_path / "pages" / "report.html"
    assert baseline_main(["report", str(run.run_dir), str(tmp_path / "base.json"), "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith(f"wrote {out}\nFAIL: ") and out.read_text().startswith("<!DOCTYPE html>")
    assert out.stat().st_mode & 0o777 == 0o644
    again = tmp_path / "compare.html"
    code = baseline_main(
        ["compare", str(run.run_dir), str(tmp_path / "base.json"), "--report", str(again), "--format", "json"]
    )
    assert code == 1 and again.is_file()
    result = json.loads(capsys.readouterr().out)
    assert result["significance"]["evil.json"]["verdict"] == "significant"
    assert baseline_main(["report", str(tmp_path / "nope"), str(tmp_path / "base.json"), "-o", str(out)]) == 2
    assert "not a run directory" in capsys.readouterr().err


def test_the_distance_column_reads_the_checks_spread_units():
    from pruning.harness.checks import PASS, Check
    from pruning.harness.report_page import _distance

    assert _distance(Check("F2.5", 0.85, 0.84, "±0.01", PASS, sigmas=2.04)) == "2.0 σ"
    assert _distance(Check("F2.5", 0.85, 0.84, "±0.01", PASS)) == ""


def test_the_page_names_its_tables_pictures_and_title(hostile_page):
    """The words a reader scans for: the tab's title, each table's columns, each picture's alt text, the flip and
    significance marks, and "same" for a setup row that did not change."""
    _, _, page = hostile_page
    assert "<title>FAIL: run vs base.json</title>" in page
    checks_head = ("status", "check", "obtained", "baseline", "band", "distance", "detail")
    drift_head = ("item", "ctx", "query", "context", "label", "baseline", "run", "Δ", "flipped")
    for head in (checks_head, drift_head, ("what", "run", "baseline", "difference")):
        assert "<thead><tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr></thead>" in page
    assert '<p class="note">distance: the baseline is not calibrated, so it has no spread to measure in.</p>' in page
    alts = re.findall(r'<img src="[^"]*" alt="([^"]*)">', page)
    assert alts == ["threshold curves of evil.json", "histogram of |Δscore|", "eval-loss trajectory"]
    assert "<td>0.8000</td><td>0.2500</td><td>-0.5500</td><td>yes</td></tr><tr>" in page  # rows follow one another
    assert '<span class="significant">significant</span>' in page
    assert "<tr><td>seed</td><td>42</td><td>42</td><td>same</td></tr>" in page


def test_failures_come_first_and_a_calibrated_baseline_shows_distances():
    from pruning.harness.checks import FAIL, PASS, SKIP, Check
    from pruning.harness.compare import Comparison
    from pruning.harness.report_page import _checks_section

    checks = [
        Check("skipped", None, None, "", SKIP),
        Check("F2.5", 0.85, 0.84, "±0.01", PASS, sigmas=1.04),
        Check("FN", 9, 5, "±2", FAIL, sigmas=4.0),
    ]
    section = _checks_section(Comparison("run", "base.json", checks))
    assert re.findall(r'<tr class="(\w+)">', section) == [FAIL, PASS, SKIP]
    assert "<td>1.0 σ</td>" in section and "not calibrated" not in section


def test_long_contexts_are_cut_and_other_inputs_are_not_paired(tmp_path):
    from pruning.harness.report_page import SNIPPET

    long_text = "文" * (SNIPPET + 40)
    items = [EvalItem("q", [long_text, "short"], [1, 0])] * 4
    data = tmp_path / "long.json"
    data.write_text(json.dumps([{"query": i.query, "contexts": i.contexts, "labels": i.labels} for i in items]))
    base = capture(load_run(make_run(tmp_path / "base", items=items, scores=[[0.9, 0.1]] * 4, data=str(data))))
    run = load_run(make_run(tmp_path / "run", items=items, scores=[[0.2, 0.1]] * 4, data=str(data)))
    page = render_page(run, base, compare(run, base))
    assert f"<td>{long_text[:SNIPPET]}…</td>" in page and long_text not in page
    other = load_run(make_run(tmp_path / "other", items=items[:3], scores=[[0.9, 0.1]] * 3, data=str(data)))
    page = render_page(other, base, compare(other, base))
    assert (
        "The run scored other inputs than the baseline (queries or context counts differ), so contexts cannot be "
        "paired." in page
    )
