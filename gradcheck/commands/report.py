"""``gradcheck report RUN.json -o out.html``: re-render a saved run as HTML, Markdown or JSON."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from gradcheck.errors import InvalidArgumentError

HELP = "re-render a saved run (.json) as HTML, Markdown or JSON"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the command's arguments."""
    parser.add_argument(
        "run_file", metavar="RUN.json", nargs="?", help="a run saved with save_report(.json)"
    )
    parser.add_argument(
        "-o",
        "--output",
        metavar="OUT",
        help="where to write; the suffix picks the format: .html, .md (PNGs beside it) or "
        ".json (default: RUN.html next to the input)",
    )
    parser.add_argument("--title", help="replace the report's title")
    parser.add_argument(
        "--schema", action="store_true", help="print the JSON Schema a saved run follows; exit"
    )


def run(args: argparse.Namespace) -> int:
    """Validate the saved run against the schema, then render it; return the exit status."""
    from gradcheck.report.model import as_run_dict
    from gradcheck.report.save import output_path, save_report
    from gradcheck.report.schema import SCHEMA, SCHEMA_HELP, validate
    from gradcheck.report.serialize import read_json

    if args.schema:
        print(json.dumps(SCHEMA, indent=2))
        return 0
    if args.run_file is None:
        raise InvalidArgumentError("`RUN.json` is missing: pass a run saved as .json.")
    default = Path(args.run_file).with_suffix(".html")
    output = output_path(args.output if args.output is not None else default, "-o/--output")
    data = as_run_dict(read_json(args.run_file))
    problems = validate(data)
    if problems:
        print(
            f"gradcheck report: {args.run_file} does not follow the report schema "
            f"({len(problems)} problems):",
            file=sys.stderr,
        )
        for problem in problems[:50]:
            print(f"  - {problem}", file=sys.stderr)
        if len(problems) > 50:
            print(f"  ... and {len(problems) - 50} more", file=sys.stderr)
        print(SCHEMA_HELP, file=sys.stderr)
        return 2
    path = save_report(data, output, title=args.title)
    print(f"wrote {path}")
    return 0
