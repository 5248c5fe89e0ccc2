"""Configuration: the example is valid; every kind of mistake is refused in one line naming the key."""

from pathlib import Path

import pytest

from kiosk import config
from kiosk.pin import hash_pin, verify_pin

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "assets" / "kiosk.example.toml"


def test_example_config_is_valid():
    cfg = config.load(str(EXAMPLE))
    assert cfg.kiosk_id == "lobby-1"
    assert cfg.devices.broker.port == 1883
    assert cfg.sync.central.url.startswith("https://")
    assert 3.9 < cfg.ui.px_per_mm < 4.2  # a 21.5-inch 1080x1920 panel


@pytest.mark.parametrize(
    "body, key",
    [
        ('[site]\nkiosk_idd = "x"\n', "site.kiosk_idd"),
        ('[broker]\nport = "1883"\n', "broker.port"),
        ("[broker]\nport = 70000\n", "broker.port"),
        ('[broker]\npassword_file = "/nonexistent/pw"\n', "broker.password_file"),
        ('[central]\nurl = "ftp://x"\n', "central.url"),
        ("[central]\nbackoff_cap_s = 0\n", "central.backoff_cap_s"),
        ("[voice]\ntts = 1\n", "voice.tts"),
        ("[voice]\nsilence_s = 99\n", "voice.silence_s"),
        ('[ui]\nlanguage = "fr"\n', "ui.language"),
        ("[ui]\nidle_timeout_s = 1\n", "ui.idle_timeout_s"),
        ('[technician]\npin_hash = "1234"\n', "technician.pin_hash"),
        ('[site]\nbuilding_id = "Has Spaces"\n', "site.building_id"),
        ("[mqtt]\nhost = 1\n", "mqtt"),
    ],
)
def test_bad_values_name_the_key(tmp_path, run_cli, body, key):
    path = tmp_path / "kiosk.toml"
    path.write_text(body)
    with pytest.raises(config.ConfigError) as err:
        config.load(str(path))
    assert str(err.value).startswith(key)
    result = run_cli("kiosk", "check-config", str(path))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and key in lines[0] and "Traceback" not in result.stderr


def test_check_config_accepts_example_and_env_var(run_cli):
    assert run_cli("kiosk", "check-config", str(EXAMPLE)).returncode == 0
    assert run_cli("kiosk", "check-config", env={"LOBBY_KIOSK_CONFIG": str(EXAMPLE)}).returncode == 0
    missing = run_cli("kiosk", "check-config", env={"LOBBY_KIOSK_CONFIG": "/nonexistent.toml"})
    assert missing.returncode == 1 and "not found" in missing.stderr


def test_invalid_toml_is_one_line(tmp_path, run_cli):
    path = tmp_path / "bad.toml"
    path.write_text("[site\nkiosk_id = \n")
    result = run_cli("kiosk", "check-config", str(path))
    assert result.returncode == 1 and "not valid TOML" in result.stderr


def test_pin_hash_round_trip_and_salt():
    h1, h2 = hash_pin("2580"), hash_pin("2580")
    assert h1 != h2  # salted
    assert verify_pin("2580", h1) and not verify_pin("2581", h1)
    with pytest.raises(ValueError):
        hash_pin("12ab")


def test_secrets_are_not_in_repr(tmp_path):
    pw = tmp_path / "pw"
    pw.write_text("s3cret-broker\n")
    path = tmp_path / "k.toml"
    path.write_text(f'[broker]\npassword_file = "{pw}"\n[technician]\npin_hash = "{hash_pin("1234")}"\n')
    cfg = config.load(str(path))
    assert cfg.devices.broker.password() == "s3cret-broker"
    assert "s3cret" not in repr(cfg) and "pbkdf2" not in repr(cfg)
