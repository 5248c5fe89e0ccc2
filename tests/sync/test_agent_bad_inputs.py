"""Bad answers from the central: the agent logs, backs off, carries on, and never marks a row delivered."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest

from sync.outbox import Outbox
from tests.sync.conftest import body, make_settings, start_central, wait_until


@pytest.mark.parametrize("mode, error", [
    ("malformed_json", "malformed JSON"),
    ("huge", "byte limit"),
    ("wrong_content_type", "content type text/html"),
    ("redirect", "redirect 301 to central.other-host.invalid not followed"),
    ("hang", "timed out"),
])
def test_bad_answer_is_logged_backed_off_and_survived(tmp_path, central, agent_for, caplog, mode, error):
    s = make_settings(tmp_path / "state", url=central.url, token_file=str(central.token_file), read_timeout_s=0.3)
    box = Outbox.open(s)
    rid = box.enqueue(body()).id
    central.faults(bad_response=mode)
    agent = agent_for(s)
    wait_until(lambda: box.request(rid).attempts >= 2, what="two attempts")
    view = box.request(rid)
    assert view.delivery in ("pending", "sending") and view.ticket is None
    assert error in view.last_error and error in box.health().last_error
    assert any(error in r.getMessage() and r.levelname == "WARNING" for r in caplog.records)
    assert agent.alive and central.stats()["requests"] == 0
    central.faults()
    wait_until(lambda: box.request(rid).delivery == "delivered", what="delivery once the central behaves")
    assert central.stats()["created"] == 1
    box.close()


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    return cert, key


def test_tls_is_verified_and_a_custom_ca_file_is_accepted(tmp_path, agent_for):
    cert, key = _self_signed(tmp_path)
    central = start_central(tmp_path, "--cert", str(cert), "--key", str(key))
    try:
        assert central.url.startswith("https://")
        untrusting = make_settings(tmp_path / "a", url=central.url, token_file=str(central.token_file))
        box = Outbox.open(untrusting)
        rid = box.enqueue(body()).id
        agent = agent_for(untrusting)
        wait_until(lambda: box.request(rid).attempts >= 1 and box.request(rid).last_error)
        assert "TLS failed" in box.request(rid).last_error and box.request(rid).delivery != "delivered"
        agent.stop()
        box.close()

        # a client that connects and never says a word must not stall the server
        silent = socket.create_connection(("127.0.0.1", int(central.url.rsplit(":", 1)[1])))
        trusting = make_settings(tmp_path / "b", url=central.url, token_file=str(central.token_file),
                                 ca_file=str(cert))
        box = Outbox.open(trusting)
        rid = box.enqueue(body()).id
        agent_for(trusting)
        wait_until(lambda: box.request(rid).delivery == "delivered", what="delivery over TLS")
        box.close()
        silent.close()
    finally:
        central.stop()
