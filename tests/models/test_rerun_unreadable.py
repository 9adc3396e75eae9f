"""Unreadable judge replies are no judgement: counted apart, left out of win/tie/loss.

Runs real batches through the openai SDK against the local stub and reads the report back from
the warehouse, as the page, `reviewdeck rerun --json` and the weekly report do.
"""

from __future__ import annotations

import json

from typer.testing import CliRunner

from dashboard.cli import app
from ingest.db import connect
from models.filters import parse_where
from models.rerun import runner as rr
from models.rerun.endpoints import Endpoint
from models.rerun.judge import pair_outcome, parse_choice, preferred_side, summarize
from models.rerun.report import batch_report, report_dict
from tests.models.rerun_data import insert_many
from tests.openai_fixtures import STUB_API_KEY, openai_env, openai_server  # noqa: F401


def _run(db_path, stub, **kw):
    opts = rr.BatchOptions(model="gpt-4o", judge_model="judge-model", **kw)
    plan = rr.plan_batch(str(db_path), parse_where(""), "stub", opts)
    ep = Endpoint("stub", stub.base_url, kind="compatible", api_key=STUB_API_KEY)
    rr.run_batch(str(db_path), plan, opts, endpoint=ep)
    with connect(db_path, read_only=True) as c:
        return batch_report(c, plan.batch_id)


def test_parse_marks_an_unreadable_reply():
    choice = parse_choice("I would rather not say.")
    assert not choice.readable
    assert preferred_side(choice, rerun_first=True) == "unreadable"
    assert parse_choice('{"preferred": "tie", "rationale": "same"}').readable


def test_a_pair_with_one_unreadable_order_is_left_out():
    outs = [
        pair_outcome("a", ["rerun", "unreadable"]),
        pair_outcome("b", ["rerun", "rerun"]),
        pair_outcome("c", ["tie", "tie"]),
    ]
    assert [o.outcome for o in outs] == ["unreadable", "win", "tie"]
    s = summarize(outs)
    assert (s.n, s.win.count, s.tie.count, s.loss.count, s.unreadable_pairs) == (2, 1, 1, 0, 1)
    assert s.win.share == 0.5  # the interval's denominator is the readable pairs only


def test_all_unreadable_judge_gives_no_wins_ties_or_losses(db_path, con, openai_server):  # noqa: F811
    insert_many(con, 4)
    con.close()
    openai_server.set_reply("judge-model", "I would rather not say.")
    rep = _run(db_path, openai_server)
    j = rep.judge
    assert (j.win.count, j.tie.count, j.loss.count, j.n) == (0, 0, 0, 0)
    assert rep.unreadable == 8 and j.unreadable_pairs == 4
    assert j.p_value is None and j.win_rate_decisive is None
    assert rep.pairs["judge_outcome"].to_list() == ["unreadable"] * 4
    with connect(db_path, read_only=True) as c:
        stored = c.execute("SELECT DISTINCT preferred FROM rerun_judgements").fetchall()
    assert stored == [("unreadable",)]
    out = report_dict(rep)["judge"]
    assert (out["win"]["count"], out["tie"]["count"], out["loss"]["count"]) == (0, 0, 0)
    assert (out["unreadable"], out["pairs_unreadable"], out["pairs"]) == (8, 4, 0)


def test_failed_judge_calls_count_as_unreadable(db_path, con, openai_server):  # noqa: F811
    insert_many(con, 3)
    con.close()
    # the judge model does not exist on the endpoint: every judge call is a 404
    opts = dict(judge_model="missing-judge")
    plan_opts = rr.BatchOptions(model="gpt-4o", **opts)
    plan = rr.plan_batch(str(db_path), parse_where(""), "stub", plan_opts)
    ep = Endpoint("stub", openai_server.base_url, kind="compatible", api_key=STUB_API_KEY)
    rr.run_batch(str(db_path), plan, plan_opts, endpoint=ep)
    with connect(db_path, read_only=True) as c:
        rep = batch_report(c, plan.batch_id)
    assert rep.unreadable == 6 and rep.judge.n == 0 and rep.judge.tie.count == 0


def test_mixed_judge_counts_only_readable_pairs(db_path, con, openai_server):  # noqa: F811
    insert_many(con, 6)
    con.close()

    def judge(body: dict) -> str:
        text = body["messages"][-1]["content"]
        # the answers echo the question: unreadable for cards 0 and 1, else pick the rerun
        if "card 0 " in text or "card 1 " in text:
            return "hmm"
        first = text.split("<answer 1>")[1].split("</answer 1>")[0]
        return json.dumps({"preferred": "1" if "[gpt-4o]" in first else "2", "rationale": "r"})

    openai_server.set_reply("judge-model", judge)
    rep = _run(db_path, openai_server)
    assert (rep.judge.win.count, rep.judge.tie.count, rep.judge.loss.count) == (4, 0, 0)
    assert rep.unreadable == 4 and rep.judge.unreadable_pairs == 2
    assert rep.judge.win.share == 1.0


def test_rows_of_older_runs_stored_as_ties_are_read_as_unreadable(db_path, con, openai_server):  # noqa: F811
    insert_many(con, 2)
    con.close()
    openai_server.set_reply("judge-model", "no idea")
    rep = _run(db_path, openai_server)
    with connect(db_path) as c:  # what a warehouse written before this change holds
        c.execute(
            "UPDATE rerun_judgements SET preferred = 'tie',"
            " rationale = '(unreadable judge reply, counted as a tie) no idea'"
        )
        c.execute(
            "UPDATE rerun_judgements SET rationale = '(judge error 500: counted as a tie)'"
            " WHERE rerun_first"
        )
        old = batch_report(c, rep.batch.batch_id)
    assert (old.judge.tie.count, old.judge.n, old.unreadable) == (0, 0, 4)


def test_cli_text_and_json_show_unreadable(db_path, con, openai_env, monkeypatch, tmp_path):  # noqa: F811
    monkeypatch.setenv("REVIEWDECK_SECRETS", str(tmp_path / "none.toml"))
    insert_many(con, 3)
    con.close()
    openai_env.set_reply("judge-model", "cannot say")
    base = [
        "rerun",
        "--model",
        "gpt-4o",
        "--endpoint",
        "stub",
        "--judge",
        "judge-model",
        "--db",
        str(db_path),
    ]
    text = CliRunner().invoke(app, base)
    assert text.exit_code == 0, text.output
    assert "unreadable: 6 judgements" in text.output
    assert " tie:    0" in text.output and " win:    0" in text.output
    js = CliRunner().invoke(app, [*base, "--json"])
    out = json.loads(js.output)["judge"]
    assert (out["tie"]["count"], out["unreadable"]) == (0, 6)
