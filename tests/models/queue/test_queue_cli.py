"""`reviewdeck queue create|list|show|export|import` in-process, on exit codes and output."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from dashboard.cli.queue import app
from tests.models.queue.queue_data import JUDGE, insert_events


def _run(*args: str):
    return CliRunner().invoke(app, list(args))


def test_create_list_show_export_import(db_path, con, tmp_path):
    insert_events(con, 60)
    con.close()
    db = ["--db", str(db_path)]
    made = _run("create", "--name", "judge check", "--where", "model=model-a", "-n", "6",
                "--stratify", f"verdict:{JUDGE}", "--rubric", JUDGE, "--reviewers", "2", *db,
                "--json")
    assert made.exit_code == 0, made.output
    info = json.loads(made.output)
    # model-a's judged events hold two fails: both are in, the pass stratum takes the rest.
    assert info["n_items"] == 6 and info["strata"] == {"fail": 2, "pass": 4}
    qid = str(info["queue_id"])

    listed = _run("list", *db)
    assert listed.exit_code == 0
    assert f"judge check  [filter] rubric {JUDGE}  0/6 done" in listed.output
    shown = json.loads(_run("show", qid, *db, "--json").output)
    assert shown["reviewers_per_item"] == 2 and shown["choices"] == ["pass", "fail"]

    out = tmp_path / "q.csv"
    assert _run("export", qid, "--out", str(out), *db).exit_code == 0
    lines = out.read_text().splitlines()
    assert len(lines) == 7
    # Fill two rows in a "spreadsheet", break a third.
    filled = [lines[0]]
    for i, line in enumerate(lines[1:4]):
        cells = line.split(",")
        cells[4], cells[5] = "ana", ("pass", "fail", "perhaps")[i]
        filled.append(",".join(cells))
    out.write_text("\n".join(filled) + "\n")
    imported = _run("import", qid, str(out), *db)
    assert imported.exit_code == 1  # a bad line is an error, after the good ones went in
    assert "2 labels imported" in imported.output
    assert f"{out} line 4: answer 'perhaps'" in imported.output
    listed = _run("list", *db, "--json")
    assert json.loads(listed.output)[0]["labels"] == 2


def test_bad_source_is_a_clear_error(db_path):
    bad = _run("create", "--name", "x", "--from", "topic", "--db", str(db_path))
    assert bad.exit_code != 0
    assert "queue source 'topic'" in str(bad.exception)
