"""Data staging: batches, uploads, references and cloud ingest, indexing, listings, expiry."""
