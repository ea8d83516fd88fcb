"""minigrad.autograd.trace: the rows against backprop done by hand on the course's 5-8-4-2 network."""

from __future__ import annotations

import threading
from typing import Any

import graphviz
import numpy as np
import pytest
import torch

import minigrad
from minigrad import nn
from minigrad.autograd import engine
from minigrad.autograd.trace import Step, saved_bytes

NAMES = ("W1", "b1", "W2", "b2", "W3", "b3")


def _course_network(seed: int = 0) -> tuple:
    """Linear(5, 8), Linear(8, 4), Linear(4, 2), one sample, MSE loss; the parameters by the course's names."""
    minigrad.manual_seed(seed)
    net = nn.Sequential(nn.Linear(5, 8), nn.Linear(8, 4), nn.Linear(4, 2))
    rng = np.random.default_rng(seed)
    x = minigrad.tensor(rng.standard_normal((1, 5)).astype(np.float32))
    y = minigrad.tensor(rng.standard_normal((1, 2)).astype(np.float32))
    params = dict(zip(NAMES, net.parameters()))
    return net, x, y, params


def _by_hand(x: np.ndarray, y: np.ndarray, p: dict) -> dict:
    """Every gradient of the network, with the chain rule written out in float64."""
    W1, b1, W2, b2, W3, b3 = (p[n].detach().numpy().astype(np.float64) for n in NAMES)
    x, y = x.astype(np.float64), y.astype(np.float64)
    h1 = x @ W1.T + b1  # (1, 8)
    h2 = h1 @ W2.T + b2  # (1, 4)
    out = h2 @ W3.T + b3  # (1, 2)
    d_out = 2 * (out - y) / out.size  # d mean((out - y)^2) / d out
    d_h2 = d_out @ W3  # out = h2 @ W3.T + b3
    d_h1 = d_h2 @ W2
    return {"loss": np.array(1.0), "out": d_out, "h2": d_h2, "h1": d_h1,
            "W3": d_out.T @ h2, "b3": d_out.sum(0), "W2": d_h2.T @ h1, "b2": d_h2.sum(0),
            "W1": d_h1.T @ x, "b1": d_h1.sum(0)}


def _close(grad: Any, expected: np.ndarray) -> None:
    assert grad.shape == expected.shape
    np.testing.assert_allclose(grad.value, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(grad.norm, np.linalg.norm(expected), rtol=1e-5)
    np.testing.assert_allclose(grad.head, expected.ravel()[:len(grad.head)], rtol=1e-5, atol=1e-6)


def _torch_order(net: Any, x: Any, y: Any) -> list[str]:
    """The names of the nodes torch's engine runs, in its order (its node pre-hooks log them)."""
    tnet = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.Linear(8, 4), torch.nn.Linear(4, 2))
    with torch.no_grad():
        for tp, mp in zip(tnet.parameters(), net.parameters()):
            tp.copy_(torch.from_numpy(mp.detach().numpy()))
    loss = torch.nn.functional.mse_loss(tnet(torch.from_numpy(x.numpy())), torch.from_numpy(y.numpy()))
    order: list[str] = []
    seen, stack = set(), [loss.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        node.register_prehook(lambda go, n=node: order.append(n.name()))
        stack.extend(n for n, _ in node.next_functions)
    loss.backward()
    return order


def test_rows_against_backprop_by_hand() -> None:
    net, x, y, params = _course_network()
    loss = nn.functional.mse_loss(net(x), y)
    with minigrad.autograd.trace(names=params) as t:
        loss.backward()
    g = _by_hand(x.numpy(), y.numpy(), params)

    assert [s.op for s in t.steps] == ["MseLossBackward0", "AddmmBackward0", "AddmmBackward0", "AddmmBackward0"]
    assert [s.step for s in t.steps] == [1, 2, 3, 4]
    # torch runs the same nodes in the same order (it also runs a TBackward0 per weight, and AccumulateGrad
    # for each parameter: minigrad's Linear sends the weight's gradient straight to it)
    ours = {"MseLossBackward0", "AddmmBackward0"}
    assert [n for n in _torch_order(net, x, y) if n in ours] == [s.op for s in t.steps]

    mse, layer3, layer2, layer1 = t.steps
    _close(mse.grads_in[0], g["loss"])
    assert [(f.to, f.to_step, f.leaf) for f in mse.grads_out] == [("AddmmBackward0", 2, False)]
    _close(mse.grads_out[0].grad, g["out"])

    _close(layer3.grads_in[0], g["out"])
    assert [(f.to, f.to_step, f.leaf) for f in layer3.grads_out] == [
        ("AddmmBackward0", 3, False), ("W3", None, True), ("b3", None, True)]
    for flow, name in zip(layer3.grads_out, ("h2", "W3", "b3")):
        _close(flow.grad, g[name])

    _close(layer2.grads_in[0], g["h2"])
    assert [(f.to, f.to_step) for f in layer2.grads_out] == [("AddmmBackward0", 4), ("W2", None), ("b2", None)]
    for flow, name in zip(layer2.grads_out, ("h1", "W2", "b2")):
        _close(flow.grad, g[name])

    _close(layer1.grads_in[0], g["h1"])
    assert [f.to for f in layer1.grads_out] == ["W1", "b1"]  # the input x needs no gradient: nothing sent
    for flow, name in zip(layer1.grads_out, ("W1", "b1")):
        _close(flow.grad, g[name])
    for name, p in params.items():  # and what the rows say arrived is what .grad holds
        np.testing.assert_allclose(p.grad.numpy(), g[name], rtol=1e-5, atol=1e-6)


def test_bytes_released_are_the_nodes_saved_bytes() -> None:
    net, x, y, _ = _course_network()
    loss = nn.functional.mse_loss(net(x), y)
    nodes, stack = [], [loss.grad_fn]
    while stack:
        node = stack.pop()
        if node is not None and node.name() != "AccumulateGrad" and node not in nodes:
            nodes.append(node)
            stack.extend(n for n, _ in node.next_functions)
    before = {id(n): sum(a.nbytes for a in {id(a): a for a in n.saved if hasattr(a, "nbytes")}.values())
              for n in nodes}
    with minigrad.autograd.trace() as t:
        loss.backward()
    assert [s.released for s in t.steps] == [before[id(s.node)] for s in t.steps]
    # by hand, float32: layer 3 keeps h2 (4 values) and W3 (8), layer 2 h1 (8) and W2 (32), layer 1 only x (5):
    # its input needs no gradient, so W1 is not needed
    assert [s.released for s in t.steps[1:]] == [4 * 12, 4 * 40, 4 * 5]
    assert all(saved_bytes(n) == 0 for n in nodes)


def test_retain_graph_releases_nothing_and_a_second_call_continues_the_steps() -> None:
    net, x, y, params = _course_network()
    loss = nn.functional.mse_loss(net(x), y)
    with minigrad.autograd.trace(model=net) as t:
        loss.backward(retain_graph=True)
        loss.backward()
    assert [s.step for s in t.steps] == list(range(1, 9))
    assert [s.backward for s in t.steps] == [0] * 4 + [1] * 4
    assert all(s.released == 0 for s in t.steps[:4]) and t.steps[5].released > 0
    assert t.steps[5].grads_out[0].to_step == 7  # a second call's flows point at its own steps
    assert [f.to for f in t.steps[1].grads_out[1:]] == ["2.weight", "2.bias"]  # named by model=


def test_no_trace_and_nested_traces() -> None:
    net, x, y, _ = _course_network()
    assert engine.active_tracer.get() is None
    outer_loss = nn.functional.mse_loss(net(x), y)
    inner_loss = nn.functional.mse_loss(net(x), y)
    with minigrad.autograd.trace() as outer:
        outer_loss.backward()
        with minigrad.autograd.trace() as inner:
            inner_loss.backward()
        assert engine.active_tracer.get() is outer
    assert engine.active_tracer.get() is None
    nn.functional.mse_loss(net(x), y).backward()  # after the trace: recorded nowhere
    assert len(inner) == 4 and [s.step for s in inner] == [1, 2, 3, 4]
    assert len(outer) == 8 and [s.step for s in outer][4:] == [5, 6, 7, 8]
    assert outer.steps[5].grads_out[0].to_step == 7 and inner.steps[1].grads_out[0].to_step == 3
    for a, b in zip(inner.steps, outer.steps[4:]):
        assert a.op == b.op and a.released == b.released
        np.testing.assert_array_equal(a.grads_in[0].value, b.grads_in[0].value)


def test_trace_is_per_thread() -> None:
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    with minigrad.autograd.trace() as t:
        other = threading.Thread(target=lambda: (x * x).sum().backward())
        other.start()
        other.join()
    assert len(t) == 0


def test_create_graph_rows_match_the_plain_ones() -> None:
    net, x, y, params = _course_network()
    with minigrad.autograd.trace(names=params) as plain:
        nn.functional.mse_loss(net(x), y).backward()
    grads = [p.grad.numpy().copy() for p in net.parameters()]
    net.zero_grad()
    with minigrad.autograd.trace(names=params) as recorded:
        nn.functional.mse_loss(net(x), y).backward(create_graph=True)
    assert [s.op for s in recorded] == [s.op for s in plain]
    for a, b in zip(plain.steps, recorded.steps):
        assert [f.to for f in a.grads_out] == [f.to for f in b.grads_out]
        for fa, fb in zip(a.grads_out, b.grads_out):
            np.testing.assert_allclose(fa.grad.value, fb.grad.value, rtol=1e-6)
        assert b.released == 0  # create_graph keeps the graph
    assert all(p.grad.requires_grad for p in net.parameters())
    for p, g in zip(net.parameters(), grads):
        np.testing.assert_allclose(p.grad.detach().numpy(), g, rtol=1e-6)


def test_inputs_and_autograd_grad_trace_only_the_nodes_that_run() -> None:
    net, x, y, params = _course_network()
    loss = nn.functional.mse_loss(net(x), y)
    with minigrad.autograd.trace(names=params) as t:
        (gw3,) = minigrad.autograd.grad(loss, [params["W3"]], retain_graph=True)
        loss.backward(inputs=[params["W2"]])
    assert [(s.step, s.op, s.backward) for s in t] == [(1, "MseLossBackward0", 0), (2, "AddmmBackward0", 0),
                                                      (3, "MseLossBackward0", 1), (4, "AddmmBackward0", 1),
                                                      (5, "AddmmBackward0", 1)]
    np.testing.assert_allclose(t.steps[1].grads_out[0].grad.value, gw3.numpy())
    assert [f.to for f in t.steps[4].grads_out] == ["W2"]  # the cut graph: nothing goes to b2 or further down


def test_named_non_leaf_and_unnamed_leaves() -> None:
    w = minigrad.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    h = w * 3
    with minigrad.autograd.trace(names={"h": h}, head=2, keep_values=False) as t:
        h.sum().backward()
    mul = t.steps[1]
    assert mul.output == "h" and mul.grads_out[0].to == "leaf [2, 2]"
    assert mul.grads_out[0].grad.value is None and mul.grads_out[0].grad.head == (3.0, 3.0)
    assert "MulBackward0 (h)" in str(t)


def test_table_html_and_draw() -> None:
    net, x, y, params = _course_network()
    with minigrad.autograd.trace(names=params) as t:
        nn.functional.mse_loss(net(x), y).backward()
    table = str(t)
    print(table)
    lines = table.splitlines()
    assert lines[0].split() == ["step", "op", "gradient", "in", "gradient", "out", "->", "to", "released"]
    assert "MseLossBackward0" in lines[2] and "-> AddmmBackward0 #2" in lines[2]
    assert sum("-> W1 (leaf)" in line for line in lines) == 1
    assert len(lines) == 2 + 1 + 3 + 3 + 2  # header, rule, one line per gradient sent
    assert isinstance(t.steps[0], Step)
    html = t._repr_html_()
    assert html.startswith("<table>") and html.count("<tr>") == 5 and "-&gt; W3 (leaf)" in html
    dot = t.draw()
    assert isinstance(dot, graphviz.Digraph)
    for s in t.steps:
        assert f'"#{s.step} {s.op}' in dot.source
    assert "s1 -> s2" in dot.source and "s4 -> leaf" in dot.source and 'label=W1' in dot.source
    assert "<Trace: 4 steps in 1 backward call(s)>" == repr(t)


def test_empty_trace_prints() -> None:
    with minigrad.autograd.trace() as t:
        pass
    assert "no backward ran" in str(t) and len(t) == 0


def test_engine_reads_the_tracer_once_per_backward(monkeypatch: pytest.MonkeyPatch) -> None:
    """The zero-cost rule: one read per backward call, whatever the number of nodes."""
    reads = []

    class Counting:
        def get(self) -> None:
            reads.append(1)

    monkeypatch.setattr(engine, "active_tracer", Counting())
    x = minigrad.tensor([1.0, 2.0], requires_grad=True)
    y = x
    for _ in range(50):
        y = y * 1.5
    y.sum().backward()
    assert len(reads) == 1
