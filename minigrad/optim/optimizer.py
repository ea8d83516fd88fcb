"""``Optimizer``: parameter groups, per-parameter state, state dicts, and the two ways to run a step.

A subclass checks its arguments, calls ``Optimizer.__init__(params, defaults)`` and writes two
methods:

* ``state_specs(group)``: the state a parameter of ``group`` gets at its first step
  (name -> ``StateSpec``), in torch's order;
* ``_param_step(group, param, grad, state, first)``: its update rule for one parameter, on raw
  arrays: ``param`` is updated in place, ``grad`` is only read, ``state`` maps each state name
  to its array (0-dim host arrays for ``step``), updated in place; ``first`` is True at the
  parameter's first step. The rule is elementwise: every element of the result depends only
  on the same element of the inputs.

``step()`` runs the rule one of two ways, chosen per group by torch's own flags:

* **reference** (``foreach=False``, and ``foreach=None`` on the CPU, as torch defaults to its
  single-tensor loop there): one call per parameter with a gradient, in group order, on the
  parameter's own arrays. This is the code to read first.
* **multi-tensor** (``foreach=True`` or ``fused=True``, and ``foreach=None`` on a GPU, where
  launching one kernel per tensor and per operation dominates): the parameters of one device
  and dtype that are at the same step are copied end to end into one flat array, their
  gradients into another, and the rule runs once over the flat arrays; the new values are
  copied back into each parameter. Because the rule is elementwise, every element goes through
  the same operations on the same numbers as in the reference step: the results are the same
  bits (the tests check this for every optimizer and option). The state of parameters that
  started together lives in flat arrays the optimizer owns, and each ``state[p][name]`` is a
  view into them, so the step reads and writes it without copies; state replaced by the user
  (by assignment or through ``.data``) is copied in and out instead, and stays the user's.

Neither path moves a parameter, a gradient or a state tensor: ``p.data``, views of ``p.grad``,
``state_dict()`` values and tied weights all keep seeing what torch's users see.
"""

from __future__ import annotations

import numbers
import warnings
from collections import defaultdict
from collections.abc import Callable
from copy import deepcopy
from itertools import chain
from typing import Any, NamedTuple

import numpy

from .. import _backend
from .._backend import xp_of
from .._dtype import float64, get_default_dtype
from .._grad_mode import enable_grad
from ..autograd.graph import increment_version
from ..tensor import Tensor

__all__ = ["Optimizer", "STEP", "StateSpec", "ZEROS"]

# Parameters laid end to end in the multi-tensor step start at multiples of ALIGN elements, so that
# bit-packed state (Rprop's packed_signs: 8 elements a byte) starts at a byte for every parameter.
ALIGN = 8


class StateSpec(NamedTuple):
    """One entry of a parameter's optimizer state.

    ``kind`` is ``"scalar"`` (a 0-dim tensor on the host, like ``step``), ``"tensor"`` (the
    parameter's shape and dtype, like ``exp_avg``) or ``"bits"`` (one bit per element of the
    parameter, packed into uint8: Rprop's ``packed_signs``). ``init`` is the starting value.
    """

    kind: str
    init: float

    def shape(self, param: Any) -> tuple:
        """The shape this entry has for ``param`` (a tensor or an array)."""
        if self.kind == "scalar":
            return ()
        if self.kind == "bits":
            return (-(-_numel(param) // 8),)
        return tuple(param.shape)

    def nbytes(self, param: Any) -> int:
        """Bytes this entry takes for ``param``."""
        if self.kind == "scalar":
            return scalar_dtype().itemsize
        if self.kind == "bits":
            return self.shape(param)[0]
        return _numel(param) * numpy.dtype(_array(param).dtype).itemsize

    def new(self, param: Any) -> Any:
        """A fresh array for ``param`` (an array) holding ``init``."""
        if self.kind == "scalar":
            return numpy.array(self.init, dtype=scalar_dtype())
        xp = xp_of(param)
        if self.kind == "bits":
            return xp.zeros(self.shape(param), dtype=numpy.uint8)
        return xp.full(param.shape, self.init, dtype=param.dtype)


STEP = StateSpec("scalar", 0.0)  # the step counter every optimizer but SGD keeps
ZEROS = StateSpec("tensor", 0.0)  # a full-size state tensor that starts at zero


def _array(x: Any) -> Any:
    return x._data if isinstance(x, Tensor) else x


def _numel(x: Any) -> int:
    return int(_array(x).size)


def scalar_dtype() -> numpy.dtype:
    """dtype of the 0-dim ``step`` state: float32 unless the default dtype is float64 (torch's rule)."""
    return numpy.dtype(numpy.float64 if get_default_dtype() is float64 else numpy.float32)


def scalar_state(value: float) -> Tensor:
    """A 0-dim state tensor on the host, like torch's ``step``."""
    return Tensor._wrap(numpy.array(value, dtype=scalar_dtype()))


def typename(obj: Any) -> str:
    """torch.typename: ``minigrad.FloatTensor`` for a tensor, ``int`` for 3, ``module.Class`` otherwise."""
    if isinstance(obj, Tensor):
        return "minigrad." + _TENSOR_TYPES.get(obj._data.dtype.name, "Tensor")
    cls = type(obj)
    return cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"


_TENSOR_TYPES = {"float16": "HalfTensor", "float32": "FloatTensor", "float64": "DoubleTensor", "int8": "CharTensor",
                 "uint8": "ByteTensor", "int16": "ShortTensor", "int32": "IntTensor", "int64": "LongTensor",
                 "bool": "BoolTensor"}


def check_lr(lr: Any) -> None:
    """torch's learning-rate checks: a tensor lr must hold one value, and lr must not be negative."""
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")
    if not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr}")


def check_moments(eps: float, betas: tuple, weight_decay: float) -> None:
    """torch's checks of an Adam-family optimizer's ε, (β1, β2) and weight decay, in torch's order."""
    if not 0.0 <= eps:
        raise ValueError(f"Invalid epsilon value: {eps}")
    if not 0.0 <= betas[0] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
    if not 0.0 <= betas[1] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
    if not 0.0 <= weight_decay:
        raise ValueError(f"Invalid weight_decay value: {weight_decay}")


def check_fused(fused: bool | None, foreach: bool | None, differentiable: bool) -> None:
    """torch's checks of the ``fused`` flag (which selects the multi-tensor step here)."""
    if fused:
        if differentiable:
            raise RuntimeError("`fused` does not support `differentiable`")
        if foreach:
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")


def group_lr(group: dict) -> float:
    """The group's learning rate as a Python float (torch also accepts a 1-element tensor)."""
    lr = group["lr"]
    return float(lr) if not isinstance(lr, float) else lr


def advance(step: Any) -> float:
    """Add one to a 0-dim ``step`` array and return the new step as a Python float."""
    step += 1
    return step.item()


def decayed(grad: Any, param: Any, maximize: bool, weight_decay: float) -> Any:
    """The gradient an update rule works with: ``-grad`` for ``maximize``, plus ``λ·p`` (L2 decay).

    ``grad`` itself when neither applies: a rule only reads it, never writes it.
    """
    g = -grad if maximize else grad
    if weight_decay != 0:
        g = g + weight_decay * param
    return g


def adam_family_grad(group: dict, param: Any, grad: Any) -> Any:
    """Adam's and NAdam's gradient: decoupled decay shrinks ``param`` itself (``p *= 1 - lr·λ``), L2 decay
    adds ``λ·p`` to the gradient."""
    if group["decoupled_weight_decay"]:
        if group["weight_decay"] != 0:
            param *= 1 - group_lr(group) * group["weight_decay"]
        return -grad if group["maximize"] else grad
    return decayed(grad, param, group["maximize"], group["weight_decay"])


def lerp_(start: Any, end: Any, weight: float) -> None:
    """``start += weight·(end - start)`` in place, with torch's choice between its two forms."""
    if abs(weight) < 0.5:
        start += weight * (end - start)
    else:
        start[...] = end - (1 - weight) * (end - start)


class Optimizer:
    """Base class of all optimizers (``torch.optim.Optimizer``).

    Differs from torch: steps are never recorded by autograd (``differentiable=True`` only lets non-leaf tensors
    be optimized), ``capturable`` is ignored and ``fused=True`` runs the multi-tensor step with the same results.
    ``load_state_dict`` checks the whole dict before changing anything and copies its tensors instead of sharing.
    """

    # Adagrad makes its state in __init__, for every parameter; the others at a parameter's first step.
    state_at_init = False
    # How many arrays of a parameter's size the update rule holds at once, besides the parameter,
    # its gradient and its state: what one step allocates and frees again (see scratch_bytes()).
    temporaries = 2

    def __init__(self, params: Any, defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        # Flat state of the multi-tensor step: {(id(group), ids of params): (params, {name: (flat, views)})}.
        self._flat_state: dict[tuple, tuple] = {}
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors or dicts, "
                            "but got " + typename(params))
        self.state: defaultdict[Tensor, dict] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for param_group in param_groups:
            self.add_param_group(param_group)

    # -- what a subclass provides -----------------------------------------------------------
    def state_specs(self, group: dict) -> dict[str, StateSpec]:
        """The state a parameter of ``group`` gets at its first step (none by default), in torch's order."""
        return {}

    def _param_step(self, group: dict, param: Any, grad: Any, state: dict, first: bool) -> None:
        raise NotImplementedError

    def _fix_loaded_group(self, group: dict) -> None:
        """Adjust a group taken from a loaded state dict (AdamW forces decoupled weight decay)."""

    # -- pickling (minigrad.save / copy) ----------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._flat_state = {}

    def __repr__(self) -> str:
        text = self.__class__.__name__ + " ("
        for i, group in enumerate(self.param_groups):
            text += f"\nParameter Group {i}\n"
            for key in sorted(group.keys()):
                if key != "params":
                    text += f"    {key}: {group[key]}\n"
        return text + ")"

    # -- groups -----------------------------------------------------------------------------
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters (with its own hyperparameters) to optimize from now on."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but the ordering of "
                            "tensors in sets will change between runs. Please use a list instead.")
        else:
            params = list(params)

        # model.named_parameters() gives (name, tensor) pairs; the names are kept in "param_names".
        names = [p[0] for p in params if isinstance(p, tuple)]
        params = [p[1] if isinstance(p, tuple) else p for p in params]
        param_group["params"] = params
        if names:
            if len(names) != len(params):
                raise ValueError("all optimizer params should be with/without names. Some param names are missing")
            param_group["param_names"] = names

        for param in params:
            if not isinstance(param, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is " + typename(param))
            if not self.defaults.get("differentiable", None) and not (param.is_leaf or param._retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")

        for name, default in self.defaults.items():
            param_group.setdefault(name, default)

        if len(params) != len(set(params)):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in future, this will "
                          "cause an error; see github.com/pytorch/pytorch/issues/40967 for more information",
                          stacklevel=3)
        param_set: set[Tensor] = set()
        for group in self.param_groups:
            param_set.update(group["params"])
            if ("param_names" in param_group) != ("param_names" in group):
                which = "with names" if "param_names" in param_group else "without names"
                raise ValueError("all optimizer param groups should be with/without names. "
                                 f"cannot add param group {which} to the optimizer")
        if not param_set.isdisjoint(params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    # -- gradients ----------------------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Drop every parameter's gradient (the default), or fill it with zeros."""
        for group in self.param_groups:
            if set_to_none:
                for p in group["params"]:
                    p.grad = None
            else:
                for p in group["params"]:
                    if p.grad is not None:
                        p.grad.detach_()
                        p.grad._data[...] = 0

    # -- the step -----------------------------------------------------------------------------
    def uses_multi_tensor(self, group: dict) -> bool:
        """Whether ``group`` steps with the multi-tensor path (torch's ``foreach``/``fused`` flags).

        ``foreach=None`` picks it when every parameter is on a GPU, as torch defaults to foreach there.
        """
        if group.get("fused") or group.get("foreach"):
            return True
        if group.get("foreach") is None:
            params = group["params"]
            return bool(params) and all(type(p._data) is not numpy.ndarray and
                                        _backend.device_of(p._data).type != "cpu" for p in params)
        return False

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; ``closure`` (re)computes the loss first."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        # Every group is checked before any is updated, so an error leaves everything as it was.
        for group in self.param_groups:
            self._check_group(group)
        # The rules work on raw arrays: nothing is recorded for autograd (torch's no_grad). Like torch,
        # an update that produces inf or nan does so silently.
        with numpy.errstate(all="ignore"):
            for group in self.param_groups:
                if self.uses_multi_tensor(group):
                    self._multi_tensor_step(group)
                else:
                    self._reference_step(group)
        return loss

    def _reference_step(self, group: dict) -> None:
        """The update rule on each parameter in turn (torch's single-tensor loop)."""
        for p in group["params"]:
            if p.grad is None:
                continue
            first = not self.state.get(p)
            if first:
                new = self._new_state(group, p)
                if new:  # an optimizer without state (plain SGD) leaves none, as torch
                    self.state[p].update(new)
            state = self.state.get(p, {})
            arrays = {key: value._data for key, value in state.items() if isinstance(value, Tensor)}
            self._param_step(group, p._data, p.grad._data, arrays, first)
            increment_version(p)  # an in-place write: a graph that saved p refuses to backward through it

    def _new_state(self, group: dict, p: Tensor) -> dict[str, Tensor]:
        return {key: Tensor._wrap(spec.new(p._data)) for key, spec in self.state_specs(group).items()}

    # -- the multi-tensor step ------------------------------------------------------------------
    def _multi_tensor_step(self, group: dict) -> None:
        """The update rule once per run of parameters that share a device, a dtype and their scalar state.

        Parameters whose memory overlaps (one listed twice, weights tied through ``.data``) are
        stepped one after the other, as in the reference loop: the later one goes in a later
        round, gathered after the earlier one has been written back.
        """
        specs = self.state_specs(group)
        scalar_keys = [key for key, spec in specs.items() if spec.kind == "scalar"]

        def scalars(p: Tensor) -> tuple | None:
            """Parameters at different steps need different bias corrections: separate runs."""
            state = self.state.get(p)
            return tuple((state[k]._data.dtype, state[k]._data.item()) for k in scalar_keys) if state else None

        for params in _rounds([p for p in group["params"] if p.grad is not None]):
            for run in _runs(params, scalars).values():
                self._run_step(group, run, specs)

    def _run_step(self, group: dict, params: list, specs: dict) -> None:
        """One run: state laid out flat, the rule applied a chunk of parameters at a time."""
        first = not self.state.get(params[0])
        data = [p._data for p in params]
        offsets, total = _layout(data)
        if first:
            flat, copied = self._start_flat_state(group, params, specs, offsets, total), set()
        else:
            flat, copied = self._flat_state_of(group, params, specs, offsets, total)
        scalars = {key: array for key, array in flat.items() if specs.get(key, ZEROS).kind == "scalar"}
        for i, j in _chunks(data, offsets, total):
            lo, hi = offsets[i], (offsets[j] if j < len(params) else total)
            chunk = params[i:j]
            local = [off - lo for off in offsets[i:j]]
            param = _gather(data[i:j], local, hi - lo)
            grad = _gather([p.grad._data for p in chunk], local, hi - lo)
            state = {}
            for key, array in flat.items():
                kind = specs.get(key, ZEROS).kind
                if kind == "scalar":  # every chunk advances the same starting values
                    state[key] = scalars[key].copy()
                else:
                    state[key] = array[lo // 8:hi // 8] if kind == "bits" else array[lo:hi]
            self._param_step(group, param, grad, state, first)
            for p, off in zip(chunk, local):
                p._data[...] = param[off:off + p._data.size].reshape(p._data.shape)
                increment_version(p)
        for key in scalars:
            for p in params:
                self.state[p][key]._data[...] = state[key]
        for key in copied:
            for p, off in zip(params, offsets):
                _scatter(self.state[p][key]._data, flat[key], off, specs[key])

    def _start_runs(self, group: dict, params: list) -> None:
        """Create the state of ``params`` now, in flat arrays per device and dtype (Adagrad's eager state)."""
        runs = _runs(params)
        specs = self.state_specs(group)
        for run in runs.values():
            self._start_flat_state(group, run, specs, *_layout([p._data for p in run]))

    def _start_flat_state(self, group: dict, params: list, specs: dict, offsets: list, total: int) -> dict:
        """Create the state of ``params`` as views into new flat arrays, and remember the layout."""
        flat = {}
        views: dict[str, tuple] = {}
        like = params[0]._data
        for key, spec in specs.items():
            if spec.kind == "scalar":
                flat[key] = spec.new(like)
                for p in params:
                    self.state[p][key] = Tensor._wrap(flat[key].copy())
                continue
            n = total // 8 if spec.kind == "bits" else total
            flat[key] = array = xp_of(like).full(n, spec.init, dtype=numpy.uint8 if spec.kind == "bits" else like.dtype)
            pieces = []
            for p, off in zip(params, offsets):
                piece = _piece(array, off, spec, p._data)
                self.state[p][key] = Tensor._wrap(piece)
                pieces.append(piece)
            views[key] = (array, pieces)
        self._flat_state[_run_key(group, params)] = (params, views)
        return flat

    def _flat_state_of(self, group: dict, params: list, specs: dict, offsets: list,
                       total: int) -> tuple[dict, set]:
        """The flat state of ``params``: their own flat arrays where every state tensor is still a view
        into them, copies gathered from the tensors otherwise (``copied`` names those)."""
        key_ = _run_key(group, params)
        known = self._flat_state.get(key_)
        flat: dict[str, Any] = {}
        copied: set[str] = set()
        states = [self.state[p] for p in params]
        for key, spec in specs.items():
            if spec.kind == "scalar":
                flat[key] = states[0][key]._data.copy()
                continue
            if known is not None and key in known[1]:
                array, pieces = known[1][key]
                if all(st[key]._data is piece for st, piece in zip(states, pieces)):
                    flat[key] = array
                    continue
            flat[key] = _gather([st[key]._data for st in states], offsets, total, spec)
            copied.add(key)
        if copied and known is not None:
            del self._flat_state[key_]  # replaced by the user: the step copies from now on
        return flat, copied

    # -- checks made before any update ----------------------------------------------------------
    def _where(self, group: dict, p: Tensor) -> str:
        index = next(i for i, q in enumerate(group["params"]) if q is p)
        group_index = next(i for i, g in enumerate(self.param_groups) if g is group)
        return f"parameter {index} of group {group_index}"

    def _check_group(self, group: dict) -> None:
        """Raise, before anything changes, if the lr, a gradient or a state entry of ``group`` can't be used."""
        lr = group.get("lr")
        if not isinstance(lr, (numbers.Real, Tensor)):
            index = next(i for i, g in enumerate(self.param_groups) if g is group)
            raise TypeError(f"{type(self).__name__}.step: group {index} has lr={lr!r}, which is not a number")
        specs = self.state_specs(group)
        for p in group["params"]:
            if p.grad is None:
                continue
            grad, data = p.grad._data, p._data
            problem = None
            if type(grad) is not type(data) or (type(data) is not numpy.ndarray and
                                                _backend.device_of(grad) != _backend.device_of(data)):
                problem = f"has its gradient on {_backend.device_of(grad)} but is on {_backend.device_of(data)}"
            elif grad.shape != data.shape:
                problem = f"has a gradient of size {list(grad.shape)} but is of size {list(data.shape)}"
            elif grad.dtype != data.dtype:
                problem = f"has a gradient of dtype {grad.dtype} but is of dtype {data.dtype}"
            if problem:
                raise RuntimeError(f"{type(self).__name__}.step: {self._where(group, p)} {problem}")
            state = self.state.get(p)
            if state:
                for key, spec in specs.items():
                    value = state.get(key)
                    array = getattr(value, "_data", None)
                    if spec.kind == "tensor" and type(array) is type(data) and array.shape == data.shape \
                            and array.dtype == data.dtype:
                        continue  # the common case, checked in one line
                    problem = state_entry_problem(spec, key, value, data)
                    if problem:
                        raise RuntimeError(problem.format(where=self._where(group, p)))

    # -- memory ---------------------------------------------------------------------------------
    def scratch_bytes(self) -> int:
        """Predicted bytes of the temporary arrays one ``step()`` allocates and frees again (an upper bound).

        Reference path: ``temporaries`` arrays of the largest parameter. Multi-tensor path: the
        gathered parameters and gradients of the largest chunk of a run, plus ``temporaries``
        arrays of its length.
        """
        largest = 0
        for group in self.param_groups:
            params = [p for p in dict.fromkeys(group["params"]) if p.requires_grad]
            if not params:
                continue
            if self.uses_multi_tensor(group):
                for run in _runs(params).values():
                    data = [p._data for p in run]
                    offsets, total = _layout(data)
                    ends = offsets[1:] + [total]
                    chunk = max(ends[j - 1] - offsets[i] for i, j in _chunks(data, offsets, total))
                    largest = max(largest, (2 + self.temporaries) * chunk * data[0].itemsize)
            else:
                largest = max(largest, self.temporaries * max(p.nbytes for p in params))
        return largest

    # -- state dicts ----------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """``{"state": {index: {name: tensor}}, "param_groups": [...]}``, parameters numbered across groups.

        The state tensors are the live ones, as in torch: they keep changing while training goes
        on. Save the dict (``minigrad.save``) or ``copy.deepcopy`` it to keep a snapshot.
        """
        index_of: dict[int, int] = {}
        start = 0
        param_groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for i, p in enumerate(group["params"], start):
                index_of.setdefault(id(p), i)
            packed["params"] = [index_of[id(p)] for p in group["params"]]
            start += len(packed["params"])
            param_groups.append(packed)
        state = {(index_of[id(k)] if isinstance(k, Tensor) else k): dict(v) if isinstance(v, dict) else v
                 for k, v in self.state.items()}
        return {"state": state, "param_groups": param_groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore the state and the hyperparameters saved by ``state_dict()``.

        Everything is checked before anything changes: the number and sizes of the groups (as
        torch), and, stricter than torch, that every parameter's state has the entries its
        group's settings need, with the parameter's shape. A bad dict raises ValueError and
        leaves the optimizer as it was. Floating-point state is cast to its parameter's dtype
        (``step`` keeps its own) and moved to the parameter's device (``step`` and NAdam's
        ``mu_product`` stay on the host). Unlike torch, the tensors are copied, never shared
        with the dict.
        """
        groups = self.param_groups
        saved_groups = deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match the size of "
                             "optimizer's group")

        # The saved hyperparameters replace the current ones; a key the dict lacks comes from the defaults.
        new_groups = []
        group_of: dict[Any, dict] = {}
        for group, saved in zip(groups, saved_groups):
            group_of.update((index, saved) for index in saved["params"])
            saved["params"] = group["params"]
            if "param_names" in group and "param_names" not in saved:
                saved["param_names"] = group["param_names"]
            for key, default in self.defaults.items():
                saved.setdefault(key, default)
            self._fix_loaded_group(saved)
            new_groups.append(saved)
        id_map = dict(zip(chain.from_iterable(g["params"] for g in state_dict["param_groups"]),
                          chain.from_iterable(g["params"] for g in groups)))

        new_state: defaultdict[Any, Any] = defaultdict(dict)
        for key, value in state_dict["state"].items():
            if key in id_map:
                param = id_map[key]
                new_state[param] = self._load_param_state(param, value, group_of[key], key)
            else:
                new_state[key] = value

        self.state = new_state
        self.param_groups = new_groups
        self._flat_state = {}

    def _load_param_state(self, param: Tensor, value: Any, group: dict, index: Any) -> dict:
        """Check one parameter's saved state against the parameter and return a converted copy."""
        if not isinstance(value, dict):
            raise ValueError(f"loaded state dict has state for parameter {index} that is not a dict")
        specs = self.state_specs(group)
        if value:
            missing = [k for k in specs if k not in value]
            if missing:
                raise ValueError(f"loaded state dict has no '{missing[0]}' for parameter {index}, which its group's "
                                 f"settings need (it has {list(value)})")
        data = param._data
        out = {}
        for key, v in value.items():
            spec = specs.get(key)
            if spec is None:
                out[key] = _cast_tensor(v, data) if isinstance(v, Tensor) else deepcopy(v)
                continue
            array = v._data if isinstance(v, Tensor) else v
            shape = tuple(getattr(array, "shape", ()))
            expected = spec.shape(data)
            if spec.kind == "scalar":
                bad = numpy.size(_backend.to_host(array)) != 1
            else:
                bad = shape != tuple(expected)
            if bad:
                raise ValueError(f"loaded state dict has '{key}' of shape {list(shape)} for parameter {index}, "
                                 f"expected {list(expected)} (the parameter's shape is {list(data.shape)})")
            kind = numpy.dtype(getattr(array, "dtype", numpy.float64)).kind
            if kind not in "biuf":  # an object array could hold anything, and would turn the weights into NaN
                raise ValueError(f"loaded state dict has '{key}' of dtype {array.dtype} for parameter {index}, "
                                 "expected a real number type")
            if spec.kind == "scalar":
                if hasattr(array, "dtype"):
                    host = numpy.array(_backend.to_host(array)).reshape(())
                    if key != "step" and data.dtype.kind == "f":  # torch casts all but step
                        host = host.astype(data.dtype)
                else:  # a plain number, as older checkpoints stored step
                    host = numpy.array(float(array), dtype=scalar_dtype())
                out[key] = Tensor._wrap(host)
            elif spec.kind == "bits":
                out[key] = Tensor._wrap(_backend.move(numpy.array(_backend.to_host(array), dtype=numpy.uint8),
                                                      _backend.device_of(data)))
            else:
                out[key] = _cast_tensor(v, data)
        return out


def state_entry_problem(spec: StateSpec, key: str, value: Any, param: Any) -> str | None:
    """What keeps a state entry from belonging to ``param`` (missing, wrong shape, device or dtype), or None.

    The text has a ``{where}`` field for the parameter's place in the optimizer.
    """
    if value is None:
        return f"optimizer state of {{where}} has no '{key}'"
    array = _array(value)
    if not hasattr(array, "shape"):
        return f"optimizer state '{key}' of {{where}} should be a tensor, but is {typename(value)}"
    if spec.kind == "scalar":
        if array.size != 1:
            return f"optimizer state '{key}' of {{where}} should hold one value, but has shape {list(array.shape)}"
        return None
    expected = spec.shape(param)
    if tuple(array.shape) != tuple(expected):
        return f"optimizer state '{key}' of {{where}} has shape {list(array.shape)}, expected {list(expected)}"
    if type(array) is not type(param):
        return (f"optimizer state '{key}' of {{where}} is on {_backend.device_of(array)} but the parameter is on "
                f"{_backend.device_of(param)}")
    if spec.kind == "tensor" and array.dtype != param.dtype:
        return f"optimizer state '{key}' of {{where}} has dtype {array.dtype} but the parameter has dtype {param.dtype}"
    return None


def _cast_tensor(value: Any, like: Any) -> Tensor:
    """A copy of ``value`` on ``like``'s device, with ``like``'s dtype if both are floating point."""
    array = value._data if isinstance(value, Tensor) else value
    host = numpy.array(_backend.to_host(array))
    if host.dtype.kind == "f" and like.dtype.kind == "f":
        host = host.astype(like.dtype)
    return Tensor._wrap(_backend.move(host, _backend.device_of(like)))


# -- flat layout of the multi-tensor step ----------------------------------------------------------
def _runs(params: list, extra: Callable[[Any], Any] = lambda p: None) -> dict[tuple, list]:
    """``params`` grouped, in order, by array type, device and dtype (and ``extra(p)``): what one flat array holds."""
    runs: dict[tuple, list] = {}
    for p in params:
        runs.setdefault((type(p._data), str(_backend.device_of(p._data)), p._data.dtype, extra(p)), []).append(p)
    return runs


# On the host the rule runs over chunks of about this many elements: its temporary arrays then stay
# in the cache, and come back from the allocator at each chunk without new page faults. On a GPU a
# run is one chunk, since every operation there is a kernel launch.
CHUNK = 1 << 15


def _chunks(arrays: list, offsets: list, total: int) -> list[tuple[int, int]]:
    """Split a run into consecutive ranges of parameters ``[i, j)`` of about ``CHUNK`` elements."""
    if type(arrays[0]) is not numpy.ndarray:
        return [(0, len(arrays))]
    ranges, i = [], 0
    for j in range(1, len(arrays) + 1):
        end = offsets[j] if j < len(arrays) else total
        if end - offsets[i] >= CHUNK or j == len(arrays):
            ranges.append((i, j))
            i = j
    return ranges


def _rounds(params: list) -> list[list]:
    """Split ``params`` into rounds in which no two parameters share memory, keeping their order."""
    roots = {id(p._data if p._data.base is None else p._data.base) for p in params}
    if len(roots) == len(params):  # each parameter owns its memory (or views a different array)
        return [params]
    rounds: list[list] = []
    placed: list[tuple] = []  # (extent, round) of the parameters so far
    for p in params:
        lo, hi = _extent(p._data)
        k = 1 + max((r for (a, b), r in placed if a < hi and lo < b), default=-1)
        placed.append(((lo, hi), k))
        if k == len(rounds):
            rounds.append([])
        rounds[k].append(p)
    return rounds


def _extent(a: Any) -> tuple[int, int]:
    """The addresses of the first byte ``a`` can touch and of the byte after the last."""
    start = a.__array_interface__["data"][0] if isinstance(a, numpy.ndarray) else a.data.ptr
    lo = hi = start
    for n, stride in zip(a.shape, a.strides):
        if n == 0:
            return start, start
        if stride < 0:
            lo += stride * (n - 1)
        else:
            hi += stride * (n - 1)
    return lo, hi + a.itemsize


def _layout(arrays: list) -> tuple[list, int]:
    """Where each array starts when laid end to end, each at a multiple of ``ALIGN``, and the total length."""
    offsets, total = [], 0
    for a in arrays:
        offsets.append(total)
        total += -(-a.size // ALIGN) * ALIGN
    return offsets, total


def _gather(arrays: list, offsets: list, total: int, spec: StateSpec = ZEROS) -> Any:
    """A new flat array holding ``arrays`` at ``offsets`` (zeros in the gaps)."""
    first = arrays[0]
    bits = spec.kind == "bits"
    flat = xp_of(first).zeros(total // 8 if bits else total, dtype=first.dtype)
    for a, off in zip(arrays, offsets):
        if bits:
            flat[off // 8:off // 8 + a.size] = a
        else:
            flat[off:off + a.size] = a.reshape(-1)
    return flat


def _piece(flat: Any, off: int, spec: StateSpec, like: Any) -> Any:
    """The view of ``flat`` that holds the entry of the parameter ``like`` starting at ``off``."""
    if spec.kind == "bits":
        return flat[off // 8:off // 8 + spec.shape(like)[0]]
    return flat[off:off + like.size].reshape(like.shape)


def _scatter(target: Any, flat: Any, off: int, spec: StateSpec) -> None:
    """Copy a parameter's entry back from the flat array ``flat`` into its own array ``target``."""
    if spec.kind == "bits":
        target[...] = flat[off // 8:off // 8 + target.size]
    else:
        target[...] = flat[off:off + target.size].reshape(target.shape)


def _run_key(group: dict, params: list) -> tuple:
    return (id(group), *map(id, params))
