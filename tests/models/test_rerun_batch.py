"""Batch reruns against the stub over real HTTP: links, retries, spend cap, resume, judge."""

from __future__ import annotations

import threading
import time

import pytest

from ingest.db import connect
from models.filters import parse_where
from models.rerun import runner as rr
from models.rerun.endpoints import Endpoint
from models.rerun.report import batch_report
from tests.models.rerun_data import insert_event, insert_many
from tests.openai_fixtures import STUB_API_KEY, openai_server  # noqa: F401


def endpoint(stub) -> Endpoint:
    return Endpoint("stub", stub.base_url, kind="compatible", api_key=STUB_API_KEY)


def run(db_path, stub, where="feedback=thumbs_down", **kw):
    stop = kw.pop("stop", None)
    on_progress = kw.pop("on_progress", None)
    opts = rr.BatchOptions(**{"model": "gpt-4o", **kw})
    plan = rr.plan_batch(str(db_path), parse_where(where), "stub", opts)
    result = rr.run_batch(
        str(db_path), plan, opts, endpoint=endpoint(stub), stop=stop, on_progress=on_progress
    )
    return plan, result


def test_reruns_link_to_originals_and_only_the_filtered_events(db_path, con, openai_server):  # noqa: F811
    down = insert_many(con, 6, thumbs=0, prefix="down")
    insert_many(con, 4, thumbs=1, prefix="up")
    con.close()
    plan, result = run(db_path, openai_server)
    assert (plan.n_items, result.done, result.status) == (6, 6, "done")
    with connect(db_path, read_only=True) as c:
        rows = c.execute(
            "SELECT r.rerun_of, r.environment, r.source_format, r.model_requested, r.status,"
            " r.output_text, o.input_text FROM events r JOIN events o ON o.event_id = r.rerun_of"
            " ORDER BY r.rerun_of"
        ).fetchall()
    assert [r[0] for r in rows] == sorted(down)
    for _rerun_of, env, fmt, model, status, out, question in rows:
        assert (env, fmt, model, status) == ("playground", "playground", "gpt-4o", "ok")
        assert out == f"[gpt-4o] answer to: {question}"  # the stub echoes the replayed question
    # the replayed request kept the system prompt and the history
    sent = openai_server.requests[0]["body"]["messages"]
    assert [m["role"] for m in sent] == ["system", "user", "assistant", "user"]


def test_retries_honour_retry_after_then_succeed(db_path, con, openai_server):  # noqa: F811
    insert_event(con, "e1", "q1", "a1", thumbs=0)
    con.close()
    openai_server.fail_next(429, times=1, retry_after=0.6)
    openai_server.fail_next(500, times=1)
    t0 = time.monotonic()
    _, result = run(db_path, openai_server, concurrency=1)
    assert result.done == 1 and result.failed == 0
    assert openai_server.count("chat") == 3
    assert time.monotonic() - t0 >= 0.6  # waited as told by retry-after
    with connect(db_path, read_only=True) as c:
        assert c.execute("SELECT attempts FROM rerun_items").fetchone()[0] == 3


def test_permanent_error_is_recorded_on_the_rerun_event(db_path, con, openai_server):  # noqa: F811
    insert_event(con, "e1", "q1", "a1", thumbs=0)
    con.close()
    _, result = run(db_path, openai_server, model="missing-model")
    assert (result.done, result.errors) == (0, 1)
    assert openai_server.count("chat") == 1  # a 404 is not retried
    with connect(db_path, read_only=True) as c:
        status, etype, msg, rerun_of = c.execute(
            "SELECT status, error_type, error_message, rerun_of FROM events"
            " WHERE environment = 'playground'"
        ).fetchone()
    assert (status, etype, rerun_of) == ("error", "model_not_found", "e1")
    assert "missing-model" in msg


def test_exhausted_retries_leave_the_item_for_resume(db_path, con, openai_server):  # noqa: F811
    insert_many(con, 3)
    con.close()
    openai_server.fail_model("gpt-4o", 503)
    _, first = run(db_path, openai_server, max_attempts=2)
    assert (first.status, first.failed, first.done) == ("partial", 3, 0)
    with connect(db_path, read_only=True) as c:
        n = c.execute("SELECT count(*) FROM events WHERE rerun_of IS NOT NULL").fetchone()[0]
        assert n == 0
    openai_server.reset()
    plan, second = run(db_path, openai_server)
    assert plan.resumed and (second.done, second.status) == (3, "done")


def test_spend_cap_stops_cleanly_below_the_cap(db_path, con, openai_server):  # noqa: F811
    insert_many(con, 40)
    con.close()
    opts = rr.BatchOptions(model="gpt-4o")
    plan = rr.plan_batch(str(db_path), parse_where("feedback=thumbs_down"), "stub", opts)
    assert plan.estimate_usd is not None and plan.estimate_usd > 0
    cap = plan.estimate_usd / 4
    _, result = run(db_path, openai_server, max_cost_usd=cap, concurrency=4)
    assert result.status == "stopped_cap"
    assert 0 < result.done < 40 and result.skipped == 40 - result.done
    assert result.spent_usd <= cap
    assert openai_server.count("chat") == result.done
    with connect(db_path, read_only=True) as c:
        spent, status = c.execute("SELECT spent_usd, status FROM rerun_batches").fetchone()
        assert status == "stopped_cap" and spent == pytest.approx(result.spent_usd)
        assert (
            c.execute("SELECT count(*) FROM rerun_items WHERE status = 'pending'").fetchone()[0]
            == 40 - result.done
        )


def test_spend_cap_needs_a_price(db_path, con, openai_server):  # noqa: F811
    insert_many(con, 2)
    con.close()
    with pytest.raises(Exception, match="no price known"):
        run(db_path, openai_server, model="my-local-llama", max_cost_usd=1.0)


def test_resume_after_interruption_does_not_redo_finished_events(db_path, con, openai_server):  # noqa: F811
    ids = insert_many(con, 30)
    con.close()
    openai_server.latency = 0.05
    stop = threading.Event()

    def interrupt(p: rr.Progress) -> None:
        if p.done >= 8:
            stop.set()

    plan1, first = run(db_path, openai_server, stop=stop, on_progress=interrupt, concurrency=3)
    assert first.status == "interrupted" and 8 <= first.done < 30
    calls_first = openai_server.count("chat")
    assert calls_first == first.done  # in-flight calls were finished and saved
    plan2, second = run(db_path, openai_server)
    assert plan2.batch_id == plan1.batch_id and plan2.resumed
    assert plan2.n_pending == 30 - first.done
    assert openai_server.count("chat") - calls_first == 30 - first.done
    with connect(db_path, read_only=True) as c:
        reruns = [
            r[0]
            for r in c.execute(
                "SELECT rerun_of FROM events WHERE rerun_of IS NOT NULL ORDER BY 1"
            ).fetchall()
        ]
    assert reruns == sorted(ids)  # each original exactly once


def test_sample_is_fixed_by_seed(db_path, con, openai_server):  # noqa: F811
    insert_many(con, 20)
    con.close()
    p1 = rr.plan_batch(
        str(db_path),
        parse_where("feedback=thumbs_down"),
        "stub",
        rr.BatchOptions(model="gpt-4o", sample_n=5, seed=1),
    )
    p2 = rr.plan_batch(
        str(db_path),
        parse_where("feedback=thumbs_down"),
        "stub",
        rr.BatchOptions(model="gpt-4o", sample_n=5, seed=2),
    )
    with connect(db_path, read_only=True) as c:
        s1 = {
            r[0]
            for r in c.execute(
                "SELECT event_id FROM rerun_items WHERE batch_id = ?", [p1.batch_id]
            ).fetchall()
        }
        s2 = {
            r[0]
            for r in c.execute(
                "SELECT event_id FROM rerun_items WHERE batch_id = ?", [p2.batch_id]
            ).fetchall()
        }
    assert len(s1) == len(s2) == 5 and s1 != s2


def test_bounded_concurrency(db_path, con, openai_server):  # noqa: F811
    insert_many(con, 12)
    con.close()
    openai_server.latency = 0.1
    run(db_path, openai_server, concurrency=3)
    assert openai_server.max_in_flight == 3


def first_answer_judge(body: dict) -> str:
    return '{"preferred": "1", "rationale": "the first answer reads better"}'


def rerun_loving_judge(body: dict) -> str:
    text = body["messages"][-1]["content"]
    first = text.split("<answer 1>")[1].split("</answer 1>")[0]
    pick = "1" if "[gpt-4o]" in first else "2"
    return f'{{"preferred": "{pick}", "rationale": "answer {pick} answers the question"}}'


def test_position_biased_judge_comes_out_as_ties(db_path, con, openai_server):  # noqa: F811
    insert_many(con, 10)
    con.close()
    openai_server.set_reply("judge-model", first_answer_judge)
    plan, result = run(db_path, openai_server, judge_model="judge-model")
    assert result.done == 10
    with connect(db_path, read_only=True) as c:
        orders = c.execute(
            "SELECT rerun_first, preferred, count(*) FROM rerun_judgements GROUP BY ALL ORDER BY 1"
        ).fetchall()
        rep = batch_report(c, plan.batch_id)
    # each pair judged in both orders, and the judge always took whichever came first
    assert orders == [(False, "original", 10), (True, "rerun", 10)]
    assert (rep.judge.win.count, rep.judge.tie.count, rep.judge.loss.count) == (0, 10, 0)
    assert rep.judge.p_value is None


def test_consistent_judge_gives_wins_with_interval(db_path, con, openai_server):  # noqa: F811
    insert_many(con, 12)
    con.close()
    openai_server.set_reply("judge-model", rerun_loving_judge)
    plan, _ = run(db_path, openai_server, judge_model="judge-model")
    with connect(db_path, read_only=True) as c:
        rep = batch_report(c, plan.batch_id)
    assert rep.judge.win.count == 12 and rep.judge.win.low > 0.7
    assert rep.judge.p_value < 0.001
    assert rep.pairs["judge_outcome"].to_list() == ["win"] * 12
    assert all("answer" in r for r in rep.pairs["judge_rationale"].to_list())
    assert rep.cost_rerun_usd is not None and rep.latency_median_rerun_ms is not None


def test_key_never_reaches_the_warehouse(db_path, con, openai_server, monkeypatch):  # noqa: F811
    insert_many(con, 3)
    con.close()
    secret = "sk-WRONG-secret-never-store-me-42"
    bad = Endpoint("bad", openai_server.base_url, api_key=secret)
    opts = rr.BatchOptions(model="gpt-4o", judge_model="judge-model")
    plan = rr.plan_batch(str(db_path), parse_where(""), "bad", opts)
    rr.run_batch(str(db_path), plan, opts, endpoint=bad)
    good = endpoint(openai_server)
    rr.rerun_event(str(db_path), "ev0000", endpoint=bad, model="gpt-4o")
    rr.rerun_event(str(db_path), "ev0001", endpoint=good, model="gpt-4o")
    with connect(db_path, read_only=True) as c:
        tables = [
            r[0] for r in c.execute("SELECT table_name FROM information_schema.tables").fetchall()
        ]
        dump = "".join(str(c.execute(f'SELECT * FROM "{t}"').fetchall()) for t in tables)
        errors = c.execute("SELECT error_message FROM events WHERE status = 'error'").fetchall()
    assert errors and all("Incorrect API key" in e[0] for e in errors)  # the 401 was recorded
    assert secret not in dump and STUB_API_KEY not in dump


def test_unreadable_judge_replies_are_reported_not_hidden(db_path, con, openai_server):  # noqa: F811
    insert_many(con, 4)
    con.close()
    openai_server.set_reply("judge-model", "I would rather not say.")
    plan, _ = run(db_path, openai_server, judge_model="judge-model")
    with connect(db_path, read_only=True) as c:
        rep = batch_report(c, plan.batch_id)
    assert rep.judge.tie.count == 0 and rep.judge.n == 0 and rep.unreadable == 8


def test_spend_cap_holds_when_calls_cost_more_than_estimated(db_path, con, openai_server):  # noqa: F811
    for i in range(30):  # logged as tiny calls, so the plan underestimates
        insert_event(con, f"s{i:03d}", f"q{i}", "a", thumbs=0, tokens_in=1, tokens_out=1)
    con.close()
    openai_server.set_reply("gpt-4o", "word " * 400)  # each rerun answers 400 tokens
    plan = rr.plan_batch(
        str(db_path), parse_where("feedback=thumbs_down"), "stub", rr.BatchOptions(model="gpt-4o")
    )
    with connect(db_path) as c:  # what one rerun really costs, from a run outside the batch
        c.execute("DELETE FROM rerun_batches; DELETE FROM rerun_items")
    one = rr.rerun_event(
        str(db_path), "s000", endpoint=endpoint(openai_server), model="gpt-4o", stream=False
    )[0].cost_usd
    assert one > 10 * plan.estimate_usd / 30  # the plan underestimates each item tenfold
    cap = 5.5 * one
    _, result = run(db_path, openai_server, max_cost_usd=cap, concurrency=1)
    assert result.status == "stopped_cap"
    assert result.done == 5 and result.spent_usd <= cap


def test_warehouse_stays_open_to_other_processes_during_a_batch(db_path, con, openai_server):  # noqa: F811
    import subprocess
    import sys

    insert_many(con, 40)
    con.close()
    openai_server.latency = 0.1
    box: dict = {}
    worker = threading.Thread(
        target=lambda: box.update(r=run(db_path, openai_server, concurrency=2)[1])
    )
    worker.start()
    time.sleep(1.5)  # the batch is writing by now
    probe = (
        "from ingest.db import connect\n"
        f"with connect({str(db_path)!r}, read_only=True, timeout_s=5) as c:\n"
        "    print(c.execute(\"SELECT count(*) FROM rerun_items WHERE status='done'\")"
        ".fetchone()[0])"
    )
    reader = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60
    )
    still_running = worker.is_alive()
    worker.join()
    assert reader.returncode == 0, reader.stderr
    assert still_running and 0 < int(reader.stdout) < 40
    assert box["r"].done == 40


class PageStopped(BaseException):
    """Stands in for Streamlit stopping a page's script in the middle of a batch."""


def test_a_stopped_caller_still_saves_what_was_paid_for(db_path, con, openai_server):  # noqa: F811
    insert_many(con, 20)
    con.close()
    openai_server.latency = 0.05

    def stop_page(p: rr.Progress) -> None:
        if p.done >= 3:
            raise PageStopped

    with pytest.raises(PageStopped):
        run(db_path, openai_server, on_progress=stop_page, concurrency=4)
    with connect(db_path, read_only=True) as c:
        done = c.execute("SELECT count(*) FROM rerun_items WHERE status = 'done'").fetchone()[0]
        status = c.execute("SELECT status FROM rerun_batches").fetchone()[0]
    assert status == "interrupted" and 3 <= done < 20
    assert openai_server.count("chat") == done  # every call made was saved


RERUNS = "SELECT count(*) FROM events WHERE rerun_of IS NOT NULL"


def test_resume_judges_items_an_interrupted_run_left_unjudged(db_path, con, openai_server):  # noqa: F811
    # An interrupted run finishes the reruns in flight but does not start their judgements; the
    # state it leaves is made here directly: two done items without their pair of judgements.
    insert_many(con, 6)
    con.close()
    openai_server.set_reply("judge-model", rerun_loving_judge)
    plan, first = run(db_path, openai_server, judge_model="judge-model")
    assert first.done == 6
    with connect(db_path) as c:
        gone = [r[0] for r in c.execute(
            "SELECT event_id FROM rerun_items WHERE batch_id = ? ORDER BY event_id LIMIT 2",
            [plan.batch_id]).fetchall()]  # fmt: skip
        c.execute(
            "DELETE FROM rerun_judgements WHERE batch_id = ? AND event_id IN (?, ?)",
            [plan.batch_id, *gone],
        )
        c.execute(
            "UPDATE rerun_items SET judge_cost_usd = 0 WHERE batch_id = ? AND event_id IN (?, ?)",
            [plan.batch_id, *gone],
        )
        reruns_before = c.execute(
            "SELECT count(*) FROM events WHERE rerun_of IS NOT NULL"
        ).fetchone()
    calls_before = len(openai_server.requests)
    _, again = run(db_path, openai_server, judge_model="judge-model")
    with connect(db_path, read_only=True) as c:
        per_item = dict(c.execute(
            "SELECT event_id, count(*) FROM rerun_judgements WHERE batch_id = ? GROUP BY 1",
            [plan.batch_id]).fetchall())  # fmt: skip
        reruns_after = c.execute(
            "SELECT count(*) FROM events WHERE rerun_of IS NOT NULL"
        ).fetchone()
        spent, items_cost = c.execute(
            "SELECT b.spent_usd, (SELECT sum(coalesce(cost_usd, 0) + coalesce(judge_cost_usd, 0))"
            " FROM rerun_items i WHERE i.batch_id = b.batch_id) FROM rerun_batches b"
            " WHERE batch_id = ?", [plan.batch_id]).fetchone()  # fmt: skip
        rep = batch_report(c, plan.batch_id)
    assert per_item == {eid: 2 for eid in per_item} and len(per_item) == 6
    assert reruns_after == reruns_before  # nothing rerun again: only the judge was called
    new_calls = openai_server.requests[calls_before:]
    assert [c["model"] for c in new_calls] == ["judge-model"] * 4  # two items, both orders
    assert again.status == "done" and rep.judge.win.count == 6
    assert spent == pytest.approx(items_cost)
