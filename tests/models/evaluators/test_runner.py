"""The run loop on a real warehouse: code evaluators from the user's path, failures recorded,
incremental runs, versions side by side, and the rows written exactly once."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.db import connect
from ingest.errors import ConfigError
from models.evaluators import config, run, store
from models.evaluators.builtins import BUILTINS
from tests.models.evaluators.evdata import event, insert, plain

CHECKS = '''
def long_enough(event):
    text = event["output_text"] or ""
    return len(text) > 40, f"{len(text)} characters"

def tone(event):
    return {"label": "formal" if "because" in (event.output_text or "") else "casual"}

def fragile(event):
    if event["event_id"].endswith("3"):
        raise RuntimeError("cannot handle " + event["event_id"])
    return 0.75
'''


def toml(version: str = "1", rate: float = 1.0) -> str:
    return f"""builtins = ["refusal"]

[[evaluator]]
name = "long_enough"
version = "{version}"
kind = "code"
function = "team_checks:long_enough"
sample_rate = {rate}

[[evaluator]]
name = "tone"
kind = "code"
function = "team_checks:tone"

[[evaluator]]
name = "fragile"
kind = "code"
function = "team_checks:fragile"
"""


@pytest.fixture
def team(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory with a user's module of checks and an evaluators.toml."""
    work = tmp_path / "work"
    work.mkdir()
    (work / "team_checks.py").write_text(CHECKS, encoding="utf-8")
    (work / "evaluators.toml").write_text(toml(), encoding="utf-8")
    monkeypatch.chdir(work)
    monkeypatch.syspath_prepend(str(work))
    return work


def test_code_evaluators_from_the_users_path(db_path: Path, team: Path) -> None:
    ids = plain(db_path, 20)
    s = run(db_path)
    by = {c.name: c for c in s.evaluators}
    assert s.config_path == "evaluators.toml" and s.stopped is None
    assert by["long_enough"].scored == 20 and by["tone"].scored == 20
    assert by["refusal"].scored == 20 and by["refusal"].fails == 0
    # the one that raises is recorded per event, the others are not held up
    failing = [e for e in ids if e.endswith("3")]
    assert by["fragile"].errors == len(failing) == 2 and by["fragile"].scored == 18
    with connect(db_path, read_only=True) as con:
        errors = con.execute("SELECT event_id, raw FROM evaluations WHERE evaluator = 'fragile' "
                             "AND status = 'error' ORDER BY 1").fetchall()
        assert errors == [(e, f"RuntimeError: cannot handle {e}") for e in failing]
        fb = con.execute(
            "SELECT name, kind, value, label, source, comment, author, evaluator_version "
            "FROM feedback WHERE event_id = ? ORDER BY name", [ids[0]]).fetchall()
        assert ("long_enough", "score", 1.0, "pass", "code", "52 characters",
                "long_enough@1", "1") in fb
        assert ("tone", "label", None, "formal", "code", None, "tone@1", "1") in fb
        assert ("fragile", "score", 0.75, None, "code", None, "fragile@1", "1") in fb
        # each scored evaluation has exactly its feedback row; errors have none
        assert con.execute(
            "SELECT count(*) FROM evaluations v LEFT JOIN feedback f USING (feedback_id) "
            "WHERE (v.status = 'scored') <> (f.feedback_id IS NOT NULL)").fetchone()[0] == 0
        # the derived tables were refreshed in the same transactions
        assert con.execute("SELECT sum(fb_code) FROM trend_facts").fetchone()[0] > 0
        run_row = con.execute("SELECT n_scored, n_errors, finished_at IS NOT NULL, stopped "
                              "FROM evaluator_runs").fetchall()
        assert run_row == [(s.totals["scored"], 2, True, None)]


def test_second_run_scores_only_new_events(db_path: Path, team: Path) -> None:
    plain(db_path, 10)
    run(db_path)
    again = run(db_path)
    assert again.totals["sampled"] == 0 and again.run_id is None
    plain(db_path, 3, prefix="new")
    third = run(db_path)
    assert {c.name: c.sampled for c in third.evaluators} == {
        "long_enough": 3, "tone": 3, "fragile": 3, "refusal": 3}
    with connect(db_path, read_only=True) as con:
        assert con.execute("SELECT count(*), count(DISTINCT (evaluator, event_id)) "
                           "FROM evaluations").fetchone() == (52, 52)


def test_a_new_version_keeps_the_old_rows(db_path: Path, team: Path) -> None:
    plain(db_path, 5)
    run(db_path, only=["long_enough"])
    (team / "evaluators.toml").write_text(toml(version="2"), encoding="utf-8")
    s = run(db_path, only=["long_enough"])
    assert s.evaluators[0].scored == 5
    with connect(db_path, read_only=True) as con:
        assert con.execute("SELECT evaluator_version, count(*) FROM feedback WHERE name = "
                           "'long_enough' GROUP BY 1 ORDER BY 1").fetchall() == [("1", 5),
                                                                                  ("2", 5)]


def test_sample_rate_and_raising_it(db_path: Path, team: Path) -> None:
    plain(db_path, 200)
    low = run(db_path, only=["long_enough"], sample_rate=0.2)
    assert 15 < low.evaluators[0].scored < 65
    with connect(db_path, read_only=True) as con:
        first = {r[0] for r in con.execute("SELECT event_id FROM evaluations").fetchall()}
    high = run(db_path, only=["long_enough"], sample_rate=0.5)
    with connect(db_path, read_only=True) as con:
        both = {r[0] for r in con.execute("SELECT event_id FROM evaluations").fetchall()}
    assert first < both and high.evaluators[0].scored == len(both) - len(first)


def test_dry_run_writes_nothing(db_path: Path, team: Path) -> None:
    plain(db_path, 4)
    s = run(db_path, dry_run=True)
    assert s.dry_run and s.totals["sampled"] == 16 and s.totals["scored"] == 0
    with connect(db_path, read_only=True) as con:
        assert con.execute("SELECT count(*) FROM evaluations").fetchone()[0] == 0


def test_applies_to_uses_the_explorer_filter(db_path: Path, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    insert(db_path, [event("a"), event("b", model="gpt-4o"), event("c", model="gpt-4o")])
    path = tmp_path / "e.toml"
    path.write_text('builtins = false\n[[evaluator]]\nname = "r"\nkind = "code"\n'
                    'builtin = "refusal"\napplies_to = "model=gpt-4o"\n', encoding="utf-8")
    s = run(db_path, path)
    assert s.evaluators[0].matched == 2 and s.evaluators[0].scored == 2


def test_an_unimportable_function_is_a_config_error(db_path: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "e.toml"
    path.write_text('[[evaluator]]\nname = "x"\nkind = "code"\nfunction = "nowhere:f"\n',
                    encoding="utf-8")
    with pytest.raises(ConfigError, match=r"e\.toml: evaluator 'x': cannot import 'nowhere'"):
        run(db_path, path)


def test_a_bad_return_value_is_an_error_for_that_event(db_path: Path, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "odd.py").write_text("def check(e):\n    return 7\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    plain(db_path, 2)
    conf = config.parse('builtins = false\n[[evaluator]]\nname = "odd"\nkind = "code"\n'
                        'function = "odd:check"\n', "odd.toml")
    s = run(db_path, conf)
    assert s.evaluators[0].errors == 2
    with connect(db_path, read_only=True) as con:
        assert "0..1" in con.execute("SELECT any_value(raw) FROM evaluations").fetchone()[0]


def test_writing_the_same_rows_twice_changes_nothing(db_path: Path) -> None:
    plain(db_path, 3)
    spec = config.builtin_specs(["refusal"])[0]
    from models.evaluators.verdict import passed

    rows = [store.Row(spec, f"e{i:04d}", "scored", passed(True)) for i in range(3)]
    with connect(db_path) as con:
        run_id = store.start_run(con, None, [spec])
        assert len(store.write(con, run_id, rows)) == 3
        assert store.write(con, run_id, rows + rows) == []
        n = con.execute("SELECT count(*) FROM feedback WHERE name = 'refusal'").fetchone()[0]
        assert n == 3
    assert "refusal" in BUILTINS


def test_a_wider_filter_under_the_same_version_scores_the_new_events(
        db_path: Path, tmp_path: Path) -> None:
    insert(db_path, [event("a1"), event("a2"), event("a3"), event("b1", model="gpt-4o")])
    path = tmp_path / "e.toml"
    body = 'builtins = false\n[[evaluator]]\nname = "r"\nkind = "code"\nbuiltin = "refusal"\n'
    path.write_text(body + 'applies_to = "model=gpt-4o-mini"\n', encoding="utf-8")
    assert run(db_path, path).evaluators[0].scored == 3
    path.write_text(body + 'applies_to = "model=gpt-4o"\n', encoding="utf-8")
    assert run(db_path, path).evaluators[0].scored == 1  # 3 done elsewhere, 1 new here
