"""The collector process's own policies: the cyclic GC is off while it runs and given back."""

from __future__ import annotations

import gc
from pathlib import Path

from tests.ingest.collect.helpers import chat_span, post, scalar, start_collector, traces_doc


def test_cyclic_gc_is_off_while_collecting_and_restored_on_stop(
    tmp_path: Path, db_path: Path
) -> None:
    assert gc.isenabled()
    c = start_collector(tmp_path, db_path, batch_seconds=3600)
    try:
        assert not gc.isenabled()  # requests make no cycles; the batcher collects per batch
        body = traces_doc(chat_span("00000000000000a1"), chat_span("00000000000000a2", 1))
        assert post(c.port, "/v1/traces", body)[0] == 200
    finally:
        c.stop()
    assert gc.isenabled()  # an in-process user (a test, serve) gets its collector back
    assert gc.get_freeze_count() == 0
    assert scalar(db_path, "SELECT count(*) FROM events") == 2
