"""`lobby-voice`: command-line entry point of the voice subsystem (placeholder until its issue lands)."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    """Entry point of `lobby-voice`."""
    p = argparse.ArgumentParser(prog="lobby-voice", description="voice subsystem of lobby-kiosk")
    p.add_subparsers(dest="command", metavar="COMMAND", required=True)
    p.parse_args(argv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
