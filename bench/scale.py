"""Scale bench (issue 17): the warehouse grown step by step to N events, every bar at each step.

    python bench/scale.py --events 10000000                  # steps 1M, 3M, then 10M
    python bench/scale.py --events 200000 --steps 100000     # quick run
    python bench/scale.py --events 3000000 --workdir /tmp/scale --keep

The events are demo data (ingest.demo.generate), one seed per chunk of --chunk events (default
1M) over 4 weeks each. The warehouse grows into the past: the first chunk ends yesterday, each
later one covers the 4 weeks before the previous one. So "this week" (what trends, drift and the
weekly review read by default, from the clock) always holds the same ~chunk/4 events while the
history grows, which is what tells a page that reads one week from one that reads everything.
Every chunk is ingested with the real `reviewdeck ingest` into the same warehouse, then
`reviewdeck analyze`, `reviewdeck evaluate` (built-in checks) and `reviewdeck warm`
run over it, as a nightly job would. At each step the bench then measures, each against its bar:

- ingest: the last chunk's `reviewdeck ingest` (a process, into the grown warehouse) against a
  bare `CREATE TABLE AS SELECT * FROM read_json(file)` of the same file into a fresh file, as
  bench/ingest.py times it (ratio = bare s / ours s, bar >= 0.5), and the ingest's peak RSS;
- pages, in Debian's Chromium with bench/page_load.py's harness: the cold load (server just
  started, each page's first visit), warm loads (reloads, served from the cache; the worst is
  held to the bar) and, with the server still up, the first load after new data landed (a
  batch of --batch events ingested, analysed, evaluated and the weekly reports stored with
  `reviewdeck warm`, as the pipeline's last step): bars 3 s / 1.5 s / 3 s;
- every query the pages ran: the server is started with a sitecustomize hook (written to the
  workdir, put on PYTHONPATH) that wraps dashboard.cache's query resolution and logs each cache
  miss (function, arguments, ms in the server). Each logged function is then replayed here with
  the arguments the pages passed, on a fresh read-only connection per run (bench/queries.py's
  `_fresh`, the way the dashboard runs a miss): p95 against the 150 ms bar;
- the batch's incremental `reviewdeck analyze` and `reviewdeck evaluate`, and the same over the
  whole last chunk;
- the warehouse size (file + WAL) and the dashboard server's peak RSS (VmHWM of the Streamlit
  process, bar 4 GB).

At the end it prints the growth table (one column per step) and, per figure, the growth
exponent b in cost ~ events^b between the first and last step: b <= 1 means cost grows no
faster than the data; a figure that reads one week should have b near 0. Where the run stopped
short of 10M, it prints the projection to 10M from b. JSON results go to bench/out/scale-<N>.json.

The machine is shared (2 cores; other benches may run): the load average is printed per step.
Generated JSONL files are deleted once ingested unless --keep (a 1M chunk is ~2.3 GB); the
warehouse is deleted at the end unless --keep.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import json
import math
import os
import pickle
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# Run as a script, bench/ is first on sys.path, where bench/ingest.py would shadow the package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(REPO))

import bench.ingest as bench_ingest  # noqa: E402
import bench.page_load as page_load  # noqa: E402
import bench.queries as bench_queries  # noqa: E402
from bench.sql_timing import Timed  # noqa: E402
from ingest.db import connect  # noqa: E402
from ingest.demo.generate import generate, truths_path  # noqa: E402

OUT = REPO / "bench" / "out"
CLI = [sys.executable, "-m", "dashboard.cli"]
PAGES = {
    "overview": "",
    "trends": "trends",
    "drift": "drift",
    "weekly": "weekly",
    "evaluators": "evaluators",
    "queue": "queue",
    "events": "events",
    "playground": "playground",
}
BARS = {
    "ingest_ratio": 0.5,
    "cold_s": 3.0,
    "warm_s": 1.5,
    "after_new_s": 3.0,
    "query_p95_ms": 150.0,
    "server_rss_mb": 4096.0,
}
WEEKS_PER_CHUNK = 4

# bench/page_load.py's end-of-load condition waits for every chart to draw; Vega draws a chart
# only when it is shown, so one in a closed expander (the drift page has one) never draws and
# the load never ends. Here only the charts on screen must have drawn.
page_load.FINISHED = """() => {
  const app = document.querySelector('[data-testid=stApp]');
  return window.__rd.ran && window.__rd.done !== null && app &&
    app.getAttribute('data-test-connection-state') === 'CONNECTED' &&
    [...document.querySelectorAll('[data-testid=stVegaLiteChart]')]
      .filter(c => c.getClientRects().length > 0 && !c.closest('details:not([open])'))
      .every(c => c.querySelector('canvas, svg'));
}"""

# Loaded by every Python process of the server and of `reviewdeck warm` (PYTHONPATH): logs each
# cache miss of dashboard.cache (one line per query function run) and each read of a kept result
# to $REVIEWDECK_SCALE_LOG. No product code changes: it wraps dashboard.cache._resolve and
# dashboard.stored.load once dashboard.cache has been imported.
HOOK = r'''
import os, sys
_LOG = os.environ.get("REVIEWDECK_SCALE_LOG")
if _LOG:
    import base64, importlib.abc, importlib.machinery, json, pickle, threading, time
    _lock = threading.Lock()

    def _patch(mod):
        resolve = mod._resolve

        def timed_resolve(name):
            fn = resolve(name)

            def run(con, *args, **kwargs):
                t0, p0 = time.time(), time.perf_counter()
                try:
                    return fn(con, *args, **kwargs)
                finally:
                    ms = (time.perf_counter() - p0) * 1000
                    try:
                        blob = base64.b64encode(pickle.dumps((args, kwargs))).decode()
                    except Exception:
                        blob = None
                    line = json.dumps({"t": t0, "fn": name, "ms": ms, "args": blob,
                                       "repr": repr((args, kwargs))[:300]})
                    with _lock, open(_LOG, "a") as fh:
                        fh.write(line + "\n")
            return run
        mod._resolve = timed_resolve

        # Kept results read from disk (dashboard/stored.py): what a page pays for a query
        # that `reviewdeck warm` computed. Logged apart ("kept_read"): they are not replayed.
        stored = mod.stored
        load = stored.load

        def timed_load(db, stamp, name, args, kwargs):
            t0, p0 = time.time(), time.perf_counter()
            hit, value = load(db, stamp, name, args, kwargs)
            line = json.dumps({"t": t0, "fn": name, "ms": (time.perf_counter() - p0) * 1000,
                               "kept_read": hit})
            with _lock, open(_LOG, "a") as fh:
                fh.write(line + "\n")
            return hit, value
        stored.load = timed_load

    class _Finder(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):
            if name != "dashboard.cache":
                return None
            sys.meta_path.remove(self)
            spec = importlib.machinery.PathFinder.find_spec(name, path)
            exec_module = spec.loader.exec_module

            def patched(module):
                exec_module(module)
                _patch(module)
            spec.loader.exec_module = patched
            return spec

    sys.meta_path.insert(0, _Finder())
'''


# ---------------------------------------------------------------------------------------------
# processes


def _measured(args: list[str], cwd: Path, env: dict | None = None) -> dict:
    """Run a command to its end: wall s, and its own CPU s and peak RSS (MB) from os.wait4."""
    t0 = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        # The CLI runs in the workdir (no evaluators.toml there: the built-in checks), on this
        # checkout's packages.
        env = {**os.environ, **(env or {})}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
        proc = subprocess.Popen(args, cwd=cwd, env=env, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - t0
        out.seek(0)
        err.seek(0)
        return {
            "wall_s": wall,
            "cpu_s": usage.ru_utime + usage.ru_stime,
            "peak_rss_mb": usage.ru_maxrss / 1024,
            "rc": proc.returncode,
            "stdout": out.read(),
            "stderr": err.read(),
        }


def _check(res: dict, what: str, ok=(0,)) -> dict:
    if res["rc"] not in ok:
        raise SystemExit(f"{what} failed ({res['rc']}):\n{res['stderr'][-3000:]}")
    return res


def _loadavg() -> str:
    with open("/proc/loadavg") as fh:
        return " ".join(fh.read().split()[:3])


def _tree(root: int) -> list[int]:
    """root and its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo += children.get(pid, [])
    return out


def _status_kb(pid: int, field: str) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _server_rss_mb(root: int) -> tuple[float, float]:
    """(peak RSS of the biggest process of the server, current RSS of all of them), MB."""
    pids = _tree(root)
    peak = max((_status_kb(p, "VmHWM") for p in pids), default=0)
    now = sum(_status_kb(p, "VmRSS") for p in pids)
    return peak / 1024, now / 1024


# ---------------------------------------------------------------------------------------------
# data


def plan_chunks(steps: list[int], chunk: int) -> list[tuple[int, int]]:
    """(chunk events, index of the step it completes or -1) for every chunk, in order."""
    chunks, total = [], 0
    for i, step in enumerate(steps):
        while total < step:
            n = min(chunk, step - total)
            total += n
            chunks.append((n, i if total == step else -1))
    return chunks


def chunk_end(c: int, today: dt.date) -> dt.date:
    """The last day of chunk c: yesterday for the first, then 4 weeks earlier each."""
    last = today - dt.timedelta(days=1)
    if c == 0:
        return last
    monday = last - dt.timedelta(days=last.weekday())
    first_start = monday - dt.timedelta(weeks=WEEKS_PER_CHUNK - 1)
    return first_start - dt.timedelta(days=1) - dt.timedelta(weeks=WEEKS_PER_CHUNK * (c - 1))


def make_log(path: Path, events: int, seed: int, end: dt.date) -> float:
    t0 = time.perf_counter()
    generate(path, events=events, weeks=WEEKS_PER_CHUNK, seed=seed, end_date=end)
    truths_path(path).unlink(missing_ok=True)
    return time.perf_counter() - t0


def bare_read_json(log: Path, workdir: Path) -> dict:
    """bench/ingest.py's bare side on this file: plain read_json, else sample_size=-1."""
    db = workdir / "bare.duckdb"
    opts = ""
    try:
        secs, rows, mb = bench_ingest._run(bench_ingest._BARE, log, db)
    except SystemExit as exc:
        opts = ", sample_size=-1"
        print(f"    bare read_json(file) failed ({bench_ingest._error_line(str(exc))}); "
              f"timing read_json(file{opts})", flush=True)
        secs, rows, mb = bench_ingest._run(bench_ingest._BARE, log, db, opts)
    for p in (db, Path(str(db) + ".wal")):
        p.unlink(missing_ok=True)
    return {"seconds": secs, "rows": rows, "peak_rss_mb": mb, "call": f"read_json(file{opts})"}


def ingest(log: Path, db: Path, workdir: Path) -> dict:
    res = _check(_measured(CLI + ["ingest", str(log), "--db", str(db), "--quiet"], workdir),
                 f"reviewdeck ingest {log}")
    return {k: res[k] for k in ("wall_s", "cpu_s", "peak_rss_mb")} | {
        "summary": res["stdout"].strip().splitlines()[-1] if res["stdout"].strip() else ""
    }


def analyze(db: Path, workdir: Path) -> dict:
    res = _check(_measured(CLI + ["analyze", "--db", str(db)], workdir), "reviewdeck analyze")
    last = [ln for ln in res["stdout"].splitlines() if ln.startswith("analysed")]
    return {k: res[k] for k in ("wall_s", "cpu_s", "peak_rss_mb")} | {
        "summary": last[-1] if last else res["stdout"].strip()[-200:]
    }


def evaluate(db: Path, workdir: Path) -> dict:
    res = _check(_measured(CLI + ["evaluate", "--db", str(db), "--json"], workdir),
                 "reviewdeck evaluate", ok=(0, 1))
    try:
        totals = json.loads(res["stdout"])["totals"]
    except (ValueError, KeyError):
        totals = {}
    return {k: res[k] for k in ("wall_s", "cpu_s", "peak_rss_mb")} | {
        "sampled": totals.get("sampled"), "scored": totals.get("scored")
    }


def warm_report(db: Path, workdir: Path) -> dict:
    """`reviewdeck warm`: the pipeline's last step, which opens the heavy pages once, headless,
    so their results are on disk (dashboard/stored.py) for the first visit after new data."""
    env = hook_env(workdir, workdir / "warm-queries.jsonl")  # what it computes, for the replay
    res = _check(_measured(CLI + ["warm", "--db", str(db)], workdir, env), "reviewdeck warm")
    return {k: res[k] for k in ("wall_s", "cpu_s", "peak_rss_mb")}


def warehouse_bytes(db: Path) -> int:
    wal = Path(str(db) + ".wal")
    return db.stat().st_size + (wal.stat().st_size if wal.exists() else 0)


def count_events(db: Path) -> int:
    with connect(db, read_only=True) as con:
        return con.execute("SELECT count(*) FROM events").fetchone()[0]


# ---------------------------------------------------------------------------------------------
# pages and queries


def _page_loads(page, server, phase: str, windows: list, runs: int = 0) -> dict:
    from tests.e2e.browser import error_texts

    out = {}
    for name, path in PAGES.items():
        url = f"{server.url}/{path}"
        page.page_errors.clear()
        t0 = time.time()
        try:
            secs, charts = page_load._load(page, url)
        except Exception as exc:  # a page that never settles: say so, keep measuring the rest
            secs, charts = float("nan"), 0
            page.page_errors.append(f"did not finish: {exc!r}"[:300])
        windows.append((name, phase, t0, time.time()))
        errors = error_texts(page) + list(page.page_errors)
        warm = []
        for _ in range(runs):
            try:
                warm.append(page_load._load(page, url)[0])
            except Exception:
                warm.append(float("nan"))
        out[name] = {"seconds": secs, "charts": charts, "errors": errors[:3]}
        if runs:
            out[name]["warm"] = warm
        flag = "" if not errors else f"  ERRORS: {errors[:2]}"
        extra = f"  warm {', '.join(f'{w:.2f}' for w in warm)}" if warm else ""
        print(f"    {phase:6} {name:11} {secs:6.2f} s  charts {charts}{extra}{flag}", flush=True)
    return out


def hook_env(workdir: Path, log: Path) -> dict:
    """The environment that loads HOOK into a process and logs its queries to `log`."""
    hook_dir = workdir / "hook"
    hook_dir.mkdir(exist_ok=True)
    (hook_dir / "sitecustomize.py").write_text(HOOK, encoding="utf-8")
    return {"PYTHONPATH": os.pathsep.join([str(hook_dir), str(REPO)]),
            "REVIEWDECK_SCALE_LOG": str(log)}


def pages_and_batch(db: Path, workdir: Path, batch_log: Path, warm_runs: int) -> dict:
    """Cold and warm loads on a fresh server; then a batch lands (ingest, analyze, evaluate)
    with the server up, and the first load of every page after it."""
    from playwright.sync_api import sync_playwright

    from tests.e2e.browser import launch_browser
    from tests.e2e.server import start_server

    qlog = workdir / "queries.jsonl"
    qlog.unlink(missing_ok=True)
    env = hook_env(workdir, qlog)
    windows: list = []
    res: dict = {}
    with (
        start_server(db, env=env, log_dir=workdir, timeout_s=300) as server,
        sync_playwright() as pw,
        tempfile.TemporaryDirectory() as tmp,
    ):
        context, page = launch_browser(pw, Path(tmp) / "profile")
        context.add_init_script(page_load.WATCH)
        try:
            res["cold"] = _page_loads(page, server, "cold", windows, runs=warm_runs)
            res["server_rss_after_cold_mb"] = _server_rss_mb(server.proc.pid)[1]
            print(f"    batch of new data lands (server up): {batch_log.name}", flush=True)
            res["batch_ingest"] = ingest(batch_log, db, workdir)
            res["batch_analyze"] = analyze(db, workdir)
            res["batch_evaluate"] = evaluate(db, workdir)
            res["batch_report"] = warm_report(db, workdir)
            res["after"] = _page_loads(page, server, "after", windows)
            peak, now = _server_rss_mb(server.proc.pid)
            res["server_peak_rss_mb"], res["server_rss_end_mb"] = peak, now
        finally:
            context.close()
    res["calls"] = _read_calls(qlog, windows)
    return res


def _read_calls(qlog: Path, windows: list) -> list[dict]:
    calls = []
    if not qlog.exists():
        return calls
    for line in qlog.read_text().splitlines():
        rec = json.loads(line)
        for name, phase, t0, t1 in windows:
            if t0 <= rec["t"] <= t1:
                rec["page"], rec["phase"] = name, phase
                break
        else:
            rec["page"], rec["phase"] = None, None
        calls.append(rec)
    return calls


def replay_queries(db: Path, calls: list[dict], runs: int) -> dict:
    """p95 of each logged query function, run with the pages' arguments on fresh connections."""
    from dashboard.cache import _resolve

    by_fn: dict[str, dict] = {}
    for c in calls:
        e = by_fn.setdefault(c["fn"], {"pages": set(), "args": {}, "server_ms": []})
        if c["page"]:
            e["pages"].add(c["page"])
        e["server_ms"].append(c["ms"])
        if c["args"] and len(e["args"]) < 6:
            e["args"].setdefault(c["args"], None)
    out = {}
    for name, e in by_fn.items():
        try:
            fn = _resolve(name)
        except Exception as exc:  # e.g. a module mid-change in a shared checkout
            out[name] = {"pages": sorted(e["pages"]), "server_max_ms": max(e["server_ms"]),
                         "server_calls": len(e["server_ms"]), "error": repr(exc)[:300]}
            continue
        variants = []
        for blob in e["args"]:
            args, kwargs = pickle.loads(base64.b64decode(blob))
            variants.append((lambda con, f=fn, a=args, k=kwargs: f(con, *a, **k), None))
        row = {
            "pages": sorted(e["pages"]),
            "server_max_ms": max(e["server_ms"]),
            "server_calls": len(e["server_ms"]),
            "variants": len(variants),
        }
        if variants:
            # Fewer replays of a query that takes seconds (at least 3; about 20 s per query).
            n = max(3, min(runs, int(20_000 / max(row["server_max_ms"], 1))))
            row["runs"] = n
            try:
                fresh = bench_queries._fresh(db, variants, n)
                row["p50_ms"] = statistics.median(fresh["sql"])
                row["p95_ms"] = bench_queries._p95(fresh["sql"])
                row["cpu_p95_ms"] = bench_queries._p95(fresh["cpu"])
            except Exception as exc:
                row["error"] = repr(exc)[:300]
        out[name] = row
    return out


def _caller() -> str:
    import traceback

    for fr in reversed(traceback.extract_stack()[:-2]):
        path = Path(fr.filename)
        if REPO in path.parents and path.name != "scale.py":
            return f"{path.relative_to(REPO)}:{fr.name}:{fr.lineno}"
    return "?"


def sql_breakdown(db: Path, calls: list[dict], names: list[str], top: int = 4) -> dict:
    """For each slow query function, its SQL statements by time (one run, fresh connection)."""
    from dashboard.cache import _resolve

    out = {}
    for name in names:
        blob = next((c["args"] for c in calls if c["fn"] == name and c["args"]), None)
        if blob is None:
            continue
        args, kwargs = pickle.loads(base64.b64decode(blob))
        log: list = []
        try:
            fn = _resolve(name)
            t0 = time.perf_counter()
            with connect(db, read_only=True) as con:
                fn(Timed(con, log, _caller, clip=600), *args, **kwargs)
            total = (time.perf_counter() - t0) * 1000
        except Exception as exc:
            out[name] = {"error": repr(exc)[:300]}
            continue
        sql_ms = sum(e["ms"] for e in log)
        callers: dict[str, list] = {}
        for e in log:
            agg = callers.setdefault(e["at"], [0, 0.0])
            agg[0] += 1
            agg[1] += e["ms"]
        out[name] = {
            "by_caller": [{"at": at, "statements": n, "ms": ms}
                          for at, (n, ms) in sorted(callers.items(), key=lambda kv: -kv[1][1])],
            "total_ms": total,
            "sql_ms": sql_ms,
            "statements": len(log),
            "top": sorted(log, key=lambda e: -e["ms"])[:top],
            "python": _python_profile(db, fn, args, kwargs),
        }
    return out


def _python_profile(db: Path, fn, args, kwargs, top: int = 6) -> list[dict]:
    """Where the time outside DuckDB goes: one more run under cProfile, the functions of this
    checkout with the most cumulative time (below the query function itself)."""
    import cProfile
    import pstats

    prof = cProfile.Profile()
    with connect(db, read_only=True) as con:
        prof.enable()
        try:
            fn(con, *args, **kwargs)
        finally:
            prof.disable()
    rows = []
    for (file, line, func), (_, _, tt, ct, _) in pstats.Stats(prof).stats.items():
        path = Path(file)
        if REPO in path.parents and "dashboard/queries" not in file:
            rows.append({"at": f"{path.relative_to(REPO)}:{func}:{line}", "cum_ms": ct * 1000,
                         "self_ms": tt * 1000})
    return sorted(rows, key=lambda r: -r["cum_ms"])[:top]


# ---------------------------------------------------------------------------------------------
# report


def _ok(value: float, bar: float, higher_is_better: bool = False) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a "
    good = value >= bar if higher_is_better else value <= bar
    return "ok  " if good else "OVER" if not higher_is_better else "LOW "


def _print_ingest(step: dict) -> None:
    ing, bare = step["ingest"], step["bare"]
    print(f"ingest of the last chunk ({ing['events']:,} events into the grown warehouse): "
          f"{ing['wall_s']:.1f} s ({ing['events'] / ing['wall_s']:,.0f} events/s, "
          f"CPU {ing['cpu_s']:.1f} s), peak RSS {ing['peak_rss_mb']:,.0f} MB")
    print(f"bare {bare['call']} CTAS of the same file: {bare['seconds']:.1f} s, "
          f"peak RSS {bare['peak_rss_mb']:,.0f} MB")
    print(f"  [{_ok(step['ingest_ratio'], BARS['ingest_ratio'], True)}] ingest ratio "
          f"{step['ingest_ratio']:.2f} (bar >= {BARS['ingest_ratio']})")
    print(f"analyze over the chunk {step['chunk_analyze']['wall_s']:.1f} s, evaluate over it "
          f"{step['chunk_evaluate']['wall_s']:.1f} s")


def print_step(step: dict) -> None:
    n = step["events"]
    print(f"\n=== {n:,} events ({step['warehouse_bytes'] / 1e9:.2f} GB warehouse; load average "
          f"{step['load']} on {os.cpu_count()} cores) ===")
    if step["ingest"] is None:
        print("(measured on a kept warehouse: no chunk was ingested in this run)")
    else:
        _print_ingest(step)
    b = step["batch"]
    print(f"batch of {b['events']:,} new events: ingest {b['ingest_s']:.1f} s, incremental "
          f"analyze {b['analyze_s']:.1f} s, evaluate {b['evaluate_s']:.1f} s, warm "
          f"{b.get('report_s', float('nan')):.1f} s")
    print(f"{'page':11} {'cold s':>7} {'warm max':>9} {'after new':>10}   bars 3 / 1.5 / 3 s")
    for name, p in step["pages"].items():
        print(f"{name:11} {p['cold']:7.2f} {_ok(p['cold'], BARS['cold_s'])}"
              f" {p['warm_max']:5.2f} {_ok(p['warm_max'], BARS['warm_s'])}"
              f" {p['after']:6.2f} {_ok(p['after'], BARS['after_new_s'])}"
              f"{'  errors: ' + '; '.join(p['errors'])[:200] if p['errors'] else ''}")
    print("query p95: computed (replayed on fresh connections) and, for a kept query, what the "
          "page paid (its read from disk; warm computed it)")
    print(f"{'query (dashboard/queries/…)':52} {'computed':>8}      {'page read':>9}       "
          f"pages")
    for name, q in sorted(step["queries"].items(), key=lambda kv: -kv[1].get("p95_ms", 0)):
        p95 = q.get("p95_ms")
        shown = f"{p95:8.1f} {_ok(p95, BARS['query_p95_ms'])}" if p95 is not None else \
            f"{'–':>8} {q.get('error', 'no args')[:30]}"
        read = q.get("kept_read_p95_ms")
        kept = (f"{read:9.1f} {_ok(read, BARS['query_p95_ms'])}" if read is not None
                else f"{'kept' if q.get('kept') else '–':>9}       ")
        print(f"{name[:52]:52} {shown} {kept} {','.join(q['pages'])}")
    print_breakdown(step["sql_breakdown"])
    rss = step["server_peak_rss_mb"]
    print(f"  [{_ok(rss, BARS['server_rss_mb'])}] dashboard server peak RSS {rss:,.0f} MB "
          f"(bar {BARS['server_rss_mb']:,.0f} MB)")


def print_breakdown(breakdown: dict) -> None:
    for name, b in breakdown.items():
        if "error" in b:
            print(f"  SQL of {name}: {b['error']}")
            continue
        print(f"  SQL of {name}: {b['total_ms']:.0f} ms, of which {b['sql_ms']:.0f} ms in "
              f"{b['statements']} statements; slowest:")
        for e in b["top"]:
            print(f"    {e['ms']:7.0f} ms  {e['at']}  {e['sql'][:150]}")
        print("    SQL by caller (statements, ms):")
        for c in b["by_caller"][:6]:
            print(f"    {c['ms']:7.0f} ms  {c['statements']:4} x  {c['at']}")
        print("    Python (cProfile, cumulative / self ms):")
        for r in b["python"]:
            print(f"    {r['cum_ms']:7.0f} / {r['self_ms']:6.0f}  {r['at']}")


def figures(step: dict) -> dict[str, float]:
    """The figures of one step that the growth table follows."""
    f = {"warehouse GB": step["warehouse_bytes"] / 1e9}
    if step["ingest"] is not None:
        n = step["ingest"]["events"]
        f |= {
            "ingest events/s": n / step["ingest"]["wall_s"],
            "ingest ratio": step["ingest_ratio"],
            "ingest peak RSS MB": step["ingest"]["peak_rss_mb"],
            "analyze chunk s / 1M": step["chunk_analyze"]["wall_s"] * 1e6 / n,
            "evaluate chunk s / 1M": step["chunk_evaluate"]["wall_s"] * 1e6 / n,
            "evaluate chunk peak RSS MB": step["chunk_evaluate"]["peak_rss_mb"],
        }
    f |= {
        "batch ingest s": step["batch"]["ingest_s"],
        "batch analyze s": step["batch"]["analyze_s"],
        "batch evaluate s": step["batch"]["evaluate_s"],
        "batch warm s": step["batch"].get("report_s", float("nan")),
        "server peak RSS MB": step["server_peak_rss_mb"],
    }
    for name, p in step["pages"].items():
        f[f"{name} cold s"] = p["cold"]
        f[f"{name} warm s"] = p["warm_max"]
        f[f"{name} after s"] = p["after"]
    for name, q in step["queries"].items():
        if q.get("p95_ms") is not None:
            f[f"q {name.split(':')[-1]} p95 ms"] = q["p95_ms"]
    return f


# Figures where more is better (a throughput): their "cost" is the inverse.
RATES = {"ingest events/s", "ingest ratio"}


def growth(steps: list[dict], target: int) -> list[dict]:
    rows = []
    first, last = steps[0], steps[-1]
    ff, fl = figures(first), figures(last)
    span = math.log(last["events"] / first["events"]) if len(steps) > 1 else 0.0
    names = list(dict.fromkeys([*fl, *ff]))
    for name in names:
        vals = [figures(s).get(name) for s in steps]
        a, z = ff.get(name), fl.get(name)
        b = None
        if span and a and z and a > 0 and z > 0 and not math.isnan(a) and not math.isnan(z):
            b = math.log(z / a) / span
            if name in RATES:
                b = -b  # the cost per event of a rate
        proj = None
        if b is not None and target > last["events"]:
            factor = (target / last["events"]) ** (b if name not in RATES else -b)
            proj = z * factor
        rows.append({"figure": name, "values": vals, "b": b, "projected": proj})
    return rows


def verdict(name: str, b: float | None) -> str:
    if b is None:
        return ""
    if name in RATES:
        return "cost/event flat" if abs(b) < 0.15 else ("cost/event grows" if b > 0 else
                                                        "cost/event falls")
    if b > 1.15:
        return "FASTER than the data"
    if b < 0.2:
        return "flat"
    return "no faster than the data"


def print_growth(steps: list[dict], target: int) -> list[dict]:
    rows = growth(steps, target)
    head = "".join(f"{s['events'] / 1e6:>9.2f}M" for s in steps)
    proj = f"{target / 1e6:>9.1f}M*" if target > steps[-1]["events"] else ""
    print("\n=== growth (b: cost ~ events^b from the first to the last step) ===")
    print(f"{'figure':44}{head}{proj} {'b':>6}  verdict")
    for r in rows:
        vals = "".join(f"{v:10.2f}" if v is not None and not math.isnan(v) else f"{'–':>10}"
                       for v in r["values"])
        p = f"{r['projected']:10.2f}" if r["projected"] is not None else (" " * 10 if proj else "")
        bb = f"{r['b']:6.2f}" if r["b"] is not None else f"{'–':>6}"
        print(f"{r['figure'][:44]:44}{vals}{p} {bb}  {verdict(r['figure'], r['b'])}")
    if proj:
        print(f"* projected to {target:,} events from b (the run stopped at "
              f"{steps[-1]['events']:,}); a projection, not a measurement")
    return rows


# ---------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=10_000_000)
    ap.add_argument("--steps", default="1000000,3000000",
                    help="comma-separated step sizes before --events (smaller ones only)")
    ap.add_argument("--chunk", type=int, default=1_000_000, help="events per demo log/seed")
    ap.add_argument("--batch", type=int, default=10_000,
                    help="events of the new data that lands at each step")
    ap.add_argument("--warm-runs", type=int, default=2)
    ap.add_argument("--runs", type=int, default=10, help="replays per query for its p95")
    ap.add_argument("--project", type=int, default=10_000_000,
                    help="project the growth table to this many events if the run stops short")
    ap.add_argument("--profile", type=int, default=5,
                    help="break the N slowest queries over the bar down into their SQL")
    ap.add_argument("--workdir", type=Path)
    ap.add_argument("--keep", action="store_true", help="keep the JSONL files and warehouse")
    ap.add_argument("--reprofile", type=Path, metavar="WORKDIR",
                    help="only break down the slowest queries of a kept run's last step "
                         "(its queries.jsonl and warehouse) and exit")
    ap.add_argument("--measure", action="store_true",
                    help="ingest nothing: measure the warehouse kept in --workdir as it is "
                         "(one step), e.g. after a run stopped between steps")
    ap.add_argument("--combine", type=Path, nargs="+", metavar="JSON",
                    help="print the growth table over the steps of these result files")
    args = ap.parse_args(argv)
    if args.combine:
        results = []
        for path in args.combine:
            results += json.loads(path.read_text())["results"]
        results.sort(key=lambda r: r["events"])
        rows = print_growth(results, args.project)
        out = OUT / f"scale-combined-{results[-1]['events']}.json"
        out.write_text(json.dumps({"sources": [str(p) for p in args.combine], "results": results,
                                   "growth": rows}, indent=1, default=str), encoding="utf-8")
        print(f"wrote {out}")
        return
    if args.measure:
        if not args.workdir:
            sys.exit("--measure needs --workdir (the folder of the kept warehouse)")
        db = args.workdir / "warehouse.duckdb"
        total = count_events(db)
        today = dt.datetime.now(dt.UTC).date()
        started = time.perf_counter()
        print(f"measuring {db} as it is: {total:,} events; load average {_loadavg()}",
              flush=True)
        rep = warm_report(db, args.workdir)  # as a pipeline run would have ended
        print(f"  warm {rep['wall_s']:.1f} s", flush=True)
        OUT.mkdir(parents=True, exist_ok=True)
        step = measure_step(db, args.workdir, total, 50, args, today, None)
        print_step(step)
        out_json = OUT / f"scale-measure-{total}.json"
        _write(out_json, args, [total], [], [step], None, started)
        print(f"wrote {out_json}")
        return
    if args.reprofile:
        reprofile(args.reprofile, args.profile)
        return
    steps = sorted({int(s) for s in args.steps.split(",") if s and int(s) < args.events})
    steps.append(args.events)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="reviewdeck-scale-"))
    workdir.mkdir(parents=True, exist_ok=True)
    db = workdir / "warehouse.duckdb"
    for p in (db, Path(str(db) + ".wal")):
        p.unlink(missing_ok=True)
    OUT.mkdir(parents=True, exist_ok=True)
    out_json = OUT / f"scale-{args.events}.json"
    today = dt.datetime.now(dt.UTC).date()
    chunks = plan_chunks(steps, args.chunk)
    print(f"scale bench: steps {', '.join(f'{s:,}' for s in steps)}; {len(chunks)} chunks of "
          f"<= {args.chunk:,} events ({WEEKS_PER_CHUNK} weeks each, newest first); batch "
          f"{args.batch:,}; workdir {workdir}; load average {_loadavg()}", flush=True)
    with connect(db):
        pass
    started = time.perf_counter()
    results: list[dict] = []
    chunk_log: list[dict] = []
    for c, (n, step_i) in enumerate(chunks):
        end = chunk_end(c, today)
        log = workdir / f"chunk{c:02d}.jsonl"
        gen_s = make_log(log, n, seed=100 + c, end=end)
        size = log.stat().st_size
        print(f"chunk {c}: {n:,} events to {end} (seed {100 + c}), {size / 1e9:.2f} GB, "
              f"generated in {gen_s:.0f} s; load {_loadavg()}", flush=True)
        bare = bare_read_json(log, workdir)
        ing = ingest(log, db, workdir) | {"events": n, "bytes": size}
        ratio = bare["seconds"] / ing["wall_s"]
        print(f"  ingest {ing['wall_s']:.1f} s vs bare {bare['seconds']:.1f} s: ratio "
              f"{ratio:.2f}; ingest peak RSS {ing['peak_rss_mb']:,.0f} MB", flush=True)
        if not args.keep:
            log.unlink()
        an = analyze(db, workdir)
        print(f"  analyze {an['wall_s']:.1f} s ({an['summary']})", flush=True)
        ev = evaluate(db, workdir)
        print(f"  evaluate {ev['wall_s']:.1f} s (sampled {ev['sampled']}, scored "
              f"{ev['scored']})", flush=True)
        rep = warm_report(db, workdir)
        print(f"  warm {rep['wall_s']:.1f} s", flush=True)
        chunk_log.append({"chunk": c, "events": n, "end": str(end), "generate_s": gen_s,
                          "bare": bare, "ingest": ing, "ratio": ratio, "analyze": an,
                          "evaluate": ev, "report": rep})
        if step_i < 0:
            continue
        step = measure_step(db, workdir, steps[step_i], step_i, args, today, chunk_log[-1])
        results.append(step)
        print_step(step)
        _write(out_json, args, steps, chunk_log, results, None, started)
    rows = print_growth(results, max(args.project, args.events))
    _write(out_json, args, steps, chunk_log, results, rows, started)
    print(f"\nwrote {out_json}; total {time.perf_counter() - started:.0f} s")
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    else:
        print(f"kept {workdir}")


def measure_step(db: Path, workdir: Path, total: int, step_i: int, args, today: dt.date,
                 chunk: dict | None) -> dict:
    """Pages (cold, warm, after a batch of new data), query p95s and the breakdown of the
    slow ones, on the warehouse as it is; `chunk` is the last chunk's ingest figures."""
    print(f"step {total:,} events: pages, new data, queries", flush=True)
    batch_log = workdir / f"batch{step_i}.jsonl"
    make_log(batch_log, args.batch, seed=900 + step_i, end=chunk_end(0, today))
    load_before = _loadavg()
    pb = pages_and_batch(db, workdir, batch_log, args.warm_runs)
    if not args.keep:
        batch_log.unlink()
    from dashboard import stored

    reads = [c for c in pb["calls"] if "kept_read" in c]
    computed = [c for c in pb["calls"] if "kept_read" not in c]
    warm_log = workdir / "warm-queries.jsonl"
    warm_calls = [c | {"page": None, "phase": "warm"} for c in _read_calls(warm_log, [])
                  if "kept_read" not in c]
    warm_log.unlink(missing_ok=True)
    queries = replay_queries(db, computed + warm_calls, args.runs)
    for name in {c["fn"] for c in reads} - set(queries):  # read only: nothing to replay
        queries[name] = {"pages": [], "server_max_ms": 0.0, "server_calls": 0}
    for name, q in queries.items():
        mine = [c["ms"] for c in reads if c["fn"] == name]
        q["kept"] = stored.is_kept(name)  # its module is imported by the replay's resolve
        if mine:
            q["kept_reads"] = len(mine)
            q["kept_hits"] = sum(1 for c in reads if c["fn"] == name and c["kept_read"])
            q["kept_read_p95_ms"] = bench_queries._p95(mine)
            q["pages"] = sorted(set(q["pages"]) | {c["page"] for c in reads
                                                   if c["fn"] == name and c["page"]})
    slow = [n for n, q in sorted(queries.items(), key=lambda kv: -kv[1].get("p95_ms", 0))
            if q.get("p95_ms", 0) > BARS["query_p95_ms"]][: args.profile]
    breakdown = sql_breakdown(db, computed + warm_calls, slow)
    pages = {}
    for name in PAGES:
        cold, after = pb["cold"][name], pb["after"][name]
        warm = [w for w in cold.get("warm", []) if not math.isnan(w)]
        pages[name] = {
            "cold": cold["seconds"],
            "warm": cold.get("warm", []),
            "warm_max": max(warm) if warm else float("nan"),
            "after": after["seconds"],
            "charts": cold["charts"],
            "errors": cold["errors"] + after["errors"],
        }
        calls = [x for x in computed if x["page"] == name]
        kept = [x for x in reads if x["page"] == name]
        for phase in ("cold", "after"):
            mine = [x["ms"] for x in calls if x["phase"] == phase]
            pages[name][f"{phase}_queries"] = len(mine)
            pages[name][f"{phase}_query_ms"] = sum(mine)
            pages[name][f"{phase}_kept_reads_ms"] = sum(
                x["ms"] for x in kept if x["phase"] == phase)
    step = {
        "events": total,
        "events_in_warehouse": count_events(db),
        "warehouse_bytes": warehouse_bytes(db),
        "load": f"{load_before} before pages, {_loadavg()} after",
        "ingest": chunk["ingest"] if chunk else None,
        "bare": chunk["bare"] if chunk else None,
        "ingest_ratio": chunk["ratio"] if chunk else None,
        "chunk_analyze": chunk["analyze"] if chunk else None,
        "chunk_evaluate": chunk["evaluate"] if chunk else None,
        "batch": {
            "events": args.batch,
            "ingest_s": pb["batch_ingest"]["wall_s"],
            "analyze_s": pb["batch_analyze"]["wall_s"],
            "evaluate_s": pb["batch_evaluate"]["wall_s"],
            "report_s": pb["batch_report"]["wall_s"],
            "analyze_summary": pb["batch_analyze"]["summary"],
        },
        "pages": pages,
        "queries": queries,
        "sql_breakdown": breakdown,
        "server_peak_rss_mb": pb["server_peak_rss_mb"],
        "server_rss_end_mb": pb["server_rss_end_mb"],
        "calls": [{k: v for k, v in x.items() if k != "args"} for x in pb["calls"]],
    }
    return step


def reprofile(workdir: Path, top: int) -> None:
    """The SQL and Python breakdown of the `top` slowest logged queries of a kept run."""
    calls = [json.loads(ln) for ln in (workdir / "queries.jsonl").read_text().splitlines()]
    db = workdir / "warehouse.duckdb"
    worst: dict[str, float] = {}
    for c in calls:
        worst[c["fn"]] = max(worst.get(c["fn"], 0.0), c["ms"])
    names = sorted(worst, key=lambda n: -worst[n])[:top]
    print(f"{db}: {count_events(db):,} events; the {top} slowest queries the pages ran")
    breakdown = sql_breakdown(db, calls, names)
    print_breakdown(breakdown)
    (OUT / f"scale-profile-{count_events(db)}.json").write_text(
        json.dumps(breakdown, indent=1, default=str), encoding="utf-8")


def _write(path: Path, args, steps, chunk_log, results, rows, started) -> None:
    doc = {
        "command": "python bench/scale.py " + " ".join(sys.argv[1:]),
        "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "elapsed_s": time.perf_counter() - started,
        "cores": os.cpu_count(),
        "bars": BARS,
        "steps": steps,
        "chunks": chunk_log,
        "results": results,
        "growth": rows,
    }
    path.write_text(json.dumps(doc, indent=1, default=str), encoding="utf-8")


if __name__ == "__main__":
    main()
