"""`python -m bench [scenario ...] [--quick] [--rounds N] [--paths ...]` and `--markdown`.

Owns the command line only: which scenarios and paths, full or quick, and the markdown of the
latest saved results (for docs/performance.md). `make bench [QUICK=1]` calls this.
"""

from __future__ import annotations

import argparse
import sys

from bench.paths import ABOUT, PATHS
from bench.report import markdown
from bench.results import latest
from bench.scenarios import SCENARIOS
from bench.scenarios.base import Settings


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Measure PostgreSQL (and MariaDB) through each path side by side: a table"
        " at the end, one JSON line per scenario on stdout, progress on stderr.",
    )
    parser.add_argument(
        "scenarios", nargs="*", metavar="scenario", help=f"default: all ({', '.join(SCENARIOS)})"
    )
    parser.add_argument("--quick", action="store_true", help="one short round (about 2 minutes)")
    parser.add_argument("--rounds", type=int, help="rounds per scenario (default 3; quick 1)")
    parser.add_argument(
        "--paths",
        nargs="+",
        metavar="PATH",
        help=f"only these paths (space or comma separated): {', '.join(PATHS)}",
    )
    parser.add_argument("--no-save", action="store_true", help="do not write bench/results/")
    parser.add_argument("--keep-state", action="store_true", help="keep configs and logs")
    parser.add_argument(
        "--markdown",
        action="store_true",
        help="print the latest saved results as a markdown table (with --quick: quick runs)",
    )
    parser.add_argument("--list", action="store_true", help="list scenarios and paths")
    args = parser.parse_args(argv)
    unknown = [s for s in args.scenarios if s not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario {', '.join(unknown)}; choose from {', '.join(SCENARIOS)}")
    if args.paths is not None:
        args.paths = {p for item in args.paths for p in item.split(",") if p}
        bad = sorted(args.paths - set(PATHS))
        if bad:
            parser.error(f"unknown path {', '.join(bad)}; choose from {', '.join(PATHS)}")
    if args.rounds is not None and args.rounds < 1:
        parser.error("--rounds must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    if args.list:
        settings = Settings()
        for name, scenario in SCENARIOS.items():
            print(f"{name:16} {scenario.describe(settings)}")
        print()
        for path in PATHS:
            print(f"{path:16} {ABOUT[path]}")
        return 0
    if args.markdown:
        print(markdown(latest(quick=args.quick)), end="")
        return 0
    from bench.run import run_benchmark

    rounds = args.rounds or (1 if args.quick else 3)
    try:
        run_benchmark(
            args.scenarios or list(SCENARIOS),
            Settings(quick=args.quick, rounds=rounds),
            args.paths,
            save=not args.no_save,
            keep_state=args.keep_state,
        )
    except KeyboardInterrupt:
        print("bench: interrupted; everything it started was stopped", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
