"""fetch-model over real HTTP on loopback: checking, atomic unpacking, and clear failures."""

from __future__ import annotations

import hashlib
import http.server
import io
import os
import threading
import zipfile
from pathlib import Path

import pytest

from tests.conftest import free_port
from voice.errors import FetchError
from voice.models import KNOWN_MODELS, fetch_model


def model_zip(top: str = "vosk-model-test", extra: dict[str, bytes] | None = None, marker: bytes = b"v1") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        files = {f"{top}/am/final.mdl": marker * 100, f"{top}/conf/model.conf": b"--min-active=200\n",
                 f"{top}/graph/HCLr.fst": b"\0" * 64, **(extra or {})}
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def web(tmp_path):
    """A real HTTP server on loopback serving files put into `web.root`."""
    root = tmp_path / "www"
    root.mkdir()

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=str(root), **kw)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    server.root = root  # type: ignore[attr-defined]
    server.url = f"http://127.0.0.1:{server.server_address[1]}/"  # type: ignore[attr-defined]
    yield server
    server.shutdown()
    server.server_close()


def leftovers(models: Path) -> list[str]:
    return sorted(p.name for p in models.iterdir() if p.name.startswith("."))


def test_download_check_and_atomic_install(web, tmp_path):
    data = model_zip()
    (web.root / "m.zip").write_bytes(data)
    models = tmp_path / "state" / "models"
    got = fetch_model("vosk-model-test", str(models), url=web.url + "m.zip", sha256=sha(data), size=len(data))
    assert got.path == str(models / "vosk-model-test") and got.sha256 == sha(data) and got.size == len(data)
    assert (models / "vosk-model-test" / "am" / "final.mdl").read_bytes() == b"v1" * 100
    assert leftovers(models) == []
    again = fetch_model("vosk-model-test", str(models), url=web.url + "m.zip", sha256=sha(data))
    assert again.already

    newer = model_zip(marker=b"v2")
    (web.root / "m2.zip").write_bytes(newer)
    fetch_model("vosk-model-test", str(models), url=web.url + "m2.zip", sha256=sha(newer), force=True)
    assert (models / "vosk-model-test" / "am" / "final.mdl").read_bytes() == b"v2" * 100
    assert leftovers(models) == []


def test_a_zip_whose_model_folder_is_not_at_the_top_is_installed_under_the_name(web, tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("am/final.mdl", b"x")
        zf.writestr("conf/model.conf", b"")
    data = buf.getvalue()
    zip_path = tmp_path / "carried.zip"
    zip_path.write_bytes(data)
    got = fetch_model("my-model", str(tmp_path / "models"), from_file=str(zip_path), sha256=sha(data))
    assert (Path(got.path) / "am" / "final.mdl").exists()


def test_hash_and_size_mismatches_install_nothing(web, tmp_path):
    data = model_zip()
    (web.root / "m.zip").write_bytes(data)
    models = tmp_path / "models"
    with pytest.raises(FetchError, match=f"SHA-256 mismatch: got {sha(data)}, expected {'0' * 64}"):
        fetch_model("vosk-model-test", str(models), url=web.url + "m.zip", sha256="0" * 64)
    # the recorded small-cn figures against a different file: the size is wrong first
    (web.root / "vosk-model-small-cn-0.22.zip").write_bytes(data)
    with pytest.raises(FetchError, match=f"size mismatch: got {len(data)} bytes, expected 43898754"):
        fetch_model("vosk-model-small-cn-0.22", str(models), url=web.url + "vosk-model-small-cn-0.22.zip")
    # a download larger than announced is cut off
    (web.root / "big.zip").write_bytes(data + bytes(200_000))
    with pytest.raises(FetchError, match="larger than the expected"):
        fetch_model("vosk-model-test", str(models), url=web.url + "big.zip", sha256=sha(data), size=len(data))
    assert not (models / "vosk-model-test").exists() and not (models / "vosk-model-small-cn-0.22").exists()
    assert leftovers(models) == []


def test_unsafe_broken_or_modelless_zips_are_refused(web, tmp_path):
    models = tmp_path / "models"
    cases = {
        "evil.zip": (model_zip(extra={"../../escaped.txt": b"x"}), "unsafe path"),
        "nomodel.zip": (model_zip(top="x").replace(b"am/final.mdl", b"am/other.mdl"), "holds no vosk model"),
        "notzip.zip": (b"<html>captive portal</html>", "not a valid zip"),
    }
    for name, (data, message) in cases.items():
        (web.root / name).write_bytes(data)
        with pytest.raises(FetchError, match=message):
            fetch_model("m", str(models), url=web.url + name, sha256=sha(data))
    assert not (tmp_path / "escaped.txt").exists() and not (models / "m").exists()
    assert leftovers(models) == []


def test_no_internet_and_http_errors_fail_clearly(web, tmp_path):
    models = str(tmp_path / "models")
    with pytest.raises(FetchError, match="server answered 404"):
        fetch_model("m", models, url=web.url + "missing.zip", sha256="0" * 64)
    with pytest.raises(FetchError, match=r"cannot download .*no internet here\?"):
        fetch_model("m", models, url=f"http://127.0.0.1:{free_port()}/m.zip", sha256="0" * 64, timeout=5)
    with pytest.raises(FetchError, match=r"no internet here\?"):
        fetch_model("m", models, url="http://models.example.invalid/m.zip", sha256="0" * 64, timeout=5)


def test_names_and_hashes_that_cannot_be_trusted_are_refused_before_downloading(tmp_path):
    assert KNOWN_MODELS["vosk-model-small-cn-0.22"].size == 43_898_754
    with pytest.raises(FetchError, match="unknown model 'vosk-model-xx'"):
        fetch_model("vosk-model-xx", str(tmp_path))
    with pytest.raises(FetchError, match="no recorded SHA-256 for vosk-model-cn-0.22"):
        fetch_model("vosk-model-cn-0.22", str(tmp_path))
    with pytest.raises(FetchError, match="bad model name"):
        fetch_model("../etc", str(tmp_path), url="http://127.0.0.1:1/x.zip", sha256="0" * 64)
    assert os.listdir(tmp_path) == []


def test_fetch_model_command(web, tmp_path, run_cli):
    data = model_zip()
    (web.root / "m.zip").write_bytes(data)
    r = run_cli("voice", "fetch-model", "vosk-model-test", "--state-dir", str(tmp_path), "--url", web.url + "m.zip",
                "--sha256", sha(data))
    assert r.returncode == 0, r.stderr
    assert f"sha256 {sha(data)}" in r.stdout and f"installed {tmp_path / 'models' / 'vosk-model-test'}" in r.stdout
    r = run_cli("voice", "fetch-model", "--state-dir", str(tmp_path), "--url", "http://models.example.invalid/x.zip",
                "--timeout", "5")
    assert r.returncode == 1 and r.stdout == ""
    reasons = [line for line in r.stderr.splitlines() if line.startswith("lobby-voice: ")]
    assert len(reasons) == 1 and "no internet here?" in reasons[0], r.stderr
