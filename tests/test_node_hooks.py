"""Node hooks (``grad_fn.register_hook`` / ``register_prehook``) against torch on the same programs.

Each program is written once and run with ``lib`` = torch and = minigrad; the hooks log what they see
(as NumPy arrays) and the test compares the two logs, then the gradients.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

import minigrad


def _np(v: Any) -> Any:
    """What a hook saw, comparable across libraries: tensors as float64 arrays, tuples recursively."""
    if isinstance(v, tuple):
        return tuple(_np(x) for x in v)
    if v is None:
        return None
    return np.asarray(v.detach().numpy(), dtype=np.float64)


def _same(a: Any, b: Any) -> None:
    if isinstance(a, tuple):
        assert isinstance(b, tuple) and len(a) == len(b), (a, b)
        for x, y in zip(a, b):
            _same(x, y)
    elif isinstance(a, str) or a is None:
        assert a == b, (a, b)
    else:
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


def _both(program: Any) -> tuple:
    """Run ``program(lib, log)`` with torch and minigrad; returns (torch's result, minigrad's)."""
    results = []
    for lib in (torch, minigrad):
        log: list = []
        out = program(lib, log)
        results.append((log, out))
    (tlog, tout), (mlog, mout) = results
    assert [e[0] for e in tlog] == [e[0] for e in mlog]  # the same hooks, in the same order
    for te, me in zip(tlog, mlog):
        _same(te[1:], me[1:])
    _same(tout, mout)
    return results


def _x(lib: Any, values: list | None = None) -> Any:
    return lib.tensor(values or [1.0, -2.0, 3.0], dtype=lib.float64, requires_grad=True)


def test_values_seen_and_order_with_tensor_hooks_and_retain_grad() -> None:
    def program(lib: Any, log: list) -> tuple:
        x = _x(lib)
        b = x * x
        c = (b * 2).sum()
        b.register_hook(lambda g: log.append(("tensor hook", _np(g))))
        b.retain_grad()
        b.register_hook(lambda g: log.append(("tensor hook 2", _np(g))))
        b.grad_fn.register_prehook(lambda go: log.append(("pre", _np(go))))
        b.grad_fn.register_hook(lambda gi, go: log.append(("post", _np(gi), _np(go))))
        x.register_hook(lambda g: log.append(("leaf hook", _np(g))))
        acc = b.grad_fn.next_functions[0][0]
        assert acc.name() == "torch::autograd::AccumulateGrad" or acc.name() == "AccumulateGrad"
        acc.register_prehook(lambda go: log.append(("acc pre", _np(go))))
        acc.register_hook(lambda gi, go: log.append(("acc post", _np(gi), _np(go))))
        x.register_post_accumulate_grad_hook(lambda t: log.append(("post accumulate", _np(t.grad))))
        c.backward()
        return _np(x.grad), _np(b.grad)

    _both(program)


def test_replacement_chains_and_retain_grad_sees_the_gradient_before_pre_hooks() -> None:
    def program(lib: Any, log: list) -> tuple:
        x = _x(lib)
        b = x * 3
        b.retain_grad()
        b.grad_fn.register_prehook(lambda go: (go[0] * 10,))
        b.grad_fn.register_prehook(lambda go: log.append(("pre 2", _np(go))))  # sees the first's replacement
        b.grad_fn.register_hook(lambda gi, go: log.append(("post 1", _np(gi), _np(go))))
        b.grad_fn.register_hook(lambda gi, go: (gi[0] + 1,) + gi[1:])
        b.grad_fn.register_hook(lambda gi, go: log.append(("post 3", _np(gi), _np(go))))
        b.sum().backward()
        return _np(x.grad), _np(b.grad)

    _both(program)


def test_replacement_on_an_accumulate_grad_node() -> None:
    def program(lib: Any, log: list) -> tuple:
        x = _x(lib)
        y = (x * 2).sum() + (x * x).sum()  # two paths: the AccumulateGrad pre-hook sees the total, once
        acc = (x * 1).grad_fn.next_functions[0][0]
        acc.register_prehook(lambda go: (log.append(("acc pre", _np(go))), (go[0] * 0.5,))[1])
        y.backward()
        return _np(x.grad)

    _both(program)


def test_removal() -> None:
    def program(lib: Any, log: list) -> tuple:
        x = _x(lib)
        b = x * 2
        handles = [b.grad_fn.register_hook(lambda gi, go: log.append(("post",))),
                   b.grad_fn.register_prehook(lambda go: (go[0] * 100,))]
        keep = b.grad_fn.register_prehook(lambda go: log.append(("kept pre", _np(go))))
        for h in handles:
            h.remove()
        b.sum().backward(retain_graph=True)
        keep.remove()
        b.sum().backward()
        return _np(x.grad)

    _both(program)


def test_none_in_a_replacement_drops_the_gradient() -> None:
    def program(lib: Any, log: list) -> tuple:
        x, w = _x(lib), _x(lib, [0.5, 0.5, 0.5])
        b = x * w
        b.grad_fn.register_hook(lambda gi, go: (None, gi[1]))
        b.sum().backward()
        return _np(x.grad), _np(w.grad)

    _both(program)


def test_a_shorter_replacement_is_accepted_for_a_reduction_with_options() -> None:
    # torch's SumBackward0 has one input; minigrad's also lists the sum's options (None) in next_functions
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 1).sum(dim=0)
    y.grad_fn.register_hook(lambda gi, go: (gi[0] * 3,))
    y.backward()
    assert x.grad.tolist() == [3.0, 3.0]


def _error(lib: Any, register: Any) -> tuple:
    x = _x(lib)
    b = x * 2
    register(b.grad_fn)
    with pytest.raises((RuntimeError, TypeError)) as info:
        b.sum().backward()
    return type(info.value), str(info.value).replace("torch.", "minigrad.")


def hook_pre_two(go: tuple) -> tuple:
    return (go[0], go[0])


def hook_post_size(gi: tuple, go: tuple) -> tuple:
    return (gi[0][:2],) + gi[1:]


def hook_pre_dtype(go: tuple) -> tuple:
    return (go[0].float(),)


@pytest.mark.parametrize("register", [
    lambda n: n.register_prehook(hook_pre_two),
    lambda n: n.register_prehook(lambda go: go[0]),
    lambda n: n.register_prehook(lambda go: [go[0]]),
    lambda n: n.register_prehook(lambda go: (5,)),
    lambda n: n.register_hook(hook_post_size),
    lambda n: n.register_hook(lambda gi, go: gi[0]),
    lambda n: n.register_prehook(hook_pre_dtype),
], ids=["pre-count", "pre-tensor", "pre-list", "pre-number", "post-size", "post-tensor", "pre-dtype"])
def test_errors_have_torchs_wording(register: Any) -> None:
    assert _error(torch, register) == _error(minigrad, register)


def test_post_hook_count_error_names_the_hook() -> None:
    def hook_post_count(gi: tuple, go: tuple) -> tuple:
        return (gi[0],) * (len(gi) + 1)

    x = minigrad.tensor([1.0], requires_grad=True)
    b = x * x
    b.grad_fn.register_hook(hook_post_count)
    with pytest.raises(RuntimeError, match=r"hook 'hook_post_count' has returned an incorrect number of values "
                                           r"\(got 3, but expected 2\)"):
        b.sum().backward()


def test_create_graph_hooks_see_tensors_with_history() -> None:
    def program(lib: Any, log: list) -> tuple:
        x = lib.tensor([2.0, 3.0], dtype=lib.float64, requires_grad=True)
        b = x * x * x
        b.grad_fn.register_prehook(lambda go: log.append(("pre", _np(go))))
        b.grad_fn.register_hook(lambda gi, go: log.append(("post", _np(gi), tuple(g is None or g.requires_grad
                                                                                  for g in gi) and "ok")))
        b.grad_fn.register_hook(lambda gi, go: (gi[0] * 2, gi[1]))
        (g,) = lib.autograd.grad(b.sum(), x, create_graph=True)
        (gg,) = lib.autograd.grad(g.sum(), x)
        return _np(g), _np(gg)

    _both(program)


def test_create_graph_accumulate_grad_hooks() -> None:
    def program(lib: Any, log: list) -> tuple:
        x = lib.tensor([2.0, 3.0], dtype=lib.float64, requires_grad=True)
        b = x * x
        acc = b.grad_fn.next_functions[0][0]
        acc.register_prehook(lambda go: (go[0] * 2,))
        acc.register_hook(lambda gi, go: log.append(("acc post", _np(gi), _np(go))))
        b.sum().backward(create_graph=True)
        (gg,) = lib.autograd.grad(x.grad.sum(), x)
        return _np(x.grad), _np(gg)

    _both(program)


def test_hooks_may_not_be_written_into_by_the_engine() -> None:
    # a post hook hands back a tensor it keeps: the engine must not add another gradient into it in place
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    kept = minigrad.tensor([5.0, 5.0])
    b = x * 2
    b.grad_fn.register_hook(lambda gi, go: (kept, None))
    (b.sum() + (x * 3).sum()).backward()
    assert kept.tolist() == [5.0, 5.0]
    assert x.grad.tolist() == [8.0, 8.0]


def test_multi_output_node_hooks_see_none_for_outputs_without_gradient() -> None:
    def program(lib: Any, log: list) -> tuple:
        x = lib.tensor([[1.0, 5.0], [4.0, 2.0]], dtype=lib.float64, requires_grad=True)
        values, _ = x.max(dim=1)
        node = values.grad_fn
        node.register_prehook(lambda go: log.append(("pre", _np(go))))
        (values * 2).sum().backward()
        return _np(x.grad)

    _both(program)


def test_tensor_hooks_and_checkpoint_still_work() -> None:
    # the internal mechanism, renamed: Tensor.register_hook and retain_grad keep their order
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    b = x * 2
    seen = []
    b.retain_grad()
    b.register_hook(lambda g: g * 10)
    b.grad_fn.register_prehook(lambda go: seen.append(go[0].tolist()))
    b.sum().backward()
    assert b.grad.tolist() == [10.0, 10.0] and seen == [[10.0, 10.0]] and x.grad.tolist() == [20.0, 20.0]
    with pytest.raises(TypeError):  # the old (output_nr, hook) form is gone: torch's register_hook takes one hook
        b.grad_fn.register_hook(0, lambda gi, go: None)
