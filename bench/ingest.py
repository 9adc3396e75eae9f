"""Native ingest throughput against a bare DuckDB read_json on the same file, in the same run.

    python bench/ingest.py                 # 1M events (the bar: ratio >= 0.50, aim 0.65)
    python bench/ingest.py --events 100000 # quick run

Each side runs in its own subprocess (so its peak RSS is its own, from resource.getrusage) and
writes into a fresh DuckDB file: the bare side is `CREATE TABLE t AS SELECT * FROM
read_json(file)`, ours is the full `reviewdeck ingest` path (validation, dedup, rejects, the
transaction, derived tables). Ratio = bare seconds / our seconds (our share of the bare
throughput).

The bare baseline is the plain `read_json(file)` when DuckDB can read the file that way. On the
demo log it cannot: read_json infers the schema from a sample of the lines, and keys that
appear after the sample make the plain call fail (the v4 prompt's params add `top_p` from the
prompt change in week 4 on; on 100k demo events DuckDB reports "unknown key top_p" at line
~26,000, past its 20,480-line sample). The bench then times `read_json(file, sample_size=-1)`
(DuckDB then reads every line to infer the schema before it loads them, work the plain call
does not do, so this baseline is not the plain call's figure) and its result lines name the
baseline that was timed and why.
The file comes from ingest.demo.generate.generate when that exists, else from a small
generator here with the same shape of record.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# Run as `python bench/ingest.py`, this file's folder comes first on sys.path and its own name
# would shadow the `ingest` package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(REPO))

_BARE = """
import duckdb, resource, sys, time
con = duckdb.connect(sys.argv[2])
t0 = time.perf_counter()
con.execute(f"CREATE TABLE t AS SELECT * FROM read_json(?{sys.argv[3]})", [sys.argv[1]])
dt = time.perf_counter() - t0
n = con.execute("SELECT count(*) FROM t").fetchall()[0][0]
print(dt, n, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""

_OURS = """
import resource, sys, time
from ingest.db import connect
from ingest.load.read import Source
from ingest.load.loader import load_source
from pathlib import Path
with connect(sys.argv[2]):
    pass
t0 = time.perf_counter()
r = load_source(sys.argv[2], Source(sys.argv[1], Path(sys.argv[1])), fmt="native")
dt = time.perf_counter() - t0
print(dt, r.events_inserted, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def _own_generator(path: Path, events: int, seed: int) -> None:
    """A realistic support-bot log: messages, params, tokens, costs, tags, sparse feedback."""
    rng = random.Random(seed)
    models = ["gpt-4o-mini-2024-07-18", "gpt-4o-2024-08-06", "claude-3-5-haiku-20241022"]
    intents = ["billing", "refund", "login", "shipping", "cancel", "upgrade", "bug", "api"]
    system = "You are the support assistant of Acme Cloud. Answer briefly and cite the docs."
    start = datetime(2026, 8, 1, tzinfo=UTC)
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(events):
            intent = rng.choice(intents)
            q = f"hi, I have a question about {intent}: order #{rng.randint(1000, 99999)} " * (
                1 + rng.randint(0, 2)
            )
            a = f"Thanks for reaching out about {intent}. " + "Here is what you can do. " * (
                2 + rng.randint(0, 6)
            )
            tin, tout = rng.randint(80, 900), rng.randint(20, 400)
            ev = {
                "event_id": f"evt_{seed}_{i:08d}",
                "trace_id": f"tr_{i // 3:08d}",
                "ts": (start + timedelta(seconds=i * 7.3)).isoformat().replace("+00:00", "Z"),
                "kind": "llm",
                "provider": "openai",
                "model": rng.choice(models),
                "prompt_name": "support",
                "prompt_version": f"v{1 + i * 4 // events}",
                "input_messages": [
                    {"role": "system", "content": system},
                    {"role": "user", "content": q},
                ],
                "output_messages": [{"role": "assistant", "content": a}],
                "params": {"temperature": 0.2, "max_tokens": 512},
                "tokens_in": tin,
                "tokens_out": tout,
                "cost_usd": round(tin * 1.5e-7 + tout * 6e-7, 8),
                "latency_ms": round(rng.lognormvariate(6.5, 0.5), 1),
                "status": "ok",
                "user_id": f"u_{rng.randint(1, 5000)}",
                "session_id": f"s_{i // 4}",
                "tags": [f"topic:{intent}"],
                "environment": "production",
            }
            if rng.random() < 0.08:
                ev["feedback"] = [{"name": "thumbs", "value": int(rng.random() < 0.7)}]
            fh.write(json.dumps(ev) + "\n")


def make_file(path: Path, events: int, seed: int) -> str:
    try:
        from ingest.demo.generate import generate
    except ImportError:
        generate = None
    if generate is not None:
        try:
            generate(path, events=events, seed=seed)
            return "ingest.demo.generate.generate"
        except Exception as exc:  # the demo helper's code may be mid-change; fall back
            print(
                f"(ingest.demo.generate.generate failed: {exc!r}; using the bench's own generator)"
            )
    _own_generator(path, events, seed)
    return "bench's own generator"


def _run(code: str, data: Path, db: Path, extra: str = "") -> tuple[float, int, float]:
    db.unlink(missing_ok=True)
    out = subprocess.run(
        [sys.executable, "-c", code, str(data), str(db), extra],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )
    if out.returncode != 0:
        raise SystemExit(f"benchmark subprocess failed:\n{out.stderr}")
    secs, rows, rss_kb = out.stdout.split()[-3:]
    return float(secs), int(rows), int(rss_kb) / 1024


def _error_line(stderr: str) -> str:
    """DuckDB's own message from a subprocess traceback (not its generic hint that follows)."""
    lines = [ln for ln in stderr.strip().splitlines() if "Error:" in ln]
    line = lines[-1] if lines else stderr.strip().splitlines()[-1]
    line = line.split("Error: ", 1)[-1]
    return line if len(line) <= 200 else line[:197] + "..."


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--file", type=Path, help="reuse this native file instead of generating")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="rd-bench-") as tmp:
        tmpdir = Path(tmp)
        data = args.file
        if data is None:
            data = tmpdir / "events.jsonl"
            t0 = time.perf_counter()
            how = make_file(data, args.events, args.seed)
            print(
                f"generated {args.events:,} events with {how} in "
                f"{time.perf_counter() - t0:.1f}s: {data.stat().st_size / 1e6:.0f} MB"
            )
        bare_opts = ""
        why = "the plain call read the file"
        try:
            bare_s, bare_rows, bare_mb = _run(_BARE, data, tmpdir / "bare.duckdb")
        except SystemExit as exc:
            # read_json infers the schema from a sample; on a log whose later lines carry keys
            # the sample missed (a demo log does), it fails unless it samples every line.
            bare_opts = ", sample_size=-1"
            reason = _error_line(str(exc))
            why = f"the plain read_json(file) failed: {reason}"
            print(
                f"bare read_json(file) failed ({reason}); timing read_json(file{bare_opts}) instead"
            )
            bare_s, bare_rows, bare_mb = _run(_BARE, data, tmpdir / "bare.duckdb", bare_opts)
        ours_s, ours_rows, ours_mb = _run(_OURS, data, tmpdir / "ours.duckdb")
        baseline = f"read_json(file{bare_opts})"
        print(f"baseline timed: CREATE TABLE t AS SELECT * FROM {baseline} ({why})")
        print(
            f"bare {baseline + ' CTAS':31}: {bare_s:7.2f}s  {bare_rows:>9,} rows  "
            f"{bare_rows / bare_s:>9,.0f} rows/s  peak {bare_mb:,.0f} MB"
        )
        print(
            f"{'reviewdeck ingest':36}: {ours_s:7.2f}s  {ours_rows:>9,} events "
            f"{ours_rows / ours_s:>9,.0f} rows/s  peak {ours_mb:,.0f} MB"
        )
        ratio = bare_s / ours_s
        print(
            f"ratio (ours / bare {baseline} throughput): {ratio:.2f}  (bar 0.50, aim 0.65); "
            f"peak memory {ours_mb:,.0f} MB (bar 2,048 MB)"
        )
    otlp = Path(__file__).with_name("ingest_otlp.py")
    if otlp.exists():
        sys.path.insert(0, str(otlp.parent))
        import ingest_otlp  # type: ignore[import-not-found]

        print()
        # End to end (reader + loader into a fresh warehouse): the OTLP bar.
        ingest_otlp.main(["--load"])


if __name__ == "__main__":
    main()
