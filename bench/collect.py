"""Benchmark: GenAI spans/s from the real OpenTelemetry SDK into `reviewdeck collect`, end to end.

Bar (issue 16): spans sent by the real OTel SDK (TracerProvider + BatchSpanProcessor + the
OTLP/HTTP protobuf exporter, several processes) are stored at >= 20,000 spans/s sustained, end to
end, on this machine; in the same run the same spans go to Phoenix and the ratio is printed.

    python bench/collect.py [--spans 40000] [--procs 2] [--phoenix /tmp/phoenix-venv/bin/phoenix]

Three timed runs, each with fresh sender processes emitting the same spans:
1. **sink**: the senders export to an HTTP server that discards the body and answers 200: the
   SDK's own maximum rate on this machine (span creation + protobuf encoding + HTTP), so the
   reader sees whether the senders or the collector are the limit;
2. **collector**: the senders export to a `reviewdeck collect` process on 127.0.0.1; the clock
   runs from the moment the senders start emitting until the warehouse holds every span (the
   collector's batch lines, printed after each commit, are summed; the count is then checked
   in the DuckDB file after the collector has stopped);
3. **phoenix** (with --phoenix): the same spans to `phoenix serve` (its default SQLite store),
   until its database holds them all.

Each sender is a fresh process that builds its spans' attributes, reports ready, and on "go"
creates its spans as fast as it can through a TracerProvider with a BatchSpanProcessor whose
queue holds them all (so none is dropped), then shuts the provider down (which flushes).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BAR = 20_000
WORDS = (
    "refund order invoice shipping account password billing plan upgrade cancel delivery "
    "address card charge receipt warranty return exchange discount coupon"
).split()


# Senders -------------------------------------------------------------------------------------


def _text(rng: random.Random, n_chars: int) -> str:
    out: list[str] = []
    size = 0
    while size < n_chars:
        w = rng.choice(WORDS)
        out.append(w)
        size += len(w) + 1
    return " ".join(out).capitalize() + "."


def span_attributes(i: int, rng: random.Random) -> dict[str, object]:
    """A chat span as the OTel GenAI instrumentations write it (current conventions, content
    captured on the span): model, messages of a few hundred characters, tokens."""
    question = _text(rng, rng.randint(150, 400))
    answer = _text(rng, rng.randint(200, 600))
    return {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o-mini",
        "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
        "gen_ai.request.temperature": 0.2,
        "gen_ai.request.max_tokens": 512,
        "gen_ai.response.id": f"chatcmpl-{i:012d}",
        "gen_ai.response.finish_reasons": ("stop",),
        "gen_ai.usage.input_tokens": len(question) // 4 + 40,
        "gen_ai.usage.output_tokens": len(answer) // 4,
        "gen_ai.conversation.id": f"conv-{i // 3}",
        "user.id": f"user-{i % 997}",
        "server.address": "api.openai.com",
        "gen_ai.input.messages": json.dumps([
            {"role": "system", "parts": [{"type": "text", "content":
                "You are the support assistant of an online shop. Answer briefly and politely."}]},
            {"role": "user", "parts": [{"type": "text", "content": question}]},
        ]),
        "gen_ai.output.messages": json.dumps([
            {"role": "assistant", "finish_reason": "stop",
             "parts": [{"type": "text", "content": answer}]},
        ]),
    }  # fmt: skip


class _Recorder:
    """A SpanExporter keeping the request bodies the OTLP/HTTP exporter would send (the same
    encode_spans(...).SerializePartialToString() call), for the replay run."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    def export(self, spans):  # type: ignore[no-untyped-def]
        from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
        from opentelemetry.sdk.trace.export import SpanExportResult

        self.bodies.append(encode_spans(spans).SerializePartialToString())
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


def sender(endpoint: str, n: int, seed: int, dump: str | None = None) -> None:
    """Child mode: emit n spans through the real SDK to endpoint, when told to (or, with dump,
    record the request bodies the exporter would send, into that file)."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from opentelemetry.trace import SpanKind

    rng = random.Random(seed)
    attrs = [span_attributes(seed * 10_000_000 + i, rng) for i in range(n)]
    provider = TracerProvider(resource=Resource.create({"service.name": f"bench-sender-{seed}"}))
    failed = [0]

    class Counting(OTLPSpanExporter):
        def export(self, spans):  # type: ignore[no-untyped-def]
            result = super().export(spans)
            if result.name != "SUCCESS":
                failed[0] += len(spans)
            return result

    exporter = _Recorder() if dump else Counting(endpoint=endpoint, timeout=60)
    # A queue that holds every span: the bench measures throughput, not the SDK's drop policy.
    queue = max(n + 1, 2048)
    processor = BatchSpanProcessor(exporter, max_queue_size=queue, max_export_batch_size=512,
                                   schedule_delay_millis=100)  # fmt: skip
    provider.add_span_processor(processor)
    tracer = provider.get_tracer("bench.collect")
    print("ready", flush=True)
    sys.stdin.readline()
    t0, cpu0 = time.time(), time.process_time()
    for a in attrs:
        with tracer.start_as_current_span("chat gpt-4o-mini", kind=SpanKind.CLIENT) as s:
            s.set_attributes(a)
    t_emitted = time.time()
    # force_flush exports the whole queue however long it takes; shutdown alone would wait 30 s
    # and then drop what is left (SDK 1.45's BatchProcessor.shutdown).
    provider.force_flush()
    t_done = time.time()
    provider.shutdown()
    report = {"t0": t0, "t_emitted": t_emitted, "t_done": t_done, "n": n, "failed": failed[0],
              "cpu": time.process_time() - cpu0}  # fmt: skip
    if dump:
        import pickle

        Path(dump).write_bytes(pickle.dumps(exporter.bodies))  # type: ignore[union-attr]
    print(json.dumps(report), flush=True)


def replayer(endpoint: str, dump: str) -> None:
    """Child mode: post recorded SDK request bodies one after another on one keep-alive
    connection (what one exporter does), as fast as the collector answers."""
    import http.client
    import pickle
    from urllib.parse import urlsplit

    bodies = pickle.loads(Path(dump).read_bytes())
    url = urlsplit(endpoint)
    print("ready", flush=True)
    sys.stdin.readline()
    t0, cpu0 = time.time(), time.process_time()
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=120)
    headers = {"Content-Type": "application/x-protobuf"}
    for body in bodies:
        while True:
            conn.request("POST", url.path, body=body, headers=headers)
            resp = conn.getresponse()
            resp.read()
            if resp.status == 200:
                break
            if resp.status not in (429, 503):
                raise SystemExit(f"collector answered {resp.status}")
            time.sleep(float(resp.getheader("Retry-After") or 1))
    conn.close()
    t_done = time.time()
    print(json.dumps({"t0": t0, "t_emitted": t_done, "t_done": t_done, "n": 0,
                      "cpu": time.process_time() - cpu0}), flush=True)  # fmt: skip


def run_senders(endpoint: str, total: int, procs: int, dump: Path | None = None,
                replay: bool = False) -> tuple[float, list[dict]]:  # fmt: skip
    """Start the senders (or, with replay, the replayers of the bodies recorded in dump-<k>),
    wait until all are ready, say go; return (go time, their reports)."""
    share = [total // procs + (1 if k < total % procs else 0) for k in range(procs)]

    def argv(k: int) -> list[str]:
        if replay:
            return ["--replay", endpoint, "--dump", f"{dump}-{k}"]
        extra = ["--dump", f"{dump}-{k}"] if dump else []
        return ["--sender", endpoint, "--n", str(share[k]), "--seed", str(k + 1), *extra]

    children = [
        subprocess.Popen(
            [sys.executable, __file__, *argv(k)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=REPO,
        )  # fmt: skip
        for k in range(procs)
    ]
    for c in children:
        line = c.stdout.readline()  # type: ignore[union-attr]
        if line.strip() != "ready":
            raise SystemExit(f"sender failed to start: {line!r}")
    go = time.time()
    for c in children:
        c.stdin.write("go\n")  # type: ignore[union-attr]
        c.stdin.flush()  # type: ignore[union-attr]
    reports = []
    for c in children:
        out, _ = c.communicate(timeout=1800)
        reports.append(json.loads(out.strip().splitlines()[-1]))
        if c.returncode:
            raise SystemExit(f"sender exited with {c.returncode}")
    return go, reports


# The discarding sink -------------------------------------------------------------------------


class _Sink(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return


def sink_server() -> None:
    """Child mode: a server that discards every request (its own process, as a collector)."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Sink)
    httpd.daemon_threads = True
    print(httpd.server_address[1], flush=True)
    httpd.serve_forever()


# Runs ----------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port: int, proc: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"nothing listens on {port}")


def senders_summary(go: float, reports: list[dict]) -> str:
    emitted = max(r["t_emitted"] for r in reports) - go
    done = max(r["t_done"] for r in reports) - go
    return f"senders emitted in {emitted:.1f} s, exported by {done:.1f} s"


def run_sink(total: int, procs: int) -> tuple[float, float]:
    proc = subprocess.Popen([sys.executable, __file__, "--sink"], stdout=subprocess.PIPE,
                            text=True)  # fmt: skip
    try:
        port = int(proc.stdout.readline())  # type: ignore[union-attr]
        go, reports = run_senders(f"http://127.0.0.1:{port}/v1/traces", total, procs)
    finally:
        proc.kill()
        proc.wait()
    if lost := sum(r["failed"] for r in reports):
        raise SystemExit(f"sink: the SDK failed to export {lost} spans")
    seconds = max(r["t_done"] for r in reports) - go
    cpu = sum(r["cpu"] for r in reports)
    print(f"sink (the SDK senders' own limit): {total} spans in {seconds:.2f} s = "
          f"{total / seconds:,.0f} spans/s; {senders_summary(go, reports)}; "
          f"SDK CPU per span {_us(cpu, total)}")  # fmt: skip
    return total / seconds, cpu / total


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process, all its threads (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _us(cpu_s: float, n: int) -> str:
    return f"{cpu_s / n * 1e6:,.0f} µs"


def run_collector(total: int, procs: int, tmp: Path, batch_seconds: float, name: str,
                  dump: Path | None = None) -> tuple[float, float]:  # fmt: skip
    """One collector run; with dump, the senders replay the recorded bodies. Returns
    (spans/s end to end, collector CPU seconds per span)."""
    from ingest.db import connect

    folder = tmp / name
    db = folder / "bench.duckdb"
    port = free_port()
    argv = [sys.executable, "-m", "dashboard.cli", "collect", "--db", str(db), "--spool",
            str(folder / "spool"), "--port", str(port), "--batch-seconds", str(batch_seconds),
            "--max-spool-mb", "2048"]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(argv, cwd=REPO, env=env, stderr=subprocess.PIPE, text=True)
    stored = [0]
    batches: list[tuple[float, int]] = []
    all_in = threading.Event()
    cpu_at_end = [0.0]

    def watch() -> None:
        for line in proc.stderr:  # type: ignore[union-attr]
            if " events, " in line and ": " in line:
                n = int(line.split(" events, ", 1)[0].rsplit(" ", 1)[1])
                stored[0] += n
                batches.append((time.time(), n))
                if stored[0] >= total and not all_in.is_set():
                    cpu_at_end[0] = _cpu_s(proc.pid)
                    all_in.set()
            elif line.strip() and not line.startswith("reviewdeck: "):
                print(f"  collector: {line.rstrip()}", file=sys.stderr)

    threading.Thread(target=watch, daemon=True).start()
    try:
        wait_listening(port, proc)
        cpu0 = _cpu_s(proc.pid)
        go, reports = run_senders(f"http://127.0.0.1:{port}/v1/traces", total, procs, dump,
                                  replay=dump is not None)  # fmt: skip
        lost = sum(r.get("failed", 0) for r in reports)
        if lost:
            raise SystemExit(f"{name}: the SDK failed to export {lost} spans (see its log)")
        # Every span was acknowledged: they are all in the spool, so the batches bring them in.
        if not all_in.wait(300):
            raise SystemExit(f"only {stored[0]} of {total} acknowledged spans stored after 5 min")
        t_stored = batches[-1][0]
    finally:
        proc.terminate()
        proc.wait(timeout=300)
    with connect(db, read_only=True) as con:
        rows = con.execute("SELECT count(*), count(DISTINCT event_id) FROM events").fetchone()
        complete = con.execute(
            "SELECT count(*) FROM events WHERE kind = 'llm' AND input_messages IS NOT NULL "
            "AND output_messages IS NOT NULL AND model IS NOT NULL AND tokens_in > 0"
        ).fetchone()[0]
    assert rows[0] == rows[1] == total == complete, (rows, complete, total)
    seconds = t_stored - go
    acked = max(r["t_done"] for r in reports) - go
    cpu = cpu_at_end[0] - cpu0
    senders = sum(r["cpu"] for r in reports)
    who = "replayers" if dump else "SDK senders"
    steady = ""
    if len(batches) >= 3:  # the rate between commits, without the start-up and the last tail
        span_s = batches[-1][0] - batches[0][0]
        steady = (f" ({sum(n for _, n in batches[1:]) / span_s:,.0f} spans/s between the "
                  f"first and the last commit)")  # fmt: skip
    print(f"{name}: {total} spans in the warehouse {seconds:.2f} s after the start = "
          f"{total / seconds:,.0f} spans/s end to end{steady}; all acknowledged by {acked:.1f} s; "
          f"{len(batches)} batches; CPU per span: collector {_us(cpu, total)}, {who} "
          f"{_us(senders, total)}; checked in DuckDB: {rows[0]} distinct rows, each an llm "
          f"event with model, messages and tokens")  # fmt: skip
    return total / seconds, cpu / total


def run_phoenix(phoenix: str, total: int, procs: int, tmp: Path) -> float | None:
    work = tmp / "phoenix"
    work.mkdir()
    port, grpc_port = free_port(), free_port()
    env = {**os.environ, "PHOENIX_WORKING_DIR": str(work), "PHOENIX_PORT": str(port),
           "PHOENIX_HOST": "127.0.0.1",
           "PHOENIX_GRPC_PORT": str(grpc_port), "PHOENIX_TELEMETRY_ENABLED": "false",
           "DO_NOT_TRACK": "1"}  # fmt: skip
    env.pop("PYTHONPATH", None)
    log = (tmp / "phoenix.log").open("w")
    proc = subprocess.Popen([phoenix, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT,
                            cwd=tmp)  # fmt: skip
    try:
        try:
            wait_listening(port, proc, 180)
        except SystemExit as exc:
            print(f"phoenix: did not start ({exc}); its log: {tmp / 'phoenix.log'}:\n"
                  + (tmp / "phoenix.log").read_text()[-2000:])  # fmt: skip
            return None
        go, reports = run_senders(f"http://127.0.0.1:{port}/v1/traces", total, procs)
        dbs = list(work.glob("*.db"))
        n, last_n, last_progress = 0, -1, time.time()
        t_stored = time.time()
        # Until every span is in its database, or nothing new went in for two minutes.
        while time.time() - last_progress < 120:
            n = _phoenix_count(dbs[0]) if dbs else 0
            if n != last_n:
                last_n, last_progress, t_stored = n, time.time(), time.time()
            if n >= total:
                break
            time.sleep(0.5)
            dbs = dbs or list(work.glob("*.db"))
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
    seconds = t_stored - go
    version = subprocess.run(
        [str(Path(phoenix).with_name("python")), "-c",
         "import importlib.metadata as m; print(m.version('arize-phoenix'))"],
        capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    lost = sum(r["failed"] for r in reports)
    print(f"phoenix serve {version} (SQLite store): {n} of {total} spans stored "
          f"({lost} not acknowledged) "
          f"{seconds:.2f} s after the start = {n / seconds:,.0f} spans/s; "
          f"{senders_summary(go, reports)}")  # fmt: skip
    return n / seconds


def _phoenix_count(db: Path) -> int:
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        try:
            return con.execute("SELECT count(*) FROM spans").fetchone()[0]
        finally:
            con.close()
    except sqlite3.Error:
        return 0


def record_bodies(total: int, procs: int, tmp: Path) -> Path:
    """The request bodies the SDK senders would send, recorded once (untimed) for the replay."""
    dump = tmp / "bodies"
    run_senders("http://unused/v1/traces", total, procs, dump)
    return dump


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--spans", type=int, default=40_000, help="spans per run")
    parser.add_argument("--procs", type=int, default=2, help="sender processes")
    parser.add_argument(
        "--batch-seconds",
        type=float,
        default=2.0,
        help="the collector's --batch-seconds (its default: 2)",
    )
    parser.add_argument("--phoenix", help="the `phoenix` command of a venv with arize-phoenix")
    parser.add_argument(
        "--phoenix-spans", type=int, default=None, help="spans sent to Phoenix (default: --spans)"
    )
    parser.add_argument(
        "--skip-replay",
        action="store_true",
        help="leave out the collector-capacity run (recorded SDK requests)",
    )
    parser.add_argument("--sender", help=argparse.SUPPRESS)
    parser.add_argument("--replay", help=argparse.SUPPRESS)
    parser.add_argument("--dump", help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--sink", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.sender:
        sender(args.sender, args.n, args.seed, args.dump)
        return
    if args.replay:
        replayer(args.replay, args.dump)
        return
    if args.sink:
        sink_server()
        return
    sys.path.insert(0, str(REPO))
    load = os.getloadavg()
    cores = os.cpu_count() or 1
    print(f"{cores} cores; load average before the run {load[0]:.2f} {load[1]:.2f}; "
          f"{args.procs} sender processes, {args.spans} GenAI chat spans per run "
          f"(15 attributes, messages of 150-600 characters, about 1.6 kB per span in "
          f"protobuf)")  # fmt: skip
    tmp = Path(tempfile.mkdtemp(prefix="bench-collect-"))
    try:
        sink, sdk_cpu = run_sink(args.spans, args.procs)
        ours, ours_cpu = run_collector(args.spans, args.procs, tmp, args.batch_seconds,
                                       "collector, real SDK senders")  # fmt: skip
        print(f"  collector / sink: {ours / sink:.2f} (1.00 = the collector keeps up with what "
              f"the SDK senders can send on this machine)")  # fmt: skip
        if not args.skip_replay:
            dump = record_bodies(args.spans, args.procs, tmp)
            cap, cap_cpu = run_collector(args.spans, args.procs, tmp, args.batch_seconds,
                                         "collector capacity, recorded SDK requests replayed",
                                         dump)  # fmt: skip
            ours_cpu = cap_cpu
        best = cores / (sdk_cpu + ours_cpu)
        print(f"CPU budget: {cores} cores / (SDK {sdk_cpu * 1e6:,.0f} µs + collector "
              f"{ours_cpu * 1e6:,.0f} µs per span) = at most {best:,.0f} spans/s on this "
              f"machine with senders and collector sharing it; the SDK alone, given every "
              f"core: {cores / sdk_cpu:,.0f} spans/s")  # fmt: skip
        print(f"BAR: >= {BAR:,} spans/s end to end from the real SDK -> "
              f"{'MET' if ours >= BAR else 'NOT MET'}: {ours:,.0f} spans/s = {ours / BAR:.0%} "
              f"of it")  # fmt: skip
        if args.phoenix and not Path(args.phoenix).is_file():
            print(f"phoenix: not run, no {args.phoenix} (make one with `python -m venv V && "
                  f"V/bin/pip install arize-phoenix`, pass V/bin/phoenix)")  # fmt: skip
        elif args.phoenix:
            theirs = run_phoenix(args.phoenix, args.phoenix_spans or args.spans, args.procs, tmp)
            if theirs:
                print(f"reviewdeck collect / phoenix serve, same senders and spans: "
                      f"{ours / theirs:,.1f}x")  # fmt: skip
        else:
            print("phoenix: not run (pass --phoenix PATH/TO/phoenix, from a virtualenv with "
                  "`pip install arize-phoenix`)")  # fmt: skip
        print(f"load average after the run {os.getloadavg()[0]:.2f}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
