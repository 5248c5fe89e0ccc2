"""The reference central as a black box over real HTTP: every status code of central-api.md and more."""

from __future__ import annotations

import http.client
import json
import uuid
from typing import Any
from urllib.parse import urlsplit

import pytest

from sync.records import now_rfc3339

KIOSK = "kiosk-secret"


def wire(**over: Any) -> dict[str, Any]:
    rid = str(uuid.uuid4())
    base = {"id": rid, "kiosk_id": "k1", "building_id": "b1", "created_at": now_rfc3339(), "channel": "voice",
            "category": "public_facility", "urgency": "high", "summary": "2号电梯不动了",
            "transcript": "二号电梯不动了", "location": "2号电梯", "contact": {"room": None, "phone": None},
            "tags": ["elevator"]}
    return {**base, **over}


def raw(central, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None,
        conn: http.client.HTTPConnection | None = None) -> tuple[int, dict[str, str], bytes]:
    u = urlsplit(central.url)
    c = conn or http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    c.request(method, path, body=body, headers=headers or {})
    resp = c.getresponse()
    data = resp.read()
    if conn is None:
        c.close()
    return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data


def submit(central, body: Any, key: str | None = None, token: str = KIOSK) -> tuple[int, Any]:
    headers = {"Idempotency-Key": key if key is not None else body["id"]}
    return central.call("POST", "/v1/requests", body, token=token, headers=headers)


def test_submit_201_then_replay_200_then_mismatch_422(central):
    body = wire()
    status, first = submit(central, body)
    assert status == 201 and first["id"] == body["id"] and first["status"] == "pending" and first["ticket"]
    # the same body with its keys in another order is the same body
    status, again = submit(central, dict(reversed(list(body.items()))))
    assert (status, again) == (200, first)
    status, answer = submit(central, {**body, "summary": "别的内容"})
    assert status == 422 and answer["error"]["code"] == "idempotency_mismatch"
    stats = central.stats()
    assert (stats["created"], stats["replayed"], stats["mismatched"], stats["requests"]) == (1, 1, 1, 1)


@pytest.mark.parametrize("over, field", [
    ({"category": "plumbing"}, "category"),
    ({"urgency": "now"}, "urgency"),
    ({"contact": {"room": None, "phone": "12a45"}}, "contact.phone"),
    ({"summary": "x" * 201}, "summary"),
    ({"created_at": "yesterday"}, "created_at"),
    ({"kiosk_id": "Kiosk 1"}, "kiosk_id"),
    ({"health": {"systolic": 130, "diastolic": 80, "pulse": 70}}, "health"),
    ({"extra": 1}, "extra"),
])
def test_invalid_body_is_400_with_the_field(central, over, field):
    status, answer = submit(central, wire(**over))
    assert status == 400 and answer["error"]["field"] == field and answer["error"]["message"]
    assert central.stats()["requests"] == 0


def test_health_reading_with_consent_is_accepted(central):
    status, _ = submit(central, wire(health={"systolic": 130, "diastolic": 80, "pulse": 70}, health_consent=True))
    assert status == 201


def test_idempotency_key_is_required_and_must_match_the_id(central):
    body = wire()
    status, answer = submit(central, body, key="")
    assert status == 400 and answer["error"]["field"] == "Idempotency-Key"
    status, answer = submit(central, body, key=str(uuid.uuid4()))
    assert status == 400 and answer["error"]["field"] == "Idempotency-Key"


def test_malformed_json_wrong_type_and_oversized_bodies(central):
    auth = {"Authorization": f"Bearer {KIOSK}", "Idempotency-Key": str(uuid.uuid4())}
    status, _, data = raw(central, "POST", "/v1/requests", b'{"id": ', {**auth, "Content-Type": "application/json"})
    assert status == 400 and json.loads(data)["error"]["code"] == "malformed_json"
    status, _, _ = raw(central, "POST", "/v1/requests", b"{}", {**auth, "Content-Type": "text/plain"})
    assert status == 415
    status, _, _ = raw(central, "POST", "/v1/requests", b" " * 1_000_001, {**auth, "Content-Type": "application/json"})
    assert status == 413


def test_tokens_401(central):
    assert submit(central, wire(), token="wrong")[0] == 401
    status, _, data = raw(central, "GET", "/v1/kiosks/k1/updates")
    assert status == 401 and json.loads(data)["error"]["code"] == "unauthorized"
    assert submit(central, wire(), token=central.staff_token)[0] == 401  # staff token is not a kiosk token
    assert central.call("GET", "/staff/v1/stats", token=KIOSK)[0] == 401
    assert central.stats()["requests"] == 0


def test_unknown_endpoint_404_and_wrong_method_405(central):
    assert central.call("GET", "/v1/nothing", token=KIOSK)[0] == 404
    assert central.call("DELETE", "/v1/requests", token=KIOSK)[0] == 405
    assert central.call("GET", f"/v1/requests/{uuid.uuid4()}", token=KIOSK)[0] == 404


def test_batch_gives_one_result_per_request_in_order(central):
    done = wire()
    assert submit(central, done)[0] == 201
    new, bad = wire(), wire(urgency="asap")
    batch = [new, done, bad, {**done, "summary": "变了"}]
    status, answer = central.call("POST", "/v1/requests:batch", {"requests": batch}, token=KIOSK)
    assert status == 200
    assert [(r["id"], r["status"]) for r in answer["results"]] == [
        (new["id"], 201), (done["id"], 200), (bad["id"], 400), (done["id"], 422)]
    assert answer["results"][0]["ticket"] and answer["results"][2]["error"]["field"] == "urgency"
    assert central.call("POST", "/v1/requests:batch", {"requests": [wire() for _ in range(101)]}, token=KIOSK)[0] == 400
    assert central.call("POST", "/v1/requests:batch", {"requests": []}, token=KIOSK)[0] == 400


def test_read_back_one_and_the_kiosk_list_with_paging(central):
    bodies = [wire() for _ in range(5)]
    for b in bodies:
        submit(central, b)
    submit(central, wire(kiosk_id="k2"))
    status, one = central.call("GET", f"/v1/requests/{bodies[0]['id']}", token=KIOSK)
    assert status == 200 and one["summary"] == "2号电梯不动了" and one["status"] == "pending" and one["updated_at"]
    seen, after = [], ""
    while True:
        status, page = central.call("GET", f"/v1/requests?kiosk_id=k1&limit=2{after}", token=KIOSK)
        assert status == 200
        seen += [r["id"] for r in page["requests"]]
        if page["next"] is None:
            break
        after = f"&after={page['next']}"
    assert seen == [b["id"] for b in bodies]
    assert central.call("GET", "/v1/requests?limit=2", token=KIOSK)[0] == 400


def test_updates_with_cursor_status_changes_and_notices(central):
    a, b = wire(), wire()
    ta = submit(central, a)[1]["ticket"]
    submit(central, b)
    submit(central, wire(kiosk_id="k2"))
    status, first = central.call("GET", "/v1/kiosks/k1/updates", token=KIOSK)
    assert status == 200 and [r["id"] for r in first["requests"]] == [a["id"], b["id"]]
    cursor = first["cursor"]
    assert central.call("GET", f"/v1/kiosks/k1/updates?cursor={cursor}", token=KIOSK)[1]["requests"] == []
    status, changed = central.call("POST", f"/staff/v1/requests/{a['id']}/status",
                                   {"status": "accepted", "note": "师傅下午两点到"})
    assert status == 200 and changed["status"] == "accepted"
    status, notice = central.call("POST", "/staff/v1/notices", {"title": "停水通知", "body": "周六上午停水",
                                                                "priority": "high", "hours": 5})
    assert status == 201 and notice["ends_at"]
    status, nxt = central.call("GET", f"/v1/kiosks/k1/updates?cursor={cursor}", token=KIOSK)
    assert [(r["id"], r["ticket"], r["status"], r["note"]) for r in nxt["requests"]] == [
        (a["id"], ta, "accepted", "师傅下午两点到")]
    assert [n["title"] for n in nxt["notices"]] == ["停水通知"]
    assert int(nxt["cursor"]) > int(cursor)
    assert central.call("GET", "/v1/kiosks/k1/updates?cursor=banana", token=KIOSK)[0] == 400


def test_staff_status_rules(central):
    body = wire()
    submit(central, body)
    path = f"/staff/v1/requests/{body['id']}/status"
    assert central.call("POST", path, {"status": "pending"})[0] == 400
    assert central.call("POST", path, {"status": "done", "note": None})[0] == 200
    assert central.call("POST", path, {"status": "in_progress"})[0] == 409
    assert central.call("POST", f"/staff/v1/requests/{uuid.uuid4()}/status", {"status": "done"})[0] == 404
    status, pool = central.call("GET", "/staff/v1/requests")
    assert status == 200 and pool["requests"][0]["status"] == "done"


def test_rating_last_one_wins(central):
    body = wire()
    submit(central, body)
    path = f"/v1/requests/{body['id']}/rating"
    assert central.call("POST", path, {"stars": 3, "comment": None}, token=KIOSK)[0] == 200
    assert central.call("POST", path, {"stars": 5, "comment": "很快"}, token=KIOSK)[0] == 200
    assert central.call("GET", f"/v1/requests/{body['id']}", token=KIOSK)[1]["rating"] == {"stars": 5, "comment": "很快"}
    assert central.call("POST", path, {"stars": 0}, token=KIOSK)[0] == 400
    assert central.call("POST", f"/v1/requests/{uuid.uuid4()}/rating", {"stars": 5}, token=KIOSK)[0] == 404


def test_heartbeat(central):
    hb = {"version": "0.1.0", "outbox_depth": 3, "oldest_pending_s": 12.5, "ts": now_rfc3339(),
          "devices": [{"kind": "locker", "id": "l1", "availability": "online", "fault": None}]}
    assert central.call("POST", "/v1/kiosks/k1/heartbeat", hb, token=KIOSK) == (200, {"ok": True})
    assert central.call("POST", "/v1/kiosks/k1/heartbeat", {**hb, "outbox_depth": -1}, token=KIOSK)[0] == 400
    kiosks = central.call("GET", "/staff/v1/heartbeats")[1]["kiosks"]
    assert kiosks[0]["kiosk_id"] == "k1" and kiosks[0]["outbox_depth"] == 3


@pytest.mark.parametrize("fault, status", [("fail_rate", 500), ("busy_rate", 503), ("throttle_rate", 429)])
def test_injected_overload_answers_with_retry_after(central, fault, status):
    central.faults(**{fault: 1.0, "retry_after_s": 7})
    body = wire()
    got, _, data = raw(central, "POST", "/v1/requests", json.dumps(body).encode(), {
        "Authorization": f"Bearer {KIOSK}", "Idempotency-Key": body["id"], "Content-Type": "application/json"})
    assert got == status
    central.faults()
    assert central.stats()["requests"] == 0  # nothing was done
    assert submit(central, body)[0] == 201


def test_retry_after_header_is_sent(central):
    central.faults(busy_rate=1.0, retry_after_s=7)
    _, headers, _ = raw(central, "GET", "/v1/kiosks/k1/updates", headers={"Authorization": f"Bearer {KIOSK}"})
    assert headers["retry-after"] == "7"
    assert central.call("POST", "/staff/v1/faults", {"fail_rate": 2})[0] == 400
    assert central.call("POST", "/staff/v1/faults", {"bad_response": "gibberish"})[0] == 400


def test_drop_after_commit_stores_but_never_answers(central):
    central.faults(drop_after_commit_rate=1.0)
    body = wire()
    with pytest.raises((http.client.RemoteDisconnected, ConnectionResetError)):
        raw(central, "POST", "/v1/requests", json.dumps(body).encode(), {
            "Authorization": f"Bearer {KIOSK}", "Idempotency-Key": body["id"], "Content-Type": "application/json"})
    central.faults()
    assert submit(central, body)[0] == 200  # it was committed: the retry is a replay
    assert central.stats()["dropped"] == 1


def test_keep_alive_serves_several_calls_on_one_connection(central):
    u = urlsplit(central.url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    for _ in range(3):
        body = wire()
        status, _, _ = raw(central, "POST", "/v1/requests", json.dumps(body).encode(), {
            "Authorization": f"Bearer {KIOSK}", "Idempotency-Key": body["id"], "Content-Type": "application/json"},
            conn=conn)
        assert status == 201
    sock = conn.sock
    status, _, _ = raw(central, "GET", "/v1/kiosks/k1/updates", headers={"Authorization": f"Bearer {KIOSK}"}, conn=conn)
    assert status == 200 and conn.sock is sock
    conn.close()


def test_staff_page_login_pool_by_urgency_and_forms(central):
    low, urgent = wire(urgency="low", summary="想报名书法班"), wire(urgency="urgent", category="medical",
                                                                  summary="老人摔倒了", transcript=None)
    submit(central, low)
    submit(central, urgent)
    status, _, data = raw(central, "GET", "/staff")
    assert status == 200 and b"name=\"token\"" in data and "老人摔倒了".encode() not in data
    assert raw(central, "POST", "/staff/login", b"token=wrong",
               {"Content-Type": "application/x-www-form-urlencoded"})[0] == 401
    status, headers, _ = raw(central, "POST", "/staff/login", b"token=staff-secret",
                             {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 303 and "HttpOnly" in headers["set-cookie"]
    cookie = {"Cookie": headers["set-cookie"].split(";")[0]}
    status, _, data = raw(central, "GET", "/staff", headers=cookie)
    html = data.decode()
    assert status == 200 and html.index("老人摔倒了") < html.index("想报名书法班")
    status, headers, _ = raw(central, "POST", f"/staff/requests/{urgent['id']}/status",
                             "status=in_progress&note=已派人".encode(),
                             {**cookie, "Content-Type": "application/x-www-form-urlencoded"})
    assert status == 303
    got = central.call("GET", f"/v1/requests/{urgent['id']}", token=KIOSK)[1]
    assert (got["status"], got["note"]) == ("in_progress", "已派人")
    status, _, _ = raw(central, "POST", "/staff/notices", "title=电梯检修&body=明天上午&priority=high&hours=3".encode(),
                       {**cookie, "Content-Type": "application/x-www-form-urlencoded"})
    assert status == 303
    assert [n["title"] for n in central.call("GET", "/staff/v1/notices")[1]["notices"]] == ["电梯检修"]
    # without the cookie a form post changes nothing
    assert raw(central, "POST", f"/staff/requests/{low['id']}/status", b"status=done",
               {"Content-Type": "application/x-www-form-urlencoded"})[0] == 401
    assert central.call("GET", f"/v1/requests/{low['id']}", token=KIOSK)[1]["status"] == "pending"
