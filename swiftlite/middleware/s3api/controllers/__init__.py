"""One module per S3 resource; each handler takes a ``Context`` and returns a Response."""
