"""Reading the central's answers: each check turns a contract breach into BadResponse.

Used by the agent; kept apart so the rules for trusting an answer are in one
short place.
"""

from __future__ import annotations

import logging
import time
from email.utils import parsedate_to_datetime
from typing import Any

from sync.errors import BadResponse, InvalidRequest, Rejected
from sync.http import Response
from sync.records import STATUSES, Notice, Update

log = logging.getLogger(__name__)


def accepted(body: Any, request_id: str) -> tuple[str, str]:
    """Ticket and status of a 200/201 answer; BadResponse if they are missing."""
    if not isinstance(body, dict) or body.get("id") != request_id or not isinstance(body.get("ticket"), str) \
            or not body["ticket"] or len(body["ticket"]) > 64:
        raise BadResponse("answer to a submitted request lacks its id or ticket")
    status = body.get("status")
    return body["ticket"], status if status in STATUSES else "pending"


def rejection(resp: Response) -> Rejected:
    """A 400/422 with the contract's error body; without one it is not trusted as a rejection."""
    err = resp.body.get("error") if isinstance(resp.body, dict) else None
    if not isinstance(err, dict) or not isinstance(err.get("code"), str):
        raise BadResponse(f"HTTP {resp.status} without the contract's error body: not taken as a rejection")
    field = err.get("field") if isinstance(err.get("field"), str) else None
    return Rejected(resp.status, err["code"], str(err.get("message", ""))[:200], field)


def parse_updates(body: Any) -> tuple[str, list[Update], list[Notice]]:
    """Validate an /updates answer; bad items are logged and dropped, a bad envelope is BadResponse."""
    if not isinstance(body, dict) or not isinstance(body.get("cursor"), str) or not 0 < len(body["cursor"]) <= 200:
        raise BadResponse("GET updates: answer without a cursor")
    reqs, notes = body.get("requests", []), body.get("notices", [])
    if not isinstance(reqs, list) or not isinstance(notes, list):
        raise BadResponse("GET updates: requests and notices must be lists")
    updates, notices = [], []
    for item in reqs:
        try:
            updates.append(Update.from_wire(item))
        except InvalidRequest as err:
            log.warning("update dropped: %s", err)
    for item in notes:
        try:
            notices.append(Notice.from_wire(item))
        except InvalidRequest as err:
            log.warning("notice dropped: %s", err)
    return body["cursor"], updates, notices


def retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def error_text(resp: Response) -> str:
    """A short description of a failed answer for logs and `last_error` (no request data)."""
    err = resp.body.get("error") if isinstance(resp.body, dict) else None
    if isinstance(err, dict):
        return f"HTTP {resp.status} {err.get('code')}: {str(err.get('message'))[:200]}"
    return f"HTTP {resp.status}"
