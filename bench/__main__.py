"""Run every bench/bench_*.py in its own process and collect the BENCH lines into bench/results.json."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
LINE = re.compile(r"^BENCH (\S+) (\S+) (.+)$")


def main() -> int:
    only = sys.argv[1:]
    results: dict[str, dict] = {}
    failed: list[str] = []
    for script in sorted(HERE.glob("bench_*.py")):
        if only and script.stem not in only:
            continue
        print(f"== {script.stem}", flush=True)
        proc = subprocess.Popen([sys.executable, "-m", f"bench.{script.stem}"], cwd=HERE.parent,
                                stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        for line in proc.stdout:
            print(line, end="", flush=True)
            m = LINE.match(line.strip())
            if m:
                results[m.group(1)] = {"value": float(m.group(2)), "unit": m.group(3)}
        if proc.wait() != 0:
            failed.append(script.stem)
    out = {"time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "results": results, "failed": failed}
    (HERE / "results.json").write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote bench/results.json ({len(results)} figures)" + (f"; failed: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
