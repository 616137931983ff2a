"""The container server, its SQLite broker and the updater that reports totals to accounts."""
