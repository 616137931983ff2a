"""Account and container databases: broker base, pending journal, listings, paths."""
