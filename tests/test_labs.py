"""The teaching notebooks of docs/labs/ run top to bottom, and are stored without outputs.

Each notebook is executed with nbclient in its FAST mode (``MINIGRAD_LAB_FAST=1``: smaller loops
and datasets; all three together take about 15 s here). A cell that raises (an exercise's
``assert`` included) fails the test. The kernel is this interpreter (``sys.executable`` with
ipykernel), whatever ``python3`` kernelspecs the machine has, and it imports minigrad from this
checkout. Skipped, with the reason, when nbclient or ipykernel is not installed
(``pip install -e '.[test]'`` installs both).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LABS = ROOT / "docs" / "labs"
NOTEBOOKS = ["01_memory.ipynb", "02_optimizers.ipynb", "03_dropout.ipynb"]


def test_the_three_labs_are_there():
    assert sorted(p.name for p in LABS.glob("*.ipynb")) == NOTEBOOKS


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_stored_clean_with_a_fast_switch(name):
    """No outputs or execution counts in the repository; the first code cell defines FAST from the env var."""
    nb = json.loads((LABS / name).read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    for cell in code:
        assert cell["outputs"] == [] and cell["execution_count"] is None, f"{name}: a cell has outputs"
    first = "".join(code[0]["source"])
    assert 'FAST = bool(int(os.environ.get("MINIGRAD_LAB_FAST", "0")))' in first


def _this_python_kernel_manager():
    """A KernelManager whose 'python3' is ipykernel on sys.executable, not whatever kernelspec is found first."""
    from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
    from jupyter_client.manager import KernelManager

    class ThisPython(KernelSpecManager):
        def get_kernel_spec(self, kernel_name):
            return KernelSpec(argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                              display_name="Python 3 (this interpreter)", language="python", name=kernel_name)

    return KernelManager(kernel_name="python3", kernel_spec_manager=ThisPython())


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_runs_top_to_bottom_fast(name, monkeypatch):
    nbclient = pytest.importorskip("nbclient", reason="nbclient is not installed: pip install nbclient")
    nbformat = pytest.importorskip("nbformat", reason="nbformat is not installed: pip install nbformat")
    pytest.importorskip("ipykernel", reason="ipykernel is not installed: pip install ipykernel")

    # The kernel inherits this environment: FAST mode, minigrad from this checkout, the inline backend.
    monkeypatch.setenv("MINIGRAD_LAB_FAST", "1")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT)] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
    monkeypatch.delenv("MPLBACKEND", raising=False)

    nb = nbformat.read(LABS / name, as_version=4)
    client = nbclient.NotebookClient(nb, km=_this_python_kernel_manager(), timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(LABS)}})
    client.execute()  # raises CellExecutionError, with the cell and its traceback, when a cell fails

    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any("image/png" in o.get("data", {}) for o in outputs), f"{name}: no inline plot came out"
