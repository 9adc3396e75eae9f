"""Review queues on a real warehouse file: sampling, strata, reviewing, double review, CSV."""

from __future__ import annotations

import pytest

from models.filters import FilterError
from models.queue import build, csvio, sample, store
from models.queue.sources import QueueSource, QueueSourceError
from tests.models.queue.queue_data import JUDGE, insert_events


def _spec(**kw) -> build.QueueSpec:
    base = dict(name="q", source=QueueSource("filter", where=""), rubric=JUDGE, n=20, seed=7)
    return build.QueueSpec(**{**base, **kw})


def _ids(con, qid: int) -> list[str]:
    return store.items(con, qid)["event_id"].to_list()


def test_same_seed_same_sample_and_order_another_seed_another(con):
    insert_events(con, 200)
    a = build.create_queue(con, _spec())
    b = build.create_queue(con, _spec())
    c = build.create_queue(con, _spec(seed=8))
    assert a.n_items == b.n_items == c.n_items == 20
    assert _ids(con, a.queue_id) == _ids(con, b.queue_id)
    assert set(_ids(con, a.queue_id)) != set(_ids(con, c.queue_id))
    # The candidates' order does not matter, only the seed.
    cands = [(f"e{i}", None) for i in range(50)]
    assert sample.draw(cands, 10, 1) == sample.draw(list(reversed(cands)), 10, 1)


def test_filter_source_only_draws_matching_events(con):
    insert_events(con, 90)
    source = QueueSource("filter", where="model=model-b")
    made = build.create_queue(con, _spec(source=source, n=100))
    models = con.execute(
        "SELECT DISTINCT e.model FROM queue_items i JOIN events e USING (event_id)"
        " WHERE queue_id = ?", [made.queue_id]
    ).fetchall()
    assert made.n_items == made.n_candidates == 30  # every model-b event, no more
    assert models == [("model-b",)]


def test_verdict_strata_are_half_fails_half_passes(con):
    insert_events(con, 400, judged_fail_every=5)  # 200 judged: 40 fails, 160 passes
    made = build.create_queue(con, _spec(n=40, stratify_by=f"verdict:{JUDGE}"))
    assert made.strata == {"fail": 20, "pass": 20}
    rows = con.execute(
        "SELECT i.stratum, f.label FROM queue_items i JOIN feedback f USING (event_id)"
        " WHERE i.queue_id = ? AND f.source = 'llm_judge'", [made.queue_id]
    ).fetchall()
    assert len(rows) == 40 and all(s == label for s, label in rows)
    # Review order interleaves the strata rather than showing all fails first.
    strata = store.items(con, made.queue_id)["stratum"].to_list()
    assert strata[:20].count("fail") not in (0, 20)


def test_a_short_stratum_gives_its_share_to_the_others(con):
    insert_events(con, 400, judged_fail_every=5)
    made = build.create_queue(con, _spec(n=100, stratify_by=f"verdict:{JUDGE}"))
    assert made.strata == {"fail": 40, "pass": 60}
    assert sample.allocate({"a": 3, "b": 100, "c": 100}, 30) == {"a": 3, "b": 14, "c": 13}


def test_model_strata_are_equal(con):
    insert_events(con, 300)
    made = build.create_queue(con, _spec(n=30, stratify_by="model"))
    assert made.strata == {"model-a": 10, "model-b": 10, "model-c": 10}


def test_bad_settings_say_what_is_wrong(con):
    insert_events(con, 10)
    with pytest.raises(store.QueueError, match="rubric kind"):
        build.create_queue(con, _spec(rubric_kind="stars"))
    with pytest.raises(QueueSourceError, match="stratify by"):
        build.create_queue(con, _spec(stratify_by="colour"))
    with pytest.raises(store.QueueError, match="no events to review"):
        build.create_queue(con, _spec(source=QueueSource("filter", where="model=nope")))
    with pytest.raises(FilterError, match="unknown filter field 'modle'"):
        QueueSource("filter", where="modle=x")


def test_review_one_at_a_time_labels_are_feedback_skips_are_not(con):
    insert_events(con, 30)
    qid = build.create_queue(con, _spec(n=3)).queue_id
    queue = store.get_queue(con, qid)
    first = store.next_item(con, queue, "ana")
    store.record_label(con, qid, first, "ana", "fail", tags=("hallucination",), note="made up",
                       correction="the right answer")
    second = store.next_item(con, queue, "ana")
    assert second != first
    store.record_skip(con, qid, second, "ana")
    third = store.next_item(con, queue, "ana")
    assert third not in (first, second)
    store.record_label(con, qid, third, "ana", "pass")
    assert store.next_item(con, queue, "ana") is None
    # The skipped item is still there for someone else.
    assert store.next_item(con, queue, "ben") == second
    rows = con.execute(
        "SELECT name, kind, value, label, tags, comment, author, queue_id FROM feedback"
        " WHERE source = 'reviewer' ORDER BY name, value"
    ).fetchall()
    assert rows[0][:3] == ("correction", "correction", rows[0][2]) and 0 < rows[0][2] <= 1
    assert rows[1] == (JUDGE, "label", 0.0, "fail", ["hallucination"], "made up", "ana", qid)
    assert rows[2][:4] == (JUDGE, "label", 1.0, "pass")
    # trend_facts counts them at once (the refresh ran in the same transaction).
    n = con.execute("SELECT sum(fb_reviewer) FROM trend_facts").fetchall()[0][0]
    assert n == 3
    p = store.progress(con, queue, "ana")
    assert (p.items, p.done, p.mine, p.others, p.skipped_by_me, p.left_for_me) == (3, 2, 2, 0, 1, 0)
    with pytest.raises(store.QueueError, match="failure tag"):
        store.record_label(con, qid, second, "ben", "fail", tags=("typo",))
    with pytest.raises(store.QueueError, match="answer"):
        store.record_label(con, qid, second, "ben", "maybe")


def test_double_review_needs_two_different_reviewers(con):
    insert_events(con, 30)
    qid = build.create_queue(con, _spec(n=2, reviewers_per_item=2)).queue_id
    queue = store.get_queue(con, qid)
    a1 = store.next_item(con, queue, "ana")
    store.record_label(con, qid, a1, "ana", "pass")
    # Ana relabelling replaces her row: she never counts twice, and never sees it again.
    store.record_label(con, qid, a1, "ana", "fail")
    assert store.next_item(con, queue, "ana") != a1
    # Ben is offered the item Ana started first, to complete the pair.
    assert store.next_item(con, queue, "ben") == a1
    assert store.progress(con, queue, "ana").done == 0
    store.record_label(con, qid, a1, "ben", "pass")
    assert store.progress(con, queue, "ben").done == 1
    # A third reviewer is not offered an item that has its two reviewers.
    assert store.next_item(con, queue, "cy") != a1
    n_labels = con.execute(
        "SELECT count(*) FROM feedback WHERE queue_id = ? AND event_id = ?", [qid, a1]
    ).fetchall()[0][0]
    assert n_labels == 2


def test_blind_verdicts_are_the_judges_and_other_reviewers(con):
    insert_events(con, 10)
    qid = build.create_queue(con, _spec(n=10, reviewers_per_item=2)).queue_id
    queue = store.get_queue(con, qid)
    store.record_label(con, qid, "q0000", "ana", "fail")
    hidden = store.hidden_verdicts(con, queue, "q0000", "ben")
    assert hidden.select("source", "label").rows() == [("llm_judge", "fail"), ("reviewer", "fail")]
    assert store.hidden_verdicts(con, queue, "q0000", "ana")["source"].to_list() == ["llm_judge"]


def test_csv_roundtrip_and_a_bad_line_never_costs_the_good_ones(con, tmp_path):
    insert_events(con, 20)
    qid = build.create_queue(con, _spec(n=4)).queue_id
    queue = store.get_queue(con, qid)
    ids = _ids(con, qid)
    store.record_label(con, qid, ids[0], "ana", "fail", tags=("refusal", "incomplete"),
                       note="says no", correction="Here it is.")
    text = csvio.export_csv(con, qid)
    lines = text.splitlines()
    assert lines[0].split(",")[:6] == ["queue_id", "position", "event_id", "stratum", "reviewer",
                                       "verdict"]
    assert len(lines) == 5  # one labelled row, three items still to label
    # Fill the sheet in: one good label, one bad verdict, one unknown event, one blank.
    rows = text.splitlines()
    header = rows[0]
    good = f"{qid},2,{ids[1]},,ben,pass,formatting,fine,,,,,"
    bad_verdict = f"{qid},3,{ids[2]},,ben,maybe,,,,,,,"
    bad_event = f"{qid},9,nope,,ben,fail,,,,,,,"
    bad_tag = f"{qid},4,{ids[3]},,ben,fail,typo,,,,,,"
    path = tmp_path / "labels.csv"
    sheet = [header, rows[1], rows[2], good, bad_verdict, bad_event, bad_tag]
    path.write_text("\n".join(sheet) + "\n")
    result = csvio.import_file(con, qid, path)
    assert (result.labels, result.unchanged, result.blank) == (1, 1, 1)
    assert len(result.errors) == 3
    assert result.errors[0].startswith(f"{path} line 5:") and "maybe" in result.errors[0]
    assert result.errors[1].startswith(f"{path} line 6:") and "nope" in result.errors[1]
    assert result.errors[2].startswith(f"{path} line 7:") and "typo" in result.errors[2]
    # The roundtrip: ana's row came back unchanged (same id, same tags, note and correction).
    again = csvio.export_csv(con, qid)
    assert next(r for r in again.splitlines() if ",ana," in r) == lines[1]
    ben = store.my_label(con, queue, ids[1], "ben")
    assert ben == {"label": "pass", "tags": ["formatting"], "note": "fine"}
    n = con.execute("SELECT count(*) FROM feedback WHERE source = 'reviewer'").fetchall()[0][0]
    assert n == 3  # ana's label + correction, ben's label: importing ana's row added nothing
    with pytest.raises(store.QueueError, match="header has no"):
        csvio.import_csv(con, qid, "id,who\n1,2\n")


def test_queue_from_new_topic_ids_and_rerun_batch(con):
    insert_events(con, 10)
    made = build.create_queue(
        con, _spec(source=QueueSource("new_topic", event_ids=("q0001", "q0002", "missing")))
    )
    assert sorted(_ids(con, made.queue_id)) == ["q0001", "q0002"]
    with pytest.raises(QueueSourceError, match="no rerun batch"):
        build.create_queue(con, _spec(source=QueueSource("rerun_batch", batch_id="b-x")))
