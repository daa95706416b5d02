"""The layer-check outputs printed in README ("Debug your backprop", "Check your course
assignment") are what the code blocks above them print."""

import contextlib
import io
from pathlib import Path

import pytest

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def _blocks(section: str) -> tuple[str, str]:
    start = README.index(f"## {section}")
    code_at = README.index("```python\n", start) + len("```python\n")
    code = README[code_at : README.index("```", code_at)]
    text_at = README.index("```text\n", code_at) + len("```text\n")
    return code, README[text_at : README.index("```", text_at)]


@pytest.mark.parametrize("section", ["Debug your backprop", "Check your course assignment"])
def test_readme_output_is_what_the_code_prints(section):
    code, expected = _blocks(section)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, f"README {section}", "exec"), {"__name__": "readme"})
    assert out.getvalue() == expected
