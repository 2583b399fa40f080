"""The bad-input matrix (cases in ``tests/ui/bad_inputs.py``): each command against each bad input exits with the
status the case names, says so in one line, without a traceback, and leaves exactly the files it names; the
table in docs/bad-input.md (``scripts/bad_input_table.py``) lists every case."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ui.bad_inputs import CASES, Case, run_case

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input(case: Case, tmp_path):
    outcome = run_case(case, tmp_path)
    shown = f"{case.argv}\nstdout: {outcome.stdout}\nstderr: {outcome.stderr}"
    assert outcome.status == case.status, shown
    assert case.message in outcome.message, shown
    assert "Traceback" not in outcome.stderr, shown
    if case.status == 2:
        assert sum("rror" in line for line in outcome.stderr.splitlines()) == 1, shown
    if case.status >= 128:
        assert outcome.stderr.strip().endswith(outcome.message) and "interrupted" in outcome.message, shown
    if case.changes is not None:
        assert outcome.changes == sorted(case.changes), shown


def test_the_table_lists_every_case():
    assert len({case.id for case in CASES}) == len(CASES)
    table = (REPO / "docs" / "bad-input.md").read_text(encoding="utf-8")
    missing = [case.id for case in CASES if f"| {case.command} | {case.bad} |" not in table]
    assert not missing, f"run .venv/bin/python scripts/bad_input_table.py (missing: {', '.join(missing)})"
