"""``swiftlite-init``: start, stop and reload a node's servers and daemons (Swift's swift-init)."""
