"""A trivial paste app for runner tests: answers its worker's pid."""

from __future__ import annotations

import os


def app_factory(global_conf, **local_conf):
    def app(environ, start_response):
        body = str(os.getpid()).encode()
        start_response("200 OK", [("Content-Length", str(len(body)))])
        return [body]

    return app
