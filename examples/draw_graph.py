"""Draw the graph autograd records for a small MLP and its loss, as PNG and SVG files.

Blue boxes are the parameters, grouped by the module they belong to (``0.weight`` is the
weight of the Sequential's first layer), grey boxes the ops named as torch names them
(``AddmmBackward0`` is a Linear layer's ``x @ W.T + b``), the green box the loss. Each
parameter shows its shape, dtype, size in bytes and, since we ran ``backward()``, the norm of
its gradient.

    python examples/draw_graph.py [output directory, default out/] [--fast]
"""

from __future__ import annotations

import argparse
import os

import graphviz

import minigrad as torch
from minigrad import nn


def build(fast: bool = False) -> tuple[nn.Module, torch.Tensor]:
    """A 2-layer MLP for 3 classes and its cross-entropy loss on a random batch, after backward()."""
    torch.manual_seed(0)
    hidden = 8 if fast else 16
    model = nn.Sequential(nn.Linear(4, hidden), nn.ReLU(), nn.Linear(hidden, 3))
    x = torch.randn(32, 4)
    y = torch.randint(0, 3, (32,))
    loss = nn.functional.cross_entropy(model(x), y)
    loss.backward()
    return model, loss


def main(out_dir: str = "out", fast: bool = False) -> list[str]:
    """Write ``mlp_graph.png`` and ``mlp_graph.svg`` into ``out_dir`` (``mlp_graph.dot`` without
    Graphviz's dot program); returns the paths written."""
    model, loss = build(fast)
    # the same as minigrad.viz.draw_graph(loss, ...); params names any tensor, here the output
    graph = loss.draw(model=model, params={"loss": loss}, show_grads=True)
    os.makedirs(out_dir, exist_ok=True)
    paths = []
    try:
        for fmt in ("png", "svg"):
            # render() runs Graphviz's dot; it writes the DOT text to "mlp_graph" and the picture next to it
            paths.append(graph.render(os.path.join(out_dir, "mlp_graph"), format=fmt, cleanup=True))
    except graphviz.ExecutableNotFound:
        # Drawing needs the dot program; the graph's description does not: save that instead.
        paths = [os.path.join(out_dir, "mlp_graph.dot")]
        with open(paths[0], "w") as f:
            f.write(graph.source)
        print("Graphviz's dot program was not found (apt-get install graphviz); saved the DOT text instead")
    for path in paths:
        print("wrote", path)
    return paths


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", nargs="?", default="out", help="where to write the files (default: out)")
    parser.add_argument("--fast", action="store_true", help="a smaller model (used by the tests)")
    args = parser.parse_args()
    main(args.out_dir, fast=args.fast)
