"""Benchmark: OTLP/JSON GenAI spans per second through the real reader (and, with --load, the
real loader into a fresh warehouse). Bar: ≥ 20,000 spans/s on the dev machine.

    python bench/ingest_otlp.py [--spans 100000] [--load]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _kv(key, value):
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    if isinstance(value, float):
        return {"key": key, "value": {"doubleValue": value}}
    if isinstance(value, list):
        return {
            "key": key,
            "value": {"arrayValue": {"values": [{"stringValue": v} for v in value]}},
        }
    return {"key": key, "value": {"stringValue": value}}


def make_file(path: Path, n_spans: int, per_doc: int = 1000, seed: int = 7) -> None:
    """JSON Lines of TracesData, current OTel GenAI chat spans with content (as the SDK writes)."""
    rng = random.Random(seed)
    start = 1_767_225_600_000_000_000
    with path.open("w") as fh:
        for base in range(0, n_spans, per_doc):
            spans = []
            for i in range(base, min(base + per_doc, n_spans)):
                t0 = start + i * 1_000_000_000
                question = f"question {i} about order {rng.randint(1, 10**6)}"
                attrs = [
                    _kv("gen_ai.operation.name", "chat"),
                    _kv("gen_ai.provider.name", "openai"),
                    _kv("gen_ai.request.model", "gpt-4o-mini"),
                    _kv("gen_ai.response.model", "gpt-4o-mini-2024-07-18"),
                    _kv("gen_ai.request.temperature", 0.2),
                    _kv("gen_ai.request.max_tokens", 256),
                    _kv("gen_ai.response.id", f"chatcmpl-{i}"),
                    _kv("gen_ai.response.finish_reasons", ["stop"]),
                    _kv("gen_ai.usage.input_tokens", rng.randint(20, 900)),
                    _kv("gen_ai.usage.output_tokens", rng.randint(5, 300)),
                    _kv("gen_ai.conversation.id", f"s{i // 5}"),
                    _kv("user.id", f"u{i % 997}"),
                    _kv("gen_ai.input.messages", json.dumps([
                        {"role": "system", "parts": [{"type": "text", "content": "Be helpful."}]},
                        {"role": "user", "parts": [{"type": "text", "content": question}]}])),
                    _kv("gen_ai.output.messages", json.dumps([
                        {"role": "assistant", "finish_reason": "stop",
                         "parts": [{"type": "text", "content": f"answer {i}"}]}])),
                ]  # fmt: skip
                spans.append({
                    "traceId": f"{i // 4:032x}", "spanId": f"{i + 1:016x}", "parentSpanId": "",
                    "name": "chat gpt-4o-mini", "kind": 3,
                    "startTimeUnixNano": str(t0), "endTimeUnixNano": str(t0 + 800_000_000),
                    "attributes": attrs, "status": {},
                })  # fmt: skip
            resource = {"attributes": [_kv("service.name", "bench")]}
            scope_spans = [{"scope": {"name": "bench"}, "spans": spans}]
            doc = {"resourceSpans": [{"resource": resource, "scopeSpans": scope_spans}]}
            fh.write(json.dumps(doc) + "\n")


def _use_the_ingest_package() -> None:
    """bench/ holds a script named ingest.py; with bench/ on sys.path (running a script here, or
    bench/ingest.py calling main()) `import ingest` would find it instead of the package."""
    here = str(Path(__file__).resolve().parent)
    sys.path[:] = [p for p in sys.path if p not in ("", here)]
    repo = str(Path(__file__).resolve().parent.parent)
    if repo not in sys.path:
        sys.path.insert(0, repo)
    mod = sys.modules.get("ingest")
    if mod is not None and not hasattr(mod, "__path__"):
        del sys.modules["ingest"]


def _time_load(path: Path) -> None:
    """Child mode: load `path` into a fresh warehouse and print the seconds it took. A fresh
    process, as `reviewdeck ingest` is: not one whose heap holds the generator's garbage."""
    from ingest.db import connect
    from ingest.load.loader import load_source
    from ingest.load.read import Source

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "w.duckdb"
        with connect(db):
            pass
        t0 = time.perf_counter()
        # The real entry point of `reviewdeck ingest FILE`: detect, read (on every core for a
        # big JSON Lines file), stage, merge in one transaction.
        result = load_source(db, Source(str(path), path))
        seconds = time.perf_counter() - t0
    print(json.dumps({"seconds": seconds, "events": result.events_inserted}))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--spans", type=int, default=100_000)
    parser.add_argument("--load", action="store_true", help="also load into a fresh warehouse")
    parser.add_argument("--runs", type=int, default=3, help="end-to-end loads (median shown)")
    parser.add_argument("--time-load", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    _use_the_ingest_package()
    if args.time_load:
        _time_load(args.time_load)
        return
    from ingest.formats import detect_format, read_foreign

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "spans.jsonl"
        make_file(path, args.spans)
        size_mb = path.stat().st_size / 1e6
        print(f"OTLP/JSON file: {args.spans} spans, {size_mb:.1f} MB")
        t0, c0 = time.perf_counter(), time.process_time()
        data = path.read_bytes()
        parsed = read_foreign(detect_format(path, data[:65536]) or "otlp", path, data)
        parse_s, parse_cpu = time.perf_counter() - t0, time.process_time() - c0
        assert len(parsed.events) == args.spans, (len(parsed.events), parsed.rejects[:3])
        del parsed, data
        print(
            f"read in one process (parse + map, no staging): {parse_s:.2f} s wall = "
            f"{args.spans / parse_s:,.0f} spans/s; {parse_cpu:.2f} s CPU"
        )
        if args.load:
            from ingest.load.parallel_read import worker_count

            runs = []
            for _ in range(args.runs):
                done = subprocess.run(
                    [sys.executable, __file__, "--time-load", str(path)],
                    capture_output=True, text=True, check=True,
                )  # fmt: skip
                out = json.loads(done.stdout.strip().splitlines()[-1])
                assert out["events"] == args.spans, out
                runs.append(out["seconds"])
            each = ", ".join(f"{s:.2f}" for s in runs)
            median = statistics.median(runs)
            print(
                f"end to end into the warehouse ({worker_count()} processes), {args.runs} runs "
                f"in fresh processes: {each} s; median {median:.2f} s = "
                f"{args.spans / median:,.0f} spans/s (bar 20,000)"
            )


if __name__ == "__main__":
    main()
