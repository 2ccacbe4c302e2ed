"""Reading a service's ``Retry-After`` header (delta-seconds or an HTTP date), clamped.

Here, in the service layer, because the client reads it from each answer; the schedule
(a layer up) only uses the clamp.
"""

from __future__ import annotations

import math
from email.utils import parsedate_to_datetime

#: A service's ``Retry-After`` is honoured up to this many seconds (longer asks are clamped).
MAX_RETRY_AFTER = 300.0


def parse_retry_after(value: str | None, now_epoch: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date.

    Clamped to ``[0, MAX_RETRY_AFTER]``: a service (or a proxy) asking for an hour, or for
    a date in year 9999, gets :data:`MAX_RETRY_AFTER` seconds; unreadable values are None.
    """
    if value is None or not value.strip() or len(value) > 100:
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
            seconds = when.timestamp() - now_epoch
        except (TypeError, ValueError, IndexError, OverflowError, OSError):
            return None
    if not math.isfinite(seconds):
        return None
    return min(MAX_RETRY_AFTER, max(0.0, seconds))
