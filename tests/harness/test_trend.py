"""The slow-drift alarm on synthetic ledgers (a step, a ramp inside the band, pure noise), and the trend drawing."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pruning.cli.baseline import main as baseline_main
from pruning.harness.history import append
from pruning.harness.trend import MIN_CUSUM, Series, alarms, cusum, noise_sigma, series_from

pytestmark = pytest.mark.unit

BASE, BAND, SIGMA = 0.85, 0.01, 0.002  # F2.5-like: the band is 5 σ of the nightly noise


def _series(values) -> Series:
    n = len(values)
    return Series(
        "F2.5",
        [f"c{i}" for i in range(n)],
        [""] * n,
        list(values),
        [BASE] * n,
        [BASE - BAND] * n,
        [BASE + BAND] * n,
        [False] * n,
    )


def _rules(values) -> set[str]:
    return {a.rule for a in alarms(_series(values))}


def test_pure_noise_stays_under_the_stated_false_alarm_rate():
    rng = np.random.default_rng(2026)
    fired = sum(bool(_rules(BASE + rng.normal(0, SIGMA, 30))) for _ in range(1000))
    assert fired / 1000 <= 0.10  # trend.py: 7.4 % over 20,000 histories (6.25 % from the run rule)


def test_a_slow_ramp_that_never_leaves_the_band_raises_the_alarm():
    rng = np.random.default_rng(8)
    ramp = BASE + np.linspace(0, -0.006, 30) + rng.normal(0, SIGMA, 30)
    assert np.all(np.abs(ramp - BASE) < BAND)  # every night passes its band
    assert _rules(ramp) == {"run", "CUSUM"}
    detected = sum("CUSUM" in _rules(BASE + np.linspace(0, -0.008, 30) + rng.normal(0, SIGMA, 30)) for _ in range(100))
    assert detected >= 95


def test_a_step_raises_the_alarm_within_ten_nights():
    rng = np.random.default_rng(11)
    values = BASE + rng.normal(0, SIGMA, 30)
    values[20:] += 0.006  # 3 σ up, still inside the band
    assert np.all(np.abs(values - BASE) < BAND)
    assert "CUSUM" in _rules(values) and "run" in _rules(values)
    assert "CUSUM" not in _rules(values[:20])


def test_run_rule_by_hand():
    assert _rules([BASE + 0.001] * 4) == set()  # too few nights
    assert "run" in _rules([BASE] * 3 + [BASE + 0.001] * 5)
    assert _rules([BASE + 0.001] * 4 + [BASE]) == set()  # a night on the baseline breaks the run
    alarm = alarms(_series([BASE - 0.001] * 6))[0]
    assert (alarm.rule, alarm.detail) == ("run", "the last 5 nights all lie below the baseline")
    assert alarms(_series([BASE - 0.001] * 6), run_length=7) == []


def test_cusum_and_noise_by_hand():
    up, down = cusum(np.array([1.0, 1.0, -3.0, 0.0]), k=0.5)
    assert up.tolist() == [0.5, 1.0, 0.0, 0.0] and down.tolist() == [0.0, 0.0, 2.5, 2.0]
    # |differences| 1, 1, 2 → median 1 → 1.4826 / √2
    assert noise_sigma([0.0, 1.0, 0.0, 2.0]) == pytest.approx(1.4826 / np.sqrt(2))
    assert noise_sigma([1.0, 1.0, 1.0, 1.0]) is None and noise_sigma([1.0, 2.0]) is None
    assert noise_sigma([0.0, 1.0, 3.0]) == pytest.approx(1.4826 * 1.5 / np.sqrt(2))  # three nights are enough
    # mostly equal values: the plain std of the differences
    assert noise_sigma([0.0, 0.0, 0.0, 0.0, 3.0]) == pytest.approx(np.std([0, 0, 0, 3]) / np.sqrt(2))
    assert MIN_CUSUM == 8


def _ledger(tmp_path, values, failed_at=()):
    path = tmp_path / "ledger.jsonl"
    for i, v in enumerate(values):
        metric = {"name": "ja_v3: F2.5 at 0.3", "value": v, "baseline": BASE, "low": BASE - BAND, "high": BASE + BAND}
        loss = {"name": "final_eval pruning_loss", "value": 0.4, "baseline": 0.4, "low": None, "high": None}
        failed = ["ja_v3: F2.5 at 0.3"] if i in failed_at else []
        append(
            path,
            {
                "commit": f"{i:040x}",
                "time": f"2026-11-{i + 1:02d}",
                "metrics": [metric, loss],
                "failed": failed,
                "verdict": "FAIL" if failed else "pass",
                "report": f"<b>{i}</b>.html",
            },
        )
    return path


def test_series_from_entries(tmp_path):
    from pruning.harness.history import read

    path = _ledger(tmp_path, [0.85, 0.84, 0.80], failed_at=(2,))
    f25, loss = series_from(read(path).entries)
    assert f25.name == "ja_v3: F2.5 at 0.3" and f25.values == [0.85, 0.84, 0.80] and f25.failed == [False, False, True]
    assert f25.commits == ["00000000", "00000000", "00000000"] and loss.lows == [None] * 3
    assert f25.times == ["2026-11-01", "2026-11-02", "2026-11-03"]
    assert f25.lows == [BASE - BAND] * 3 and f25.highs == [BASE + BAND] * 3 and loss.highs == [None] * 3


@pytest.mark.parametrize(("shift", "side"), [(0.01, "up"), (-0.01, "down")])
def test_the_cusum_alarm_says_which_way_and_how_far(shift, side):
    values = [BASE + 0.002, BASE - 0.002] * 5 + [BASE + shift] * 6  # σ ≈ 0.004 from the swings; then a 2.4 σ step
    sigma = noise_sigma(values)
    up, down = cusum((np.asarray(values) - BASE) / sigma)
    (alarm,) = [a for a in alarms(_series(values)) if a.rule == "CUSUM"]
    s = (up if side == "up" else down)[-1]
    assert alarm.detail == f"drifting {side}: S = {s:.1f} > h = 6 (σ = {sigma:.3g} per night)"


def test_history_command_draws_and_flags(tmp_path, capsys):
    rng = np.random.default_rng(3)
    ramp = list(BASE + np.linspace(0, -0.008, 30) + rng.normal(0, SIGMA, 30))
    path = _ledger(tmp_path, ramp, failed_at=(29,))
    with open(path, "ab") as f:
        f.write(b'{"torn')
    page = tmp_path / "trend.html"
    assert baseline_main(["history", str(path), "-o", str(page)]) == 0
    out = capsys.readouterr().out
    assert f"{path}: line 31 skipped: torn (not a whole JSON entry)" in out
    assert "wrote" in out and "DRIFT ja_v3: F2.5 at 0.3: run: the last 5 nights all lie below the baseline" in out
    assert "DRIFT ja_v3: F2.5 at 0.3: CUSUM: drifting down" in out
    html = page.read_text()
    assert "&lt;b&gt;29&lt;/b&gt;.html" in html and "<b>29</b>" not in html
    assert "line 31: torn" in html and html.count('src="data:image/svg+xml;base64,') == 1
    assert baseline_main(["history", str(path), "-o", str(page), "--fail-on-drift"]) == 1
    png = tmp_path / "trend.png"
    assert baseline_main(["history", str(path), "-o", str(png)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    steady = _ledger(tmp_path / "steady", [BASE] * 6)
    assert baseline_main(["history", str(steady), "-o", str(tmp_path / "s.html"), "--fail-on-drift"]) == 0
    assert "no drift alarm" in capsys.readouterr().out


def test_history_command_bad_input(tmp_path, capsys):
    path = _ledger(tmp_path, [BASE])
    assert baseline_main(["history", str(path), "-o", str(tmp_path / "t.svg")]) == 2
    assert "the trend is written as .png or .html" in capsys.readouterr().err
    assert baseline_main(["history", str(tmp_path / "none.jsonl"), "-o", str(tmp_path / "t.html")]) == 2
    assert "cannot read the history ledger" in capsys.readouterr().err
    assert baseline_main(["history", str(path), "-o", str(tmp_path / "t.html"), "--run-length", "1"]) == 2
    empty = tmp_path / "empty.jsonl"
    empty.write_text(json.dumps({"metrics": []}) + "\n")
    assert baseline_main(["history", str(empty), "-o", str(tmp_path / "t.html")]) == 2
    assert "holds no metrics" in capsys.readouterr().err
