"""Run every benchmark in turn (`make bench`): each as its own `python -m bench.<name>` process with
its default arguments, its table printed as it finishes, then a summary of how long each took.

Exits non-zero if any benchmark crashed or ran past its time limit; a benchmark that runs but misses
its target says so in its own table and is not a failure here.

    python -m bench [NAME ...] [--timeout SECONDS]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import time

from bench.load import table

BENCHMARKS = (
    "ack_latency",
    "click_render",
    "history_cost",
    "declare_ready",
    "postmortem_scaling",
    "reminder_precision",
    "reminder_storm",
    "memory",
)


async def stop(proc: asyncio.subprocess.Process) -> None:
    """SIGTERM the benchmark's whole process group, SIGKILL if it is still there 15 s later."""
    if proc.returncode is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), 15)
        except TimeoutError:
            os.killpg(proc.pid, signal.SIGKILL)
            await proc.wait()
    except ProcessLookupError:
        pass


async def run(name: str, timeout: float) -> tuple[str, float]:
    """Run one benchmark with its output going straight to ours; (outcome, seconds)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    started = time.monotonic()
    # A session of its own, so a benchmark that overruns is stopped with every process it started.
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", f"bench.{name}", env=env, start_new_session=True
    )
    try:
        code = await asyncio.wait_for(proc.wait(), timeout)
    except TimeoutError:
        await stop(proc)
        return f"timed out after {timeout:.0f} s", time.monotonic() - started
    except BaseException:  # Ctrl-C: its own session does not get the signal, so pass it on
        await stop(proc)
        raise
    outcome = "ok" if code == 0 else f"crashed (exit {code})"
    return outcome, time.monotonic() - started


async def main(args: argparse.Namespace) -> int:
    names = args.names or list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}", file=sys.stderr)
        return 2
    results = []
    started = time.monotonic()
    for name in names:
        print(f"\n## bench.{name}", flush=True)
        outcome, seconds = await run(name, args.timeout)
        results.append([name, outcome, f"{seconds:.0f}"])
    total = time.monotonic() - started
    print(
        f"\nBenchmarks run ({total / 60:.1f} min in all; figures depend on what else this machine is doing)"
    )
    print(table(["benchmark", "outcome", "seconds"], results))
    return 0 if all(r[1] == "ok" for r in results) else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("names", nargs="*", help=f"which to run (default: all): {', '.join(BENCHMARKS)}")
    parser.add_argument(
        "--timeout", type=float, default=600.0, help="stop a benchmark that runs longer (counts as a crash)"
    )
    sys.exit(asyncio.run(main(parser.parse_args())))
