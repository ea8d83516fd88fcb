"""``Optimizer``: parameter groups, per-parameter state, state dicts and the step of every optimizer.

A subclass checks its arguments, calls ``Optimizer.__init__(params, defaults)`` and writes two
methods:

* ``_state_specs(group)``: the state entries a parameter of ``group`` gets at its first step
  (name -> ``StateSpec``), in torch's order;
* ``_coefficients(group, scalars, fresh)``: advances the scalar state (``step``) and returns
  the numbers the update needs (bias corrections...). ``scalars`` maps each scalar state name
  to an array holding one value per parameter; ``fresh`` says the state was created now;
* ``_update(group, param, grad, state, coefficients, tmp)``: its update rule, written once
  over 1-D arrays. ``step()`` applies it to a whole group at once (flat arrays, see
  ``_flat.py``) or, when parameters are at different steps, to one parameter at a time
  (slices of the same arrays). ``state`` maps each state name to an array; ``tmp`` holds
  scratch arrays of the same length for intermediate results (written with ``out=``).

The flags ``foreach``, ``fused``, ``capturable`` and ``differentiable`` are accepted and stored
in the groups, as torch does, and change nothing: every step already works on whole groups,
and minigrad does not differentiate through an optimizer step.
"""

from __future__ import annotations

import warnings
from collections import defaultdict
from collections.abc import Callable
from copy import deepcopy
from itertools import chain
from typing import Any

import numpy

from .. import _backend
from .._backend import xp_of
from .._dtype import float64, get_default_dtype
from .._grad_mode import enable_grad
from ..tensor import Tensor
from ._flat import (
    STEP,
    ZEROS,
    Bucket,
    GroupBuffers,
    ParamState,
    Scratch,
    StateSpec,
    Workspace,
    check_state_entry,
    state_shape,
)

__all__ = ["Optimizer", "ParamState", "STEP", "Scratch", "StateSpec", "ZEROS"]


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


def check_fused(fused: bool | None, foreach: bool | None, differentiable: bool) -> None:
    """torch's checks of the ``fused`` flag (accepted, and meaningless here: every step is fused)."""
    if fused:
        if differentiable:
            raise RuntimeError("`fused` does not support `differentiable`")
        if foreach:
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")


def advance(step: Any) -> float:
    """Add one to a ``step`` array (one parameter's or a whole group's) and return the new step."""
    step += 1
    return step.item(0)


def decayed_grad(grad: Any, param: Any, maximize: bool, weight_decay: float, out: Any) -> Any:
    """The gradient an update rule works with: negated for ``maximize``, then plus L2 weight decay.

    Written into ``out``, or ``grad`` itself when neither applies. ``grad`` is the parameter's
    ``.grad``: never write into it.
    """
    if weight_decay != 0:
        decayed = xp_of(param).multiply(param, weight_decay, out=out)
        if maximize:
            decayed -= grad
        else:
            decayed += grad
        return decayed
    return xp_of(grad).negative(grad, out=out) if maximize else grad


def lerp_(start: Any, end: Any, weight: float, tmp: Any) -> None:
    """``start += weight·(end - start)`` in place, with torch's choice between its two forms."""
    diff = xp_of(start).subtract(end, start, out=tmp)
    if abs(weight) < 0.5:
        diff *= weight
        start += diff
    else:
        diff *= 1 - weight
        xp_of(start).subtract(end, diff, out=start)


def adam_family_grad(group: dict, param: Any, grad: Any, out: Any) -> Any:
    """Adam's and NAdam's gradient: decoupled decay shrinks ``param`` itself, L2 decay adds ``λ·p``."""
    weight_decay = group["weight_decay"]
    if not group["decoupled_weight_decay"]:
        return decayed_grad(grad, param, group["maximize"], weight_decay, out=out)
    if weight_decay != 0:
        param *= 1 - group_lr(group) * weight_decay
    return xp_of(grad).negative(grad, out=out) if group["maximize"] else grad


def update_moments_(state: dict, g: Any, betas: tuple, tmp: Any) -> None:
    """``m = lerp(m, g, 1-β1)`` and ``v = β2·v + (1-β2)·g²``, in place (Adam, AdamW, NAdam)."""
    beta1, beta2 = betas
    exp_avg_sq = state["exp_avg_sq"]
    lerp_(state["exp_avg"], g, 1 - beta1, tmp=tmp)
    exp_avg_sq *= beta2
    square = xp_of(g).multiply(g, 1 - beta2, out=tmp)
    square *= g
    exp_avg_sq += square


class Optimizer:
    """Base class of all optimizers (``torch.optim.Optimizer``)."""

    _scratch = (2, 0)  # how many scratch arrays ``_update`` uses: (floating, boolean)

    def __init__(self, params: Any, defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        self._buffers: dict[int, GroupBuffers] = {}
        self._work: dict[tuple, Workspace] = {}
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
    def _state_specs(self, group: dict) -> dict[str, StateSpec]:
        """The state a parameter of ``group`` gets at its first step (none by default)."""
        return {}

    def _coefficients(self, group: dict, scalars: dict, fresh: bool) -> Any:
        """Advance the scalar state (``step``...) and return what the update needs of it."""
        return None

    def _update(self, group: dict, param: Any, grad: Any, state: dict, coefficients: Any, tmp: Scratch) -> None:
        raise NotImplementedError

    def _fix_loaded_group(self, group: dict) -> None:
        """Adjust a group taken from a loaded state dict (AdamW forces decoupled weight decay)."""

    # -- pickling (minigrad.save / copy) ----------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._buffers = {}
        self._work = {}

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
        # Lay the parameters out now: a view of a parameter taken from here on (p.detach())
        # keeps sharing its memory, and the first backward already fills the gradient slots.
        # (Not for a subclass that brings its own step(): it would not use the buffers.)
        if type(self).step is Optimizer.step:
            self._lay_out(param_group, [p for p in params if p.requires_grad])

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
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; ``closure`` (re)computes the loss first."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        # Every group is checked before any is updated, so an error leaves everything as it was.
        state_known = self._state_as_seen()
        entries_known = state_known and self._state_seen[4] == ParamState.changes
        prepared = [self._prepare(group, state_known, entries_known) for group in self.param_groups]
        # The update rules work on raw arrays: nothing is recorded for autograd (torch's no_grad).
        # Like torch, an update that produces inf or nan does so silently.
        started = False
        with numpy.errstate(all="ignore"):
            for group, (buffers, specs) in zip(self.param_groups, prepared):
                started |= self._step_group(group, buffers, specs)
        if started or not entries_known:
            self._see_state()
        return loss

    def _see_state(self) -> None:
        """Remember which dict ``self.state`` holds for each parameter (checked by ``_state_as_seen``)."""
        state = self.state
        keys = list(state)
        self._state_seen = (state, keys, list(map(id, keys)), list(map(id, state.values())), ParamState.changes)

    def _state_as_seen(self) -> bool:
        """Whether ``self.state`` still maps the same parameters to the same dicts as when last seen.

        Comparing ids (of objects kept alive, so never reused) with ``map`` runs in C: cheaper
        than looking every parameter up, since a tensor's hash is a Python method.
        """
        seen = getattr(self, "_state_seen", None)
        if seen is None or seen[0] is not self.state:
            return False
        state, keys, key_ids, value_ids, _ = seen
        return len(state) == len(keys) and list(map(id, state)) == key_ids and \
            list(map(id, state.values())) == value_ids

    def _prepare(self, group: dict, state_known: bool = False,
                 entries_known: bool = False) -> tuple[GroupBuffers, dict]:
        """The group's flat buffers, brought up to date, and its state specs.

        Raises RuntimeError, before anything changed, if a gradient or a state entry can't be used.
        """
        specs = self._state_specs(group)
        buffers = self._buffers.get(id(group))
        loose = None
        if buffers is not None and buffers.group is group and buffers.keys == tuple(specs):
            loose = buffers.check(self.state, state_known, entries_known)
        if loose:
            self._check_grads(group, [entry.param for entry in loose])
            if all(entry.slot.is_free() for entry in loose):
                # Gradients that backward() did not write into their slots (assigned by hand, or kept
                # from before the buffers existed) move there now; the tensors keep their identity.
                for entry in loose:
                    grad = entry.param.grad
                    entry.slot.array[...] = grad._data
                    grad._data = entry.slot.array
                return buffers, specs
            loose = None  # a kept gradient still holds a slot: rebuild with fresh slots
        if loose is None:
            with_grad = [p for p in group["params"] if p.grad is not None]
            self._check_grads(group, with_grad)
            self._check_state(group, with_grad, specs)
            buffers = self._lay_out(group, with_grad)
        return buffers, specs

    def _lay_out(self, group: dict, members: list) -> GroupBuffers:
        """(Re)build a group's flat buffers for the parameters ``members``."""
        old = self._buffers.get(id(group))
        new = GroupBuffers(group, self._state_specs(group), self.state, members)
        if old is not None:
            old.release(new)
        self._buffers[id(group)] = new
        return new

    def _where(self, group: dict, p: Tensor) -> str:
        index = next(i for i, q in enumerate(group["params"]) if q is p)
        group_index = next(i for i, g in enumerate(self.param_groups) if g is group)
        return f"parameter {index} of group {group_index}"

    def _check_grads(self, group: dict, params: list) -> None:
        for p in params:
            grad, data = p.grad._data, p._data
            problem = None
            if type(grad) is not type(data) or _backend.device_of(grad) != _backend.device_of(data):
                problem = (f"has its gradient on {_backend.device_of(grad)} but is on {_backend.device_of(data)}")
            elif grad.shape != data.shape:
                problem = f"has a gradient of size {list(grad.shape)} but is of size {list(data.shape)}"
            elif grad.dtype != data.dtype:
                problem = f"has a gradient of dtype {grad.dtype} but is of dtype {data.dtype}"
            if problem:
                raise RuntimeError(f"{type(self).__name__}.step: {self._where(group, p)} {problem}")

    def _check_state(self, group: dict, params: list, specs: dict) -> None:
        for p in params:
            st = self.state.get(p)
            if st:
                for key, spec in specs.items():
                    if key in st:
                        check_state_entry(spec, key, st[key], p._data, self._where(group, p))

    def _step_group(self, group: dict, buffers: GroupBuffers, specs: dict) -> bool:
        """Update one group; returns whether some parameter got its state now."""
        started = False
        for bucket in buffers.buckets:
            n = len(bucket.params)
            fresh = [i for i in range(n) if bucket.tracked[i] is None] if bucket.fresh else []
            for i in fresh:
                bucket.start_state(i, self.state, specs)
                started = True
            if not buffers.has_duplicates and len(fresh) in (0, n) and bucket.scalars_agree():
                coefficients = self._coefficients(group, bucket.scalars, bool(fresh))
                self._apply(group, bucket, 0, bucket.size, coefficients)
                continue
            # Parameters at different steps (or listed twice): one at a time, in group order.
            first = set(fresh)
            for entry in buffers.entries:
                if entry.bucket is bucket:
                    i = entry.index
                    coefficients = self._coefficients(group, bucket.scalar_pieces(i), i in first)
                    first.discard(i)
                    start = bucket.offsets[i]
                    self._apply(group, bucket, start, start + entry.view.size, coefficients)
        return started

    def _apply(self, group: dict, bucket: Bucket, start: int, stop: int, coefficients: Any) -> None:
        """Run the update rule over elements ``[start, stop)`` of a bucket's flat arrays.

        On the host this goes a chunk at a time, with scratch arrays allocated once: large
        temporary arrays would cost page faults at every step, while chunks stay in cache.
        """
        work = bucket.work
        if work is None:
            kind = (type(bucket.data), bucket.data.dtype)
            work = bucket.work = self._work.get(kind) or self._work.setdefault(kind, Workspace(bucket.data,
                                                                                                 *self._scratch))
        chunk = work.chunk or max(stop - start, 1)
        flat = bucket.flat
        if start == 0 and stop == bucket.size <= chunk:  # the whole bucket at once: no slicing
            state = {key: flat[key] for key in bucket.tensor_keys + bucket.bit_keys}
            self._update(group, bucket.data, bucket.grad, state, coefficients, work.scratch(stop))
            return
        for lo in range(start, stop, chunk):
            hi = min(lo + chunk, stop)
            state = {key: flat[key][lo:hi] for key in bucket.tensor_keys}
            for key in bucket.bit_keys:  # chunks and parameters start at multiples of 8 elements
                state[key] = flat[key][lo // 8:(hi + 7) // 8]
            self._update(group, bucket.data[lo:hi], bucket.grad[lo:hi], state, coefficients, work.scratch(hi - lo))

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

        for buffers in self._buffers.values():
            buffers.release(None)
        self._buffers = {}
        self.state = new_state
        self.param_groups = new_groups
        if type(self).step is Optimizer.step:
            for group in new_groups:
                self._lay_out(group, [p for p in group["params"] if p.requires_grad])

    def _load_param_state(self, param: Tensor, value: Any, group: dict, index: Any) -> dict:
        """Check one parameter's saved state against the parameter and return a converted copy."""
        if not isinstance(value, dict):
            raise ValueError(f"loaded state dict has state for parameter {index} that is not a dict")
        specs = self._state_specs(group)
        if value:
            missing = [k for k in specs if k not in value]
            if missing:
                raise ValueError(f"loaded state dict has no '{missing[0]}' for parameter {index}, which its group's "
                                 f"settings need (it has {list(value)})")
        data = param._data
        out = ParamState()
        for key, v in value.items():
            spec = specs.get(key)
            if spec is None:
                out[key] = _cast_tensor(v, data) if isinstance(v, Tensor) else deepcopy(v)
                continue
            array = v._data if isinstance(v, Tensor) else v
            shape = tuple(getattr(array, "shape", ()))
            expected = state_shape(spec, data)
            if spec.kind == "scalar":
                bad = numpy.size(_backend.to_host(array)) != 1
            else:
                bad = shape != tuple(expected)
            if bad:
                raise ValueError(f"loaded state dict has '{key}' of shape {list(shape)} for parameter {index}, "
                                 f"expected {list(expected)} (the parameter's shape is {list(data.shape)})")
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


def _cast_tensor(value: Any, like: Any) -> Tensor:
    """A copy of ``value`` on ``like``'s device, with ``like``'s dtype if both are floating point."""
    array = value._data if isinstance(value, Tensor) else value
    host = numpy.array(_backend.to_host(array))
    if host.dtype.kind == "f" and like.dtype.kind == "f":
        host = host.astype(like.dtype)
    return Tensor._wrap(_backend.move(host, _backend.device_of(like)))


def group_lr(group: dict) -> float:
    """The group's learning rate as a Python float (torch also accepts a 1-element tensor)."""
    lr = group["lr"]
    return float(lr) if not isinstance(lr, float) else lr

