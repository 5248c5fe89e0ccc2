"""Fixtures of the foundation tests: a test CA and the example building broker with its ACL."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import free_port
from tests.foundation.brokers import (
    ACCOUNTS,
    ACL,
    OBSERVER,
    Mosquitto,
    building_conf,
    make_certs,
    password_file,
)


@pytest.fixture(scope="session")
def certs(tmp_path_factory) -> Path:
    """A throw-away CA and a server certificate for 127.0.0.1/localhost signed by it."""
    if not shutil.which("openssl"):
        pytest.fail("openssl is not installed (scripts/bootstrap.sh installs it)")
    return make_certs(tmp_path_factory.mktemp("certs"))


@pytest.fixture(scope="module")
def acl_broker(tmp_path_factory, certs) -> Iterator[int]:
    """mosquitto with the example config and ACL (plus a read-everything observer); its port."""
    if not shutil.which("mosquitto"):
        pytest.fail("mosquitto is not installed (make test installs it)")
    d = tmp_path_factory.mktemp("broker")
    acl = d / "acl"
    acl.write_text(ACL.read_text(encoding="utf-8") + f"\nuser {OBSERVER}\ntopic read #\n", encoding="utf-8")
    port = free_port()
    conf = building_conf(port, certs, password_file(d / "passwd", ACCOUNTS), acl)
    mosq = Mosquitto(d, {"lobby-building.conf": conf}, port)
    yield port
    mosq.stop()
