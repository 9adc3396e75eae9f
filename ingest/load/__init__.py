"""Loading files into the warehouse: reading sources, parsing native lines with DuckDB SQL,
staging foreign formats, dedup, rejects, one transaction per file, and the derived tables the
loader keeps current.

`read` expands paths and reads sources; `native` and `native_fast` parse native JSONL;
`parsed` stages rows from the foreign readers (ingest.formats); `parallel_read` reads big OTLP
files in several processes; `loader` is the entry point (`load_source`); `derived` keeps
`trend_facts` in step.
"""
