"""`make bench`: every benchmark, one JSON object per line on stdout.

python -m tests.benchmarks [--only NAME ...] [--operations N]
"""

from __future__ import annotations

import argparse
import sys

from tests.benchmarks import (
    bench_candles,
    bench_chart,
    bench_engine,
    bench_fanout,
    bench_journal,
    bench_matching,
    bench_simulator,
    bench_ui,
    bench_ws_orders,
)
from tests.benchmarks.workload import generate

BENCHES = (
    "matching_core",
    "engine_in_memory",
    "journal_sqlite",
    "journal_postgresql",
    "ws_order_entry",
    "ws_fanout",
    "demo_market",
    "candles",
    "chart",
    "ui",
)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks")
    parser.add_argument("--only", nargs="*", choices=BENCHES, default=list(BENCHES))
    parser.add_argument("--operations", type=int, default=1_000_000)
    parser.add_argument(
        "--ui-seconds", type=float, default=60.0, help="UI responsiveness run (the issue: 600)"
    )
    args = parser.parse_args()
    workload = generate(args.operations)
    if "matching_core" in args.only:
        bench_matching.run(workload)
    if "engine_in_memory" in args.only:
        bench_engine.run(workload)
    journal_ops = min(args.operations, 200_000)
    if "journal_sqlite" in args.only:
        bench_journal.run(workload, "sqlite", journal_ops)
    if "journal_postgresql" in args.only:
        if bench_journal.postgres_available():
            bench_journal.run(workload, "postgresql", journal_ops)
        else:
            print('{"bench": "journal_postgresql", "skipped": "PostgreSQL not reachable"}')
    if "ws_order_entry" in args.only:
        bench_ws_orders.run()
    if "ws_fanout" in args.only:
        bench_fanout.run_search()
    if "demo_market" in args.only:
        bench_simulator.run()
    if "candles" in args.only:
        bench_candles.run()
    if "chart" in args.only:
        bench_chart.run()
    if "ui" in args.only:
        bench_ui.run(args.ui_seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
