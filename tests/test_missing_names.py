"""A torch name minigrad lacks, in minigrad.nn, minigrad.nn.functional, minigrad.optim or on a Tensor, raises
an AttributeError that names the torch name and points at docs/api.md; hasattr stays False, private names get
Python's plain error, and pickle, copy and NumPy, which probe private names, work as before."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest
import torch

import minigrad
import minigrad.nn as nn
import minigrad.nn.functional as F
import minigrad.optim as optim


@pytest.mark.parametrize(("module", "name"), [
    (nn, "LSTM"), (nn, "TransformerEncoderLayer"), (F, "ctc_loss"), (F, "scaled_dot_product_attention"),
    (optim, "LBFGS"), (optim, "SparseAdam"),
])
def test_missing_module_names_point_at_torch_and_the_api_page(module, name):
    torch_name = "torch" + module.__name__[len("minigrad"):]
    assert hasattr(eval(torch_name, {"torch": torch}), name)  # a real torch name
    expected = (f"module '{module.__name__}' has no attribute '{name}'; minigrad has no '{name}' "
                f"({torch_name}.{name}); see docs/api.md")
    with pytest.raises(AttributeError) as info:
        getattr(module, name)
    assert str(info.value) == expected and info.value.name == name
    assert not hasattr(module, name)
    assert getattr(module, name, None) is None


def test_a_torch_tensor_method_minigrad_lacks_says_so():
    t = minigrad.ones(2, 2)  # two dimensions, so that mT and the like can be read
    lacking = [n for n in dir(torch.Tensor) if not n.startswith("_") and not hasattr(t, n)]
    assert "addcmul" in lacking and "bfloat16" in lacking
    for name in lacking:
        with pytest.raises(AttributeError) as info:
            getattr(t, name)
        assert str(info.value) == (f"'Tensor' object has no attribute {name!r}; minigrad has no {name!r} "
                                   f"(torch.Tensor.{name}); see docs/api.md")
        assert info.value.name == name and info.value.obj is t
        assert name not in dir(t)
    with pytest.raises(AttributeError, match=r"^'Parameter' object has no attribute 'addcmul'; minigrad has no"):
        minigrad.nn.Parameter(t).addcmul  # noqa: B018
    with pytest.raises(AttributeError, match=r"^type object 'Tensor' has no attribute 'addcmul'; minigrad has no"):
        minigrad.Tensor.addcmul  # noqa: B018
    # A name torch doesn't have either keeps Python's own message; every name minigrad has still works.
    with pytest.raises(AttributeError, match=r"^'Tensor' object has no attribute 'addcmull'$"):
        t.addcmull  # noqa: B018
    assert all(hasattr(t, n) for n in dir(t))
    t.addcmul = "set on the instance"  # an instance attribute wins over the marker, as for any attribute
    assert t.addcmul == "set on the instance"


def test_from_import_of_a_missing_name_still_raises_import_error():
    with pytest.raises(ImportError, match="LSTM"):
        from minigrad.nn import LSTM  # noqa: F401


def test_existing_names_and_submodules_are_unaffected():
    assert isinstance(nn.Linear(2, 1), nn.Module) and nn.functional is F
    assert callable(F.relu) and optim.Adam is minigrad.optim.adam.Adam
    from minigrad.optim import lr_scheduler

    assert lr_scheduler.StepLR


def test_existing_attributes_methods_and_set_attributes_work():
    t = minigrad.ones(2, 3, requires_grad=True)
    assert t.shape == (2, 3) and t.requires_grad and t.grad is None and t.is_leaf
    t.sum().backward()
    assert t.grad is not None and t.grad.shape == (2, 3)
    t.note = "mine"  # an attribute set on the instance, as torch allows
    assert t.note == "mine" and hasattr(t, "note")
    assert t.T.shape == (3, 2) and t.detach().numpy().sum() == 6


def test_pickle_and_copy_round_trips():
    t = minigrad.arange(6.0).reshape(2, 3)
    p = nn.Parameter(minigrad.ones(3))
    for obj in (t, p):
        for back in (pickle.loads(pickle.dumps(obj)), copy.deepcopy(obj), copy.copy(obj)):
            assert type(back) is type(obj) and back is not obj
            np.testing.assert_array_equal(back.detach().numpy(), obj.detach().numpy())
    assert copy.deepcopy(p).requires_grad and pickle.loads(pickle.dumps(p)).requires_grad
    model = nn.Sequential(nn.Linear(3, 2), nn.ReLU())
    clone = copy.deepcopy(model)
    np.testing.assert_array_equal(clone[0].weight.detach().numpy(), model[0].weight.detach().numpy())
    assert clone[0].weight is not model[0].weight


def test_numpy_interop_is_unaffected():
    t = minigrad.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(np.asarray(t), np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(np.array(t, dtype=np.float64), np.arange(6.0).reshape(2, 3))
    assert isinstance(np.exp(t), minigrad.Tensor)
    assert isinstance(np.float32(2) * t, minigrad.Tensor)
    np.testing.assert_array_equal(np.stack([t, t]).shape, (2, 2, 3))
    assert float(np.sum(np.asarray(t))) == 15.0
