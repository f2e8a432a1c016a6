"""A real `celery worker`, with every render delayed by $SLOW_RENDER seconds.

Tests use it to SIGKILL a worker mid-render deterministically. The delay is patched in here,
in the parent before the pool forks, so no test hook lives in the service's own code.
"""

import os
import sys
import time

import django

django.setup()

from celery.__main__ import main  # noqa: E402

from documents import services  # noqa: E402

_render = services.html_to_pdf


def _slow(html: str) -> bytes:
    time.sleep(float(os.environ.get("SLOW_RENDER", "0")))
    return _render(html)


services.html_to_pdf = _slow

if __name__ == "__main__":
    sys.argv = ["celery", *sys.argv[1:]]
    sys.exit(main())
