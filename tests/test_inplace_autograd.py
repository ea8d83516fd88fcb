"""In-place writes and autograd, each checked against torch: writes of tensors that require grad into other tensors
(torch's CopySlices), in-place ops recorded on non-leaf tensors, leaf errors, version counters shared by views, the
"modified by an inplace operation" error of backward, and views made by indexing with a 0-dim integer tensor.

Every test runs one ``program(lib)`` under torch and under minigrad (torch first, so the oracle half always runs) and
compares what it returns; where torch raises, minigrad must raise the same exception type with torch's key words."""

from __future__ import annotations

import operator
import re

import numpy as np
import pytest
import torch

import minigrad

RTOL = 1e-12
LEAF_ERROR = "leaf Variable that requires grad is being used in an in-place operation"
MODIFIED = "modified by an inplace operation"
VERSION_1_0 = "is at version 1; expected version 0 instead"


# -- helpers -----------------------------------------------------------------------------------------------------


def arr(t):
    """A NumPy copy of a minigrad or torch tensor's values; None stays None."""
    if t is None:
        return None
    return np.array(t.detach().numpy(), copy=True)


def tensor(lib, values, requires_grad: bool = False):
    """A float64 tensor of ``lib``."""
    return lib.tensor(values, dtype=lib.float64, requires_grad=requires_grad)


def assert_same(mg, th, where: str = "result") -> None:
    """``mg`` (from minigrad) equals ``th`` (from torch): arrays to rtol 1e-12 with the same shape and dtype, the
    rest exactly, recursing into dicts, lists and tuples."""
    if isinstance(th, dict):
        assert isinstance(mg, dict) and mg.keys() == th.keys(), f"{where}: keys {list(mg)} != {list(th)}"
        for k in th:
            assert_same(mg[k], th[k], f"{where}[{k!r}]")
    elif isinstance(th, (list, tuple)):
        assert isinstance(mg, (list, tuple)) and len(mg) == len(th), f"{where}: {mg!r} != {th!r}"
        for i, (a, b) in enumerate(zip(mg, th)):
            assert_same(a, b, f"{where}[{i}]")
    elif isinstance(th, np.ndarray):
        assert isinstance(mg, np.ndarray), f"{where}: {mg!r} is not an array (torch: {th!r})"
        assert mg.shape == th.shape, f"{where}: shape {mg.shape} != {th.shape}"
        assert mg.dtype == th.dtype, f"{where}: dtype {mg.dtype} != {th.dtype}"
        np.testing.assert_allclose(mg, th, rtol=RTOL, atol=0, err_msg=where)
    else:
        assert mg == th, f"{where}: {mg!r} != {th!r}"


def both(program):
    """Run ``program(lib)`` under torch, then under minigrad, and check minigrad gives what torch gives."""
    th = program(torch)
    mg = program(minigrad)
    assert_same(mg, th)
    return mg, th


def raises_like_torch(program, *fragments: str) -> None:
    """``program(lib)`` raises RuntimeError under torch, with each regex of ``fragments`` in its message (checked
    against torch itself first), and minigrad raises the same type with the same fragments."""
    with pytest.raises(RuntimeError) as th:
        program(torch)
    for fragment in fragments:
        assert re.search(fragment, str(th.value)), f"torch's message {str(th.value)!r} lacks {fragment!r}"
    with pytest.raises(RuntimeError, match=fragments[0]) as mg:
        program(minigrad)
    for fragment in fragments[1:]:
        assert re.search(fragment, str(mg.value)), f"minigrad's message {str(mg.value)!r} lacks {fragment!r}"


def graph_flags(t) -> tuple:
    """(requires_grad, has a grad_fn, is_leaf) of a tensor."""
    return t.requires_grad, t.grad_fn is not None, t.is_leaf


# -- A. writing a tensor that requires grad into another tensor (CopySlices) ----------------------------------------


def test_setitem_in_loop_records_copyslices():
    """`h = h * w; hs[t] = h` in a loop, then `(hs * head).sum().backward()`: gradients reach w and head."""

    def program(lib):
        w = tensor(lib, 0.5, requires_grad=True)
        head = tensor(lib, [1.0, 1.0, 1.0], requires_grad=True)
        h = tensor(lib, 1.0)
        hs = lib.zeros(3, dtype=lib.float64)
        for t in range(3):
            h = h * w
            hs[t] = h
        flags = graph_flags(hs)
        (hs * head).sum().backward()
        return {"hs": arr(hs), "flags": flags, "w.grad": arr(w.grad), "head.grad": arr(head.grad)}

    _, th = both(program)
    assert th["w.grad"] == 2.75 and th["flags"] == (True, True, False)  # 1 + 2w + 3w^2 at w = 0.5


def test_setitem_in_loop_with_non_trivial_values():
    """The RNN-style `hs[t] = h` loop with vector states, distinct head weights and a non-linear loss."""

    def program(lib):
        w = tensor(lib, [0.7, -1.3], requires_grad=True)
        head = tensor(lib, [[1.0, -2.0], [0.5, 3.0], [-1.5, 0.25]], requires_grad=True)
        h = tensor(lib, [1.2, 0.4])
        hs = lib.zeros(3, 2, dtype=lib.float64)
        for t in range(3):
            h = (h * w).tanh()
            hs[t] = h
        ((hs * head) ** 2).sum().backward()
        return {"hs": arr(hs), "w.grad": arr(w.grad), "head.grad": arr(head.grad)}

    both(program)


@pytest.mark.parametrize("case", ["same_shape", "broadcast", "into_row_view"])
def test_copy_of_tensor_requiring_grad_is_recorded(case):
    """`buf = zeros(2, 3); buf.copy_(h)` then a loss on buf: the gradient reaches h's leaf (summed over the broadcast
    rows for a (3,) source; only the written row for `buf[1].copy_(h)`)."""

    def program(lib):
        if case == "same_shape":
            x = tensor(lib, [[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]], requires_grad=True)
        else:
            x = tensor(lib, [0.5, -1.0, 2.0], requires_grad=True)
        h = x.tanh()
        buf = lib.zeros(2, 3, dtype=lib.float64)
        if case == "into_row_view":
            buf[0] = 4.0  # plain values, no gradient
            buf[1].copy_(h)
        else:
            buf.copy_(h)
        flags = graph_flags(buf)
        coef = tensor(lib, [[1.0, 2.0, 3.0], [-4.0, 5.0, -6.0]])
        ((buf * coef) ** 2).sum().backward()
        return {"buf": arr(buf), "flags": flags, "x.grad": arr(x.grad)}

    both(program)


def test_copy_of_leaf_into_buffer_reaches_the_leaf():
    """`buf.copy_(w)` with w itself a leaf that requires grad: w.grad is the gradient of buf."""

    def program(lib):
        w = tensor(lib, [1.0, -2.0, 3.0], requires_grad=True)
        buf = lib.zeros(3, dtype=lib.float64)
        buf.copy_(w)
        (buf * buf * tensor(lib, [1.0, 10.0, 100.0])).sum().backward()
        return {"buf": arr(buf), "w.grad": arr(w.grad)}

    both(program)


@pytest.mark.parametrize("case", ["full_then_partial_slice", "bool_mask", "int_index"])
def test_setitem_of_tensor_requiring_grad_into_plain_tensor(case):
    """`s[:] = w * 2; s[1:3] = w[:2] ** 2` (the rest keeps its values; what was overwritten gets zero gradient),
    `s[mask] = v`, `s[idx] = v`: recorded, and gradients reach w and v."""

    def program(lib):
        w = tensor(lib, [0.5, -1.5, 2.0, 3.0], requires_grad=True)
        v = tensor(lib, [7.0, -0.5], requires_grad=True)
        s = tensor(lib, [1.0, 2.0, 3.0, 4.0])
        if case == "full_then_partial_slice":
            s[:] = w * 2
            s[1:3] = w[:2] ** 2
        elif case == "bool_mask":
            s[lib.tensor([True, False, False, True])] = v * 3
        else:
            s[lib.tensor([3, 0])] = v * 3
        flags = graph_flags(s)
        coef = tensor(lib, [1.0, -2.0, 3.0, 0.5])
        ((s * coef) ** 2).sum().backward()
        return {"s": arr(s), "flags": flags, "w.grad": arr(w.grad), "v.grad": arr(v.grad)}

    both(program)


def test_setitem_into_non_leaf():
    """`y = x * 2; y[0] = 0; y[1] = w.sum()`: the overwritten elements give x zero gradient; w gets y[1]'s."""

    def program(lib):
        x = tensor(lib, [1.0, 2.0, 3.0, 4.0], requires_grad=True)
        w = tensor(lib, [0.5, -0.25], requires_grad=True)
        y = x * 2
        y[0] = 0
        y[1] = w.sum()
        flags = graph_flags(y)
        (y * tensor(lib, [10.0, 20.0, 30.0, 40.0]) * y).sum().backward()
        return {"y": arr(y), "flags": flags, "x.grad": arr(x.grad), "w.grad": arr(w.grad)}

    mg, th = both(program)
    assert th["x.grad"][0] == 0 and th["x.grad"][1] == 0


# -- B. in-place ops on non-leaf tensors that require grad are recorded ----------------------------------------------


def _chain(lib, x, y):
    y += x
    y.mul_(x)
    y.clamp_(min=0.0)
    y /= 3.0
    y.sub_(x, alpha=0.5)
    y *= y.detach() + 1  # a plain tensor operand
    return y


NON_LEAF_INPLACE = {
    "iadd": lambda lib, x, y: operator.iadd(y, 1.0),
    "isub_x": lambda lib, x, y: operator.isub(y, x),
    "imul_x": lambda lib, x, y: operator.imul(y, x),  # the gradient uses y's value before the multiplication
    "itruediv": lambda lib, x, y: operator.itruediv(y, 3.0),
    "mul_": lambda lib, x, y: y.mul_(2.0),
    "add_alpha": lambda lib, x, y: y.add_(x, alpha=2.0),
    "clamp_": lambda lib, x, y: y.clamp_(min=0.0),
    "zero_": lambda lib, x, y: y.zero_(),
    "fill_": lambda lib, x, y: y.fill_(3.0),
    "chain": _chain,
}


@pytest.mark.parametrize("name", list(NON_LEAF_INPLACE))
def test_inplace_op_on_non_leaf_is_recorded(name):
    """`y = x * 2` then `y += 1`, `y -= x`, `y *= x`, `y /= 3`, `y.mul_(2)`, `y.add_(x, alpha=2)`, `y.clamp_(min=0)`,
    `y.zero_()`, `y.fill_(3)` or a chain of them: y is modified in place (same object), and backward gives torch's
    x.grad."""

    def program(lib):
        x = tensor(lib, [-1.5, 0.5, 2.0, -0.25], requires_grad=True)
        y = x * 2
        same = NON_LEAF_INPLACE[name](lib, x, y) is y
        flags = graph_flags(y)
        ((y * tensor(lib, [1.0, -2.0, 3.0, 4.0])) ** 2).sum().backward()
        return {"same object": same, "y": arr(y), "flags": flags, "x.grad": arr(x.grad)}

    both(program)


def test_inplace_ops_on_non_leaf_used_twice():
    """A non-leaf used before and after an in-place op: the earlier use keeps the old value's gradient."""

    def program(lib):
        x = tensor(lib, [0.3, -0.7, 1.1], requires_grad=True)
        y = x.sin()  # Sin saves x, not y
        before = y * 3  # Mul saves nothing of y (3 is a number)
        y += x
        y.mul_(2)
        (before.sum() + (y * y).sum()).backward()
        return {"y": arr(y), "x.grad": arr(x.grad)}

    both(program)


@pytest.mark.parametrize("view", ["slice", "view"])
def test_inplace_relu_on_non_leaf(view):
    """`F.relu(h, inplace=True)` on a non-leaf returns h, ReLU'd ([-1, 2] -> [0, 2]), records the op for backward, and
    a view of h taken before (`h[0:2]`, `h.view(-1)`) sees the new values."""

    def program(lib):
        x = tensor(lib, [-1.0, 2.0], requires_grad=True)
        h = x * 1.0
        v = h[0:2] if view == "slice" else h.view(-1)
        r = lib.nn.functional.relu(h, inplace=True)
        out = {"same object": r is h, "r": arr(r), "h": arr(h), "view": arr(v), "flags": graph_flags(r)}
        ((r * tensor(lib, [3.0, 5.0])) ** 2).sum().backward()
        out["x.grad"] = arr(x.grad)
        return out

    _, th = both(program)
    assert th["view"].tolist() == [0.0, 2.0]


# -- C. in-place ops on a leaf that requires grad -----------------------------------------------------------------


LEAF_INPLACE = {
    "iadd": lambda lib, w: operator.iadd(w, 1.0),
    "setitem": lambda lib, w: w.__setitem__(0, 1.0),
    "copy_": lambda lib, w: w.copy_(tensor(lib, [5.0, 6.0, 7.0])),
    "zero_": lambda lib, w: w.zero_(),
}


@pytest.mark.parametrize("name", list(LEAF_INPLACE))
def test_inplace_on_leaf_requiring_grad_raises(name):
    """`w += 1`, `w[0] = 1`, `w.copy_(t)`, `w.zero_()` on a leaf that requires grad raise torch's RuntimeError."""

    def program(lib):
        w = tensor(lib, [1.0, 2.0, 3.0], requires_grad=True)
        LEAF_INPLACE[name](lib, w)

    raises_like_torch(program, LEAF_ERROR)


def test_inplace_on_leaf_requiring_grad_allowed_under_no_grad():
    """The same four writes on a leaf under `no_grad()`: allowed, the leaf stays a leaf, later backward uses the new
    values."""

    def program(lib):
        w = tensor(lib, [1.0, 2.0, 3.0], requires_grad=True)
        seen = []
        with lib.no_grad():
            for name in LEAF_INPLACE:
                LEAF_INPLACE[name](lib, w)
                seen.append(arr(w))
        flags = graph_flags(w)
        (w * w * tensor(lib, [1.0, 2.0, 3.0])).sum().backward()
        return {"seen": seen, "flags": flags, "w.grad": arr(w.grad)}

    both(program)


# -- D. version counters ------------------------------------------------------------------------------------------


def _version_steps(lib, t):
    """Apply a sequence of writes (and non-writes) to the 1-D float64 tensor ``t`` of 4 elements, recording
    ``t._version`` after each."""
    seen = [t._version]
    steps = [
        lambda: operator.iadd(t, 1.0),
        lambda: t + 1,  # out of place: no bump
        lambda: t.mul_(2.0),
        lambda: t.__setitem__(0, 5.0),
        lambda: t.__setitem__(slice(1, 3), tensor(lib, [1.0, 2.0])),
        lambda: t.__setitem__(lib.tensor([True, False, True, False]), 0.0),
        lambda: t.__setitem__(lib.tensor([3, 1]), tensor(lib, [8.0, 9.0])),
        lambda: t.copy_(tensor(lib, [1.0, 1.0, 1.0, 1.0])),
        lambda: t.zero_(),
        lambda: t.fill_(3.0),
        lambda: operator.imul(t, 2.0),
        lambda: t.clamp_(max=4.0),
    ]
    for step in steps:
        step()
        seen.append(t._version)
    return seen


def test_version_counter_of_plain_tensor():
    """`t._version` starts at 0; `+=`, `mul_`, `__setitem__` (number, slice, mask, index), `copy_`, `zero_`, `fill_`,
    `*=`, `clamp_` each bump it; `t + 1` does not; an in-place write under `no_grad` bumps it too."""

    def program(lib):
        t = lib.zeros(4, dtype=lib.float64)
        seen = _version_steps(lib, t)
        with lib.no_grad():
            t.add_(1.0)
        seen.append(t._version)
        return {"versions": seen, "t": arr(t)}

    _, th = both(program)
    assert th["versions"][0] == 0


def test_version_counter_of_leaf_written_under_no_grad():
    """A leaf that requires grad, written under `no_grad()`: the same bumps as a plain tensor."""

    def program(lib):
        w = lib.zeros(4, dtype=lib.float64, requires_grad=True)
        with lib.no_grad():
            seen = _version_steps(lib, w)
        return {"versions": seen, "w": arr(w)}

    both(program)


def test_version_counter_of_non_leaf_written_with_grad():
    """A non-leaf written by recorded in-place ops: each bumps its `_version`; the leaf's stays 0."""

    def program(lib):
        x = tensor(lib, [1.0, -2.0, 3.0, 0.5], requires_grad=True)
        y = x * 2
        seen = _version_steps(lib, y)
        return {"versions": seen, "x version": x._version, "y": arr(y)}

    both(program)


VIEWS = {
    "index": lambda t: t[0],
    "view": lambda t: t.view(-1),
    "T": lambda t: t.T,
    "detach": lambda t: t.detach(),
}


@pytest.mark.parametrize("name", list(VIEWS))
def test_view_shares_version_counter_with_base(name):
    """A view (`t[0]`, `t.view(-1)`, `t.T`, `t.detach()`) shares its base's counter: writing through the view bumps
    the base's `_version`, and writing the base bumps the view's."""

    def program(lib):
        t = lib.zeros(2, 3, dtype=lib.float64)
        t += 1
        v = VIEWS[name](t)
        seen = [(t._version, v._version)]
        v.add_(1.0)
        seen.append((t._version, v._version))
        t.mul_(2.0)
        seen.append((t._version, v._version))
        v[0] = 7.0
        seen.append((t._version, v._version))
        t.zero_()
        t[1] = 4.0
        seen.append((t._version, v._version))
        w = VIEWS[name](t)  # a view made later starts at the shared count
        seen.append((t._version, w._version))
        return {"versions": seen, "t": arr(t), "v": arr(v)}

    _, th = both(program)
    assert th["versions"][1] == (2, 2)


def test_data_does_not_share_version_counter():
    """`t.data` shares t's values but NOT its version counter (torch's documented difference from `detach()`)."""

    def program(lib):
        t = lib.zeros(2, 3, dtype=lib.float64)
        d = t.data
        seen = [(t._version, d._version)]
        d.add_(1.0)
        seen.append((t._version, d._version))
        t.mul_(3.0)
        seen.append((t._version, d._version))
        d[0] = 5.0
        seen.append((t._version, d._version))
        return {"versions": seen, "t": arr(t), "d": arr(d)}

    _, th = both(program)
    assert th["versions"] == [(0, 0), (0, 1), (1, 1), (1, 2)]


# -- E. backward through a saved tensor that was modified in place ----------------------------------------------


def _mul_then_modify_plain_input(lib):
    w = tensor(lib, [1.0, 2.0], requires_grad=True)
    x = tensor(lib, [3.0, 4.0])
    a = w * x
    x += 1
    a.sum().backward()


def _matmul_then_setitem(lib):
    w = tensor(lib, [[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    x = tensor(lib, [[1.0, 0.0], [2.0, 1.0]])
    y = x @ w
    x[0, 0] = 100.0
    y.sum().backward()


def _output_modified_under_no_grad(lib):
    x = tensor(lib, [1.0, 2.0], requires_grad=True)
    y = x.exp()  # saves its output
    with lib.no_grad():
        y.mul_(2.0)
    y.sum().backward()


def _output_modified_through_detach(lib):
    x = tensor(lib, [1.0, 2.0], requires_grad=True)
    y = x.tanh()  # saves its output
    y.detach().zero_()
    y.sum().backward()


def _leaf_updated_by_hand(lib):
    w = tensor(lib, [1.0, 2.0], requires_grad=True)
    x = tensor(lib, [3.0, 4.0], requires_grad=True)  # so that w * x saves w
    a = w * x
    with lib.no_grad():
        w -= 0.1
    a.sum().backward()


def _custom_function_input_modified(lib):
    class Square(lib.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return a * a

        @staticmethod
        def backward(ctx, grad):
            (a,) = ctx.saved_tensors
            return 2 * a * grad

    x = tensor(lib, [1.0, 2.0], requires_grad=True)
    y = Square.apply(x)
    with lib.no_grad():
        x.mul_(2.0)
    y.sum().backward()


def _linear(lib, weight, bias):
    layer = lib.nn.Linear(len(weight[0]), len(weight))
    layer.weight = lib.nn.Parameter(tensor(lib, weight))  # fresh parameters: version 0 in both libraries
    layer.bias = lib.nn.Parameter(tensor(lib, bias))
    return layer


def _gan_generator_backward_after_discriminator_step(lib):
    G = _linear(lib, [[0.5, -0.2], [0.1, 0.3]], [0.0, 0.1])
    D = _linear(lib, [[0.4, -0.6]], [0.2])
    opt_d = lib.optim.SGD(D.parameters(), lr=0.1)
    z = tensor(lib, [[1.0, 2.0], [3.0, -1.0]])
    fake = G(z)
    loss_g = D(fake).sum()  # its graph saves D.weight
    loss_d = D(fake.detach()).sum()
    opt_d.zero_grad()
    loss_d.backward()
    opt_d.step()  # modifies D.weight in place
    loss_g.backward()


MODIFIED_SAVED = {
    "mul_then_iadd_plain_input": _mul_then_modify_plain_input,
    "matmul_then_setitem_plain_input": _matmul_then_setitem,
    "exp_output_mul_under_no_grad": _output_modified_under_no_grad,
    "tanh_output_zeroed_through_detach": _output_modified_through_detach,
    "leaf_updated_by_hand_under_no_grad": _leaf_updated_by_hand,
    "custom_function_saved_input": _custom_function_input_modified,
    "gan_backward_after_discriminator_step": _gan_generator_backward_after_discriminator_step,
}


@pytest.mark.parametrize("name", list(MODIFIED_SAVED))
def test_backward_through_modified_saved_tensor_raises(name):
    """A tensor saved for backward (`w * x` saves x; `x @ w` saves x; `exp`/`tanh` save their output; a custom
    Function's `save_for_backward`; the GAN mistake `loss_g = D(G(z)); opt_d.step(); loss_g.backward()`) and then
    modified in place before backward: torch's "modified by an inplace operation ... is at version 1; expected version 0
    instead"."""
    raises_like_torch(MODIFIED_SAVED[name], MODIFIED, re.escape(VERSION_1_0))


def _add_then_modify_input(lib):
    w = tensor(lib, [1.0, 2.0], requires_grad=True)
    x = tensor(lib, [3.0, 4.0])
    a = w + x  # Add saves nothing
    x += 1
    (a * a).sum().backward()
    return {"w.grad": arr(w.grad), "x": arr(x)}


def _mul_by_plain_then_modify_leaf(lib):
    w = tensor(lib, [1.0, 2.0], requires_grad=True)
    x = tensor(lib, [3.0, 4.0])
    a = w * x  # x does not require grad, so w is not saved (only x is)
    with lib.no_grad():
        w -= 0.1
    a.sum().backward()
    return {"w.grad": arr(w.grad), "w": arr(w)}


def _modify_after_backward(lib):
    w = tensor(lib, [1.0, 2.0], requires_grad=True)
    x = tensor(lib, [3.0, 4.0])
    a = w * x
    a.sum().backward()
    x += 1
    b = w * x
    b.sum().backward()
    return {"w.grad": arr(w.grad), "x": arr(x)}


def _data_write_is_not_detected(lib):
    w = tensor(lib, [1.0, 2.0], requires_grad=True)
    x = tensor(lib, [3.0, 4.0], requires_grad=True)
    a = w * x
    x.data.add_(1.0)  # not seen by the version counter: backward uses the new values
    w.data.mul_(2.0)
    a.sum().backward()
    return {"w.grad": arr(w.grad), "x.grad": arr(x.grad), "w": arr(w), "x": arr(x)}


UNSAVED_OR_UNDETECTED = {
    "add_saves_nothing": _add_then_modify_input,
    "mul_by_plain_does_not_save_the_leaf": _mul_by_plain_then_modify_leaf,
    "modified_after_backward": _modify_after_backward,
    "data_write_not_detected": _data_write_is_not_detected,
}


@pytest.mark.parametrize("name", list(UNSAVED_OR_UNDETECTED))
def test_inplace_write_that_does_not_raise(name):
    """Writes that torch's backward does not object to: a tensor used but not saved (`a = w + x; x += 1`, and `w`
    in `w * x` with x plain), a write after backward, and `.data` writes (not detected; the gradient uses the new
    values)."""
    both(UNSAVED_OR_UNDETECTED[name])


# -- F. indexing with a 0-dim integer tensor gives a view ---------------------------------------------------------


def test_setitem_through_zero_dim_tensor_index_writes_base():
    """`for i in arange(3): x[i][0] = 1` writes into x: `x[i]` with a 0-dim integer tensor is a view."""

    def program(lib):
        x = lib.zeros(3, 2, dtype=lib.float64)
        for i in lib.arange(3):
            x[i][0] = 1.0
        return arr(x)

    _, th = both(program)
    assert th[:, 0].tolist() == [1.0, 1.0, 1.0]


def test_inplace_op_on_zero_dim_tensor_index_writes_base():
    """`x[tensor(1)].add_(5)` writes into x."""

    def program(lib):
        x = lib.zeros(3, 2, dtype=lib.float64)
        x[lib.tensor(1)].add_(5.0)
        y = lib.zeros(4, dtype=lib.float64)
        y[lib.tensor(2)].fill_(-3.0)
        return {"x": arr(x), "y": arr(y)}

    both(program)
