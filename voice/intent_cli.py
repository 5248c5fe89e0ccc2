"""`lobby-voice intent`: print how the intent parser reads a request (registered by voice/cli.py).

    lobby-voice intent "那个 我家 厨房 漏水 了"          a readable answer
    lobby-voice intent --json "……"                        the whole Intent as JSON
    lobby-voice intent --jsonl < utterances.txt           one JSON object per input line

Runs on its own too: `python -m voice.intent_cli intent ...`.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

from voice.intent import Intent, IntentParser
from voice.vocabulary import VocabularyError

BATCH_KEYS = ("category", "urgency", "summary", "location", "tags", "confidence")


def add_parser(subparsers: Any) -> None:
    """Add the `intent` subcommand to `lobby-voice`'s subparsers."""
    p = subparsers.add_parser(
        "intent", help="show how a request's text is understood (category, urgency, summary, ...)",
        description="Parse a request's text with the intent parser: category and urgency codes of the "
                    "central API, a summary for staff, location, tags and confidence. With --jsonl, read "
                    "one utterance per line on stdin and write one JSON object per line with the keys "
                    + ", ".join(BATCH_KEYS) + " (batch evaluation).")
    p.add_argument("text", nargs="?", metavar="TEXT", help="what the resident said (vosk spacing is fine)")
    p.add_argument("--json", action="store_true", help="print the whole parse as one JSON object")
    p.add_argument("--jsonl", action="store_true", help="read utterances from stdin, one per line")
    p.add_argument("--vocabulary", metavar="FILE", help="vocabulary TOML (default: assets/vocabulary.toml)")


def run(args: argparse.Namespace) -> int:
    """Run `lobby-voice intent`; returns the exit code (2 for wrong arguments, 1 for a bad vocabulary)."""
    if args.jsonl and args.text is not None:
        return _fail("give TEXT or --jsonl, not both", 2)
    if not args.jsonl and args.text is None:
        return _fail("give TEXT to parse, or --jsonl to read lines from stdin", 2)
    try:
        parser = IntentParser.from_file(args.vocabulary)
    except VocabularyError as err:
        return _fail(f"bad vocabulary: {err}", 1)
    if args.jsonl:
        return _batch(parser, sys.stdin, sys.stdout)
    intent = parser.parse(args.text)
    if args.json:
        print(json.dumps(intent.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(_readable(intent))
    return 0


def _batch(parser: IntentParser, lines: TextIO, out: TextIO) -> int:
    """One JSON object per input line, in order (a blank line gives the answer for empty text)."""
    for line in lines:
        result = parser.parse(line.rstrip("\r\n")).to_dict(full=False)
        out.write(json.dumps({k: result[k] for k in BATCH_KEYS}, ensure_ascii=False) + "\n")
    out.flush()
    return 0


def _readable(intent: Intent) -> str:
    """The parse as a few lines for a technician at a terminal."""
    lines = [
        f"类别 category:   {intent.category} ({intent.category_name})",
        f"紧急 urgency:    {intent.urgency}",
        f"摘要 summary:    {intent.summary}",
        f"位置 location:   {intent.location or '-'}",
        f"标签 tags:       {'、'.join(intent.tags) or '-'}",
        f"置信 confidence: {intent.confidence:.2f} ({intent.tier})",
    ]
    if intent.tier == "medium" and len(intent.alternatives) > 1:
        options = " / ".join(f"{a.category_name}" for a in intent.alternatives)
        lines.append(f"反问 ask back:   您是说……吗？ {options}")
    return "\n".join(lines)


def _fail(reason: str, code: int) -> int:
    print(f"lobby-voice intent: error: {reason}", file=sys.stderr)
    return code


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry point, the same as `lobby-voice intent`."""
    p = argparse.ArgumentParser(prog="lobby-voice")
    add_parser(p.add_subparsers(dest="command", metavar="COMMAND", required=True))
    return run(p.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
