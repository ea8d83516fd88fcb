"""``Tensor.backward(inputs=...)`` against torch: only the listed tensors, leaves or not, get ``.grad``; nodes off the
paths to them do not run (their hooks stay silent, their saved arrays stay); torch's errors for an empty list, an input
that does not require grad and an input that is not a tensor.

Every test runs one ``program(lib)`` under torch and then under minigrad and compares what it returns."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from test_inplace_autograd import arr, assert_same, tensor
from test_inplace_autograd import both as _both

import minigrad


def both(program):
    """torch's results, after checking minigrad gives them."""
    return _both(program)[1]


def raises_like_torch(program, message: str) -> None:
    """``program(lib)`` raises RuntimeError with ``message`` under torch (checked first) and under minigrad."""
    with pytest.raises(RuntimeError) as th:
        program(torch)
    assert message in str(th.value), f"torch says {str(th.value)!r}"
    with pytest.raises(RuntimeError) as mg:
        program(minigrad)
    assert message in str(mg.value), f"minigrad says {str(mg.value)!r}"


def leaves(lib):
    a = tensor(lib, [1.0, -2.0, 0.5], requires_grad=True)
    b = tensor(lib, [0.3, 0.7, -1.1], requires_grad=True)
    c = tensor(lib, 1.5, requires_grad=True)
    return a, b, c


def loss_of(a, b, c):
    """Fan-out (h used twice) and a skip connection (a reaches the loss directly and through h)."""
    h = (a * b).tanh()
    return ((h * c + h.exp()) * a).sum() + (b ** 2).sum(), h


@pytest.mark.parametrize("chosen", [s for k in (1, 2, 3) for s in itertools.combinations("abc", k)])
def test_only_the_listed_leaves_get_grad(chosen):
    def program(lib):
        named = dict(zip("abc", leaves(lib)))
        loss, _ = loss_of(*named.values())
        loss.backward(inputs=[named[k] for k in chosen])
        return {k: arr(t.grad) for k, t in named.items()}

    th = both(program)
    assert all((th[k] is None) == (k not in chosen) for k in "abc")


def test_a_single_tensor_a_tuple_and_a_generator_are_accepted():
    def program(lib):
        a, b, c = leaves(lib)
        loss_of(a, b, c)[0].backward(inputs=b)
        first = (arr(a.grad), arr(b.grad))
        loss_of(a, b, c)[0].backward(inputs=(a,))
        loss_of(a, b, c)[0].backward(inputs=(t for t in [c]))
        return {"first": first, "a": arr(a.grad), "b": arr(b.grad), "c": arr(c.grad)}

    th = program(torch)
    mg = program(minigrad)
    assert mg["first"][0] is None and th["first"][0] is None
    assert_same(mg["first"][1], th["first"][1])
    assert_same({k: mg[k] for k in "abc"}, {k: th[k] for k in "abc"})


def test_grads_accumulate_into_existing_grad():
    def program(lib):
        a, b, c = leaves(lib)
        loss_of(a, b, c)[0].backward()
        loss_of(a, b, c)[0].backward(inputs=[a, c])
        return {"a": arr(a.grad), "b": arr(b.grad), "c": arr(c.grad)}

    both(program)


def test_duplicate_inputs_count_once():
    def program(lib):
        a, b, c = leaves(lib)
        loss_of(a, b, c)[0].backward(inputs=[a, a, b])
        return {"a": arr(a.grad), "b": arr(b.grad), "c": arr(c.grad)}

    both(program)


def test_a_non_leaf_input_gets_grad_and_keeps_retaining_it():
    """Torch calls retain_grad() on every input: a later plain backward adds into h.grad too."""

    def program(lib):
        a, b, c = leaves(lib)
        loss, h = loss_of(a, b, c)
        loss.backward(inputs=[h], retain_graph=True)
        after_inputs = {"h": arr(h.grad), "a": arr(a.grad), "b": arr(b.grad), "c": arr(c.grad), "leaf": h.is_leaf}
        loss.backward()
        return {"first": after_inputs, "h": arr(h.grad), "a": arr(a.grad)}

    th = both(program)
    assert th["first"]["a"] is None and th["first"]["h"] is not None


def test_non_leaf_and_the_leaf_behind_it():
    """h depends on a: a's gradient still arrives by both paths (through h and directly)."""

    def program(lib):
        a, b, c = leaves(lib)
        loss, h = loss_of(a, b, c)
        loss.backward(inputs=[a, h])
        return {"h": arr(h.grad), "a": arr(a.grad), "b": arr(b.grad), "c": arr(c.grad)}

    both(program)


def test_the_root_as_input():
    def program(lib):
        a, b, c = leaves(lib)
        y = a * b
        y.backward(tensor(lib, [1.0, 2.0, 3.0]), inputs=[y, b])
        return {"y": arr(y.grad), "a": arr(a.grad), "b": arr(b.grad)}

    both(program)


def test_a_leaf_root():
    def program(lib):
        a, b, _ = leaves(lib)
        a.backward(tensor(lib, [1.0, 2.0, 3.0]), inputs=[a])
        a.backward(tensor(lib, [1.0, 2.0, 3.0]), inputs=[b])
        return {"a": arr(a.grad), "b": arr(b.grad)}

    both(program)


def test_an_input_the_root_does_not_reach_stays_without_grad():
    def program(lib):
        a, b, c = leaves(lib)
        (a * b).sum().backward(inputs=[c, a])
        return {"a": arr(a.grad), "b": arr(b.grad), "c": arr(c.grad)}

    th = both(program)
    assert th["c"] is None


def test_hooks_off_the_paths_do_not_run():
    def program(lib):
        a, b, c = leaves(lib)
        calls = []
        x, y = a * 2, b * 3
        x.register_hook(lambda g: calls.append("x"))
        y.register_hook(lambda g: calls.append("y"))
        b.register_hook(lambda g: calls.append("b"))
        a.register_hook(lambda g: calls.append("a"))
        (x * y).sum().backward(inputs=[a])
        return {"calls": calls, "a": arr(a.grad), "b": arr(b.grad)}

    assert both(program)["calls"] == ["x", "a"]


def test_retained_grads_on_the_paths_are_filled_and_off_them_are_not():
    def program(lib):
        a, b, _ = leaves(lib)
        x, y = a * 2, b * 3
        x.retain_grad()
        y.retain_grad()
        (x * y).sum().backward(inputs=[a])
        return {"x": arr(x.grad), "y": arr(y.grad)}

    th = both(program)
    assert th["y"] is None and th["x"] is not None


def test_a_leaf_hook_of_an_input_sees_the_total_once():
    def program(lib):
        a, b, c = leaves(lib)
        seen = []
        a.register_hook(lambda g: seen.append(arr(g)))
        loss_of(a, b, c)[0].backward(inputs=[a])
        return {"seen": len(seen), "total": seen[0], "a": arr(a.grad)}

    both(program)


def test_nodes_that_did_not_run_keep_their_saved_values():
    """Without retain_graph, only the nodes that ran free what they saved: a's branch can't run twice, b's still can."""

    def program(lib):
        a, b, _ = leaves(lib)
        loss = (a.exp() + b.exp()).sum()
        loss.backward(inputs=[a])
        loss.backward(inputs=[b])
        try:
            loss.backward(inputs=[a])
        except RuntimeError as e:
            second = "backward through the graph a second time" in str(e)
        return {"a": arr(a.grad), "b": arr(b.grad), "freed": second}

    assert both(program)["freed"] is True


def test_a_non_leaf_inputs_node_checks_its_saved_versions():
    """h = x * w with w changed in place afterwards: torch runs h's node even though no input lies beyond it, and
    that node finds w changed."""

    def program(lib):
        x = tensor(lib, [1.0, 2.0], requires_grad=True)
        w = tensor(lib, [3.0, 4.0])
        h = x * w
        w.add_(1)
        (h * h).sum().backward(inputs=[h])

    raises_like_torch(program, "is at version 1; expected version 0 instead")


def test_module_parameters_as_inputs():
    """Fine-tuning one layer: the other layer's parameters keep no gradient."""

    def program(lib):
        lib.manual_seed(0)
        first, second = lib.nn.Linear(4, 3).double(), lib.nn.Linear(3, 2).double()
        with lib.no_grad():
            for p in [*first.parameters(), *second.parameters()]:
                p.copy_(lib.tensor(np.linspace(-1, 1, p.numel()).reshape(tuple(p.shape))))
        out = second(first(tensor(lib, np.arange(8.0).reshape(2, 4) / 8).tanh()).relu())
        out.pow(2).mean().backward(inputs=list(second.parameters()))
        return {"first": [p.grad for p in first.parameters()] == [None, None],
                "second": [arr(p.grad) for p in second.parameters()][0]}

    assert both(program)["first"] is True


@pytest.mark.parametrize("empty", [[], ()])
def test_empty_inputs_raise(empty):
    def program(lib):
        a, b, c = leaves(lib)
        loss_of(a, b, c)[0].backward(inputs=empty)

    raises_like_torch(program, "`inputs` argument to `backward()` cannot be empty.")


@pytest.mark.parametrize("which", ["constant leaf", "constant non-leaf"])
def test_an_input_that_does_not_require_grad_raises(which):
    def program(lib):
        a, b, c = leaves(lib)
        d = tensor(lib, [1.0, 2.0, 3.0])
        if which == "constant non-leaf":
            d = d * 2
        (a * d).sum().backward(inputs=[a, d])

    raises_like_torch(program, "can't retain_grad on Tensor that has requires_grad=False")


def test_an_input_that_is_not_a_tensor_raises():
    def program(lib):
        a, b, c = leaves(lib)
        (a * b).sum().backward(inputs=[a, 1.0])

    raises_like_torch(program, "all inputs have to be Tensors or GradientEdges, but got float")
