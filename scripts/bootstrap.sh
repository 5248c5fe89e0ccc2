#!/usr/bin/env bash
# Set up everything `make test`, `make demo` and `make bench` need, once.
# Debian packages (apt-get, as root), a virtual environment in .venv, and
# `pip install -e .[test]`. Running it again installs nothing that is there.
set -euo pipefail
cd "$(dirname "$0")/.."

# One package a line; add to this list, not elsewhere.
APT_PACKAGES=(
  python3 python3-venv python3-dev
  mosquitto mosquitto-clients                           # building broker for tests and demo
  libgl1 libegl1 libegl-mesa0 libgl1-mesa-dri libmtdev1 # Kivy rendering without a GPU
  fonts-wqy-microhei                                    # Simplified-Chinese font (face 0 is Chinese)
  libportaudio2 libasound2 alsa-utils                   # sounddevice capture
  espeak-ng sox                                         # spoken read-back; speech audio for tests
  socat openssl                                         # serial pseudo-terminals; test TLS certificates
  systemd                                               # systemd-analyze verify in tests
)
# LOBBY_EXTRA_APT_PACKAGES="pkg ...": require more packages (a site's own tools;
# the tests use it to check the message below).
read -r -a extra <<< "${LOBBY_EXTRA_APT_PACKAGES:-}"
for p in "${extra[@]}"; do
  [[ $p =~ ^[a-z0-9][a-z0-9+.-]+$ ]] || { echo "lobby-kiosk: LOBBY_EXTRA_APT_PACKAGES: not a Debian package name: $p" >&2; exit 2; }
done
APT_PACKAGES+=("${extra[@]}")

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "lobby-kiosk: missing Debian packages. As root, run:" >&2
    echo "  apt-get update && apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "bootstrap: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

PY=${PYTHON:-python3}
if [[ ! -x .venv/bin/python ]]; then
  echo "bootstrap: creating .venv"
  "$PY" -m venv .venv
fi
stamp=.venv/.lobby-installed
if [[ ! -f $stamp || setup.cfg -nt $stamp || pyproject.toml -nt $stamp ]]; then
  echo "bootstrap: pip install -e .[test]"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e '.[test]'
  touch "$stamp"
fi
