"""Object storage: on-disk layout and metadata, suffix hashes, container updates, the server."""
