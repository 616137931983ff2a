"""The proxy's WSGI filters, each a small WSGI middleware with a ``filter_factory``.

Pipeline order (etc/proxy-server.conf): catch_errors gatekeeper healthcheck proxy_logging
cache tempauth copy slo dlo proxy_logging proxy-server. They talk through these environ keys:
``swiftlite.trans_id``, ``swiftlite.cache``, ``swiftlite.authorize``,
``swiftlite.authorize_override``, ``swiftlite.acl``, ``swiftlite.owner``,
``swiftlite.remote_user``, ``swiftlite.source`` and ``swiftlite.access_logged``.
"""
