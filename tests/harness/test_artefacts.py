"""Reading a run directory: a hand-edited or ambiguous run is a named error."""

from __future__ import annotations

import json

import pytest

from pruning.errors import PruningError
from pruning.harness.artefacts import load_run
from tests.harness.helpers import SETUP, make_run

pytestmark = pytest.mark.unit


def test_two_results_for_one_data_file_are_an_error(tmp_path):
    run = make_run(tmp_path / "run")
    (run / "eval" / "easy_seed.json").write_text((run / "eval" / "easy.json").read_text())
    with pytest.raises(PruningError, match=r"easy_seed.json: evaluates easy.json as easy.json does"):
        load_run(run)


def test_hand_edited_run_result_is_a_named_error(tmp_path):
    run = make_run(tmp_path / "run")
    result = json.loads((run / "eval" / "easy.json").read_text())
    del result["thresholds"][0]["recall"]
    (run / "eval" / "easy.json").write_text(json.dumps(result))
    with pytest.raises(PruningError, match=r"easy.json: thresholds\[0\]: field 'recall' missing or not a number"):
        load_run(run)


def test_hand_edited_run_summary_provenance_is_a_named_error(tmp_path):
    run = make_run(tmp_path / "run", setup={**SETUP, "data_files": {"train": "train.jsonl"}})
    with pytest.raises(PruningError, match=r"run_summary.json: field 'data_files' must map splits"):
        load_run(run)
