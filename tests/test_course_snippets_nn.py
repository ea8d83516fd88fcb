"""The nn snippets of the optimizers course (course 7), run unchanged with minigrad standing in for torch.

Each snippet's ``import torch`` gets minigrad (``sys.modules["torch"]`` is swapped for the run).
The results are checked against hand computation, against the numbers the course prints,
and, where the values are not random, against the same snippet run with real torch.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch as real_torch

import minigrad


def run_snippet(code: str, monkeypatch, lib=minigrad) -> dict:
    """Execute ``code`` with ``import torch`` resolving to ``lib``; return its variables."""
    monkeypatch.setitem(sys.modules, "torch", lib)
    monkeypatch.setitem(sys.modules, "torch.nn", lib.nn)
    namespace: dict = {}
    try:
        exec(code, namespace)
    finally:
        monkeypatch.setitem(sys.modules, "torch", real_torch)
        monkeypatch.setitem(sys.modules, "torch.nn", real_torch.nn)
    return namespace


# -- memory section -----------------------------------------------------------------------------

COUNT = """
params = sum(p.numel() for p in model.parameters())
size = sum(p.numel() * p.element_size() for p in model.parameters())
"""

MEMORY_SNIPPETS = {
    # The course's own lines, followed by the counting lines. Expected (params, bytes) are torch's
    # (reference section 11.1): the course's "no bias" 128 B needs bias=False, its "float64" 288 B a dtype.
    "linear_default_bias": ("import torch\nmodel = torch.nn.Linear(8,4)\n", (36, 144)),
    "linear_no_bias": ("import torch\nmodel = torch.nn.Linear(8,4, bias=False)\n", (32, 128)),
    "linear_bias_float32": ("import torch\nmodel = torch.nn.Linear(  \n    8,  \n    4,  \n    bias=True)\n",
                            (36, 144)),
    "linear_bias_float64": ("import torch\nmodel = torch.nn.Linear(8, 4, bias=True, dtype=torch.float64)\n",
                            (36, 288)),
    "sequential": ("import torch\nfrom torch.nn import Sequential, Linear\n"
                   "model = Sequential (  \n    Linear(8,4,bias=True),  \n    Linear(4,1)  \n)\n", (41, 164)),
    "sequential_as_counted": ("import torch\nfrom torch.nn import Sequential, Linear\n"
                              "model = Sequential(Linear(8,4,bias=True), Linear(4,1,bias=False))\n", (40, 160)),
    "three_layers": ("import torch\nmodel = torch.nn.Sequential(torch.nn.Linear(5,8), torch.nn.Linear(8,4), "
                     "torch.nn.Linear(4,2))\n", (94, 376)),
}


@pytest.mark.parametrize("name", sorted(MEMORY_SNIPPETS))
def test_memory_section_parameter_counts(monkeypatch, name):
    code, expected = MEMORY_SNIPPETS[name]
    ours = run_snippet(code + COUNT, monkeypatch)
    theirs = run_snippet(code + COUNT, monkeypatch, lib=real_torch)
    assert (ours["params"], ours["size"]) == (theirs["params"], theirs["size"]) == expected
    assert isinstance(ours["model"], minigrad.nn.Module)


def test_double_converts_the_float32_layer_to_288_bytes(monkeypatch):
    ns = run_snippet("import torch\nmodel = torch.nn.Linear(8, 4, bias=True).double()\n" + COUNT, monkeypatch)
    assert ns["size"] == 288


# -- one SGD step (course line ~176) ------------------------------------------------------------

SGD_STEP = """
import torch


model = torch.nn.Linear(4,1, bias=True)
loss_function = torch.nn.MSELoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
inputs = torch.randn(64, 4)
labels = torch.randn(64, 1)

# one iteration for training (so that we have gradients computed)
outputs = model(inputs)
loss = loss_function(outputs, labels)
optimizer.zero_grad()
loss.backward()
optimizer.step()

print("Weights      =", model.weight.data)
print("Bias         =", model.bias.data)
print("Grad for Weights=", model.weight.grad)
print("Grad for Biases =", model.bias.grad)
"""


def test_sgd_one_step_snippet(monkeypatch, capsys):
    if not hasattr(minigrad.optim, "SGD"):
        pytest.skip("minigrad.optim.SGD is not available")
    ns = run_snippet(SGD_STEP, monkeypatch)
    model = ns["model"]
    w_grad, b_grad = model.weight.grad.numpy(), model.bias.grad.numpy()
    # The weights before the step, recovered from SGD's rule w1 = w0 - lr * grad.
    w0 = model.weight.detach().numpy() + 0.01 * w_grad
    b0 = model.bias.detach().numpy() + 0.01 * b_grad
    ref = real_torch.nn.Linear(4, 1)
    with real_torch.no_grad():
        ref.weight.copy_(real_torch.from_numpy(w0))
        ref.bias.copy_(real_torch.from_numpy(b0))
    x = real_torch.from_numpy(ns["inputs"].numpy().copy())
    y = real_torch.from_numpy(ns["labels"].numpy().copy())
    real_torch.nn.MSELoss()(ref(x), y).backward()
    np.testing.assert_allclose(w_grad, ref.weight.grad.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(b_grad, ref.bias.grad.numpy(), rtol=1e-5, atol=1e-6)
    printed = capsys.readouterr().out.splitlines()
    assert [line.split("=")[0] for line in printed] == ["Weights      ", "Bias         ", "Grad for Weights",
                                                        "Grad for Biases "]
    assert printed[0] == "Weights      = tensor(" + repr(model.weight.data)[len("tensor("):]


# -- Dropout (course lines ~1106-1156) ----------------------------------------------------------

DROPOUT_DEFAULT = """
import torch

d = torch.nn.Dropout()
t = torch.randn(10)
res = d(t)
print("Tensor=", t)
print("After dropout=", res)
"""

DROPOUT_INPLACE = """
import torch

d = torch.nn.Dropout(p=0.25, inplace=True)
t = torch.randn(10)
print("Tensor=", t)
d(t)
print("After dropout=", t)
"""

# What the course printed (torch, 4 decimals).
COURSE_DEFAULT = ([-0.8307, 1.8880, 0.3791, -0.1156, -1.7474, 0.6103, -0.7784, 1.2726, 0.0262, -1.1152],
                  [0.0000, 3.7760, 0.0000, -0.2312, 0.0000, 1.2205, -1.5568, 0.0000, 0.0524, -2.2305])
COURSE_INPLACE = ([-0.0321, -0.1080, 0.2825, -0.7310, 1.6960, -0.8184, 0.8193, -1.7210, -1.1479, 0.0763],
                  [-0.0428, -0.1440, 0.3766, -0.9747, 0.0000, -1.0913, 1.0924, -2.2947, -1.5305, 0.0000])


@pytest.mark.parametrize("course,p", [(COURSE_DEFAULT, 0.5), (COURSE_INPLACE, 0.25)])
def test_course_printed_dropout_values_follow_the_scaling(course, p):
    before, after = np.array(course[0]), np.array(course[1])
    kept = after != 0
    # Each printed value is rounded to 4 decimals: the scaled value may be off by half a unit of the
    # input's last digit times 1/(1-p), plus half a unit of its own.
    np.testing.assert_allclose(after[kept], before[kept] / (1 - p), atol=0.5e-4 / (1 - p) + 0.5e-4)
    assert kept.sum() == {0.5: 6, 0.25: 8}[p]


@pytest.mark.parametrize("seed", range(5))
def test_dropout_default_snippet(monkeypatch, capsys, seed):
    minigrad.manual_seed(seed)
    ns = run_snippet(DROPOUT_DEFAULT, monkeypatch)
    t, res = ns["t"].numpy(), ns["res"].numpy()
    assert ns["d"].p == 0.5 and ns["d"].training  # modules start in training mode
    kept = res != 0
    np.testing.assert_array_equal(res[kept], t[kept] * 2)  # exactly, as 1.8880 -> 3.7760
    assert ns["res"] is not ns["t"] and not np.array_equal(t, res)
    out = capsys.readouterr().out
    assert out.startswith("Tensor= tensor([") and "\nAfter dropout= tensor([" in out
    ns["d"].eval()
    assert ns["d"](ns["t"]) is ns["t"]  # identity at inference


@pytest.mark.parametrize("seed", range(5))
def test_dropout_inplace_snippet_modifies_t(monkeypatch, capsys, seed):
    minigrad.manual_seed(seed)
    original = minigrad.randn(10).numpy()  # the draw the snippet's randn(10) will make
    minigrad.manual_seed(seed)
    ns = run_snippet(DROPOUT_INPLACE, monkeypatch)
    t = ns["t"].numpy()
    kept = t != 0
    np.testing.assert_allclose(t[kept], original[kept] / 0.75, rtol=1e-6)  # -0.0321 -> -0.0428
    assert not np.array_equal(t, original)
    out = capsys.readouterr().out
    assert out.startswith("Tensor= tensor([") and "\nAfter dropout= tensor([" in out
