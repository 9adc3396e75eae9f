"""The collector process: an HTTP server that spools, and a thread that batches into the warehouse.

A request is answered only after its payload is durable in the spool (spool.py), so an
acknowledged span survives a kill -9. Every `batch_seconds` the batching thread moves what the
spool holds into the warehouse in one short write transaction (batch.py through the loader);
between batches the file is closed, so dashboards open their read-only connections as usual
(ingest/db.py). When the spool is full, requests get 429 with Retry-After and nothing is lost:
exporters retry. On start the spool left by a previous run is drained before the port opens.
"""

from __future__ import annotations

import math
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import orjson

from ingest.collect import batch as batching
from ingest.collect import wire
from ingest.collect.spool import Entry, Spool, SpoolFull
from ingest.db import connect
from ingest.formats import no_cyclic_gc
from ingest.load.loader import FileResult

CACHE_BYTES = 128 * 1024 * 1024  # mapped requests kept for the batcher; beyond, it re-reads
READER_GAP_S = 1.0  # the least time the warehouse stays closed between two batches


@dataclass(frozen=True)
class Settings:
    db: Path
    spool: Path
    host: str = "127.0.0.1"
    port: int = 4318
    max_spool_bytes: int = 512 * 1024 * 1024
    batch_seconds: float = 2.0
    join_wait_s: float = 10.0


@dataclass(frozen=True)
class BatchReport:
    batch_id: str
    requests: int
    result: FileResult


class Collector:
    """Receiver + batcher over one warehouse and one spool folder."""

    def __init__(
        self, settings: Settings, on_batch: Callable[[BatchReport], None] | None = None
    ) -> None:
        self.settings = settings
        self.spool = Spool(settings.spool, settings.max_spool_bytes)
        self.on_batch = on_batch
        self._cache: dict[str, batching.Mapped] = {}
        self._cache_bytes = 0
        self._lock = threading.Lock()
        self._batch_lock = threading.Lock()
        self._stop = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._threads: list[threading.Thread] = []
        self.errors: list[str] = []

    # Lifecycle ------------------------------------------------------------------------------

    def start(self) -> None:
        """Bring the schema up to date, drain what a previous run left, then listen."""
        with connect(self.settings.db):
            pass
        self.drain()
        self._httpd = _Server((self.settings.host, self.settings.port), _Handler)
        self._httpd.collector = self  # type: ignore[attr-defined]
        self._threads = [
            threading.Thread(target=self._httpd.serve_forever, name="collect-http", daemon=True),
            threading.Thread(target=self._batch_loop, name="collect-batch", daemon=True),
        ]
        for t in self._threads:
            t.start()

    @property
    def port(self) -> int:
        assert self._httpd is not None
        return self._httpd.server_address[1]

    def stop(self) -> None:
        """Stop listening, then load everything the spool holds."""
        self._stop.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        for t in self._threads:
            t.join(timeout=60)
        self.drain()

    def drain(self) -> list[BatchReport]:
        """Replay claimed batches, then load every entry regardless of join waits."""
        reports = []
        while True:
            done = self.run_batch(drain_all=True)
            reports += done
            if not done:
                return reports

    # Requests -------------------------------------------------------------------------------

    def retry_after_s(self) -> int:
        return max(1, math.ceil(self.settings.batch_seconds))

    def handle(
        self, path: str, ctype_header: str | None, encoding: str | None, body: bytes
    ) -> wire.Reply:
        # A request makes tens of thousands of small dicts, none cyclic, alive until it is
        # mapped; the cyclic collector would rescan them, and every object of a warm heap,
        # again and again (the protobuf walk took half as long again with it on). Decoding and
        # mapping run with it off, as file ingest's readers do.
        with no_cyclic_gc():
            return self._handle(path, ctype_header, encoding, body)

    def _handle(
        self, path: str, ctype_header: str | None, encoding: str | None, body: bytes
    ) -> wire.Reply:
        ctype = wire.JSON
        try:
            if path not in wire.SIGNALS:
                raise wire.WireError(404, wire.NOT_FOUND, f"no endpoint {path}; use /v1/traces "
                                     "or /v1/logs")  # fmt: skip
            ctype = wire.media_type(ctype_header)
            if self.spool.used_bytes >= self.settings.max_spool_bytes:
                raise SpoolFull("spool full")
            data = wire.decompress(body, encoding)
            doc = wire.decode(path, ctype, data)
        except SpoolFull:
            return self._full(ctype)
        except wire.WireError as exc:
            if exc.http_status == 400:
                self._spool_bad(path, ctype_header, exc.message, body, encoding)
            return wire.failure(ctype, exc.http_status, exc.code, exc.message)
        total = wire.count_items(doc)
        if total == 0:
            return wire.success(path, ctype)
        kind = "traces" if path == wire.TRACES else "logs"
        try:
            # Mapped before it is stored, so the reply can say which spans were rejected.
            line = orjson.dumps(doc) + b"\n"
            pending = Entry("pending", kind, len(line))
            mapped = batching.map_doc(pending, doc, total, None)
            entry = self.spool.write(kind, line)
        except SpoolFull:
            return self._full(ctype)
        except OSError as exc:  # disk trouble: not stored, so not acknowledged
            return wire.failure(ctype, 503, wire.UNAVAILABLE, f"cannot store the request: {exc}",
                                self.retry_after_s())  # fmt: skip
        mapped.entry = entry
        with self._lock:
            # Not if the batcher loaded it already (it removes the file, then forgets names).
            fits = self._cache_bytes + entry.size <= CACHE_BYTES
            if fits and (self.spool.folder / entry.name).exists():
                self._cache[entry.name] = mapped
                self._cache_bytes += entry.size
        if not mapped.rejected and not mapped.reasons:
            return wire.success(path, ctype)
        what = "spans" if kind == "traces" else "log records"
        message = f"{mapped.rejected} of {total} {what} rejected: " + "; ".join(mapped.reasons)
        return wire.success(path, ctype, mapped.rejected, message)

    def _full(self, ctype: str) -> wire.Reply:
        return wire.failure(
            ctype, 429, wire.RESOURCE_EXHAUSTED,
            f"the collector's spool is full ({self.spool.used_bytes} of "
            f"{self.settings.max_spool_bytes} bytes); retry after the next batch",
            self.retry_after_s(),
        )  # fmt: skip

    def _spool_bad(
        self, path: str, ctype: str | None, reason: str, body: bytes, encoding: str | None
    ) -> None:
        try:
            raw = wire.decompress(body, encoding)
        except wire.WireError:
            raw = body
        try:
            self.spool.write("bad", batching.bad_payload_record(path, ctype, reason, raw),
                             force=True)  # fmt: skip
        except OSError as exc:
            self.errors.append(f"cannot record a refused payload: {exc}")

    # Batches --------------------------------------------------------------------------------

    def _batch_loop(self) -> None:
        # One batch per interval, counted from the start of the previous one: a batch that took
        # longer than the interval (a backlog) is followed after READER_GAP_S, not after another
        # interval. The gap, with the warehouse closed, is longer than ingest.db's longest
        # backoff sleep (0.75 s), so a dashboard waiting to read always gets its turn.
        gap = min(READER_GAP_S, self.settings.batch_seconds)
        wait = self.settings.batch_seconds
        while not self._stop.wait(wait):
            started = time.monotonic()
            try:
                self.run_batch()
            except Exception as exc:  # kept in the spool; the next tick retries
                msg = f"batch failed, will retry: {type(exc).__name__}: {exc}"
                self.errors.append(msg)
                print(f"reviewdeck collect: {msg}", file=sys.stderr, flush=True)
            wait = max(gap, self.settings.batch_seconds - (time.monotonic() - started))

    def _mapped(self, entry: Entry) -> batching.Mapped:
        with self._lock:
            m = self._cache.get(entry.name)
        if m is None:
            m = batching.map_doc(entry, None, 0, self.spool)
        return m

    def _forget(self, names: list[str]) -> None:
        with self._lock:
            for n in names:
                m = self._cache.pop(n, None)
                if m is not None:
                    self._cache_bytes -= m.entry.size

    def run_batch(self, drain_all: bool = False) -> list[BatchReport]:
        """Load what is ready: first any claimed batch a crash left, else one new batch."""
        with self._batch_lock:
            reports = []
            for batch_id, manifest in self.spool.manifests():
                by_name = {e.name: e for e in self.spool.entries()}
                entries = [by_name[n] for n in manifest["entries"] if n in by_name]
                reports.append(self._commit(batch_id, entries))
            if reports:
                return reports
            entries = self.spool.entries()
            if not entries:
                return []
            mapped = [self._mapped(e) for e in entries]
            chosen = batching.plan(mapped, time.time(), self.settings.join_wait_s, drain_all)
            if not chosen:
                return []
            batch_id = f"batch-{chosen[0].entry.name.split('.', 1)[0]}"
            self.spool.claim(batch_id, {"entries": [m.entry.name for m in chosen]})
            return [self._commit(batch_id, [m.entry for m in chosen], chosen)]

    def _commit(
        self, batch_id: str, entries: list[Entry], mapped: list[batching.Mapped] | None = None
    ) -> BatchReport:
        if not entries:
            # Every file of the batch was removed after its commit: only the manifest was left.
            self.spool.release(batch_id)
            return BatchReport(batch_id, 0, FileResult(batch_id, "otlp", skipped=True))
        mapped = mapped or [self._mapped(e) for e in entries]
        result = batching.commit(self.settings.db, self.spool, batch_id, mapped)
        self._forget([e.name for e in entries])
        report = BatchReport(batch_id, len(entries), result)
        if self.on_batch is not None:
            self.on_batch(report)
        return report


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128
    allow_reuse_address = True

    def handle_error(self, request: object, client_address: tuple[str, int]) -> None:
        # An exporter that gave up on a request (its timeout) or exited resets its connection:
        # nothing was acknowledged on it, so there is nothing to say. Anything else is printed.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)  # type: ignore[arg-type]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: exporters reuse their connection
    server_version = "reviewdeck-collect"

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        collector: Collector = self.server.collector  # type: ignore[attr-defined]
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            self._reply(wire.failure(wire.JSON, 411, wire.INVALID_ARGUMENT,
                                     "Content-Length required"))  # fmt: skip
            return
        if int(length) > wire.MAX_BODY_BYTES:
            self.close_connection = True
            self._reply(wire.failure(wire.JSON, 413, wire.INVALID_ARGUMENT,
                                     f"body over {wire.MAX_BODY_BYTES} bytes"))  # fmt: skip
            return
        body = self.rfile.read(int(length))
        path = self.path.split("?", 1)[0]
        self._reply(
            collector.handle(
                path,
                self.headers.get("Content-Type"),
                self.headers.get("Content-Encoding"),
                body,
            )
        )

    def _not_allowed(self) -> None:
        reply = wire.failure(wire.JSON, 405, wire.INVALID_ARGUMENT, "use POST")
        self._reply(reply, (("Allow", "POST"),))

    do_GET = do_PUT = do_DELETE = _not_allowed  # noqa: N815

    def _reply(self, reply: wire.Reply, extra: tuple[tuple[str, str], ...] = ()) -> None:
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        for k, v in (*reply.headers, *extra):
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(reply.body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        return  # one line per request would drown the batch lines
