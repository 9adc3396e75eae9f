"""`reviewdeck collect`: an OTLP/HTTP receiver that spools requests and batches them in.

Owns the live path into the warehouse, built on the file path rather than beside it:
- `wire.py`: the OTLP/HTTP protocol (content types, gzip, protobuf → OTLP/JSON with hex ids,
  the success, partial-success and google.rpc.Status responses);
- `spool.py`: the durable spool on disk (write, fsync, atomic rename; batch manifests);
- `batch.py`: spool entries → the loader's staged rows (the same OTLP readers as file ingest,
  the same join of log events to their spans) and one warehouse transaction per batch;
- `server.py`: the HTTP server and the batching thread that make it the warehouse's one writer.
docs/collector.md says what it guarantees and how it is tested.
"""
