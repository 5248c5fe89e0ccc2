"""Trusting the central's answers, and the device summary file the kiosk writes."""

from __future__ import annotations

import json
import logging
import time
from email.utils import formatdate

import pytest

from sync.answers import accepted, parse_updates, rejection, retry_after
from sync.errors import BadResponse
from sync.http import Response
from sync.summary import DeviceSummary

RID = "5b4c0c64-7c42-4d47-9a57-0f4a4a3d8f1e"


def test_retry_after_seconds_and_http_date():
    assert retry_after("120") == 120.0
    assert 50 < retry_after(formatdate(time.time() + 60, usegmt=True)) <= 61
    assert retry_after(formatdate(time.time() - 60, usegmt=True)) == 0.0
    assert retry_after("soon") is None and retry_after(None) is None


def test_an_answer_without_id_or_ticket_is_not_a_delivery():
    assert accepted({"id": RID, "ticket": "100001", "status": "pending"}, RID) == ("100001", "pending")
    for bad in ({"id": RID}, {"id": "other", "ticket": "1"}, {"id": RID, "ticket": ""}, ["x"], None):
        with pytest.raises(BadResponse):
            accepted(bad, RID)


def test_a_400_without_the_contract_error_body_is_not_a_rejection():
    err = rejection(Response(400, {}, {"error": {"code": "invalid", "message": "bad", "field": "summary"}}))
    assert (err.status, err.code, err.field) == (400, "invalid", "summary")
    with pytest.raises(BadResponse):
        rejection(Response(400, {}, None))  # e.g. an HTML page from a proxy


def test_updates_envelope_is_checked_and_bad_items_are_dropped(caplog):
    good = {"id": RID, "ticket": "100001", "status": "done", "note": None, "updated_at": "2026-11-22T01:00:00Z"}
    with caplog.at_level(logging.WARNING):
        cursor, updates, notices = parse_updates({"cursor": "9", "requests": [good, {**good, "status": "lost"}],
                                                  "notices": [{"id": "n", "title": ""}]})
    assert cursor == "9" and [u.status for u in updates] == ["done"] and notices == []
    assert "update dropped" in caplog.text and "notice dropped" in caplog.text
    for bad in ({"requests": []}, {"cursor": "", "requests": []}, {"cursor": "1", "requests": {}}, []):
        with pytest.raises(BadResponse):
            parse_updates(bad)


def test_device_summary_file(tmp_path, caplog):
    path = tmp_path / "devices-summary.json"
    summary = DeviceSummary(path)
    assert summary.devices() == []  # not written yet
    path.write_text(json.dumps({"version": "1", "devices": [
        {"kind": "door", "id": "d1", "availability": "online", "fault": None, "last_seen": 1.0}]}))
    assert summary.devices() == [{"kind": "door", "id": "d1", "availability": "online", "fault": None}]
    path.write_text("{broken")
    with caplog.at_level(logging.WARNING):
        assert summary.devices() == [] and summary.devices() == []
    assert caplog.text.count("ignoring") == 1  # warned once, not at every heartbeat
    path.write_text(json.dumps([{"kind": "door"}]))
    assert summary.devices() == []
