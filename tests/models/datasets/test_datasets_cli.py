"""`reviewdeck dataset`, `rerun --dataset` (against the OpenAI stub) and `evaluate --dataset`."""

from __future__ import annotations

import json

import typer
from typer.testing import CliRunner

from dashboard.cli import app as reviewdeck
from dashboard.cli import dataset as dataset_cli
from dashboard.cli.evaluate import evaluate
from ingest.db import connect
from ingest.errors import ReviewdeckError
from tests.models.evaluators.evdata import event, insert
from tests.models.rerun_data import insert_many
from tests.openai_fixtures import openai_env, openai_server  # noqa: F401

# Their own apps, so these tests do not depend on how the top-level command registers them.
datasets = typer.Typer()
datasets.add_typer(dataset_cli.app, name="dataset")
evaluator = typer.Typer()
evaluator.command()(evaluate)


def _ok(app, args):
    done = CliRunner().invoke(app, args)
    assert done.exit_code == 0, (done.output, done.exception)
    return done


def test_create_list_show_delete(db_path, con):
    insert_many(con, 3, thumbs=0)
    insert_many(con, 2, thumbs=1, prefix="up")
    con.close()
    db = ["--db", str(db_path)]
    out = _ok(datasets, ["dataset", "create", "--name", "w07", "--where",
                         "feedback=thumbs_down", "--description", "billing fails", *db])
    assert "dataset w07: 3 events from filter · feedback=thumbs_down" in out.output
    _ok(datasets, ["dataset", "create", "--name", "pair", "--from", "events", "--ids",
                   "up0001,ev0002", *db])
    dup = CliRunner().invoke(datasets, ["dataset", "create", "--name", "w07", *db])
    assert isinstance(dup.exception, ReviewdeckError)
    assert "a dataset named 'w07' already exists" in str(dup.exception)
    listed = _ok(datasets, ["dataset", "list", *db]).output
    assert "pair: 2 events (events)" in listed and "w07: 3 events (filter)" in listed
    assert "billing fails" in listed
    shown = json.loads(_ok(datasets, ["dataset", "show", "pair", "--json", *db]).output)
    assert shown["event_ids"] == ["up0001", "ev0002"] and shown["rerun_batches"] == []
    text = _ok(datasets, ["dataset", "show", "w07", "--events", "2", *db]).output
    assert "events: ev0000, ev0001 ... (1 more)" in text and "no rerun batches yet" in text
    assert "deleted dataset pair (2 events)" in _ok(
        datasets, ["dataset", "delete", "pair", *db]).output
    gone = CliRunner().invoke(datasets, ["dataset", "show", "pair", *db])
    assert "no dataset named 'pair'; datasets: w07" in str(gone.exception)


def test_rerun_dataset_reruns_exactly_its_events_and_show_compares_runs(
        db_path, con, openai_env, monkeypatch, tmp_path):  # noqa: F811
    monkeypatch.setenv("REVIEWDECK_SECRETS", str(tmp_path / "none.toml"))
    insert_many(con, 6, thumbs=0)
    insert_many(con, 4, thumbs=1, prefix="up")
    con.close()
    db = ["--db", str(db_path)]
    _ok(datasets, ["dataset", "create", "--name", "regress", "--from", "events", "--ids",
                   "ev0001,ev0004,up0002", *db])
    openai_env.set_reply("judge-model", '{"preferred": "2", "rationale": "second"}')
    args = ["rerun", "--dataset", "regress", "--endpoint", "stub", "--judge", "judge-model",
            *db, "--json"]
    first = json.loads(_ok(reviewdeck, [*args, "--model", "gpt-4o"]).output)
    assert first["dataset"] == "regress" and first["where"] == "dataset=regress"
    assert first["run"]["done"] == 3 and first["items"] == {"done": 3}
    assert openai_env.count("chat") == 3 * 3  # one rerun + two judgements each
    with connect(db_path, read_only=True) as c:
        rerun_of = sorted(r[0] for r in c.execute(
            "SELECT rerun_of FROM events WHERE rerun_of IS NOT NULL").fetchall())
        tagged = c.execute("SELECT dataset FROM rerun_batches").fetchall()
    assert rerun_of == ["ev0001", "ev0004", "up0002"] and tagged == [("regress",)]
    # The same command resumes (nothing called again); another model is another batch.
    again = json.loads(_ok(reviewdeck, [*args, "--model", "gpt-4o"]).output)
    assert "run" not in again and again["batch_id"] == first["batch_id"]
    second = json.loads(_ok(reviewdeck, [*args, "--model", "gpt-4.1-mini"]).output)
    assert second["batch_id"] != first["batch_id"] and second["run"]["done"] == 3
    shown = json.loads(_ok(datasets, ["dataset", "show", "regress", "--json", *db]).output)
    runs = shown["rerun_batches"]
    assert [r["model"] for r in runs] == ["gpt-4o", "gpt-4.1-mini"]
    # The judge always answers "2": in both orders that is one win and one loss, a tie.
    assert all((r["win"], r["tie"], r["loss"]) == (0, 3, 0) for r in runs)
    text = _ok(datasets, ["dataset", "show", "regress", *db]).output
    assert text.count("judge judge-model: win 0 / tie 3 / loss 0") == 2
    listed = _ok(datasets, ["dataset", "list", *db]).output
    assert "2 rerun batch(es)" in listed


def test_rerun_dataset_refuses_where_and_unknown_names(db_path, con, openai_env):  # noqa: F811
    insert_many(con, 2)
    con.close()
    db = ["--db", str(db_path)]
    both = CliRunner().invoke(reviewdeck, ["rerun", "--dataset", "x", "--where", "model=a",
                                           "--model", "gpt-4o", *db])
    assert "give --dataset or --where, not both" in str(both.exception)
    unknown = CliRunner().invoke(reviewdeck, ["rerun", "--dataset", "x", "--model", "gpt-4o",
                                              "--endpoint", "stub", *db])
    assert isinstance(unknown.exception, ReviewdeckError)
    assert "no dataset named 'x'" in str(unknown.exception)
    assert openai_env.count("chat") == 0


def test_evaluate_dataset_scores_only_its_events(db_path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no evaluators.toml: the built-ins
    refusal = "I'm sorry, but I can't help with that."
    insert(db_path, [event("a"), event("b", answer=refusal), event("c", answer=refusal),
                     event("d")])
    db = ["--db", str(db_path)]
    _ok(datasets, ["dataset", "create", "--name", "ab", "--from", "events", "--ids", "a,b", *db])
    out = json.loads(_ok(evaluator, ["--dataset", "ab", "--only", "refusal", "--json",
                                     *db]).output)
    (refused,) = out["evaluators"]
    assert (refused["matched"], refused["scored"], refused["fails"]) == (2, 2, 1)
    with connect(db_path, read_only=True) as c:
        scored = sorted(r[0] for r in c.execute(
            "SELECT event_id FROM evaluations WHERE evaluator = 'refusal'").fetchall())
    assert scored == ["a", "b"]
    # Sampling still applies within the dataset; a new run on all events scores the rest.
    rest = json.loads(_ok(evaluator, ["--only", "refusal", "--json", *db]).output)
    assert rest["evaluators"][0]["scored"] == 2 and rest["evaluators"][0]["fails"] == 1
    unknown = CliRunner().invoke(evaluator, ["--dataset", "zz", *db])
    assert "no dataset named 'zz'" in str(unknown.exception)


def test_evaluate_dataset_keeps_the_evaluators_sample(db_path, tmp_path, monkeypatch):
    from models.evaluators.sampling import in_sample

    monkeypatch.chdir(tmp_path)
    ids = [f"e{i:02d}" for i in range(40)]
    insert(db_path, [event(e) for e in ids])
    db = ["--db", str(db_path)]
    chosen = ids[:20]
    _ok(datasets, ["dataset", "create", "--name", "half", "--from", "events", "--ids",
                   ",".join(chosen), *db])
    out = json.loads(_ok(evaluator, ["--dataset", "half", "--only", "refusal",
                                     "--sample-rate", "0.5", "--json", *db]).output)
    expected = [e for e in chosen if in_sample(e, "refusal", 0.5)]
    assert 0 < len(expected) < 20  # the sample really cuts the dataset
    assert out["evaluators"][0]["matched"] == 20
    assert out["evaluators"][0]["sampled"] == len(expected)
    with connect(db_path, read_only=True) as c:
        scored = sorted(r[0] for r in c.execute("SELECT event_id FROM evaluations").fetchall())
    assert scored == expected
