"""What the autograd graph keeps alive for backward, counted exactly and per module.

Every op that needs values for its backward stores them in its graph node's
``saved`` tuple (a few ops, such as indexing, also keep their index arrays as
node attributes). Those arrays are the activation memory of training: they stay
alive from the forward pass until backward has used them.

Counting them honestly needs three rules:

* a view keeps its whole base array alive, so we count the array that owns the
  buffer (follow ``.base``), once, however many views or nodes point at it;
* arrays that are parameters are the model, not activations;
* an array saved by two ops (ReLU's output is also the next Linear's input) is
  counted once, for the first module that saved it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import numpy

from ..autograd.graph import AccumulateGrad
from ..tensor import Tensor


def is_array(x: Any) -> bool:
    """A NumPy or CuPy array (checked without importing CuPy)."""
    return isinstance(x, numpy.ndarray) or type(x).__module__.startswith("cupy") and hasattr(x, "nbytes")


def owner(a: Any) -> Any:
    """The array that owns ``a``'s buffer: ``a`` itself, or the base its view was taken from."""
    while is_array(getattr(a, "base", None)):
        a = a.base
    return a


def node_arrays(node: Any) -> Iterator[Any]:
    """The arrays a graph node keeps for its backward: ``saved``, plus array-valued attributes."""
    for value in node.saved:
        if isinstance(value, Tensor):  # a user Function saves tensors
            value = value._data
        if is_array(value):
            yield value
    # Indexing keeps its index arrays outside ``saved``; they are memory held by the node all the same.
    for name, value in vars(node).items():
        if name == "saved":
            continue
        for item in value if isinstance(value, tuple) else (value,):
            if is_array(item):
                yield item


def tensors_in(obj: Any) -> Iterator[Tensor]:
    """Tensors inside a module's arguments or output (nested tuples, lists and dicts)."""
    if isinstance(obj, Tensor):
        yield obj
    elif isinstance(obj, (tuple, list)):
        for item in obj:
            yield from tensors_in(item)
    elif isinstance(obj, dict):
        for item in obj.values():
            yield from tensors_in(item)


class GraphLedger:
    """Hands each new graph node, and each buffer its nodes save, to the first one who asks.

    ``mark_seen(tensors)`` records every node already behind ``tensors``;
    ``claim(tensors)`` returns the nodes behind ``tensors`` not seen before, and
    ``claim_buffers(nodes)`` the saved buffers not counted before. Walks stop at
    seen nodes, so a whole forward pass costs one visit per node.
    """

    def __init__(self, excluded: Iterable[Any] = ()) -> None:
        self._seen: set[int] = set()
        self._counted: set[int] = set()
        self._excluded = {id(owner(a)) for a in excluded}
        self._keep: list = []  # hold what we saw, so ids cannot be reused by new objects
        self.nodes: list = []  # every node claimed, in the order they were claimed

    def _walk(self, tensors: Iterable[Tensor]) -> list:
        found = []
        stack = [t.grad_fn for t in tensors if t.grad_fn is not None]
        while stack:
            node = stack.pop()
            if id(node) in self._seen or type(node) is AccumulateGrad:
                continue
            self._seen.add(id(node))
            self._keep.append(node)
            found.append(node)
            stack.extend(edge[0] for edge in node.next_edges if edge is not None)
        return found

    def mark_seen(self, tensors: Iterable[Tensor]) -> None:
        self._walk(tensors)

    def claim(self, tensors: Iterable[Tensor]) -> list:
        nodes = self._walk(tensors)
        nodes.reverse()  # the walk goes from outputs back to inputs: report in forward order
        self.nodes.extend(nodes)
        return nodes

    def claim_buffers(self, nodes: Iterable[Any]) -> list:
        """Owner arrays saved by ``nodes`` that are neither parameters nor counted already."""
        buffers = []
        for node in nodes:
            for a in node_arrays(node):
                base = owner(a)
                key = id(base)
                if key in self._excluded or key in self._counted:
                    continue
                self._counted.add(key)
                self._keep.append(base)
                buffers.append(base)
        return buffers


def saved_bytes(tensors: Tensor | Iterable[Tensor], exclude: Iterable[Any] = ()) -> int:
    """Bytes the graph behind ``tensors`` keeps for backward, each buffer once.

    ``exclude``: arrays (or tensors) not to count, typically the parameters.
    >>> import minigrad
    >>> x = minigrad.ones(10, 3, requires_grad=True)
    >>> saved_bytes(minigrad.tanh(x).sum())   # tanh keeps its output: 10 * 3 float32
    120
    """
    if isinstance(tensors, Tensor):
        tensors = [tensors]
    arrays = [t._data if isinstance(t, Tensor) else t for t in exclude]
    ledger = GraphLedger(arrays)
    return sum(int(b.nbytes) for b in ledger.claim_buffers(ledger.claim(list(tensors))))


def owned_bytes(arrays: Iterable[Any]) -> int:
    """Bytes of the distinct buffers behind ``arrays`` (tensors or arrays), each counted once."""
    seen: dict[int, int] = {}
    for a in arrays:
        a = a._data if isinstance(a, Tensor) else a
        if is_array(a):
            base = owner(a)
            seen[id(base)] = int(base.nbytes)
    return sum(seen.values())
