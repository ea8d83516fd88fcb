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


# ---- intermediates and values -----------------------------------------------------------------------

def tanh_chain():
    """x -> (Mul by w) z -> tanh h -> sum y, in float64, with z and h kept by the caller."""
    x = minigrad.tensor([0.5, -1.0, 2.0], dtype=minigrad.float64, requires_grad=True)
    w = minigrad.tensor([2.0, 3.0, -1.0], dtype=minigrad.float64, requires_grad=True)
    z = x * w
    h = z.tanh()
    return x, w, z, h, h.sum()


def test_named_intermediates_are_drawn_between_their_ops_even_by_default():
    x, w, z, h, y = tanh_chain()
    labels, edges = parse(draw_graph(y, params={"x": x, "w": w, "h": h}).source)
    assert edges == Counter({("x", "MulBackward0"): 1, ("w", "MulBackward0"): 1, ("MulBackward0", "TanhBackward0"): 1,
                             ("TanhBackward0", "h"): 1, ("h", "SumBackward0"): 1, ("SumBackward0", "() float64"): 1})
    by_name = {lines[0]: lines for lines in labels.values()}
    assert by_name["h"] == ["h", "(3,) float64", "24 B"]


def test_intermediates_draws_every_tensor_named_or_by_its_op():
    x, w, z, h, y = tanh_chain()
    labels, edges = parse(draw_graph(y, params={"x": x, "w": w, "h": h}, intermediates=True).source)
    assert edges == Counter({("x", "MulBackward0"): 1, ("w", "MulBackward0"): 1, ("MulBackward0", "Mul output"): 1,
                             ("Mul output", "TanhBackward0"): 1, ("TanhBackward0", "h"): 1,
                             ("h", "SumBackward0"): 1, ("SumBackward0", "() float64"): 1})
    by_name = {lines[0]: lines for lines in labels.values()}
    assert by_name["Mul output"] == ["Mul output", "(3,) float64", "24 B"]  # from the graph's metadata
    # what each op keeps for backward: Mul keeps x and w (leaves: no new memory), Tanh its output
    assert by_name["MulBackward0"] == ["MulBackward0", "saved: 0 B"]
    assert by_name["TanhBackward0"] == ["TanhBackward0", "saved: 24 B"]
    assert by_name["SumBackward0"] == ["SumBackward0", "saved: 0 B"]
    y.backward()
    labels, _ = parse(draw_graph(y, intermediates=True).source)
    assert [lines for lines in labels.values() if lines[0] == "TanhBackward0"] == [
        ["TanhBackward0", "saved: freed by backward"]]


def test_an_intermediate_used_twice_is_one_node_with_two_edges_out():
    a = minigrad.ones(3, requires_grad=True)
    b = a * 2.0
    labels, edges = parse(draw_graph((b * b).sum(), intermediates=True).source)
    assert edges[("MulBackward0", "Mul output")] == 2  # a*2 makes it; b*b makes the other Mul output
    assert Counter(lines[0] for lines in labels.values())["Mul output"] == 2


def test_intermediates_of_the_mlp_match_the_layers():
    model, loss = mlp_and_loss()
    labels, edges = parse(draw_graph(loss, model=model, intermediates=True).source)
    outputs = Counter((lines[0], lines[1]) for lines in labels.values() if lines[0].endswith("output"))
    assert outputs == Counter({("Addmm output", "(5, 8) float32"): 1, ("Relu output", "(5, 8) float32"): 1,
                               ("Addmm output", "(5, 3) float32"): 1, ("Pow output", "(5, 3) float32"): 1})
    saved = {lines[0]: lines[1] for lines in labels.values() if lines[0] in ("ReluBackward0", "PowBackward0")}
    assert saved == {"ReluBackward0": "saved: 160 B", "PowBackward0": "saved: 60 B"}  # their output, their input
    # the default drawing of the same graph is the one without the tensor nodes in between
    assert edges[("Relu output", "AddmmBackward0")] == 1 and ("ReluBackward0", "AddmmBackward0") not in edges


def test_show_values_gives_values_and_gradients_retained_or_not():
    x, w, z, h, y = tanh_chain()
    z.retain_grad()
    y.backward()
    labels, _ = parse(draw_graph(y, params={"x": x, "z": z, "h": h}, show_values=True, intermediates=True).source)
    by_name = {lines[0]: lines for lines in labels.values()}
    dz = 1 - np.tanh(np.array([1.0, -3.0, -2.0])) ** 2
    assert by_name["z"][3:] == ["data: [1, -3, -2]", "grad: [" + ", ".join(f"{v:.4g}" for v in dz) + "]"]
    assert by_name["x"][3:] == ["data: [0.5, -1, 2]", "grad: [" + ", ".join(f"{v:.4g}" for v in dz * [2, 3, -1]) + "]"]
    assert by_name["h"][-1] == "grad: not retained"  # no retain_grad(): backward did not keep it
    assert by_name["() float64"][-2] == f"data: [{np.tanh([1.0, -3.0, -2.0]).sum():.4g}]"


def test_show_values_cuts_long_tensors_and_shows_none_before_backward():
    a = minigrad.arange(10.0).requires_grad_()
    labels, _ = parse(draw_graph((a * 1.0).sum(), params={"a": a}, show_values=True).source)
    by_name = {lines[0]: lines for lines in labels.values()}
    assert by_name["a"][3:] == ["data: [0, 1, 2, 3, ...]", "grad: None"]
