"""Getting results out of the warehouse: a Parquet lake, fine-tuning sets, spreadsheets.

`lake` exports the tables as a Hive-partitioned Parquet lake, incrementally, for DuckDB, Polars
and Spark; `finetune` writes OpenAI chat fine-tuning JSONL from filtered events, corrections
replacing answers; `sheet` writes the filtered events and their feedback as CSV; `redact` holds
the secret patterns all three apply on the way out. This lives in models, not ingest, because
the fine-tune set and the sheet take the explorer's filter (models.filters). See docs/export.md.
"""
