"""The warehouse: schema and migrations, format readers, the loader and the ingest command."""
