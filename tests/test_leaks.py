"""Training frees everything it makes by reference counting alone: with the cyclic garbage collector off, the number
of live tensors and graph nodes and the memory Python holds stay flat over 10,000 steps.

A reference cycle through a tensor, its grad_fn and the node's saved values would only be freed by ``gc``; in a long
training loop that means memory growing between collections, and arrays (possibly GPU memory) held far longer than
their step. Each test turns ``gc`` off, so such a cycle shows up as growth.
"""

from __future__ import annotations

import contextlib
import gc
import tracemalloc
import weakref

import pytest

import minigrad
from minigrad import nn, optim
from minigrad.autograd.graph import AccumulateGrad, Node

STEPS = 10_000
FIRST_CHECK = 1_000  # by then the optimizer state and every cache have been made
# Measured growth between the two checks is a few hundred bytes (Python's own int and float objects of the
# optimizer's bookkeeping); one object leaked per step would add 9,000 objects, a quarter of a megabyte at least.
GROWTH_BOUND = 16 * 1024


@contextlib.contextmanager
def no_cycle_collector():
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@contextlib.contextmanager
def traced_memory():
    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start()
    try:
        yield
    finally:
        if started:
            tracemalloc.stop()


def live_minigrad_objects() -> int:
    # type() rather than isinstance(): isinstance reads __class__, which some of torch's lazy module objects
    # answer with a deprecation warning.
    return sum(issubclass(type(o), (minigrad.Tensor, Node)) for o in gc.get_objects())


def train(steps: int, retain_graph: bool, checks: tuple) -> dict:
    """A tiny MLP trained with Adam; at each step in ``checks``: (bytes traced, live tensors and nodes)."""
    minigrad.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3))
    opt = optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    x, y = minigrad.randn(4, 4), minigrad.tensor([0, 1, 2, 1])
    seen = {}
    for step in range(1, steps + 1):
        loss = loss_fn(model(x), y)
        loss.backward(retain_graph=retain_graph)  # a retained graph is dropped with `loss` at the next step
        opt.step()
        opt.zero_grad()
        if step in checks:
            # Memory first: counting allocates a list of every object.
            memory = tracemalloc.get_traced_memory()[0] if tracemalloc.is_tracing() else None
            seen[step] = (memory, live_minigrad_objects())
    return seen


def test_training_steps_leave_nothing_behind():
    with no_cycle_collector(), traced_memory():
        seen = train(STEPS, False, (FIRST_CHECK, STEPS))
    (memory_before, objects_before), (memory_after, objects_after) = seen[FIRST_CHECK], seen[STEPS]
    assert objects_after == objects_before
    assert memory_after - memory_before < GROWTH_BOUND, (memory_before, memory_after)


def test_retained_graphs_are_freed_when_dropped():
    """backward(retain_graph=True) keeps each step's graph and saved arrays until `loss` is rebound; then they go.
    (Counted, not traced: tracemalloc triples the time, and test_a_dropped_graph_is_freed_at_once checks that the
    saved arrays go with the nodes.)"""
    with no_cycle_collector():
        seen = train(STEPS, True, (FIRST_CHECK, STEPS))
    assert seen[STEPS][1] == seen[FIRST_CHECK][1]


def test_in_place_writes_and_views_leave_nothing_behind():
    """The RNN-style `hs[t] = h` loop, a write through a view, and in-place ops on non-leaf tensors record CopySlices
    and view nodes that point back at their bases: none of that may form a cycle."""
    w = minigrad.tensor([0.5, -0.3], requires_grad=True)
    opt = optim.SGD([w], lr=1e-3)

    def step():
        h, hs = minigrad.ones(2), minigrad.zeros(3, 2)
        for t in range(3):
            h = (h * w).tanh()
            hs[t] = h
        row = hs[1]
        row.mul_(2)
        x = w * 1
        x += 1
        x.clamp_(-0.5, 0.5)
        x.relu_()
        (hs.sum() + x.exp().sum() + row.sum()).backward()
        opt.step()
        opt.zero_grad()

    with no_cycle_collector():
        for _ in range(100):
            step()
        before = live_minigrad_objects()
        for _ in range(1_000):
            step()
        assert live_minigrad_objects() == before


@pytest.mark.parametrize("backward", ["none", "retain_graph", "plain"])
def test_a_dropped_graph_is_freed_at_once(backward):
    """Every node of a graph, and every array it saved, dies when the last tensor of the graph goes (the leaves'
    AccumulateGrad nodes and arrays live on with the leaves)."""
    with no_cycle_collector():
        a = minigrad.randn(3, 4, requires_grad=True)
        b = minigrad.randn(4, requires_grad=True)
        hidden = (a * b).tanh()
        loss = (hidden.exp() + hidden @ b.unsqueeze(1)).sum()
        nodes, stack = [], [loss.grad_fn]
        while stack:
            node = stack.pop()
            if node is not None and type(node) is not AccumulateGrad and all(node is not n for n in nodes):
                nodes.append(node)
                stack.extend(next_node for next_node, _ in node.next_functions)
        saved = [s for n in nodes for s in n.saved if s is not a._data and s is not b._data]
        assert len(nodes) >= 6 and saved
        refs = [weakref.ref(x) for x in nodes + saved]
        if backward != "none":
            loss.backward(retain_graph=backward == "retain_graph")
        del loss, hidden, nodes, node, stack, saved
        assert [ref() for ref in refs if ref() is not None] == []
