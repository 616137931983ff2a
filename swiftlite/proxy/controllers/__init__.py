"""Proxy controllers: one per kind of path (account, container, object, /info)."""
