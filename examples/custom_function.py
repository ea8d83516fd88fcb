"""Write your own op: fit sin(x) on [-pi, pi] with y = a + b * P3(c + d * x).

P3 is the Legendre polynomial of degree 3, written as a ``minigrad.autograd.Function``
with a forward and a hand-written backward, exactly like torch's
``torch.autograd.Function``. Before training, ``gradcheck`` compares that backward
with central finite differences.

    python examples/custom_function.py            # 2000 steps
    python examples/custom_function.py --steps 200
"""

from __future__ import annotations

import argparse
import math

import minigrad as torch
from minigrad.autograd import Function, gradcheck


class LegendrePolynomial3(Function):
    """P3(x) = (5x^3 - 3x) / 2, with P3'(x) = 1.5 (5x^2 - 1)."""

    @staticmethod
    def forward(ctx, input):
        # Only the input is needed to compute the derivative, so only it is kept.
        ctx.save_for_backward(input)
        return 0.5 * (5 * input**3 - 3 * input)

    @staticmethod
    def backward(ctx, grad_output):
        (input,) = ctx.saved_tensors
        return grad_output * 1.5 * (5 * input**2 - 1)


def fit(steps: int = 2000, learning_rate: float = 5e-6) -> dict:
    """Train the four coefficients by plain gradient descent; returns the final loss and coefficients."""
    x = torch.linspace(-math.pi, math.pi, 2000, dtype=torch.float64)
    y = torch.sin(x)
    # Start close to a solution, as the torch tutorial does, so that plain SGD converges.
    a = torch.full((), 0.0, dtype=torch.float64, requires_grad=True)
    b = torch.full((), -1.0, dtype=torch.float64, requires_grad=True)
    c = torch.full((), 0.0, dtype=torch.float64, requires_grad=True)
    d = torch.full((), 0.3, dtype=torch.float64, requires_grad=True)
    P3 = LegendrePolynomial3.apply
    loss = None
    for _ in range(steps):
        y_pred = a + b * P3(c + d * x)
        loss = (y_pred - y).pow(2).sum()
        loss.backward()
        with torch.no_grad():
            for p in (a, b, c, d):
                p -= learning_rate * p.grad
                p.grad = None
    return {"loss": loss.item(), "a": a.item(), "b": b.item(), "c": c.item(), "d": d.item()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=2000)
    args = parser.parse_args()

    probe = torch.randn(6, dtype=torch.float64, requires_grad=True)
    print("gradcheck of LegendrePolynomial3.backward:", gradcheck(LegendrePolynomial3.apply, (probe,)))
    result = fit(args.steps)
    print(f"loss after {args.steps} steps: {result['loss']:.4f}")
    print(f"Result: y = {result['a']:.4f} + {result['b']:.4f} * P3({result['c']:.4f} + {result['d']:.4f} x)")


if __name__ == "__main__":
    main()
