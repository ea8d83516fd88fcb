"""Backpropagation by hand, next to minigrad's.

A two-layer network, ``out = tanh(x @ W1.T + b1) @ W2.T + b2`` with a mean
squared error loss. We compute every gradient twice: once with the chain rule
written out in NumPy, once with ``loss.backward()``; then print them side by
side with the largest difference. Not only the parameters' gradients: the
intermediate ones too (d out, d h, d z1), which backward computes on its way and
frees, unless the tensor asked to keep its gradient with ``retain_grad()``. In float64 they agree to ~1e-16: autograd
does exactly the arithmetic we do by hand, no approximation.

    python examples/backprop_by_hand.py
"""

from __future__ import annotations

import argparse

import numpy as np

import minigrad as torch


def forward_and_grads_by_hand(x: np.ndarray, y: np.ndarray, params: dict[str, np.ndarray]) -> tuple[float, dict]:
    """The loss and d(loss)/d(v) for every parameter and intermediate v, with the chain rule written out."""
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]

    # Forward pass, keeping what the backward pass will need (autograd's "saved" arrays).
    z1 = x @ W1.T + b1  # (N, H)
    h = np.tanh(z1)  # (N, H)
    out = h @ W2.T + b2  # (N, K)
    diff = out - y
    loss = float((diff ** 2).mean())

    # Backward pass: start from d(loss)/d(loss) = 1 and go back one op at a time.
    # mean over all N*K entries of diff**2  ->  each entry contributes 2 * diff / (N*K)
    d_out = 2.0 * diff / diff.size  # (N, K)
    # out = h @ W2.T + b2: a matrix product and a bias broadcast over the N rows
    d_W2 = d_out.T @ h  # (K, H): sum over the batch of d_out[n, k] * h[n, j]
    d_b2 = d_out.sum(axis=0)  # (K,): b2 was broadcast to every row, so its gradient sums the rows
    d_h = d_out @ W2  # (N, H): each hidden unit feeds every output through W2
    # h = tanh(z1): tanh'(z) = 1 - tanh(z)**2, and we already have tanh(z1) = h
    d_z1 = d_h * (1.0 - h ** 2)  # (N, H)
    # z1 = x @ W1.T + b1: same pattern as the second layer
    d_W1 = d_z1.T @ x  # (H, D)
    d_b1 = d_z1.sum(axis=0)  # (H,)
    return loss, {"W1": d_W1, "b1": d_b1, "W2": d_W2, "b2": d_b2, "out": d_out, "h": d_h, "z1": d_z1}


def forward_and_grads_by_minigrad(x: np.ndarray, y: np.ndarray, params: dict[str, np.ndarray]) -> tuple[float, dict]:
    """The same loss and gradients, computed by minigrad's autograd."""
    t = {name: torch.tensor(value, requires_grad=True) for name, value in params.items()}
    z1 = torch.tensor(x) @ t["W1"].T + t["b1"]
    h = torch.tanh(z1)
    out = h @ t["W2"].T + t["b2"]
    # backward frees the gradient of an intermediate tensor once it has passed it on; ask it to keep them
    for intermediate in (z1, h, out):
        intermediate.retain_grad()
    loss = ((out - torch.tensor(y)) ** 2).mean()
    loss.backward()
    t.update(out=out, h=h, z1=z1)
    return loss.item(), {name: v.grad.numpy() for name, v in t.items()}


def main(fast: bool = False, seed: int = 0) -> dict[str, float]:
    """Compare both ways on a random batch; returns the max abs difference per gradient (and the loss).

    The keys: the loss, the parameters (W1, b1, W2, b2), then the intermediates (out, h, z1) in
    the order backward reaches them.
    """
    n, d, hidden, k = (8, 3, 4, 2) if fast else (64, 10, 32, 3)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d))
    y = rng.standard_normal((n, k))
    params = {  # float64, so that both ways round identically and differences are ~1e-16
        "W1": rng.standard_normal((hidden, d)) / np.sqrt(d),
        "b1": rng.standard_normal(hidden) * 0.1,
        "W2": rng.standard_normal((k, hidden)) / np.sqrt(hidden),
        "b2": rng.standard_normal(k) * 0.1,
    }
    loss_hand, grads_hand = forward_and_grads_by_hand(x, y, params)
    loss_auto, grads_auto = forward_and_grads_by_minigrad(x, y, params)

    print(f"loss: by hand {loss_hand:.17g}   minigrad {loss_auto:.17g}")
    diffs = {"loss": abs(loss_hand - loss_auto)}
    for name in grads_hand:
        hand, auto = grads_hand[name], grads_auto[name]
        diffs[name] = float(np.abs(hand - auto).max())
        print(f"\nd loss / d {name}  shape {hand.shape}   max |by hand - minigrad| = {diffs[name]:.3g}")
        print(f"  {'by hand':>22}  {'minigrad':>22}")
        for a, b in list(zip(hand.ravel(), auto.ravel()))[:4]:  # the first few entries are enough to see
            print(f"  {a:22.17f}  {b:22.17f}")
    return diffs


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="a tiny network (used by the tests)")
    main(fast=parser.parse_args().fast)
