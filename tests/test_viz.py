"""draw_graph: the drawn nodes and edges, read back from the DOT source."""

import re
import shutil
from collections import Counter

import graphviz
import numpy as np
import pytest
import torch

import minigrad
from minigrad.viz import draw_graph, format_bytes

NODE = re.compile(r'^\s*(\w+) \[label=(?:"((?:[^"\\]|\\.)*)"|(\S+))')
EDGE = re.compile(r"^\s*(\w+) -> (\w+)")


def parse(source: str) -> tuple[dict, Counter]:
    """(node id -> label lines, Counter of (source label, target label) edges) from DOT text."""
    labels = {}
    edges = []
    for line in source.splitlines():
        if m := NODE.match(line):
            labels[m.group(1)] = (m.group(2) if m.group(2) is not None else m.group(3)).split("\\n")
        elif m := EDGE.match(line):
            edges.append((m.group(1), m.group(2)))
    named = Counter((labels[a][0], labels[b][0]) for a, b in edges)
    return labels, named


def torch_edges(root, names: dict) -> Counter:
    """The same edge list read straight from torch's recorded graph (independent of minigrad.viz)."""
    edges = Counter()
    stack, seen = [root.grad_fn], set()
    keep = []
    while stack:
        fn = stack.pop()
        if id(fn) in seen:
            continue
        seen.add(id(fn))
        keep.append(fn)
        for nxt, _ in fn.next_functions:
            if nxt is None:
                continue
            if hasattr(nxt, "variable"):
                edges[(names[id(nxt.variable)], fn.name())] += 1
            else:
                edges[(nxt.name(), fn.name())] += 1
                stack.append(nxt)
    return edges


def small_expression(lib):
    a = lib.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=lib.float64, requires_grad=True)
    b = lib.tensor([[0.5, -1.0, 2.0], [1.0, 0.0, -3.0]], dtype=lib.float64, requires_grad=True)
    c = lib.tensor([1.0, 1.0, 1.0], dtype=lib.float64, requires_grad=True)
    return a, b, c, (a * b + c).sum()


def test_small_expression_has_exactly_the_expected_nodes_and_edges():
    a, b, c, y = small_expression(minigrad)
    labels, edges = parse(draw_graph(y, params={"a": a, "b": b, "c": c}).source)
    assert sorted(lines[0] for lines in labels.values()) == sorted(
        ["a", "b", "c", "MulBackward0", "AddBackward0", "SumBackward0", "() float64"])
    assert edges == Counter({("a", "MulBackward0"): 1, ("b", "MulBackward0"): 1, ("MulBackward0", "AddBackward0"): 1,
                             ("c", "AddBackward0"): 1, ("AddBackward0", "SumBackward0"): 1,
                             ("SumBackward0", "() float64"): 1})


def test_graph_matches_the_one_torch_records():
    a, b, c, y = small_expression(minigrad)
    _, drawn = parse(draw_graph(y, params={"a": a, "b": b, "c": c}).source)
    ta, tb, tc, ty = small_expression(torch)
    expected = torch_edges(ty, {id(ta): "a", id(tb): "b", id(tc): "c"})
    expected[("SumBackward0", "() float64")] += 1  # the output tensor node, which torch's graph does not hold
    assert drawn == expected


def test_tensor_labels_show_shape_dtype_bytes_and_grad_norm():
    a, b, c, y = small_expression(minigrad)
    y.backward()
    labels, _ = parse(draw_graph(y, params={"a": a, "b": b, "c": c}, show_grads=True).source)
    by_name = {lines[0]: lines for lines in labels.values()}
    assert by_name["a"][1:3] == ["(2, 3) float64", "48 B"]  # 6 values x 8 bytes
    assert by_name["c"][1:3] == ["(3,) float64", "24 B"]
    # d/da sum(a*b + c) = b, d/dc = 2 per entry (c is broadcast over 2 rows)
    b_values = np.array([[0.5, -1.0, 2.0], [1.0, 0.0, -3.0]])
    assert by_name["a"][3] == f"|grad| = {np.sqrt((b_values ** 2).sum()):.4g}"
    assert by_name["c"][3] == f"|grad| = {np.sqrt(3 * 2.0 ** 2):.4g}"
    assert by_name["() float64"] == ["() float64", "8 B"]  # the output: no name, no gradient line


def test_without_shapes_named_leaves_show_only_their_names():
    a, b, c, y = small_expression(minigrad)
    labels, _ = parse(draw_graph(y, show_shapes=False, params={"a": a, "b": b, "c": c}).source)
    assert sorted(lines for lines in labels.values() if lines[0] in "abc") == [["a"], ["b"], ["c"]]


def test_grads_before_backward_show_none():
    a, b, c, y = small_expression(minigrad)
    labels, _ = parse(draw_graph(y, params={"a": a}, show_grads=True).source)
    assert [lines[-1] for lines in labels.values() if lines[0] == "a"] == ["grad: None"]


def test_inputs_that_need_no_grad_are_not_drawn():
    a = minigrad.ones(3, requires_grad=True)
    y = (a * minigrad.ones(3)).sum()
    labels, edges = parse(draw_graph(y, params={"a": a}).source)
    assert len(labels) == 4  # a, MulBackward0, SumBackward0, output
    assert edges[("a", "MulBackward0")] == 1


def test_a_tensor_used_twice_gets_two_edges():
    a = minigrad.ones(3, requires_grad=True)
    _, edges = parse(draw_graph(a * a, params={"a": a}).source)
    assert edges[("a", "MulBackward0")] == 2


def test_leaf_alone_is_one_node():
    labels, edges = parse(draw_graph(minigrad.zeros(2, 2, requires_grad=True)).source)
    assert list(labels.values()) == [["(2, 2) float32", "16 B"]] and not edges


def test_ids_are_stable_and_tensor_draw_is_the_same_drawing():
    a, b, c, y = small_expression(minigrad)
    first = draw_graph(y, params={"a": a}).source
    assert draw_graph(y, params={"a": a}).source == first
    assert y.draw(params={"a": a}).source == first
    assert f"t{id(a)}" in first and f"n{id(y.grad_fn)}" in first


def test_deep_chain_draws_without_recursion():
    x = minigrad.ones(1, requires_grad=True)
    y = x
    for _ in range(10_000):  # ten times Python's default recursion limit
        y = y * 1.0001
    labels, edges = parse(draw_graph(y).source)
    assert len(labels) == 10_002  # leaf, 10,000 ops, output
    assert sum(edges.values()) == 10_001
    assert edges[("MulBackward0", "MulBackward0")] == 9_999


def test_dotted_names_are_grouped_per_module():
    w0 = minigrad.ones(2, 2, requires_grad=True)
    b0 = minigrad.ones(2, requires_grad=True)
    w1 = minigrad.ones(1, 2, requires_grad=True)
    x = minigrad.ones(3, 2)
    y = ((x @ w0.t() + b0) @ w1.t()).sum()
    source = draw_graph(y, params={"0.weight": w0, "0.bias": b0, "1.weight": w1}).source
    assert clusters(source) == {"cluster_0": ["0.bias", "0.weight"], "cluster_1": ["1.weight"]}


def mlp_and_loss():
    minigrad.manual_seed(0)
    model = minigrad.nn.Sequential(minigrad.nn.Linear(4, 8), minigrad.nn.ReLU(), minigrad.nn.Linear(8, 3))
    loss = model(minigrad.randn(5, 4)).pow(2).mean()
    return model, loss


def test_mlp_parameters_are_clustered_per_module():
    model, loss = mlp_and_loss()
    source = draw_graph(loss, model=model).source
    assert clusters(source) == {"cluster_0": ["0.bias", "0.weight"], "cluster_2": ["2.bias", "2.weight"]}
    assert 'label="0: Linear"' in source and 'label="2: Linear"' in source
    labels, edges = parse(source)
    ops = Counter(lines[0] for lines in labels.values() if lines[0].endswith("Backward0"))
    assert ops == Counter({"AddmmBackward0": 2, "ReluBackward0": 1, "PowBackward0": 1, "MeanBackward0": 1})
    for name in ("0.weight", "0.bias", "2.weight", "2.bias"):
        assert edges[(name, "AddmmBackward0")] == 1
    assert edges[("AddmmBackward0", "ReluBackward0")] == 1 and edges[("ReluBackward0", "AddmmBackward0")] == 1
    # named_parameters() alone gives the same boxes, labelled by path only
    by_params = draw_graph(loss, params=dict(model.named_parameters())).source
    assert clusters(by_params) == clusters(source)


def test_mlp_labels_match_the_parameters():
    model, loss = mlp_and_loss()
    loss.backward()
    labels, _ = parse(draw_graph(loss, model=model, show_grads=True).source)
    by_name = {lines[0]: lines for lines in labels.values()}
    w = model[0].weight
    assert by_name["0.weight"][1:3] == ["(8, 4) float32", "128 B"]  # 32 float32 values
    assert by_name["0.weight"][3] == f"|grad| = {np.linalg.norm(w.grad.numpy().astype(np.float64)):.4g}"


def test_model_without_submodules_gets_one_box_and_a_named_output_stays_outside():
    minigrad.manual_seed(0)
    layer = minigrad.nn.Linear(3, 2)
    loss = layer(minigrad.ones(4, 3)).sum()
    source = draw_graph(loss, model=layer, params={"loss": loss}).source
    assert clusters(source) == {"cluster_": ["bias", "weight"]}
    assert re.search(r'label="?Linear"? ', source)
    labels, edges = parse(source)
    assert edges[("SumBackward0", "loss")] == 1


def clusters(source: str) -> dict:
    """cluster name -> sorted names of the nodes declared inside it."""
    found = {}
    current = None
    for line in source.splitlines():
        if m := re.match(r'^\s*subgraph "?(cluster[^" ]*)"? \{', line):
            current = found.setdefault(m.group(1), [])
        elif line.strip() == "}":
            current = None
        elif current is not None and (m := NODE.match(line)):
            current.append((m.group(2) or m.group(3)).split("\\n")[0])
    return {k: sorted(v) for k, v in found.items()}


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot program is not installed")
def test_rendered_png_is_a_png(tmp_path):
    a, b, c, y = small_expression(minigrad)
    png = draw_graph(y, params={"a": a, "b": b, "c": c}).pipe(format="png")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    path = y.draw().render(tmp_path / "graph", format="svg")
    assert open(path).read().lstrip().startswith("<?xml")


def test_without_dot_rendering_raises_graphviz_error_but_source_works(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: no dot on the PATH
    a, b, c, y = small_expression(minigrad)
    graph = draw_graph(y)
    assert "SumBackward0" in graph.source
    with pytest.raises(graphviz.ExecutableNotFound):
        graph.pipe(format="png")


@pytest.mark.parametrize("n, text", [(0, "0 B"), (999, "999 B"), (1000, "1.0 kB"), (1536, "1.5 kB"),
                                     (999_949, "999.9 kB"), (999_950, "1.0 MB"), (3_200_000_000, "3.2 GB")])
def test_format_bytes_uses_decimal_units(n, text):
    assert format_bytes(n) == text


def test_a_recorded_gradient_draws_the_backward_pass_and_the_forward_nodes_it_reuses():
    # d/dx (tanh(x) * x) = tanh(x) + x (1 - tanh(x)²): two products, a 1 - ..., their sum; tanh(x) is
    # TanhBackward0's saved output, so the recorded gradient hangs from the forward node (and from x)
    x = minigrad.tensor([0.5, -1.0], dtype=minigrad.float64, requires_grad=True)
    g, = minigrad.autograd.grad((x.tanh() * x).sum(), x, create_graph=True)
    labels, edges = parse(draw_graph(g, params={"x": x, "g": g}).source)
    assert Counter(lines[0] for lines in labels.values()) == Counter(
        {"MulBackward0": 4, "x": 1, "g": 1, "TanhBackward0": 1, "RsubBackward1": 1, "AddBackward0": 1})
    assert edges[("x", "TanhBackward0")] == 1 and edges[("AddBackward0", "g")] == 1
    assert edges[("TanhBackward0", "MulBackward0")] == 3  # out * out, and the g * out of the other product
