"""Random programs run on minigrad and on torch (float64) must agree: forward values and every leaf gradient to 1e-10
relative, or, where torch raises, the same exception type from minigrad.

* ``graphs()``: op graphs over leaves whose shapes broadcast against each other ((3, 4), (3, 1), (1, 4), (4,), (3,),
  ()). Each op takes any earlier value, so values fan out and skip ahead; the loss weighs every value, so each op's
  backward is checked even where a later op consumes its output too.
* ``inplace_chains()``: chains of in-place and out-of-place ops on non-leaf tensors and their views (``+=``,
  ``mul_``, ``x[i] = v``, ``copy_``, ``clamp_``, ``relu_``), where torch's version counters and leaf checks decide
  which programs raise: writes whose source overlaps the written memory (``x.mul_(x)``, ``x.mul_(x[0])``), writes
  after ``relu_`` (whose node saved the tensor itself), views used after their base was written another way.

Hypothesis runs derandomized (the same examples on every run, so CI is repeatable); a failure prints the program, a
list of steps that ``run_graph`` / ``run_chain`` replay on either library.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import minigrad

RTOL = 1e-10
SETTINGS = settings(max_examples=1500, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
LEAF_SHAPES = [(3, 4), (3, 1), (1, 4), (4,), (3,), ()]
RESHAPES = {12: [(12,), (2, 6), (4, 3), (2, 2, 3), (2, -1)], 4: [(4,), (2, 2), (4, 1)], 3: [(3,), (1, 3), (3, 1)],
            6: [(6,), (2, 3), (3, 2)], 9: [(9,), (3, 3)], 1: [(), (1,), (1, 1)], 2: [(2,), (2, 1)], 8: [(8,), (2, 4)],
            16: [(16,), (4, 4)], 24: [(24,), (2, 12), (4, 6)]}


def arr(t):
    return None if t is None else np.array(t.detach().numpy(), copy=True)


def assert_close(mg, th, where: str) -> None:
    """Equal to 1e-10 relative to the larger of the entry and the array's largest entry: rounding in a sum scales
    with the terms summed, not with what is left of them."""
    if th is None:
        assert mg is None, f"{where}: minigrad has {mg!r}, torch None"
        return
    assert mg is not None, f"{where}: minigrad has None, torch {th!r}"
    assert mg.shape == th.shape, f"{where}: shape {mg.shape} != {th.shape}"
    assert mg.dtype == th.dtype, f"{where}: dtype {mg.dtype} != {th.dtype}"
    scale = float(np.abs(th).max()) if th.size else 0.0
    np.testing.assert_allclose(mg, th, rtol=RTOL, atol=RTOL * scale, err_msg=where)


def finite(*arrays) -> bool:
    return all(a is None or np.isfinite(a).all() for a in arrays)


# -- op graphs ---------------------------------------------------------------------------------------------------
# Each op: how to run it on either library (APPLY), and how to pick its inputs and parameters given the shapes of
# the values so far (PLANS; None when no value fits). Shapes of results come from running the op on NumPy zeros.

APPLY = {
    "exp": lambda lib, x: x.exp(),
    "tanh": lambda lib, x: x.tanh(),
    "sigmoid": lambda lib, x: x.sigmoid(),
    "relu": lambda lib, x: x.relu(),
    "neg": lambda lib, x: -x,
    "pow_int": lambda lib, x, k: x ** k,
    "pow_frac": lambda lib, x, p: (x * x + 0.5) ** p,  # a positive base, so any exponent is defined
    "clamp": lambda lib, x, lo, hi: x.clamp(min=lo, max=hi),
    "softmax": lambda lib, x, dim: x.softmax(dim),
    "log_softmax": lambda lib, x, dim: x.log_softmax(dim),
    "sum": lambda lib, x, dim, keepdim: x.sum() if dim is None else x.sum(dim, keepdim),
    "mean": lambda lib, x, dim, keepdim: x.mean() if dim is None else x.mean(dim, keepdim),
    "max": lambda lib, x, dim, keepdim: x.max() if dim is None else x.max(dim, keepdim)[0],
    "reshape": lambda lib, x, shape: x.reshape(shape),
    "transpose": lambda lib, x, d0, d1: x.transpose(d0, d1),
    "index": lambda lib, x, index: x[index],
    "add": lambda lib, x, y: x + y,
    "sub": lambda lib, x, y: x - y,
    "mul": lambda lib, x, y: x * y,
    "div": lambda lib, x, y: x / (y * y + 0.5),  # a denominator away from zero, y used twice
    "pow_tensor": lambda lib, x, y: (x * x + 0.5) ** y.tanh(),
    "matmul": lambda lib, x, y: x @ y,
    "cat": lambda lib, x, y, dim: lib.cat([x, y], dim),
    "where": lambda lib, c, x, y: lib.where(c > 0, x, y),
}


def _any(draw, shapes, ok=lambda s: True):
    """One of the values whose shape is ``ok`` (a shape of None marks a value no op may take)."""
    fits = [i for i, s in enumerate(shapes) if s is not None and ok(s)]
    return draw(st.sampled_from(fits)) if fits else None


def _unary(params=((),)):
    def plan(draw, shapes):
        i = _any(draw, shapes)
        return (i,), draw(st.sampled_from(params)), shapes[i]
    return plan


def _dim(draw, ndim):
    return draw(st.integers(-ndim, ndim - 1))


def _softmax(draw, shapes):
    i = _any(draw, shapes, lambda s: len(s) >= 1)
    return None if i is None else ((i,), (_dim(draw, len(shapes[i])),), shapes[i])


def _reduction(draw, shapes):
    i = _any(draw, shapes)
    nd = len(shapes[i])
    choices = [None] + ([_dim(draw, nd)] if nd else []) + ([(0, -1)] if nd >= 2 else [])
    dim, keepdim = draw(st.sampled_from(choices)), draw(st.booleans())
    shape = np.zeros(shapes[i]).sum(axis=dim, keepdims=keepdim and dim is not None).shape
    return (i,), (dim, keepdim), shape


def _max(draw, shapes):
    i = _any(draw, shapes)
    nd = len(shapes[i])
    dim = draw(st.sampled_from([None] + ([_dim(draw, nd)] if nd else [])))
    keepdim = draw(st.booleans()) and dim is not None
    return (i,), (dim, keepdim), np.zeros(shapes[i]).max(axis=dim, keepdims=keepdim).shape


def _reshape(draw, shapes):
    i = _any(draw, shapes, lambda s: math.prod(s) in RESHAPES)
    if i is None:
        return None
    target = draw(st.sampled_from(RESHAPES[math.prod(shapes[i])]))
    return (i,), (target,), np.zeros(shapes[i]).reshape(target).shape


def _transpose(draw, shapes):
    i = _any(draw, shapes, lambda s: len(s) >= 2)
    if i is None:
        return None
    nd = len(shapes[i])
    d0, d1 = _dim(draw, nd), _dim(draw, nd)
    return (i,), (d0, d1), np.swapaxes(np.zeros(shapes[i]), d0, d1).shape


def _index(draw, shapes):
    i = _any(draw, shapes, lambda s: len(s) >= 1)
    if i is None:
        return None
    s = shapes[i]
    forms = [draw(st.integers(-s[0], s[0] - 1)), (Ellipsis, slice(None, None, 2)), [0, 0, -1][: max(1, s[0])] + [0]]
    if s[0] >= 2:
        forms.append(slice(1, None))
    if len(s) >= 2:
        forms.append((slice(None), draw(st.integers(-s[1], s[1] - 1))))
    index = draw(st.sampled_from(forms))
    return (i,), (index,), np.zeros(s)[index].shape


def _pairs(draw, shapes, ok):
    fits = [(i, j) for i, a in enumerate(shapes) for j, b in enumerate(shapes)
            if a is not None and b is not None and ok(a, b)]
    return draw(st.sampled_from(fits)) if fits else None


def _broadcasts(a, b) -> bool:
    try:
        np.broadcast_shapes(a, b)
    except ValueError:
        return False
    return True


def _binary(draw, shapes):
    pair = _pairs(draw, shapes, _broadcasts)
    return pair, (), np.broadcast_shapes(shapes[pair[0]], shapes[pair[1]])


def _matmul(draw, shapes):
    pair = _pairs(draw, shapes, lambda a, b: len(a) in (1, 2) and len(b) in (1, 2) and a[-1] == b[0])
    if pair is None:
        return None
    return pair, (), (np.zeros(shapes[pair[0]]) @ np.zeros(shapes[pair[1]])).shape


def _cat_dims(a, b) -> list:
    if len(a) != len(b) or not a:
        return []
    return [d for d in range(len(a)) if all(x == y for k, (x, y) in enumerate(zip(a, b)) if k != d)]


def _cat(draw, shapes):
    pair = _pairs(draw, shapes, lambda a, b: bool(_cat_dims(a, b)))
    if pair is None:
        return None
    dim = draw(st.sampled_from(_cat_dims(shapes[pair[0]], shapes[pair[1]])))
    return pair, (dim,), np.concatenate([np.zeros(shapes[pair[0]]), np.zeros(shapes[pair[1]])], dim).shape


def _where(draw, shapes):
    i, j = _pairs(draw, shapes, _broadcasts)
    out = np.broadcast_shapes(shapes[i], shapes[j])
    c = _any(draw, shapes, lambda s: _broadcasts(s, out))
    return (c, i, j), (), np.broadcast_shapes(out, shapes[c])


PLANS = {
    "exp": _unary(), "tanh": _unary(), "sigmoid": _unary(), "relu": _unary(), "neg": _unary(),
    "pow_int": _unary([(2,), (3,)]), "pow_frac": _unary([(0.5,), (1.5,), (-0.5,)]),
    "clamp": _unary([(-0.5, 0.5), (-0.3, None), (None, 0.2)]),
    "softmax": _softmax, "log_softmax": _softmax, "sum": _reduction, "mean": _reduction, "max": _max,
    "reshape": _reshape, "transpose": _transpose, "index": _index,
    "add": _binary, "sub": _binary, "mul": _binary, "div": _binary, "pow_tensor": _binary,
    "matmul": _matmul, "cat": _cat, "where": _where,
}


@dataclass
class Graph:
    leaves: list  # (shape, requires_grad) per leaf
    steps: list  # (op, indices of its inputs among the values so far, parameters)
    seed: int  # of the leaf values and the loss weights


@st.composite
def graphs(draw) -> Graph:
    n_leaves = draw(st.integers(1, 3))
    leaves = [(draw(st.sampled_from(LEAF_SHAPES)), k == 0 or draw(st.booleans())) for k in range(n_leaves)]
    shapes = [shape for shape, _ in leaves]
    steps = []
    for _ in range(draw(st.integers(2, 10))):
        op = draw(st.sampled_from(sorted(PLANS)))
        planned = PLANS[op](draw, shapes)
        if planned is not None:
            args, params, shape = planned
            steps.append((op, args, params))
            shapes.append(shape)
    return Graph(leaves, steps, draw(st.integers(0, 2**32 - 1)))


def run_graph(lib, g: Graph) -> tuple:
    """Every value (leaves first, then one per step) and every leaf's gradient, as NumPy arrays."""
    rng = np.random.default_rng(g.seed)
    leaves = [lib.tensor(rng.uniform(-1.5, 1.5, shape), dtype=lib.float64, requires_grad=rg) for shape, rg in g.leaves]
    values = list(leaves)
    for op, args, params in g.steps:
        values.append(APPLY[op](lib, *(values[i] for i in args), *params))
    weights = [rng.uniform(-1, 1, tuple(v.shape)) for v in values]
    loss = sum((v * lib.tensor(w, dtype=lib.float64)).sum() for v, w in zip(values, weights))
    loss.backward()
    return [arr(v) for v in values], [arr(leaf.grad) for leaf in leaves]


def check_like_torch(run, program) -> None:
    """``run(lib, program)`` gives minigrad what it gives torch, or raises the exception type torch raises."""
    try:
        expected = run(torch, program)
    except Exception as exc:  # the oracle refuses the program: minigrad must refuse it the same way
        try:
            run(minigrad, program)
        except type(exc):
            return
        raise AssertionError(f"torch raised {type(exc).__name__}: {exc}; minigrad did not") from None
    values, grads = expected
    assume(finite(*values, *grads))
    got_values, got_grads = run(minigrad, program)
    assert len(got_values) == len(values)
    for k, (mg, th) in enumerate(zip(got_values, values)):
        assert_close(mg, th, f"value {k}")
    for k, (mg, th) in enumerate(zip(got_grads, grads)):
        assert_close(mg, th, f"grad of leaf {k}")


@SETTINGS
@given(graphs())
def test_random_graphs_match_torch(g):
    check_like_torch(run_graph, g)


# -- chains of in-place and out-of-place ops -----------------------------------------------------------------------
# Values start as a (3, 4) and b (4,), leaves that require grad, and k (3, 4), a constant. An op makes a new value
# (an out-of-place op or a view) or writes into an existing one (no new value). Writes may hit leaves, views of
# leaves, values some node saved: torch decides which programs raise, and where.


CHAIN_APPLY = {
    "exp": lambda lib, x: x.exp(),  # saves its output
    "tanh": lambda lib, x: x.tanh(),  # saves its output
    "pow2": lambda lib, x: x ** 2,  # saves its input
    "mul": lambda lib, x, y: x * y,  # saves both
    "add": lambda lib, x, y: x + y,  # saves nothing
    "scale": lambda lib, x: x * 1.5,
    "clone": lambda lib, x: x.clone(),
    "row": lambda lib, x, r: x[r],  # views
    "col": lambda lib, x, c: x[:, c],
    "tail": lambda lib, x: x[1:],
    "T": lambda lib, x: x.transpose(0, 1),
    "flat": lambda lib, x: x.reshape(-1),  # a view when x is contiguous, a copy otherwise
    "iadd": lambda lib, t, y: t.__iadd__(y),  # t += y, with t named by its place among the values
    "isub": lambda lib, t, y: t.__isub__(y),
    "mul_": lambda lib, t, y: t.mul_(y),
    "copy_": lambda lib, t, y: t.copy_(y),
    "setitem": lambda lib, t, y, r: t.__setitem__(r, y),
    "clamp_": lambda lib, t: t.clamp_(-0.5, 0.5),
    "relu_": lambda lib, t: t.relu_(),
    "scale_": lambda lib, t: t.mul_(0.75),
    "nograd_add_": lambda lib, t: _nograd_add(lib, t),
}


def _nograd_add(lib, t):
    with lib.no_grad():  # allowed even on a leaf, but it still counts as a write: saved copies go stale
        t.add_(0.25)


def _fits_into(src, dst) -> bool:
    return _broadcasts(src, dst) and np.broadcast_shapes(src, dst) == dst


def _new(draw, shapes, ok=lambda s: True, param=None):
    i = _any(draw, shapes, ok)
    if i is None:
        return None
    params = () if param is None else (draw(param(shapes[i])),)
    return i, params


def _chain_unary(ok=lambda s: True, param=None, shape=lambda s, *p: s):
    def plan(draw, shapes):
        picked = _new(draw, shapes, ok, param)
        if picked is None:
            return None
        i, params = picked
        return (i,), params, shape(shapes[i], *params)
    return plan


def _chain_binary(draw, shapes):
    i, j = _pairs(draw, shapes, _broadcasts)
    return (i, j), (), np.broadcast_shapes(shapes[i], shapes[j])


def _chain_write(draw, shapes):
    t, y = _pairs(draw, shapes, lambda dst, src: _fits_into(src, dst))
    return (t, y), (), None


def _chain_setitem(draw, shapes):
    t = _any(draw, shapes, lambda s: len(s) >= 1)
    r = draw(st.integers(-shapes[t][0], shapes[t][0] - 1))
    y = _any(draw, shapes, lambda s: _fits_into(s, shapes[t][1:]))
    return None if y is None else ((t, y), (r,), None)


def _in_place(draw, shapes):
    return (_any(draw, shapes),), (), None


def _row(s):
    return st.integers(-s[0], s[0] - 1)


CHAIN_PLANS = {
    "exp": _chain_unary(), "tanh": _chain_unary(), "pow2": _chain_unary(), "scale": _chain_unary(),
    "clone": _chain_unary(), "mul": _chain_binary, "add": _chain_binary,
    "row": _chain_unary(lambda s: len(s) >= 1, _row, lambda s, r: s[1:]),
    "col": _chain_unary(lambda s: len(s) == 2, lambda s: st.integers(-s[1], s[1] - 1), lambda s, c: s[:1]),
    "tail": _chain_unary(lambda s: len(s) >= 1 and s[0] >= 2, None, lambda s: (s[0] - 1, *s[1:])),
    "T": _chain_unary(lambda s: len(s) == 2, None, lambda s: s[::-1]),
    "flat": _chain_unary(lambda s: len(s) >= 1, None, lambda s: (math.prod(s),)),
    "iadd": _chain_write, "isub": _chain_write, "mul_": _chain_write, "copy_": _chain_write,
    "setitem": _chain_setitem, "clamp_": _in_place, "relu_": _in_place, "scale_": _in_place, "nograd_add_": _in_place,
}


VIEWS = {"row", "col", "tail", "T", "flat"}
WRITES = {"iadd", "isub", "mul_", "copy_", "setitem", "clamp_", "relu_", "scale_", "nograd_add_"}


@dataclass
class Chain:
    steps: list  # (op, indices of the values it takes, parameters)
    seed: int
    stale: frozenset = frozenset()  # values left out of the loss: see inplace_chains


@st.composite
def inplace_chains(draw) -> Chain:
    shapes = [(3, 4), (4,), (3, 4)]
    roots = [0, 1, 2]  # per value: the value whose memory it views (itself if none)
    stale: set = set()
    steps = []
    for _ in range(draw(st.integers(2, 10))):
        op = draw(st.sampled_from(sorted(CHAIN_PLANS)))
        planned = CHAIN_PLANS[op](draw, [None if k in stale else s for k, s in enumerate(shapes)])
        if planned is None:
            continue
        args, params, shape = planned
        if shape is None and roots[args[0]] in (0, 1) and draw(st.integers(0, 3)):
            continue  # most writes into a leaf that requires grad (or a view of one) end the program at once
        steps.append((op, args, params))
        if shape is not None:
            shapes.append(shape)
            roots.append(roots[args[0]] if op in VIEWS else len(roots))
            continue
    return Chain(steps, draw(st.integers(0, 2**32 - 1)), frozenset(stale))


def run_chain(lib, chain: Chain) -> tuple:
    """("raised", where, exception type name), or ("ran", every value as it ends up, the gradients of a and b)."""
    rng = np.random.default_rng(chain.seed)
    a, b, k = (lib.tensor(rng.uniform(-1.5, 1.5, shape), dtype=lib.float64, requires_grad=rg)
               for shape, rg in [((3, 4), True), ((4,), True), ((3, 4), False)])
    values = [a, b, k]
    for step, (op, args, params) in enumerate(chain.steps):
        try:
            out = CHAIN_APPLY[op](lib, *(values[i] for i in args), *params)
        except Exception as exc:
            return "raised", f"step {step}", type(exc).__name__
        if op not in WRITES:
            values.append(out)
    try:
        weights = [rng.uniform(-1, 1, tuple(v.shape)) for v in values]
        loss = sum((v * lib.tensor(w, dtype=lib.float64)).sum()
                   for k, (v, w) in enumerate(zip(values, weights)) if k not in chain.stale)
        loss.backward()
    except Exception as exc:
        return "raised", "backward", type(exc).__name__
    return "ran", [arr(v) for v in values], [arr(a.grad), arr(b.grad)]


@SETTINGS
@given(inplace_chains())
def test_inplace_chains_match_torch(chain):
    expected = run_chain(torch, chain)
    got = run_chain(minigrad, chain)
    if expected[0] == "raised":
        assert got == expected, f"torch raised {expected[2]} at {expected[1]}; minigrad: {got[:2]}"
        return
    assert got[0] == "ran", f"minigrad raised {got[2]} at {got[1]}; torch did not"
    assume(finite(*expected[1], *expected[2]))
    for k, (mg, th) in enumerate(zip(got[1], expected[1])):
        assert_close(mg, th, f"value {k}")
    for name, mg, th in zip("ab", got[2], expected[2]):
        assert_close(mg, th, f"grad of {name}")
