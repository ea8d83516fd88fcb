"""``einsum``: NumPy's einsum forward; the gradient of each operand is einsum again.

The equation is first written out in full (ellipses become letters, an implicit output explicit). The gradient
of operand k contracts the output's gradient with the other operands into k's subscripts. Two cases need a
constant operand: a letter repeated in k (a diagonal, ``ii->i``) gets a fresh letter tied to the first by an
identity matrix, and a letter only k has (summed out, ``ij->i``) gets a vector of ones, which broadcasts the
gradient along it. The backward is ``run(Einsum, ...)``, so a recorded backward is an einsum too.
"""

from __future__ import annotations

import string
from typing import Any

from .._backend import xp_of
from ..autograd.graph import TensorBase, named
from ._base import Op, run
from .rearrange import array_module

_LETTERS = string.ascii_letters


def _own(out: Any, inputs: tuple) -> Any:
    """NumPy's einsum can return a view of an operand ('ij->ji'): an op's result must be an array of its own."""
    xp = xp_of(out)
    if any(xp.may_share_memory(out, a) for a in inputs if hasattr(a, "shape")):
        return out.copy()
    return out


class Einsum(Op):
    @staticmethod
    def forward(ctx, spec, *arrays):
        inputs, output = spec
        ctx.spec = spec
        ctx.shapes = [a.shape for a in arrays]
        ctx.save_for_backward(*arrays)
        equation = ",".join(inputs) + "->" + output
        return _own(xp_of(arrays[0]).einsum(equation, *arrays, optimize=len(arrays) > 2), arrays)

    @staticmethod
    def backward(ctx, g):
        inputs, output = ctx.spec
        saved = ctx.saved_tensors
        grads: list = [None]
        consts = array_module(g)
        dtype = getattr(g, "_data", g).dtype
        for k, sub in enumerate(inputs):
            if not ctx.needs_input_grad[k + 1]:
                grads.append(None)
                continue
            shape = ctx.shapes[k]
            sizes = dict(zip(sub, shape))
            used = set("".join(inputs) + output)
            fresh = (c for c in _LETTERS if c not in used)
            target, seen, extra_subs, extra_ops = [], set(), [], []
            for c, n in zip(sub, shape):
                if c in seen:  # a diagonal: a new letter, equal to the first by an identity matrix
                    f = next(fresh)
                    extra_subs.append(c + f)
                    extra_ops.append(consts.eye(n, dtype=dtype))
                    target.append(f)
                else:
                    seen.add(c)
                    target.append(c)
            others = [s for j, s in enumerate(inputs) if j != k]
            present = set(output + "".join(others))
            for c in dict.fromkeys(sub):
                if c not in present:  # summed out by k alone: the gradient is the same along it
                    extra_subs.append(c)
                    extra_ops.append(consts.ones(sizes[c], dtype=dtype))
            if isinstance(g, TensorBase):
                extra_ops = [g._wrap(e) for e in extra_ops]
            operands = [g, *(saved[j] for j in range(len(inputs)) if j != k), *extra_ops]
            spec = ([output, *others, *extra_subs], "".join(target))
            grads.append(run(Einsum, spec, *operands))
        return tuple(grads)


def _parse(equation: str, shapes: list) -> tuple:
    """``equation`` for operands of ``shapes``, in full: (input subscripts, output subscripts), letters only."""
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    parts = lhs.split(",")
    if len(parts) > len(shapes):
        raise RuntimeError("einsum(): fewer operands were provided than specified in the equation")
    if len(parts) < len(shapes):
        raise RuntimeError("einsum(): more operands were provided than specified in the equation")
    for c in eq:
        if c not in _LETTERS and c not in ",.->":
            raise RuntimeError(f"einsum(): invalid subscript given at index {eq.index(c)} in the equation string, "
                               "subscripts must be in [a-zA-Z]")
    used = set(c for c in eq if c in _LETTERS)
    spare = [c for c in _LETTERS if c not in used]
    n_ell = 0
    for p, shape in zip(parts, shapes):
        if "..." in p:
            n_ell = max(n_ell, len(shape) - len(p.replace("...", "")))
    ell = "".join(spare[:n_ell])
    inputs = []
    for i, (p, shape) in enumerate(zip(parts, shapes)):
        explicit = len(p.replace("...", ""))
        if "..." in p:
            p = p.replace("...", ell[n_ell - (len(shape) - explicit):] if len(shape) > explicit else "")
        if len(p) != len(shape):
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({explicit}) does not match the "
                               f"number of dimensions ({len(shape)}) for operand {i}"
                               + ("" if "..." in parts[i] else " and no ellipsis was given"))
        inputs.append(p)
    if arrow:
        output = rhs.replace("...", ell)
    else:
        counts: dict = {}
        for c in "".join(inputs):
            counts[c] = counts.get(c, 0) + 1
        output = ell + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ell))
    for c in output:
        if c not in "".join(inputs):
            raise RuntimeError(f"einsum(): output subscript {c} does not appear in the equation for any input "
                               "operand")
    return inputs, output


def einsum(equation: str, *operands: Any) -> TensorBase:
    """Sums of products of the operands' elements, as the equation says (``"ij,jk->ik"``), as torch.einsum.

    Differs from torch: only the equation-string form is accepted, not torch's sublist form
    (``einsum(a, [0, 1], b, [1, 2])``).
    """
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    if not operands:
        raise RuntimeError("einsum(): must provide at least one operand")
    inputs, output = _parse(equation, [t._data.shape for t in operands])
    sizes: dict = {}
    for sub, t in zip(inputs, operands):
        for c, n in zip(sub, t._data.shape):
            if sizes.setdefault(c, n) != n and n != 1 and sizes[c] != 1:
                raise RuntimeError(f"einsum(): subscript {c} has size {n} for operand "
                                   f"{inputs.index(sub)} which does not broadcast with previously seen size "
                                   f"{sizes[c]}")
    return named(Einsum.apply((inputs, output), *operands), "EinsumBackward0")
