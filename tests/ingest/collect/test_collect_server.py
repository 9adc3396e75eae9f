"""The collector's request path turns the cyclic GC off only while a request is decoded and
mapped: concurrent requests leave it on, as they found it."""

from __future__ import annotations

import gc
import threading
from pathlib import Path

from tests.ingest.collect.helpers import chat_span, post, scalar, start_collector, traces_doc


def test_concurrent_requests_give_the_cyclic_gc_back(tmp_path: Path, db_path: Path) -> None:
    assert gc.isenabled()
    c = start_collector(tmp_path, db_path, batch_seconds=3600)
    statuses: list[int] = []

    def send(k: int) -> None:
        for n in range(5):
            ids = [f"{k:04x}{n:04x}{i:08x}" for i in range(20)]
            body = traces_doc(*(chat_span(s, n) for s in ids))
            statuses.append(post(c.port, "/v1/traces", body)[0])

    try:
        threads = [threading.Thread(target=send, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert statuses == [200] * 20
        assert gc.isenabled()  # each request's scope restored it, whatever the interleaving
    finally:
        c.stop()
    assert gc.isenabled()
    assert scalar(db_path, "SELECT count(DISTINCT event_id) FROM events") == 400


def test_a_client_resetting_its_connection_is_not_an_error(
    tmp_path: Path, db_path: Path, capfd
) -> None:
    import socket
    import struct
    import time

    c = start_collector(tmp_path, db_path, batch_seconds=3600)
    try:
        body = traces_doc(chat_span("00000000000000b1"))
        head = (f"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n").encode()  # fmt: skip
        for _ in range(3):  # as an exporter that timed out: sends, then resets without reading
            s = socket.create_connection(("127.0.0.1", c.port))
            s.sendall(head + body)
            time.sleep(0.3)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()
        time.sleep(0.3)
        assert post(c.port, "/v1/traces", traces_doc(chat_span("00000000000000b2")))[0] == 200
    finally:
        c.stop()
    err = capfd.readouterr().err
    assert "Traceback" not in err and "Exception occurred" not in err, err
    assert scalar(db_path, "SELECT count(*) FROM events") == 2  # the reset request was stored
