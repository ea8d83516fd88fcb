"""The README's code runs as printed, and its 60-second example trains."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), re.S)


def test_every_python_block_of_the_readme_runs():
    blocks = python_blocks()
    assert len(blocks) >= 2
    for block in blocks:
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile(block, str(README), "exec"), {})


def test_the_60_second_example_fits_its_regression():
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(python_blocks()[0], str(README), "exec"), {})
    loss, shape = out.getvalue().splitlines()[:2]
    assert float(loss) < 0.05  # from about 15 at the start: y = x @ w + 0.1 is learnt
    assert shape == "minigrad.Size([16, 4])"


def test_the_readme_names_the_commands_that_ci_runs():
    text = README.read_text()
    ci = (README.parent / ".ci" / "run").read_text()
    assert "bash scripts/test.sh" in text and "bash scripts/test.sh" in ci
    assert "bash scripts/train_digits.sh" in text
