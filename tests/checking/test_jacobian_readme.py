"""The README's Jacobian example runs and prints what the README shows."""

import contextlib
import io
import re
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def _section() -> str:
    text = README.read_text()
    return text[text.index("## Check Jacobians") : text.index("## Watch training")]


def test_readme_jacobian_example_prints_what_it_shows():
    section = _section()
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    shown = re.search(r"```text\n(.*?)```", section, re.S).group(1)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), {})
    printed = out.getvalue().splitlines()
    for line in shown.splitlines():
        if line == "...":
            continue
        head = line.split("...")[0].rstrip() if line.endswith("...") else line
        assert any(p.startswith(head) for p in printed), f"README line not printed: {line}"
