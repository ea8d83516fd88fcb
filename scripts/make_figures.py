"""Generate every figure the documentation shows, into docs/figures/.

    python scripts/make_figures.py [output directory, default docs/figures] [--fast]

Needs Graphviz's ``dot`` (graph drawings) and matplotlib (optimizer paths). ``--fast`` makes
coarser versions quickly; the tests use it to check that every figure the docs link to is made
here.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import os
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent


def load_example(name: str) -> ModuleType:
    """Import examples/<name>.py (examples/ is a folder of scripts, not a package)."""
    spec = importlib.util.spec_from_file_location(f"example_{name}", ROOT / "examples" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def small_graph(out_dir: str) -> str:
    """``(a * a + a).sum()``: the graph of docs/autograd.md, where ``a`` feeds three inputs."""
    import minigrad as torch

    a = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = (a * a + a).sum()
    b.backward()
    graph = torch.viz.draw_graph(b, params={"a": a, "b": b}, show_grads=True)
    return graph.render(os.path.join(out_dir, "graph_small"), format="png", cleanup=True)


def double_backward_graph(out_dir: str) -> str:
    """The recorded gradient of ``(x.tanh() * x).sum()``: the backward pass as a graph (docs/autograd.md)."""
    import minigrad as torch

    x = torch.tensor([0.5, -1.0], dtype=torch.float64, requires_grad=True)
    g, = torch.autograd.grad((x.tanh() * x).sum(), x, create_graph=True)
    graph = torch.viz.draw_graph(g, params={"x": x, "g = dy/dx": g})
    return graph.render(os.path.join(out_dir, "graph_double_backward"), format="png", cleanup=True)


def mlp_graph(out_dir: str) -> str:
    """The MLP of examples/draw_graph.py, parameters boxed per module, gradient norms shown."""
    model, loss = load_example("draw_graph").build()
    graph = loss.draw(model=model, params={"loss": loss}, show_grads=True)
    return graph.render(os.path.join(out_dir, "graph_mlp"), format="png", cleanup=True)


def optimizer_figures(out_dir: str, fast: bool) -> list[str]:
    """Paths of every course optimizer on three functions, and the course's claims."""
    with contextlib.redirect_stdout(io.StringIO()):  # the example prints a long table
        return load_example("optimizer_paths").main(out_dir, fast=fast)["files"]


def optimizer_comparison(out_dir: str, fast: bool) -> str:
    """Loss curves of every course optimizer training the digits MLP (shown in the README)."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return load_example("compare_optimizers").main(out_dir, fast=fast)["file"]


def main(out_dir: str = str(ROOT / "docs" / "figures"), fast: bool = False) -> list[str]:
    os.makedirs(out_dir, exist_ok=True)
    paths = [small_graph(out_dir), double_backward_graph(out_dir), mlp_graph(out_dir),
             *optimizer_figures(out_dir, fast), optimizer_comparison(out_dir, fast)]
    for path in paths:
        print("wrote", os.path.relpath(path))
    return paths


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", nargs="?", default=str(ROOT / "docs" / "figures"))
    parser.add_argument("--fast", action="store_true", help="coarser, quicker figures (used by the tests)")
    args = parser.parse_args()
    main(args.out_dir, fast=args.fast)
