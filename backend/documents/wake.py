"""Telling waiting status reads that a document is finished, at once.

With Redis (the broker in production), the worker publishes the document's id on a channel
when it marks it ready or failed, and a read waiting with `?wait=` (selectors.document_wait)
wakes on it. The message carries the id only. Without Redis (the embedded default) nothing is
published and waiting reads look at the row every few milliseconds instead. A lost message
costs at most the waiting read's fallback look, half a second later.
"""

import logging
from functools import cache
from typing import Any

from django.conf import settings

logger = logging.getLogger(__name__)


def channel(document_id: str) -> str:
    return f"care-plans:document:{document_id}"


@cache
def _redis() -> Any:
    url = settings.CELERY_BROKER_URL
    if not url.startswith(("redis://", "rediss://")):
        return None
    import redis

    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)


def enabled() -> bool:
    return _redis() is not None


def announce(document_id: str) -> None:
    """Wake the reads waiting for this document (if any). Never fails the render."""
    client = _redis()
    if client is None:
        return
    try:
        client.publish(channel(document_id), b"1")
    except Exception as exc:  # redis raises several types for an unreachable server
        logger.warning("could not announce a finished document: %s", type(exc).__name__)


def subscribe(document_id: str) -> Any:
    """A subscription to the document's channel, or None without Redis (or with it down)."""
    client = _redis()
    if client is None:
        return None
    try:
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        pubsub.subscribe(channel(document_id))
    except Exception as exc:
        logger.warning("could not wait on a document channel: %s", type(exc).__name__)
        return None
    return pubsub
