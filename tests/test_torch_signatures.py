"""minigrad's functions take their arguments under torch's names, so keyword calls written for torch
(``torch.sum(input=x, dim=0)``, ``torch.add(x, other=y)``, ``x.flip(dims=[0])``) work unchanged.

The truth is torch's own: the signature where torch has a Python one, else the call line its docstring
opens with (``add(input, other, *, alpha=1, out=None) -> Tensor``).
"""

from __future__ import annotations

import inspect
import re

import numpy as np
import pytest
import torch

import minigrad


def torch_positional_names(name: str) -> list[str] | None:
    """The parameters of ``torch.<name>`` that can be passed by position, in order (None: not readable)."""
    fn = getattr(torch, name)
    try:
        params = inspect.signature(fn).parameters.values()
        names = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        call = re.search(rf"^\s*{re.escape(name)}\((.*?)\)\s*->", fn.__doc__ or "", re.M)
        if call is None:
            return None
        names = []
        for part in call.group(1).split(","):
            part = part.strip()
            if part.startswith("*"):  # keyword-only from here, or *size / *tensors
                break
            names.append(re.split(r"[=:\s]", part)[0])
    return [n for n in names if n != "out"]  # minigrad has no out= (docs/api.md)


def functions_torch_also_has() -> list[str]:
    return [name for name in sorted(dir(minigrad)) if not name.startswith("_")
            and inspect.isfunction(getattr(minigrad, name)) and hasattr(torch, name)
            and torch_positional_names(name)]


# torch.concatenate names its dim "axis" (NumPy's word); minigrad's is cat's alias, and takes axis= as a keyword
DIFFERENT = {"concatenate"}


@pytest.mark.parametrize("name", [n for n in functions_torch_also_has() if n not in DIFFERENT])
def test_positional_parameters_have_torchs_names(name):
    expected = torch_positional_names(name)
    params = list(inspect.signature(getattr(minigrad, name)).parameters.values())
    ours = []
    for p in params:
        if p.kind is not p.POSITIONAL_OR_KEYWORD:
            break  # from *sizes on, the names are keywords of their own (checked below for the shape functions)
        ours.append(p.name)
    n = min(len(ours), len(expected))
    assert ours[:n] == expected[:n], f"minigrad.{name}{inspect.signature(getattr(minigrad, name))}"


def test_the_names_cover_the_common_functions():
    names = functions_torch_also_has()
    assert {"sum", "add", "matmul", "softmax", "cat", "where", "zeros_like", "gather"} <= set(names)
    assert len(names) > 80


@pytest.mark.parametrize("call", [
    "lib.sum(input=x, dim=0)", "lib.add(x, other=x, alpha=2)", "lib.matmul(input=x, other=x.T)",
    "lib.softmax(input=x, dim=1)", "lib.clamp(input=x, min=1.0)", "lib.gather(input=x, dim=1, index=i)",
    "lib.zeros_like(input=x)", "lib.pow(x, exponent=2)", "lib.mm(x, mat2=x.T)", "lib.unique(input=i)",
    "lib.flip(x, dims=[0])", "lib.permute(x, dims=(1, 0))", "lib.reshape(x, shape=(3, 2))",
    "x.flip(dims=[0])", "x.permute(dims=(1, 0))", "x.reshape(shape=(3, 2))", "x.view(size=(3, 2))",
    "x.expand(size=(2, 2, 3))", "x.repeat(repeats=(1, 2))", "x.tile(dims=(2,))", "x.add(other=x)",
    "lib.allclose(x, x + 1e-9, equal_nan=True)", "lib.concatenate([x, x], axis=1)",
])
def test_keyword_calls_written_for_torch(call):
    results = []
    for lib in (torch, minigrad):
        x = lib.arange(6.0, dtype=lib.float64).reshape(2, 3)
        i = lib.tensor([[0, 2, 1], [1, 1, 0]])
        result = eval(call, {"lib": lib, "x": x, "i": i})
        results.append(result if isinstance(result, bool) else result.numpy())
    np.testing.assert_allclose(results[1], results[0], rtol=1e-15, atol=0)  # exp's last bit may differ (softmax)


def test_a_shape_given_both_ways_is_refused():
    with pytest.raises(TypeError, match="multiple values for argument 'shape'"):
        minigrad.ones(6).reshape(2, 3, shape=(3, 2))
