"""The Parquet lake read back by DuckDB and Polars gives the warehouse's rows; a second run adds
only what arrived since, as new files; snapshot tables carry their export run; secrets do not
leave; a killed run's files are removed."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import polars as pl
from typer.testing import CliRunner

from dashboard.cli import app
from ingest.db import connect
from models.export.lake import MANIFEST, export_lake
from tests.models.export.export_data import copy_db, ingest_lines

# Every column of events except the JSON ones, compared value for value.
EVENT_COLS = ("event_id, trace_id, ts, ts_end, kind, model, prompt_version, input_text, "
              "output_text, tokens_in, tokens_out, cost_usd, latency_ms, status, error_type, "
              "user_id, tags, environment, rerun_of, source_format, ingested_at")
FEEDBACK_COLS = "feedback_id, event_id, name, kind, value, label, source, correction, ts"


def _lake(lake: Path, table: str) -> str:
    return f"read_parquet('{lake}/{table}/**/*.parquet', hive_partitioning=true)"


def _warehouse_rows(db: Path, sql: str) -> list[tuple]:
    with connect(db, read_only=True) as con:
        return sorted(con.execute(sql).fetchall(), key=repr)


def _lake_rows(sql: str) -> list[tuple]:
    con = duckdb.connect()
    con.execute("SET TimeZone='UTC'")
    return sorted(con.execute(sql).fetchall(), key=repr)


def test_duckdb_and_polars_read_the_same_rows_as_the_warehouse(demo_db, tmp_path):
    db = copy_db(demo_db, tmp_path)
    lake = tmp_path / "lake"
    res = CliRunner().invoke(app, ["export", "parquet", "--out", str(lake), "--db", str(db),
                                   "--json"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.output)
    n_events, n_feedback, cost, tokens = _warehouse_rows(db, (
        "SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM feedback),"
        " (SELECT sum(cost_usd) FROM events), (SELECT sum(tokens_out) FROM events)"))[0]
    assert summary["tables"]["events"]["rows"] == n_events == 1500
    assert summary["tables"]["feedback"]["rows"] == n_feedback > 0

    # DuckDB: every row, value for value, in both directions.
    for table, cols in (("events", EVENT_COLS), ("feedback", FEEDBACK_COLS)):
        assert _lake_rows(f"SELECT {cols} FROM {_lake(lake, table)}") == _warehouse_rows(
            db, f"SELECT {cols} FROM {table}")
    # JSON columns come back as the same JSON (plain strings in the files).
    assert _lake_rows(f"SELECT event_id, params::JSON, input_messages::JSON FROM "
                      f"{_lake(lake, 'events')}") == _warehouse_rows(
        db, "SELECT event_id, params, input_messages FROM events")
    # The partition column is the event's UTC day.
    assert _lake_rows(f"SELECT count(*) FROM {_lake(lake, 'events')} "
                      "WHERE day <> CAST(ts AS DATE)") == [(0,)]

    # Polars: the same counts and sums, day parsed as a date from the path.
    ev = pl.scan_parquet(f"{lake}/events/**/*.parquet", hive_partitioning=True).collect()
    assert ev.height == n_events
    assert abs(ev["cost_usd"].sum() - cost) < 1e-9 and ev["tokens_out"].sum() == tokens
    assert ev.schema["day"] == pl.Date and ev.schema["params"] == pl.String
    assert (ev["day"] == ev["ts"].dt.date()).all()
    fb = pl.scan_parquet(f"{lake}/feedback/**/*.parquet", hive_partitioning=True).collect()
    assert fb.height == n_feedback
    assert fb.join(ev.select("event_id", pl.col("day").alias("event_day")),
                   on="event_id").filter(pl.col("day") != pl.col("event_day")).height == 0


def test_second_run_exports_only_what_arrived_since(demo_db, tmp_path):
    db = copy_db(demo_db, tmp_path)
    lake = tmp_path / "lake"
    first = export_lake(db, lake)
    before = {p: p.read_bytes() for p in lake.rglob("*.parquet")}
    old_event, old_day = _warehouse_rows(
        db, "SELECT event_id, CAST(ts AS DATE) FROM events ORDER BY ts LIMIT 1")[0]

    # New events on a new day, and late feedback for the oldest event.
    new_ts = dt.datetime(2026, 12, 3, 10, tzinfo=dt.UTC)
    ingest_lines(db, tmp_path / "more.jsonl", [
        *({"event_id": f"late_{i}", "ts": (new_ts + dt.timedelta(minutes=i)).isoformat(),
           "model": "gpt-4o", "input_messages": [{"role": "user", "content": f"q{i}"}],
           "output_messages": [{"role": "assistant", "content": f"a{i}"}],
           "cost_usd": 0.5} for i in range(3)),
        {"type": "feedback", "event_id": old_event, "name": "thumbs", "kind": "vote",
         "value": 0, "source": "user", "feedback_id": "late-vote",
         "ts": "2026-12-03T11:00:00Z"},
    ])
    second = export_lake(db, lake)
    assert second.run == first.run + 1
    rows = {t.name: t.rows for t in second.tables}
    assert rows["events"] == 3 and rows["feedback"] == 1

    # Nothing written before changed or went away; the new files carry the new run's number.
    for path, data in before.items():
        assert path.read_bytes() == data
    new_files = sorted(set(lake.rglob("*.parquet")) - set(before))
    assert new_files and all(p.name.startswith(f"part-{second.run:06d}-") for p in new_files)
    # The late vote is a new file in its event's (old) day.
    fb_new = [p for p in new_files if p.parts[-3] == "feedback"]
    assert [p.parent.name for p in fb_new] == [f"day={old_day}"]
    assert any(p.parent.name == f"day={old_day}" for p in before if "feedback" in p.parts)

    # The lake still equals the warehouse.
    assert _lake_rows(f"SELECT {EVENT_COLS} FROM {_lake(lake, 'events')}") == _warehouse_rows(
        db, f"SELECT {EVENT_COLS} FROM events")
    assert _lake_rows(f"SELECT {FEEDBACK_COLS} FROM {_lake(lake, 'feedback')}") == \
        _warehouse_rows(db, f"SELECT {FEEDBACK_COLS} FROM feedback")

    # A third run with nothing new writes nothing and keeps the manifest's run.
    third = export_lake(db, lake)
    assert third.run == second.run and third.rows == 0
    assert json.loads((lake / MANIFEST).read_text())["last_run"] == second.run


def test_chunked_copies_give_the_same_rows(demo_db, tmp_path):
    db = copy_db(demo_db, tmp_path)
    # Three loads: three ingest transactions, so three distinct stamps to cut chunks on.
    for k in range(2):
        ingest_lines(db, tmp_path / f"more{k}.jsonl", [
            {"event_id": f"c{k}_{i}", "ts": "2026-11-20T10:00:00Z", "model": "m",
             "input_messages": [{"role": "user", "content": "q"}]} for i in range(5)])
    result = export_lake(db, tmp_path / "lake", chunk_rows=5)
    chunks = {p.name.split("-")[2] for p in (tmp_path / "lake" / "events").rglob("*.parquet")}
    assert len(chunks) == 3  # one per ingest transaction
    assert {t.name: t.rows for t in result.tables}["events"] == 1510
    assert _lake_rows(f"SELECT event_id FROM {_lake(tmp_path / 'lake', 'events')}") == \
        _warehouse_rows(db, "SELECT event_id FROM events")


def test_snapshot_tables_are_written_again_when_they_change(db_path, tmp_path):
    lake = tmp_path / "lake"
    with connect(db_path) as con:
        con.execute("INSERT INTO rerun_batches (batch_id, created_at, model, status, n_items)"
                    " VALUES ('b1', '2026-11-20 09:00+00', 'gpt-4.1', 'running', 2)")
        con.execute("INSERT INTO rerun_items (batch_id, event_id)"
                    " VALUES ('b1', 'e1'), ('b1', 'e2')")
        con.execute("INSERT INTO analysis_runs (started_at, finished_at, embedder_id, field, seed,"
                    " n_events, n_new_events, n_embedded, n_clusters, mode) VALUES"
                    " ('2026-11-21 08:00+00', '2026-11-21 08:05+00', 'tfidf', 'input', 0,"
                    " 2, 2, 2, 1, 'full')")
        con.execute("INSERT INTO clusters VALUES (7, 'refunds', ['refund'], ['ex'], NULL, 2,"
                    " [0.1, 0.2], 0.3, 'tfidf', true, 1, 1)")
        con.execute("INSERT INTO cluster_members VALUES ('e1', 7, 0.9), ('e2', 7, 0.8)")
    first = export_lake(db_path, lake)
    rows = {t.name: t.rows for t in first.tables}
    assert (rows["rerun_batches"], rows["rerun_items"], rows["clusters"],
            rows["cluster_members"]) == (1, 2, 1, 2)
    assert sorted(p.parent.name for p in (lake / "rerun_items").rglob("*.parquet")) == [
        "day=2026-11-20"]
    assert [p.parent.name for p in (lake / "clusters").rglob("*.parquet")] == ["day=2026-11-21"]

    with connect(db_path) as con:
        con.execute("UPDATE rerun_items SET status = 'done', attempts = 1 WHERE event_id = 'e1'")
    second = export_lake(db_path, lake)
    by = {t.name: t for t in second.tables}
    assert by["rerun_items"].rows == 2 and by["clusters"].skipped == "unchanged"
    latest = _lake_rows(
        f"SELECT event_id, status FROM {_lake(lake, 'rerun_items')}"
        " QUALIFY export_run = max(export_run) OVER ()")
    assert latest == [("e1", "done"), ("e2", "pending")]
    assert _lake_rows(f"SELECT DISTINCT export_run FROM {_lake(lake, 'rerun_items')}") == [
        (1,), (2,)]
    assert _lake_rows(f"SELECT cluster_id, analysis_run_id, label FROM {_lake(lake, 'clusters')}"
                      ) == [(7, 1, "refunds")]


def test_secrets_in_params_and_raw_do_not_reach_the_lake(db_path, tmp_path):
    key = "sk-proj-" + "A1b2C3d4" * 5
    params = {"temperature": 0.3, "max_tokens": 99, "api_key": key,
              "extra_headers": {"Authorization": "Bearer " + "t0k3n" * 6}}
    raw = {"request": {"headers": {"x-api-key": "plainsecretvalue"}}, "note": f"used {key}"}
    with connect(db_path) as con:
        con.execute(
            "INSERT INTO events (event_id, ts, model, params, raw, error_message, source_format)"
            " VALUES ('s1', '2026-11-20 10:00+00', 'gpt-4o', ?, ?, ?, 'native')",
            [json.dumps(params), json.dumps(raw), f"Incorrect API key provided: {key}"])
    lake = tmp_path / "lake"
    export_lake(db_path, lake)
    blob = b"".join(p.read_bytes() for p in lake.rglob("*.parquet"))
    assert b"A1b2C3d4" not in blob and b"t0k3n" not in blob and b"plainsecretvalue" not in blob
    row = _lake_rows(f"SELECT params, raw, error_message FROM {_lake(lake, 'events')}")[0]
    got_params, got_raw = json.loads(row[0]), json.loads(row[1])
    assert got_params["temperature"] == 0.3 and got_params["max_tokens"] == 99
    assert got_params["api_key"] == "[redacted]"
    assert got_params["extra_headers"]["Authorization"] == "[redacted]"
    assert got_raw["request"]["headers"]["x-api-key"] == "[redacted]"
    assert got_raw["note"] == "used [redacted]" and row[2].endswith("[redacted]")


def test_files_of_a_run_that_never_finished_are_removed(demo_db, tmp_path):
    db = copy_db(demo_db, tmp_path)
    lake = tmp_path / "lake"
    export_lake(db, lake)
    # What a kill between moving files and writing the manifest leaves behind.
    day = next((lake / "events").iterdir())
    orphan = day / "part-000002-c0000-0.parquet"
    orphan.write_bytes(next(day.glob("part-000001-*")).read_bytes())
    (lake / "_staging" / "run-000002" / "events").mkdir(parents=True)
    result = export_lake(db, lake)
    assert result.removed_orphans == 1 and not (lake / "_staging").exists()
    assert _lake_rows(f"SELECT count(*) FROM {_lake(lake, 'events')}") == [(1500,)]


def test_datasets_and_review_queues_are_in_the_lake(db_path, tmp_path):
    from models.datasets import store
    from models.datasets.sources import DatasetSource
    from models.queue import build
    from models.queue.sources import QueueSource
    from tests.models.queue.queue_data import insert_events

    lake = tmp_path / "lake"
    with connect(db_path) as con:
        insert_events(con, 12)
        store.create_dataset(con, "trio", DatasetSource("events", event_ids=("q0005", "q0001",
                                                                            "q0009")))
        made = build.create_queue(con, build.QueueSpec(
            name="check", source=QueueSource("filter", where="model=model-a"), rubric="helpful",
            n=3, seed=1))
    export_lake(db_path, lake)
    ds = f"{_lake(lake, 'datasets')} d JOIN {_lake(lake, 'dataset_events')} e USING (dataset_id)"
    assert _lake_rows(f"SELECT d.name, e.event_id, e.position FROM {ds}") == [
        ("trio", "q0001", 2), ("trio", "q0005", 1), ("trio", "q0009", 3)]
    items = pl.read_parquet(lake / "queue_items" / "**" / "*.parquet", hive_partitioning=True)
    queues = pl.read_parquet(lake / "review_queues" / "**" / "*.parquet", hive_partitioning=True)
    assert queues["queue_id"].to_list() == [made.queue_id] and queues["name"][0] == "check"
    in_warehouse = [r[0] for r in _warehouse_rows(db_path, "SELECT event_id FROM queue_items")]
    assert items.height == 3 and sorted(items["event_id"]) == in_warehouse
