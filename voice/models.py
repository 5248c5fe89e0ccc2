"""`fetch-model`: download a known vosk model, check its size and SHA-256, unpack it atomically.

Models go to `<state_dir>/models/<name>/`, the default `voice.model_path`.
The download is written next to it as `.download-<name>.zip.part`; the
unpacked folder appears under its final name only after every check passed
(one `rename`), so a kiosk never sees half a model. Machines without
internet can install a zip carried over by hand (`from_file`), checked the
same way.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass

from voice.errors import FetchError, ModelUnavailable
from voice.recognizer import check_model_dir

log = logging.getLogger(__name__)

CHUNK = 1 << 16
MAX_UNPACKED = 8 << 30  # refuse zips claiming more than 8 GB unpacked


@dataclass(frozen=True)
class KnownModel:
    """A model `fetch-model` knows by name. `size`/`sha256` None: no recorded figure."""

    name: str
    url: str
    size: int | None
    sha256: str | None
    about: str


_BASE = "https://alphacephei.com/vosk/models/"
KNOWN_MODELS: dict[str, KnownModel] = {m.name: m for m in (
    # Figures as published by a public project for this zip; not yet re-computed by us
    # (our build machines have no internet). fetch-model prints the computed hash.
    KnownModel("vosk-model-small-cn-0.22", _BASE + "vosk-model-small-cn-0.22.zip", 43_898_754,
               "3af8b0e7e0f835ae9d414ce5df580237a3cfb08d586c9fbbb0f7ff29ad5b14ba",
               "small Mandarin model, about 42 MB (the default)"),
    KnownModel("vosk-model-cn-0.22", _BASE + "vosk-model-cn-0.22.zip", None, None,
               "large Mandarin model, about 1.3 GB; needs a few GB of RAM; no recorded hash (pass --sha256)"),
)}
DEFAULT_MODEL = "vosk-model-small-cn-0.22"


@dataclass(frozen=True)
class Installed:
    """Where a model was installed and the figures of the zip it came from."""

    path: str
    sha256: str | None
    size: int | None
    matched_record: bool      # the hash equals the one recorded in KNOWN_MODELS
    already: bool = False     # it was installed before; nothing was downloaded


def _download(url: str, dest: str, limit: int | None, timeout: float,
              progress: Callable[[int], None] | None) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp, open(dest, "wb") as out:
            while chunk := resp.read(CHUNK):
                size += len(chunk)
                if limit is not None and size > limit:
                    raise FetchError(f"download of {url} is larger than the expected {limit} bytes; stopped")
                digest.update(chunk)
                out.write(chunk)
                if progress:
                    progress(size)
    except urllib.error.HTTPError as err:
        raise FetchError(f"cannot download {url}: the server answered {err.code} {err.reason}") from None
    except urllib.error.URLError as err:
        raise FetchError(f"cannot download {url}: {err.reason} (no internet here? copy the zip over "
                         "and use --from-file ZIP)") from None
    except (TimeoutError, ConnectionError) as err:
        raise FetchError(f"cannot download {url}: {err or 'timed out'} (no internet here? copy the zip "
                         "over and use --from-file ZIP)") from None
    return size, digest.hexdigest()


def _hash_file(path: str) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    try:
        with open(path, "rb") as f:
            while chunk := f.read(CHUNK):
                size += len(chunk)
                digest.update(chunk)
    except OSError as err:
        raise FetchError(f"cannot read {path}: {err.strerror}") from None
    return size, digest.hexdigest()


def _unpack(zip_path: str, into: str) -> str:
    """Extract the zip into the empty folder `into`, refusing unsafe entries; return the model root."""
    try:
        with zipfile.ZipFile(zip_path) as zf:
            total = 0
            for info in zf.infolist():
                name = info.filename
                parts = name.replace("\\", "/").split("/")
                if name.startswith(("/", "\\")) or ".." in parts or ":" in parts[0]:
                    raise FetchError(f"unsafe path in zip: {name!r}; refused")
                total += info.file_size
                if total > MAX_UNPACKED:
                    raise FetchError("zip unpacks to more than 8 GB; refused")
            bad = zf.testzip()
            if bad is not None:
                raise FetchError(f"zip is damaged (bad CRC in {bad})")
            zf.extractall(into)
    except zipfile.BadZipFile as err:
        raise FetchError(f"not a valid zip file ({err})") from None
    except OSError as err:
        raise FetchError(f"cannot unpack: {err.strerror or err}") from None
    entries = os.listdir(into)
    root = os.path.join(into, entries[0]) if len(entries) == 1 and os.path.isdir(os.path.join(into, entries[0])) \
        else into
    try:
        check_model_dir(root)
    except ModelUnavailable as err:
        raise FetchError(f"the zip holds no vosk model: {err}") from None
    return root


def fetch_model(name: str, models_dir: str, *, url: str | None = None, from_file: str | None = None,
                sha256: str | None = None, size: int | None = None, force: bool = False,
                timeout: float = 30.0, progress: Callable[[int], None] | None = None) -> Installed:
    """Install model `name` into `models_dir/<name>`; see the module docstring.

    The expected SHA-256 is `sha256` or the recorded one; without either the
    model is refused before anything is downloaded. Raises FetchError.
    """
    known = KNOWN_MODELS.get(name)
    if known is None and url is None and from_file is None:
        raise FetchError(f"unknown model {name!r}; known: {', '.join(KNOWN_MODELS)} (or give --url)")
    if "/" in name or name.startswith("."):
        raise FetchError(f"bad model name {name!r}")
    want_sha = (sha256 or (known.sha256 if known else None) or "").lower() or None
    want_size = size if size is not None else (known.size if known and not sha256 else None)
    if want_sha is None:
        raise FetchError(f"no recorded SHA-256 for {name}; check the publisher's figure and pass --sha256 HEX")
    dest = os.path.join(models_dir, name)
    if os.path.isdir(dest) and not force:
        return Installed(dest, None, None, False, already=True)
    try:
        os.makedirs(models_dir, exist_ok=True)
    except OSError as err:
        raise FetchError(f"cannot create {models_dir}: {err.strerror}") from None
    part = os.path.join(models_dir, f".download-{name}.zip.part")
    staging = None
    try:
        if from_file:
            got_size, got_sha = _hash_file(from_file)
            zip_path = from_file
        else:
            source = url or (known.url if known else "")
            log.info("downloading %s", source)
            got_size, got_sha = _download(source, part, want_size, timeout, progress)
            zip_path = part
        if want_size is not None and got_size != want_size:
            raise FetchError(f"size mismatch: got {got_size} bytes, expected {want_size} (sha256 {got_sha})")
        if got_sha != want_sha:
            raise FetchError(f"SHA-256 mismatch: got {got_sha}, expected {want_sha}; nothing installed")
        staging = tempfile.mkdtemp(prefix=f".unpack-{name}-", dir=models_dir)
        root = _unpack(zip_path, staging)
        if os.path.isdir(dest):  # --force: swap the old one out in one rename, then delete it
            old = tempfile.mkdtemp(prefix=f".old-{name}-", dir=models_dir)
            os.rename(dest, os.path.join(old, name))
            os.rename(root, dest)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(root, dest)
    except OSError as err:
        raise FetchError(f"cannot install into {models_dir}: {err.strerror or err}") from None
    finally:
        if os.path.exists(part):
            os.remove(part)
        if staging:
            shutil.rmtree(staging, ignore_errors=True)
    log.info("installed model %s", name)
    return Installed(dest, got_sha, got_size, bool(known and known.sha256 == got_sha))
