"""`make bench`: every benchmark in turn; each prints its table, to be copied into RESULTS.md."""

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHMARKS = [
    ["bench_import.py", "--export"],
    ["bench_list.py"],
    ["bench_tiering.py"],
    ["bench_indicators.py"],
    ["bench_review.py"],
]

if __name__ == "__main__":
    for script, *args in BENCHMARKS:
        print(f"\n### {script} {' '.join(args)}", flush=True)
        subprocess.run([sys.executable, str(HERE / script), *args], check=True)
