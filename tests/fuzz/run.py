"""Run the readers' fuzzers (atheris, libFuzzer's engine), one process per reader, and report
executions and crashes.

    python -m tests.fuzz.run --seconds 600            # ten minutes per reader; corpus kept in output/fuzz
    python -m tests.fuzz.run --seconds 60 trc c3d     # some readers only

A crash (the input, and the traceback or the limit it broke) is written to
output/fuzz/<reader>/crashes/; the input, minimised, belongs under tests/fuzz/crashes/<reader>/
with its expected message in tests/fuzz/test_fuzz.py once the reader is fixed. The test suite runs
each reader briefly with a fixed seed (tests/fuzz/test_fuzz.py).
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tests.fuzz.harness import SCRATCH_VARIABLE

READERS = ("trc", "c3d", "csv", "alphapose", "video")
HERE = Path(__file__).parent
ROOT = HERE.parent.parent
SEEDS, CRASHES, DICTS = HERE / "seeds", HERE / "crashes", HERE / "dicts"
CASE_TIMEOUT_S = 10      # one input: a case that runs longer is a crash (libFuzzer's -timeout)
RSS_LIMIT_MB = 2048      # resident memory; harness.ADDRESS_SPACE_BYTES bounds each allocation too
MAX_INPUT_BYTES = 32768
# libFuzzer's final statistics, else its last progress line (#<executions> ...)
EXECUTIONS = (re.compile(r"^stat::number_of_executed_units:\s+(\d+)", re.MULTILINE), re.compile(r"^#(\d+)\s", re.MULTILINE))


@dataclass(frozen=True)
class Outcome:
    reader: str
    executions: int
    seconds: float
    crashes: tuple[Path, ...]  # inputs libFuzzer saved: crash-*, timeout-*, oom-*
    log: str
    died: str = ""             # how the process ended where libFuzzer could not save the input

    @property
    def failed(self) -> bool:
        return bool(self.crashes or self.died)

    def summary(self) -> str:
        found = f"{len(self.crashes)} crash: {self.crashes[0].name}" if self.crashes else self.died or "no crash"
        return f"{self.reader}: {self.executions} executions in {self.seconds:.0f} s, {found}"

    def report(self) -> str:
        """The summary, the first crash's input (its start) and what it broke, from the log."""
        if not self.crashes:
            return f"{self.summary()}\n{self.log[-3000:]}" if self.died else self.summary()
        start = self.log.find("=== Uncaught Python exception")
        start = start if start >= 0 else max(0, self.log.find("ERROR: libFuzzer") - 200)
        data = self.crashes[0].read_bytes()
        return f"{self.summary()}\ninput ({len(data)} bytes): {data[:300]!r}\n{self.log[start:start + 3000]}"


def command(reader: str, corpus: Path, artifacts: Path, seconds: float, runs: int | None, seed: int) -> list[str]:
    """libFuzzer writes new inputs into `corpus` and reads the seeds and the crashes found before."""
    folders = [corpus] + [d for d in (SEEDS / reader, CRASHES / reader) if d.is_dir()]
    options = [f"-max_total_time={max(1, round(seconds))}", f"-seed={seed}", f"-timeout={CASE_TIMEOUT_S}",
               f"-rss_limit_mb={RSS_LIMIT_MB}", f"-max_len={MAX_INPUT_BYTES}", f"-dict={DICTS / f'{reader}.dict'}",
               f"-artifact_prefix={artifacts}/", "-print_final_stats=1"]
    if runs is not None:
        options.append(f"-runs={runs}")
    return [sys.executable, "-m", "tests.fuzz.target", reader, *map(str, folders), *options]


def fuzz_reader(reader: str, work: Path, seconds: float, runs: int | None = None, seed: int = 1) -> Outcome:
    """One reader's fuzzer for `seconds` (or `runs` inputs, whichever ends first) in `work`
    (corpus/, crashes/, scratch/, fuzz.log); libFuzzer stops at the first crash."""
    corpus, artifacts, scratch = work / "corpus", work / "crashes", work / "scratch"
    for folder in (corpus, artifacts, scratch):
        folder.mkdir(parents=True, exist_ok=True)
    earlier = set(artifacts.iterdir())  # crashes of a run before: reported then
    started = time.monotonic()
    # startup (the imports) and libFuzzer's own limit of a case: the process is killed past these
    limit_s = seconds + 4 * CASE_TIMEOUT_S + 60
    with open(work / "fuzz.log", "w+", errors="replace") as log_file:
        try:
            status = subprocess.run(command(reader, corpus, artifacts, seconds, runs, seed), cwd=ROOT,
                                    env={**os.environ, SCRATCH_VARIABLE: str(scratch), "PYTHONWARNINGS": "ignore"},
                                    stdout=log_file, stderr=subprocess.STDOUT, timeout=limit_s).returncode
        except subprocess.TimeoutExpired:
            status = None
        log_file.seek(0)
        log = log_file.read()
    executions = next((found[-1] for pattern in EXECUTIONS if (found := pattern.findall(log))), "0")
    crashes = tuple(sorted(p for p in set(artifacts.iterdir()) - earlier if p.name.startswith(("crash-", "timeout-", "oom-"))))
    died = ""
    if status is None:
        died = f"hung: killed after {limit_s:.0f} s"
    elif status != 0 and not crashes:
        died = f"died (exit status {status}) without saving the input"
    return Outcome(reader, int(executions), time.monotonic() - started, crashes, log, died)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("readers", nargs="*", choices=READERS, help="default: all")
    parser.add_argument("--seconds", type=float, default=60.0, help="per reader (default 60)")
    parser.add_argument("--seed", type=int, default=0, help="libFuzzer's random seed (default 0: from the clock)")
    parser.add_argument("--out", type=Path, default=ROOT / "output" / "fuzz",
                        help="corpus, crashes and logs per reader (default output/fuzz)")
    args = parser.parse_args(argv)
    failed = False
    for reader in args.readers or READERS:
        outcome = fuzz_reader(reader, args.out / reader, args.seconds, seed=args.seed)
        print(outcome.summary(), flush=True)
        failed |= outcome.failed
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
