"""``GradScaler``: loss scaling, so that float16 gradients do not underflow to zero.

Why loss scaling exists. Under autocast the backward pass of a float16 matrix product makes float16
gradients (they are cast back to float32 only when they reach a float32 parameter). float16's smallest
normal value is about 6.1e-5 and its smallest subnormal 6e-8: gradients of a loss averaged over a batch are
often smaller than that, and round to 0. Multiplying the loss by a large factor S (``scaler.scale(loss)``,
65536 = 2**16 to start) multiplies every gradient by S (backward is linear), lifting them into float16's
range. Before the optimizer step the float32 gradients are divided by S again (``unscale_``), so the step is
the one the unscaled loss would have given.

Too large an S makes some gradient overflow to inf (float16's largest value is 65504). So the scale adapts:

* if any gradient is inf or NaN after unscaling, ``step`` skips the optimizer step (the parameters are left
  untouched) and ``update`` multiplies S by ``backoff_factor`` (0.5) and restarts the count;
* after ``growth_interval`` (2000) steps in a row without inf/NaN, ``update`` multiplies S by
  ``growth_factor`` (2.0), to use as much of the range as is safe.

Powers of two (the defaults) make scaling and unscaling exact: only the exponent changes.

The loop, as in torch::

    scaler = minigrad.amp.GradScaler("cpu")
    for x, y in data:
        optimizer.zero_grad()
        with minigrad.autocast("cpu", dtype=minigrad.float16):
            loss = F.cross_entropy(model(x), y)  # matmuls in float16, the loss in float32 (its sum needs the range)
        scaler.scale(loss).backward()
        scaler.step(optimizer)  # unscales, skips the step on inf/NaN
        scaler.update()         # adapts the scale

The scale lives in a float32 tensor (on the device of the first output scaled), the growth tracker (steps
since the last backoff or growth) in an int32 one, as torch's do; the inf checks are read back to the host
at ``step`` (torch keeps them on the device to avoid a sync, minigrad reads them for clarity).
"""

from __future__ import annotations

import enum
import warnings
from collections import defaultdict
from typing import Any

import numpy

from .. import _backend, _dtype
from .._factories import full
from .._grad_mode import no_grad
from ..autograd.graph import TensorBase


class OptState(enum.Enum):
    """Where an optimizer is in the iteration: nothing done yet, gradients unscaled, step taken."""

    READY = 0
    UNSCALED = 1
    STEPPED = 2


def _refresh_per_optimizer_state() -> dict[str, Any]:
    return {"stage": OptState.READY, "found_inf_per_device": {}}


class GradScaler:
    """torch.amp.GradScaler: ``scale(outputs)``, ``unscale_(optimizer)``, ``step(optimizer)``, ``update()``.

    ``device="cuda"`` (the default, as torch's) without a usable GPU warns and disables the scaler: every
    method then passes through (``scale`` returns its input, ``step`` just steps, ``get_scale`` is 1.0).
    """

    def __init__(self, device: str = "cuda", init_scale: float = 2.0**16, growth_factor: float = 2.0,
                 backoff_factor: float = 0.5, growth_interval: int = 2000, enabled: bool = True) -> None:
        self._device = device
        self._enabled = enabled
        if device == "cuda" and enabled and not _backend.cuda_available():
            warnings.warn("torch.cuda.amp.GradScaler is enabled, but CUDA is not available.  Disabling.",
                          stacklevel=2)
            self._enabled = False
        if self._enabled:
            if growth_factor <= 1.0:
                raise AssertionError("The growth factor must be > 1.0.")
            if backoff_factor >= 1.0:
                raise AssertionError("The backoff factor must be < 1.0.")
            self._init_scale = init_scale
            self._scale: TensorBase | None = None  # made by the first scale(), on its output's device
            self._growth_factor = growth_factor
            self._backoff_factor = backoff_factor
            self._growth_interval = growth_interval
            self._init_growth_tracker = 0
            self._growth_tracker: TensorBase | None = None
            self._per_optimizer_states: defaultdict = defaultdict(_refresh_per_optimizer_state)

    # -- the four steps of an iteration ------------------------------------------------------------------------

    def scale(self, outputs: Any) -> Any:
        """``outputs * scale``: a tensor, or a list / tuple / iterable of tensors (the same container back).

        Scale a float32 loss: a float16 one times 65536 overflows (its largest value is 65504)."""
        if not self._enabled:
            return outputs
        if isinstance(outputs, TensorBase):
            if self._scale is None:
                self._lazy_init_scale_growth_tracker(outputs.device)
            return outputs * self._scale.to(outputs.device)

        def apply_scale(val: Any) -> Any:
            if isinstance(val, TensorBase):
                if self._scale is None:
                    self._lazy_init_scale_growth_tracker(val.device)
                return val * self._scale.to(val.device)
            if isinstance(val, (list, tuple)):
                return type(val)(apply_scale(v) for v in val)
            if hasattr(val, "__iter__"):
                return map(apply_scale, val)
            raise ValueError("outputs must be a Tensor or an iterable of Tensors")

        return apply_scale(outputs)

    def unscale_(self, optimizer: Any) -> None:
        """Divide the optimizer's gradients by the scale, in place, and record whether any is inf or NaN.

        Call it (at most once per step) before working with the true gradients, e.g. for
        ``clip_grad_norm_``; ``step`` calls it when you have not."""
        if not self._enabled:
            return
        self._check_scale_growth_tracker("unscale_")
        state = self._per_optimizer_states[id(optimizer)]
        if state["stage"] is OptState.UNSCALED:
            raise RuntimeError("unscale_() has already been called on this optimizer since the last update().")
        if state["stage"] is OptState.STEPPED:
            raise RuntimeError("unscale_() is being called after step().")
        # 1 / scale computed in float64 and rounded to float32, as torch's: exact for a power of two.
        inv_scale = numpy.float32(1.0 / numpy.float64(self._scale.item()))
        state["found_inf_per_device"] = self._unscale_grads_(optimizer, inv_scale, allow_fp16=False)
        state["stage"] = OptState.UNSCALED

    def _unscale_grads_(self, optimizer: Any, inv_scale: numpy.float32, allow_fp16: bool) -> dict:
        """Multiply every gradient by ``inv_scale`` in place; per device, 1.0 if one had an inf or NaN."""
        found: dict = {}
        with no_grad():
            for group in optimizer.param_groups:
                for param in group["params"]:
                    grad = param.grad
                    if grad is None:
                        continue
                    if not allow_fp16 and grad.dtype is _dtype.float16:
                        raise ValueError("Attempting to unscale FP16 gradients.")
                    device = grad.device
                    found.setdefault(device, 0.0)
                    xp = _backend.xp_of(grad._data)
                    if not bool(xp.isfinite(grad._data).all()):
                        found[device] = 1.0
                    grad.mul_(float(inv_scale))  # every gradient unscaled, inf or not, as torch's
        return found

    def step(self, optimizer: Any, *args: Any, **kwargs: Any) -> Any:
        """Unscale (unless ``unscale_`` was called) and step, unless a gradient was inf or NaN: then the step is
        skipped and the parameters keep their values. Returns ``optimizer.step``'s value, or None if skipped."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("Closure use is not currently supported if GradScaler is enabled.")
        self._check_scale_growth_tracker("step")
        state = self._per_optimizer_states[id(optimizer)]
        if state["stage"] is OptState.STEPPED:
            raise RuntimeError("step() has already been called since the last update().")
        if state["stage"] is OptState.READY:
            self.unscale_(optimizer)
        if len(state["found_inf_per_device"]) == 0:
            raise AssertionError("No inf checks were recorded for this optimizer.")
        retval = None
        if not sum(state["found_inf_per_device"].values()):
            retval = optimizer.step(*args, **kwargs)
        state["stage"] = OptState.STEPPED
        return retval

    def update(self, new_scale: float | TensorBase | None = None) -> None:
        """Back off after a skipped step, grow after ``growth_interval`` clean ones, or set ``new_scale``."""
        if not self._enabled:
            return
        scale, tracker = self._check_scale_growth_tracker("update")
        if new_scale is not None:
            if isinstance(new_scale, float):
                scale._data[...] = new_scale
            else:
                reason = ("new_scale should be a float or a 1-element torch.cuda.FloatTensor or "
                          "torch.FloatTensor with requires_grad=False.")
                if (not isinstance(new_scale, TensorBase) or new_scale.device.type != self._device
                        or new_scale.numel() != 1 or new_scale.requires_grad):
                    raise AssertionError(reason)
                scale._data[...] = new_scale._data.reshape(())
        else:
            found_infs = [f for state in self._per_optimizer_states.values()
                          for f in state["found_inf_per_device"].values()]
            if len(found_infs) == 0:
                raise AssertionError("No inf checks were recorded prior to update.")
            self._update_scale(scale, tracker, sum(found_infs) > 0)
        self._per_optimizer_states = defaultdict(_refresh_per_optimizer_state)

    def _update_scale(self, scale: TensorBase, tracker: TensorBase, found_inf: bool) -> None:
        """The growth-tracker rule (torch's ``_amp_update_scale_``), with the scale kept in float32."""
        current = float(scale._data)
        if found_inf:
            scale._data[...] = numpy.float32(current * self._backoff_factor)
            tracker._data[...] = 0
            return
        successful = int(tracker._data) + 1
        if successful == self._growth_interval:
            grown = numpy.float32(current * self._growth_factor)
            if numpy.isfinite(grown):  # a scale that would overflow float32 stays where it is
                scale._data[...] = grown
            tracker._data[...] = 0
        else:
            tracker._data[...] = successful

    # -- state --------------------------------------------------------------------------------------------------

    def _lazy_init_scale_growth_tracker(self, dev: Any) -> None:
        self._scale = full((), self._init_scale, dtype=_dtype.float32, device=dev)
        self._growth_tracker = full((), self._init_growth_tracker, dtype=_dtype.int32, device=dev)

    def _check_scale_growth_tracker(self, funcname: str) -> tuple[TensorBase, TensorBase]:
        fix = "This may indicate your script did not use scaler.scale(loss or outputs) earlier in the iteration."
        if self._scale is None:
            raise AssertionError(f"Attempted {funcname} but _scale is None.  " + fix)
        if self._growth_tracker is None:
            raise AssertionError(f"Attempted {funcname} but _growth_tracker is None.  " + fix)
        return self._scale, self._growth_tracker

    def get_scale(self) -> float:
        """The current scale as a Python float (``init_scale`` before the first ``scale``; 1.0 if disabled)."""
        if not self._enabled:
            return 1.0
        return self._init_scale if self._scale is None else self._scale.item()

    def get_growth_factor(self) -> float:
        return self._growth_factor

    def set_growth_factor(self, new_factor: float) -> None:
        self._growth_factor = new_factor

    def get_backoff_factor(self) -> float:
        return self._backoff_factor

    def set_backoff_factor(self, new_factor: float) -> None:
        self._backoff_factor = new_factor

    def get_growth_interval(self) -> int:
        return self._growth_interval

    def set_growth_interval(self, new_interval: int) -> None:
        self._growth_interval = new_interval

    def _get_growth_tracker(self) -> int:
        if not self._enabled:
            return 0
        return self._init_growth_tracker if self._growth_tracker is None else self._growth_tracker.item()

    def is_enabled(self) -> bool:
        return self._enabled

    def state_dict(self) -> dict[str, Any]:
        """scale, growth_factor, backoff_factor, growth_interval, _growth_tracker ({} when disabled)."""
        if not self._enabled:
            return {}
        return {"scale": self.get_scale(), "growth_factor": self._growth_factor,
                "backoff_factor": self._backoff_factor, "growth_interval": self._growth_interval,
                "_growth_tracker": self._get_growth_tracker()}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError("The source state dict is empty, possibly because it was saved from a disabled "
                               "instance of GradScaler.")
        self._init_scale = state_dict["scale"]
        if self._scale is not None:
            self._scale._data[...] = state_dict["scale"]
        self._growth_factor = state_dict["growth_factor"]
        self._backoff_factor = state_dict["backoff_factor"]
        self._growth_interval = state_dict["growth_interval"]
        self._init_growth_tracker = state_dict["_growth_tracker"]
        if self._growth_tracker is not None:
            self._growth_tracker._data[...] = state_dict["_growth_tracker"]
