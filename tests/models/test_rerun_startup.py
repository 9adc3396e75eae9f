"""What the batch CLI's start-up and tail skip still gives the same answers (bench/rerun.py).

The plan's read handed to the run that follows it, the report read on the batch's last write
connection, the report without its pairs frame, the TLS context made on first use and the SDK
imported without trio: each is checked against the slow way, through the real SDK against the
local stub and a real warehouse file.
"""

from __future__ import annotations

import ssl
import subprocess
import sys
from pathlib import Path

from ingest.db import connect
from models.filters import parse_where
from models.rerun import runner as rr
from models.rerun.endpoints import Endpoint
from models.rerun.llm_client import _TrustOnFirstTLS, chat, make_client, warm_up
from models.rerun.report import batch_report, report_dict
from tests.models.rerun_data import insert_many
from tests.openai_fixtures import STUB_API_KEY, openai_env, openai_server  # noqa: F401

REPO = Path(__file__).resolve().parents[2]


def _ep(stub) -> Endpoint:
    return Endpoint("stub", stub.base_url, kind="compatible", api_key=STUB_API_KEY)


def test_a_plan_read_is_used_once_so_a_second_run_redoes_nothing(db_path, con, openai_server):  # noqa: F811
    insert_many(con, 5)
    con.close()
    opts = rr.BatchOptions(model="gpt-4o")
    plan = rr.plan_batch(str(db_path), parse_where(""), "stub", opts)
    first = rr.run_batch(str(db_path), plan, opts, endpoint=_ep(openai_server))
    assert first.done == 5 and openai_server.count("chat") == 5
    # The same plan object again: its read is stale now, so the run reads the warehouse.
    again = rr.run_batch(str(db_path), plan, opts, endpoint=_ep(openai_server))
    assert again.done == 0 and openai_server.count("chat") == 5


def test_a_plan_without_a_judge_cannot_serve_a_judged_run(db_path, con, openai_server):  # noqa: F811
    """The plan looked for no unjudged items, so its read cannot serve a judged run."""
    insert_many(con, 3)
    con.close()
    plain = rr.BatchOptions(model="gpt-4o")
    plan = rr.plan_batch(str(db_path), parse_where(""), "stub", plain)
    assert plan.snapshot is not None and plan.snapshot.take(judged=True) is None
    assert plan.snapshot.take(judged=False) is None  # taken (and refused) above: used once


def test_report_read_after_the_last_write_matches_a_fresh_read(db_path, con, openai_server):  # noqa: F811
    insert_many(con, 6)
    con.close()
    openai_server.set_reply("judge-model", '{"preferred": "2", "rationale": "second"}')
    opts = rr.BatchOptions(model="gpt-4o", judge_model="judge-model")
    plan = rr.plan_batch(str(db_path), parse_where(""), "stub", opts)
    result = rr.run_batch(str(db_path), plan, opts, endpoint=_ep(openai_server),
                          after=lambda c: batch_report(c, plan.batch_id, with_pairs=False))
    assert result.after is not None and result.after.pairs is None
    with connect(db_path, read_only=True) as c:
        fresh = batch_report(c, plan.batch_id)
    assert fresh.pairs is not None and len(fresh.pairs) == 6
    # Everything the CLI prints is the same with or without the pairs frame, and the batch's
    # final status is in it (the hook ran after the last write was committed).
    assert report_dict(result.after) == report_dict(fresh)
    assert report_dict(fresh)["status"] == "done" and report_dict(fresh)["items"] == {"done": 6}
    assert fresh.judge is not None and fresh.judge.tie.count == 6  # always "2": both orders


def test_plain_http_endpoint_never_reads_the_certificate_bundle(openai_server):  # noqa: F811
    client = warm_up(make_client(_ep(openai_server)), stream=False)
    result = chat(client, "gpt-4o", [{"role": "user", "content": "hi"}], {}, stream=False)
    assert result.status == "ok" and result.text
    ctx = client._client._transport._pool._ssl_context
    assert isinstance(ctx, _TrustOnFirstTLS) and ctx._ctx is None


def test_https_endpoint_verifies_with_the_transport_default_context():
    client = warm_up(make_client(Endpoint("openai", None, kind="openai", api_key="sk-x")),
                     stream=False)
    ctx = client._client._transport._pool._ssl_context
    assert isinstance(ctx, _TrustOnFirstTLS) and ctx._ctx is not None  # made by warm_up
    real = ctx.load()
    assert real.verify_mode == ssl.CERT_REQUIRED and real.check_hostname
    assert real.cert_store_stats()["x509_ca"] > 0  # the system's authorities are loaded
    # What the transport calls on it reaches the real context.
    ctx.set_alpn_protocols(["http/1.1"])
    assert callable(ctx.wrap_socket) and callable(ctx.wrap_bio)


def test_sdk_is_imported_without_trio_and_trio_still_imports():
    code = (
        "import sys\n"
        "from models.rerun.llm_client import import_openai\n"
        "import_openai()\n"
        "import httpcore2._synchronization as s\n"
        "assert 'trio' not in sys.modules and s.trio is None, 'trio was imported'\n"
        "import trio\n"
        "print('ok', trio.__name__)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok trio"


def test_cli_leaves_the_collector_as_it_found_it(db_path, con, openai_env, monkeypatch, tmp_path):  # noqa: F811
    """The start-up's heap freeze is undone when the command ends, failed or not, so an
    in-process caller (these tests, a script) keeps a normal collector."""
    import gc

    from typer.testing import CliRunner

    from dashboard.cli import app

    monkeypatch.setenv("REVIEWDECK_SECRETS", str(tmp_path / "none.toml"))
    insert_many(con, 2)
    con.close()
    base = ["rerun", "--model", "gpt-4o", "--endpoint", "stub", "--db", str(db_path), "--json"]
    ok = CliRunner().invoke(app, base)
    assert ok.exit_code == 0, ok.output
    assert gc.isenabled() and gc.get_freeze_count() == 0
    bad = CliRunner().invoke(app, [*base, "--where", "model=nothing-like-this"])
    assert bad.exit_code != 0 and "no events match" in str(bad.exception)
    assert gc.isenabled() and gc.get_freeze_count() == 0
