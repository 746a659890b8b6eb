"""``wsgi:app`` naming the worker process that answers, in ``X-Worker-Pid`` (tests only): a
test can then tell that every worker of an instance has answered, not just some."""

import os

from wsgi import app as loopwave


def app(environ, start_response):
    def start(status, headers, exc_info=None):
        return start_response(status, [*headers, ("X-Worker-Pid", str(os.getpid()))], exc_info)

    return loopwave(environ, start)
