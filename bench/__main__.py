"""`python -m bench [--only NAME] [--quick]`: run the benchmarks, append to docs/benchmarks.md."""

from __future__ import annotations

import argparse
import importlib
import json
import traceback
from pathlib import Path

from bench import machine
from bench.results import markdown

BENCHMARKS = (
    "screening_day",
    "triage",
    "sweeps",
    "cohort_sweeps",
    "bench_dashboard",
    "student_file",
    "booking_rush",
    "network",
    "faults",
)
# Run only when named: the fault tests restart the machine's shared PostgreSQL.
OPT_IN = ("faults",)
FAILED: list[str] = []
DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


def _parse(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--only", choices=BENCHMARKS, action="append", help="run just this one")
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    parser.add_argument("--out", type=Path, default=DOC, help="Markdown file to append to")
    return parser.parse_args(argv)


def _section(name: str, args) -> str:
    try:
        module = importlib.import_module(f"bench.{name}")
    except ModuleNotFoundError as exc:
        if exc.name == f"bench.{name}":
            return f"### {name}\n\nNot run: bench/{name}.py does not exist yet.\n"
        raise
    try:
        result = module.run(_args_for(module, args))
    except Exception:  # one failing benchmark must not lose the others' figures
        return f"### {name}\n\n**Failed:**\n\n```\n{traceback.format_exc()[-3000:]}\n```\n"
    if result.get("failed"):
        FAILED.append(name)
    if "figures" not in result:  # bench_dashboard reports in its own shape
        return f"### {name}\n\n```\n{json.dumps(result, indent=2, default=str)[:6000]}\n```\n"
    return markdown(result["title"], result["figures"], result.get("notes", []))


def _args_for(module, args: argparse.Namespace) -> argparse.Namespace:
    """bench_dashboard has its own options (see its --help): give it its defaults."""
    if module.__name__ != "bench.bench_dashboard":
        return args
    return argparse.Namespace(
        **vars(args),
        database_url=module.QUICK_URL if args.quick else module.DEFAULT_URL,
        repeat=3 if args.quick else 10,
        rebuild=False,
        explain=True,
    )


def main(argv=None) -> None:
    args = _parse(argv)
    about = machine.describe()
    header = (
        f"\n## Run of {about['date']}{' (quick smoke run)' if args.quick else ''}\n\n"
        f"Machine: {about['cpu']}, {about['cores']} cores, {about['memory']} memory.\n\n"
    )
    default = [name for name in BENCHMARKS if name not in OPT_IN]
    sections = [_section(name, args) for name in (args.only or default)]
    with args.out.open("a", encoding="utf-8") as doc:
        doc.write(header + "\n".join(sections))
    print(header + "\n".join(sections))
    if FAILED:
        raise SystemExit(f"failed: {', '.join(FAILED)}")


if __name__ == "__main__":
    main()
