"""airgap.corpus: the offline web. Ingest snapshots, store pages, index passages, search, serve."""
