"""A trivial paste app for runner tests: answers its worker's pid."""

from __future__ import annotations

import os


def app_factory(global_conf, **local_conf):
    def app(environ, start_response):
        body = str(os.getpid()).encode()
        start_response("200 OK", [("Content-Length", str(len(body)))])
        return [body]

    return app


def echo_factory(global_conf, **local_conf):
    """``<pid> <word>``; ``/slow/<seconds>?<file>`` writes ``file``, answers ``seconds`` later.

    ``/block/<seconds>?<file>`` does the same but holds the whole worker (an OS sleep that
    never yields to the hub), as a worker busy on the CPU would: it notices no signal until then.

    With ``fail_if`` naming a file that exists, the factory raises: a worker started after the
    test creates it cannot load its app.
    """
    from swiftlite.common import green

    fail_if = local_conf.get("fail_if")
    if fail_if and os.path.exists(fail_if):
        raise RuntimeError(f"refusing to load: {fail_if} exists")
    word = local_conf.get("word", "")

    def app(environ, start_response):
        path = environ.get("PATH_INFO", "")
        kind, _, seconds = path.strip("/").partition("/")
        if kind in ("slow", "block"):
            mark = environ.get("QUERY_STRING", "")
            if mark:  # tells the test the request is in the app
                with open(mark, "w", encoding="ascii") as fh:
                    fh.write(str(os.getpid()))
            pause = green.sleep if kind == "slow" else green.real_time.sleep
            pause(float(seconds))
        body = f"{os.getpid()} {word}".encode()
        start_response("200 OK", [("Content-Length", str(len(body)))])
        return [body]

    return app
