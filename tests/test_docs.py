"""Every code block of README.md and docs/*.md runs, page by page, as a reader would run it.

* A ```python block with ``>>>`` prompts is a doctest session: each expected output is compared,
  with doctest's defaults (no option flags; an example may ask for one, ``# doctest: +ELLIPSIS``),
  so that ``python -m doctest docs/<page>.md`` and this test judge a page alike. The test also
  checks that ``python -m doctest`` reads the same examples out of the whole page as it reads out
  of the blocks: a closing fence right under an expected output is read as part of that output.
* Any other ```python block is executed; what it prints is not checked.
* A ```bash block is not run (it installs packages, or runs for minutes); the repository files
  it names must exist (or be ignored by git, as ``.venv`` is: the commands before make them).
* The blocks of a page share one namespace, in order, since later blocks use what earlier ones
  made; the random generator is seeded once per page, and a GPU, if there is one, is hidden
  (the pages show a machine without one).

Two markers, on the line before a fence, change what happens to a block:

* ``<!-- no-run: why -->``: the block is not run. For blocks that cannot run in the test suite
  (they need a GPU or a download); the reason is required, and shows in the test's report.
* ``<!-- quoted: path/to/file.py -->``: the block quotes that file, and must appear in it as
  written (a quote of a class needs the module's imports to run, and is checked against it instead).
"""

from __future__ import annotations

import contextlib
import doctest
import io
import itertools
import re
import shlex
import subprocess
import traceback
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import use_strict_cupy

import minigrad
from minigrad import _backend

ROOT = Path(__file__).resolve().parent.parent
PYTHON = {"python", "py", "pycon", "python3"}
SHELL = {"bash", "sh", "shell", "console"}
OPENING = re.compile(r"^(?P<indent> *)(?P<ticks>`{3,})\s*(?P<lang>[\w+-]*)\s*$")
MARKER = re.compile(r"^\s*<!--\s*(?P<kind>no-run|quoted)\s*:(?P<arg>.*?)-->\s*$")
# A repository path a shell line names: relative, with a slash or a script's suffix; not an option or a URL.
PATH_LIKE = re.compile(r"^(?![-/~])(?![\w+]+://)[\w./-]*(/[\w.-]+|\.(sh|py|toml|txt|cfg|ya?ml|json))$")


@dataclass
class Block:
    lang: str
    line: int  # 1-based line of the block's first line of code
    text: str
    marker: tuple[str, str] | None  # ("no-run", why) or ("quoted", path)


def pages() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def read_blocks(text: str, name: str) -> tuple[list[Block], list[str]]:
    """The fenced blocks of a Markdown page, and the problems found while reading them."""
    lines = text.split("\n")
    blocks: list[Block] = []
    problems: list[str] = []
    i = 0
    while i < len(lines):
        m = OPENING.match(lines[i])
        if not m:
            i += 1
            continue
        start, indent, ticks = i, len(m["indent"]), m["ticks"]
        closing = re.compile(rf"^ {{0,{indent}}}{ticks}\s*$")
        end = next((j for j in range(start + 1, len(lines)) if closing.match(lines[j])), None)
        if end is None:
            problems.append(f"{name}:{start + 1}: this fence is never closed")
            break
        body = "\n".join(line[indent:] if not line[:indent].strip() else line.lstrip()
                         for line in lines[start + 1:end])
        lang = m["lang"].lower()
        if not lang:
            problems.append(f"{name}:{start + 1}: a fence without a language: say ```python, ```bash or ```text, "
                            "so that the test knows whether to run it")
        before = next((j for j in range(start - 1, -1, -1) if lines[j].strip()), None)
        mark = MARKER.match(lines[before]) if before is not None else None
        marker = (mark["kind"], mark["arg"].strip()) if mark else None
        if marker and not marker[1]:
            problems.append(f"{name}:{before + 1}: '<!-- {marker[0]}: -->' needs a "
                            + ("reason" if marker[0] == "no-run" else "path"))
        blocks.append(Block(lang, start + 2, body + "\n", marker))
        i = end + 1
    return blocks, problems


def _doctest_examples(blocks: list[Block]) -> list[tuple[int, str, str]]:
    parser = doctest.DocTestParser()
    return [(b.line - 1 + ex.lineno, ex.source, ex.want)
            for b in blocks if b.lang in PYTHON and ">>>" in b.text
            for ex in parser.get_examples(b.text)]


def check_doctest_reading(text: str, blocks: list[Block], name: str) -> list[str]:
    """``python -m doctest`` reads the page as one text: it must find the examples the blocks hold."""
    whole = [(ex.lineno, ex.source, ex.want) for ex in doctest.DocTestParser().get_examples(text)]
    inside = _doctest_examples(blocks)
    if len(whole) != len(inside):
        return [f"{name}: python -m doctest finds {len(whole)} examples on the page, the ```python blocks hold "
                f"{len(inside)} (a '>>>' outside a python block?)"]
    problems = []
    for (line, source, want), (_, _, want2) in zip(whole, inside):
        if want != want2:
            hint = " (a closing ``` right under an expected output is read as output: leave a blank line before it)" \
                if "```" in want else ""
            problems.append(f"{name}:{line + 1}: python -m doctest reads {source.strip()!r} with the expected output "
                            f"{want!r}, the block has {want2!r}{hint}")
    return problems


def _run_doctest(block: Block, namespace: dict, path: Path, name: str) -> tuple[dict, list[str]]:
    test = doctest.DocTestParser().get_doctest(block.text, namespace, name, str(path), block.line - 1)
    report = io.StringIO()
    runner = doctest.DocTestRunner(optionflags=0)
    runner.run(test, out=report.write, clear_globs=False)
    failed = runner.summarize(verbose=False).failed
    problems = [f"{name}:{block.line}: {failed} example(s) of this block fail:\n{report.getvalue()}"] if failed else []
    return test.globs, problems


def _run_python(block: Block, namespace: dict, path: Path, name: str) -> list[str]:
    # Blank lines in front make a traceback's line numbers the page's.
    code = compile("\n" * (block.line - 1) + block.text, str(path), "exec")
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            exec(code, namespace)
    except Exception as exc:
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == str(path)]
        line = frames[-1].lineno if frames else block.line
        return [f"{name}:{line}: the block starting at line {block.line} raises {type(exc).__name__}: {exc}"]
    return []


def _check_shell(block: Block, root: Path, name: str) -> list[str]:
    problems = []
    for offset, line in enumerate(block.text.splitlines()):
        try:
            words = shlex.split(line, comments=True)
        except ValueError:
            words = line.split()
        for word in words:
            if PATH_LIKE.match(word) and not (root / word).exists() and not _ignored_by_git(root, word):
                problems.append(f"{name}:{block.line + offset}: '{word}' is not a file or folder of the repository")
    return problems


def _ignored_by_git(root: Path, path: str) -> bool:
    """A path git ignores (``.venv/bin/activate``) is made by the commands before it, not shipped."""
    try:
        done = subprocess.run(["git", "check-ignore", "-q", path], cwd=root, capture_output=True, timeout=30)
    except OSError:
        return False
    return done.returncode == 0


def _check_quote(block: Block, root: Path, name: str) -> list[str]:
    source = root / block.marker[1]
    if not source.is_file():
        return [f"{name}:{block.line}: the block says it quotes {block.marker[1]}, which does not exist"]
    if block.text not in source.read_text():
        return [f"{name}:{block.line}: the block is not in {block.marker[1]} as written"]
    return []


def check_page(path: Path, root: Path = ROOT) -> tuple[list[str], list[str]]:
    """The problems of one page, and the reasons given for the blocks it does not run."""
    name = str(path.relative_to(root)) if path.is_relative_to(root) else path.name
    text = path.read_text()
    blocks, problems = read_blocks(text, name)
    problems += check_doctest_reading(text, blocks, name)
    skipped = []
    namespace = {"__name__": "__main__"}
    for block in blocks:
        kind, arg = block.marker or (None, None)
        if kind == "no-run":
            skipped.append(f"{name}:{block.line}: {arg}")
            if block.lang in PYTHON and ">>>" in block.text:
                problems.append(f"{name}:{block.line}: python -m doctest runs '>>>' examples whatever the marker: "
                                "write a block that cannot run without prompts")
        elif kind == "quoted":
            problems += _check_quote(block, root, name)
        elif block.lang in SHELL:
            problems += _check_shell(block, root, name)
        elif block.lang in PYTHON and ">>>" in block.text:
            namespace, found = _run_doctest(block, namespace, path, name)
            problems += found
        elif block.lang in PYTHON:
            problems += _run_python(block, namespace, path, name)
    return problems, skipped


@pytest.fixture
def as_a_reader(monkeypatch):
    """The repository root as the working directory, a seeded generator, and no GPU."""
    monkeypatch.chdir(ROOT)
    monkeypatch.syspath_prepend(str(ROOT))
    monkeypatch.setattr(_backend, "_cupy", None)
    monkeypatch.setattr(_backend, "_cupy_error", "CuPy is not installed (pip install minigrad[cuda])")
    minigrad.manual_seed(0)


@pytest.mark.parametrize("page", pages(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_code_block_of_the_page_runs(page, as_a_reader):
    problems, skipped = check_page(page)
    assert not problems, "\n".join(problems)
    for reason in skipped:
        print("not run:", reason)


def _gpu_blocks() -> list[tuple[Path, Block]]:
    return [(page, b) for page in pages() for b in read_blocks(page.read_text(), page.name)[0]
            if b.marker and b.marker[0] == "no-run" and b.marker[1].startswith("needs a GPU") and b.lang in PYTHON]


@pytest.mark.parametrize(("page", "block"), _gpu_blocks(), ids=lambda x: x.name if isinstance(x, Path) else x.line)
def test_blocks_that_need_a_gpu_run_on_the_stand_in_gpu(page, block, monkeypatch):
    # Not the real thing (tests/test_devices.py has the real-GPU tests), but it runs the block's
    # calls with device arrays that refuse host arrays, so a block that is wrong for a GPU fails here.
    use_strict_cupy(monkeypatch)
    minigrad.manual_seed(0)
    problems = _run_python(block, {"__name__": "__main__"}, page, page.name)
    assert not problems, "\n".join(problems)


def test_the_example_times_on_the_tour_page_are_measured_figures_with_machine_and_date():
    # Guessed times ("~5 s") went stale without anyone noticing; measured ones say when and where.
    lines = (ROOT / "docs" / "index.md").read_text().split("\n")
    head = next(i for i, line in enumerate(lines) if line.startswith("| command | what it shows | time"))
    above = " ".join(lines[head - 8:head])
    assert re.search(r"\b20\d\d-\d\d-\d\d\b", above) and "2-core" in above, above
    rows = list(itertools.takewhile(lambda line: line.startswith("|"), lines[head + 2:]))
    assert len(rows) >= 8
    for row in rows:
        command, _, time = [c.strip() for c in row.strip("|").split("|")]
        assert re.match(r"^\d+(\.\d+)?-\d+(\.\d+)? s\b", time), row
        script = re.search(r"examples/\w+\.py", command)[0]
        assert (ROOT / script).is_file(), script


# -- the checker itself, on small pages made here --------------------------------------------------


def _page(tmp_path: Path, text: str) -> Path:
    (tmp_path / "scripts").mkdir(exist_ok=True)
    (tmp_path / "scripts" / "there.sh").write_text("")
    path = tmp_path / "page.md"
    path.write_text(text)
    return path


def test_a_closing_fence_under_an_expected_output_is_named_with_its_line(tmp_path):
    page = _page(tmp_path, "# t\n\n```python\n>>> 1 + 1\n2\n```\n")
    problems, _ = check_page(page, tmp_path)
    assert len(problems) == 1 and problems[0].startswith("page.md:4: python -m doctest reads '1 + 1'")
    assert "leave a blank line" in problems[0]
    fixed = _page(tmp_path, "# t\n\n```python\n>>> 1 + 1\n2\n\n```\n")
    assert check_page(fixed, tmp_path) == ([], [])


def test_a_wrong_expected_output_is_named_with_the_page_and_line(tmp_path):
    page = _page(tmp_path, "intro\n\n```python\n>>> x = 3\n\n```\n\ntext\n\n```python\n>>> x * 2\n7\n\n```\n")
    problems, _ = check_page(page, tmp_path)
    assert len(problems) == 1 and problems[0].startswith("page.md:11: 1 example(s) of this block fail")
    assert 'File "' in problems[0] and "line 11" in problems[0] and "Expected:\n    7\nGot:\n    6" in problems[0]


def test_a_plain_block_runs_in_the_pages_namespace_and_its_error_names_the_line(tmp_path):
    page = _page(tmp_path, "```python\n>>> y = 2\n\n```\n\n```python\nz = y + 1\nprint(z)\nz.missing\n```\n")
    problems, _ = check_page(page, tmp_path)
    assert problems == ["page.md:9: the block starting at line 7 raises AttributeError: "
                        "'int' object has no attribute 'missing'"]


def test_a_no_run_marker_needs_a_reason_and_is_honoured(tmp_path):
    page = _page(tmp_path, "<!-- no-run: needs a GPU -->\n```python\nimport cupy\n```\n")
    assert check_page(page, tmp_path) == ([], ["page.md:3: needs a GPU"])
    page = _page(tmp_path, "<!-- no-run: -->\n\n```python\nimport cupy\n```\n")
    problems, _ = check_page(page, tmp_path)
    assert problems == ["page.md:1: '<!-- no-run: -->' needs a reason"]
    page = _page(tmp_path, "<!-- no-run: needs a GPU -->\n```python\n>>> import cupy\n\n```\n")
    problems, _ = check_page(page, tmp_path)
    assert "python -m doctest runs '>>>' examples whatever the marker" in problems[0]


def test_a_quoted_block_must_be_in_its_file(tmp_path):
    (tmp_path / "mod.py").write_text("import os\n\n\nclass A(B):\n    x = 1\n")
    page = _page(tmp_path, "<!-- quoted: mod.py -->\n```python\nclass A(B):\n    x = 1\n```\n")
    assert check_page(page, tmp_path) == ([], [])
    page = _page(tmp_path, "<!-- quoted: mod.py -->\n```python\nclass A(B):\n    x = 2\n```\n")
    assert check_page(page, tmp_path)[0] == ["page.md:3: the block is not in mod.py as written"]


def test_shell_blocks_are_not_run_but_the_files_they_name_exist(tmp_path):
    page = _page(tmp_path, "```bash\nbash scripts/there.sh --fast   # fine\nbash scripts/gone.sh\n"
                           "pip install \"minigrad[cuda]\"\nls /usr/lib ~/.cache https://example.org/x.py\n```\n")
    problems, _ = check_page(page, tmp_path)
    assert problems == ["page.md:3: 'scripts/gone.sh' is not a file or folder of the repository"]


def test_an_unlabelled_or_unclosed_fence_is_a_problem(tmp_path):
    problems, _ = check_page(_page(tmp_path, "```\nx = 1\n```\n"), tmp_path)
    assert problems[0].startswith("page.md:1: a fence without a language")
    problems, _ = check_page(_page(tmp_path, "```python\nx = 1\n"), tmp_path)
    assert problems == ["page.md:1: this fence is never closed"]
