"""Every command prints real --help and exits non-zero with a one-line reason on a wrong argument."""

from __future__ import annotations

import pytest

COMMANDS = {"kiosk": "lobby-kiosk", "voice": "lobby-voice", "devices": "lobby-devices", "sync": "lobby-sync"}


@pytest.mark.parametrize("module", COMMANDS)
def test_help(run_cli, module):
    result = run_cli(module, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: {COMMANDS[module]} ")
    assert "--help" in result.stdout and len(result.stdout.splitlines()) >= 4
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("module", COMMANDS)
@pytest.mark.parametrize("wrong", [("--no-such-option",), ("no-such-command",)])
def test_wrong_argument_gives_one_line_reason(run_cli, module, wrong):
    result = run_cli(module, *wrong)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr and result.stdout == ""
    # argparse may repeat the usage first; the reason itself is one line naming the command and the culprit.
    reasons = [line for line in result.stderr.splitlines() if line.startswith(f"{COMMANDS[module]}: ")]
    assert len(reasons) == 1, result.stderr
    if wrong[0] == "no-such-command":
        assert "no-such-command" in reasons[0]
    # (an unknown option may be reported as "a COMMAND is required" first: still one line)
