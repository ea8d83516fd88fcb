"""docs/api.md is what scripts/api_doc.py generates from minigrad now, every name it lists as supported
exists, and a missing name's error points at it."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

import minigrad
from minigrad._missing import missing_attribute

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import api_doc  # noqa: E402


def test_docs_api_md_is_in_sync_with_the_code():
    text = (ROOT / "docs" / "api.md").read_text()
    assert text == api_doc.render(), "docs/api.md is stale: run python scripts/api_doc.py"
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "api_doc.py"), "--check"], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr


def _listed() -> dict[str, tuple[list[str], list[str]]]:
    """{torch namespace: (names listed as supported, names listed as not supported)} read back from the page."""
    out: dict[str, tuple[list[str], list[str]]] = {}
    current, in_missing = None, False
    for line in (ROOT / "docs" / "api.md").read_text().splitlines():
        header = re.match(r"## `([^`]+)` \(`([^`]+)`\)", line)
        if header:
            current, in_missing = header.group(1), False
            out[current] = ([], [])
        elif line == "### Not supported":
            in_missing = True
        elif current and in_missing and line.startswith("`"):
            out[current][1].extend(n.rsplit(".", 1)[-1] for n in re.findall(r"`([^`]+)`", line))
        elif current and not in_missing:
            item = re.match(r"\| `([^`]+)` \|", line)
            if item:
                out[current][0].append(item.group(1))
    return out


def test_every_supported_name_exists_and_every_missing_one_does_not():
    listed = _listed()
    assert [ns for ns, _, _ in api_doc.NAMESPACES] == list(listed)
    for torch_name, module_name, attribute in api_doc.NAMESPACES:
        owner = importlib.import_module(module_name)
        if attribute:
            owner = getattr(owner, attribute)
        supported, missing = listed[torch_name]
        assert supported, torch_name
        for name in supported:
            assert hasattr(owner, name), f"{torch_name}.{name} is listed as supported but minigrad lacks it"
        for name in missing:
            assert not hasattr(owner, name), f"{torch_name}.{name} is listed as not supported but exists"
    assert {"Linear", "Sequential", "CrossEntropyLoss"} <= set(listed["torch.nn"][0])
    assert {"save", "load", "tensor", "no_grad"} <= set(listed["torch"][0])


def test_the_page_gives_torch_names_summaries_differences_and_missing_parameters():
    text = (ROOT / "docs" / "api.md").read_text()
    first = minigrad.Tensor.__doc__.strip().splitlines()[0]
    assert f"| `Tensor` | `torch.Tensor` | {first} " in text
    assert "| `draw` | *minigrad only* |" in text  # Tensor.draw: torch has no such method
    # DataLoader's docstring states what it does differently, and the page repeats it
    row = next(line for line in text.splitlines() if line.startswith("| `DataLoader` |"))
    assert "**Differs from torch:**" in row


def test_differences_and_missing_parameters_are_read_from_the_code():
    def documented(x, y=1):
        """Add.

        Differs from torch: rounds
        to even.
        """

    def torch_like(x, y=1, out=None, _private=None):
        """Add."""

    assert api_doc._summary(documented) == "Add."
    assert api_doc._difference(documented) == "rounds to even."
    assert api_doc._lacks(documented, torch_like) == ["out"]
    assert api_doc._lacks(lambda *args: None, torch_like) == []  # an open signature says nothing
    assert api_doc._difference(torch_like) == ""


def test_torch_tensor_names_are_torchs():
    torch = pytest.importorskip("torch")
    from minigrad._torch_names import TORCH_TENSOR_NAMES

    assert sorted(TORCH_TENSOR_NAMES) == sorted(n for n in dir(torch.Tensor) if not n.startswith("_"))


@pytest.mark.parametrize(("module", "name", "expected"), [
    ("minigrad", "fft", "module 'minigrad' has no attribute 'fft'; minigrad has no 'fft' (torch.fft); "
                        "see docs/api.md"),
    ("minigrad.nn.functional", "conv2d", "module 'minigrad.nn.functional' has no attribute 'conv2d'; minigrad has "
                                         "no 'conv2d' (torch.nn.functional.conv2d); see docs/api.md"),
])
def test_missing_attribute_error(module, name, expected):
    error = missing_attribute(module, name)
    assert isinstance(error, AttributeError) and str(error) == expected and error.name == name
    with pytest.raises(AttributeError, match=r"module 'minigrad' has no attribute 'fft'"):
        raise missing_attribute("minigrad", "fft")
