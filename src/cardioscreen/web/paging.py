"""Query-string helpers of the paged, filtered pages (the queue, the audit log): day ranges and page links."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta, timezone
from urllib.parse import urlencode

from fastapi import HTTPException, status


class DayError(HTTPException):
    """A filter's day not written ``YYYY-MM-DD`` (HTTP 400: the API says it as it is, a page in its language)."""


def day_bounds(since: str, until: str) -> tuple[datetime | None, datetime | None]:
    """The UTC times from the start of day ``since`` to the end of day ``until`` (``YYYY-MM-DD``, inclusive;
    "" leaves that side open); raises :class:`DayError` (HTTP 400) for a date in another form."""
    try:
        start, end = (datetime.combine(date.fromisoformat(day), time(), timezone.utc) if day else None
                      for day in (since, until))
    except ValueError as exc:
        raise DayError(status.HTTP_400_BAD_REQUEST, f"dates are YYYY-MM-DD: {exc}") from exc
    return start, end + timedelta(days=1) if end else None


def page_count(total: int, size: int) -> int:
    """How many pages of ``size`` items ``total`` items fill (at least one)."""
    return max(1, -(-total // size))


def with_query(path: str, params: Mapping[str, object]) -> str:
    """``path`` with the non-empty ``params`` as its query string."""
    kept = {k: v for k, v in params.items() if v}
    return f"{path}?{urlencode(kept)}" if kept else path
