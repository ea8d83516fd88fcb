"""``Tensor``: an n-dimensional array (NumPy or CuPy) that remembers how it was computed.

Every method and operator is defined here, in the class body. The array and the graph
links come from ``TensorBase`` (minigrad/autograd/graph.py), and the differentiable
methods are the functions of minigrad/ops. This module imports those; they never import
it, so autograd and the ops can be read, and tested, without the ``Tensor`` class.
"""

from __future__ import annotations

import builtins
import inspect
import warnings
import weakref
from collections.abc import Callable
from typing import Any

import numpy

from . import _backend, _dtype, ops
from ._convert import as_array
from ._format import tensor_repr
from ._grad_mode import is_grad_enabled
from ._missing import is_missing, mark_missing_tensor_names
from .autograd.api import backward as _autograd_backward
from .autograd.engine import run_backward
from .autograd.function import raise_device_mismatch
from .autograd.graph import TensorBase, increment_version, named
from .ops import comparison as _comparison
from .ops import counting as _counting
from .ops import distance as _distance
from .ops import elementwise as _ew
from .ops import matrix as _matrix
from .ops import sampling as _sampling
from .ops._base import broadcast_message
from .ops.elementwise import to as _to
from .ops.indexing import _is_basic as is_basic
from .ops.indexing import copy_slices, fit_value, flat_positions, getitem, refuse_byte_mask_fill, unwrap_index, view_of
from .ops.linalg import bmm as _bmm
from .ops.linalg import dot as _dot
from .ops.linalg import mm as _mm
from .ops.recorded import Recorded
from .viz import draw_graph


@mark_missing_tensor_names  # t.X for a torch method minigrad lacks says so, naming torch.Tensor.X
class Tensor(TensorBase):
    """A tensor, as torch's: ``minigrad.tensor([[1., 2.]], requires_grad=True)``.

    Differs from torch: the array is NumPy's, or CuPy's for 'cuda', and reprs and type names say ``minigrad.``
    where torch's say ``torch.``. Only dense strided tensors exist (no sparse layouts, named dims, complex or
    bfloat16), and an in-place write that autograd records through a view needs a contiguous viewed tensor.
    """

    def __init__(self, *args: Any, device: Any = None, **kwargs: Any) -> None:
        """torch's legacy constructor: ``Tensor(data)`` copies ``data`` into the default float dtype,
        ``Tensor(2, 3)`` is uninitialised, ``Tensor(other)`` an alias of ``other``. Use ``minigrad.tensor``."""
        if type(self) is not Tensor:
            # A subclass (nn.Parameter) wraps the array or tensor it is given, sharing its memory.
            (data,) = args
            self._data = data._data if isinstance(data, Tensor) else data
            if kwargs.get("requires_grad"):
                self.requires_grad_(True)
            return
        if len(args) == 1 and not kwargs and isinstance(args[0], Tensor):
            self.__dict__.update(ops.view(args[0], args[0]._data.shape).__dict__)  # an alias, as torch's
            return
        self._data = _legacy_data(args, kwargs, device)

    @staticmethod
    def _wrap(array: Any) -> Tensor:
        """A plain tensor around ``array`` (no copy, no graph), even when called on a subclass."""
        if isinstance(array, numpy.generic):  # NumPy turns 0-dim results into scalars; keep arrays
            array = numpy.asarray(array)
        t = _new(Tensor)
        t._data = array
        return t

    # -- graph bookkeeping (the graph links themselves are TensorBase's) --------------------
    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if not self.is_leaf:
            if requires_grad:
                return self
            raise RuntimeError("you can only change requires_grad flags of leaf variables. If you want to use a "
                               "computed variable in a subgraph that doesn't require differentiation use "
                               "var_no_grad = var.detach().")
        if requires_grad and self._data.dtype.kind not in "fc":
            raise RuntimeError("only Tensors of floating point dtype can require gradients")  # torch's text
        self.requires_grad = requires_grad
        return self

    def retain_grad(self) -> None:
        if not self.requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.is_leaf or self._retains_grad:
            return
        self._retains_grad = True
        ref = weakref.ref(self)

        def store(g: Any) -> None:
            t = ref()
            if t is None:
                return
            if isinstance(g, Tensor):  # a recorded backward (create_graph): keep the history
                t.grad = g.clone() if t.grad is None else t.grad + g
            else:
                t.grad = Tensor._wrap(g.copy()) if t.grad is None else Tensor._wrap(t.grad._data + g)

        store.retains_grad = True  # Node.register_tensor_hook runs it after the tensor's other hooks (torch's rule)
        self.grad_fn.register_tensor_hook(self._output_nr, store)

    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> RemovableHandle:
        """Call ``hook(grad)`` when this tensor's gradient is computed; a returned tensor replaces it.

        Returns a handle whose ``remove()`` unregisters the hook, as torch's.
        """
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")

        def on_array(g: Any) -> Any:
            if isinstance(g, Tensor):  # a recorded backward (create_graph): the hook sees, and returns, tensors
                return hook(g)
            result = hook(Tensor._wrap(g))
            return None if result is None else result._data

        if self.grad_fn is None:
            if self._leaf_hooks is None:
                self._leaf_hooks = []
            self._leaf_hooks.append((0, hook))
            return RemovableHandle(self._leaf_hooks, hook)
        node = self.grad_fn
        # Held by the node (the tensor may be gone when backward runs), before its pre-hooks and retain_grad's last.
        node.register_tensor_hook(self._output_nr, on_array)
        return RemovableHandle(node.hooks, on_array)

    def register_post_accumulate_grad_hook(self, hook: Callable[[Tensor], None]) -> RemovableHandle:
        """Call ``hook(tensor)`` after a backward has added this leaf's gradient into ``.grad`` (once per
        backward, with the total). Data-parallel training reduces gradients across processes from here."""
        if self.grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._post_accumulate_hooks is None:
            self._post_accumulate_hooks = []
        self._post_accumulate_hooks.append((0, hook))
        return RemovableHandle(self._post_accumulate_hooks, hook)

    def backward(self, gradient: Tensor | None = None, retain_graph: bool | None = None,
                 create_graph: bool = False, inputs: Any = None) -> None:
        """Add the gradient of this tensor into ``.grad`` of every leaf it depends on, or only of ``inputs``.

        ``inputs``: a tensor or a sequence of tensors, leaves or not; only those get ``.grad``, and a
        non-leaf one keeps retaining its gradient afterwards (torch calls ``retain_grad()`` on each).
        ``create_graph``: record the backward pass, so that ``.grad`` has a history and can be
        differentiated again (see minigrad/autograd/api.py).
        """
        if gradient is None and inputs is None and not create_graph and self.requires_grad and self._data.size == 1:
            g = self._data.copy()  # the call of nearly every training step, without autograd.backward's checks
            g.fill(1)
            run_backward([self], [g], bool(retain_graph))
            return
        _autograd_backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    def detach(self) -> Tensor:
        """The same memory without history; it shares this tensor's version counter (``.data`` does not)."""
        t = Tensor._wrap(self._data)
        t._vc = self._version_counter()
        return t

    def _check_grad(self, value: Any) -> None:
        _check_assigned_grad(self, value)  # torch refuses a gradient that can't be this tensor's

    def detach_(self) -> Tensor:
        self.grad_fn = None
        self.requires_grad = False
        return self

    # -- data and metadata -----------------------------------------------------------------
    @property
    def data(self) -> Tensor:
        """The same storage without history (torch's ``.data``)."""
        return Tensor._wrap(self._data)

    @data.setter
    def data(self, value: Tensor) -> None:
        self._data = value._data if isinstance(value, Tensor) else value

    def _namespace(self) -> Any:
        """NumPy's names as recorded ops, for backward formulas run on tensors (``_backend.xp_of``)."""
        return Recorded(self)

    @property
    def _xp(self) -> Any:
        return _backend.xp_of(self._data)

    @property
    def shape(self) -> Size:
        return Size(self._data.shape)

    def size(self, dim: int | None = None) -> Any:
        return Size(self._data.shape) if dim is None else self._data.shape[dim]

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def dim(self) -> int:
        return self._data.ndim

    def numel(self) -> int:
        return int(self._data.size)

    nelement = numel

    @property
    def dtype(self) -> _dtype.dtype:
        return _dtype.from_numpy_dtype(self._data.dtype)

    @property
    def device(self) -> _backend.device:
        return _backend.device_of(self._data)

    @property
    def is_cuda(self) -> bool:
        return self.device.type == "cuda"

    def element_size(self) -> int:
        return self._data.itemsize

    @property
    def itemsize(self) -> int:
        return self._data.itemsize

    @property
    def nbytes(self) -> int:
        return int(self._data.nbytes)

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f"

    def numpy(self, *, force: bool = False) -> numpy.ndarray:
        if self.device.type != "cpu":
            if not force:
                raise TypeError(f"can't convert {self.device} device type tensor to numpy. Use Tensor.cpu() to "
                                "copy the tensor to host memory first.")
            return _backend.to_host(self._data)
        if self.requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
        return self._data

    def item(self) -> Any:
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted to Scalar")
        return self._data.item()

    def tolist(self) -> Any:
        return _backend.to_host(self._data).tolist()

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self) -> Any:
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        return builtins.bool(self._data)

    def __float__(self) -> float:
        return builtins.float(self.item())

    def __int__(self) -> int:
        return builtins.int(self.item())

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return builtins.int(self.item())

    # Identity hashing (== compares elementwise, as in torch); object's own is C code, so dicts
    # keyed by tensors (optimizer state) stay fast.
    __hash__ = object.__hash__

    # NumPy scalars and arrays on the left of an operator defer to the tensor's reflected operator
    # (np.float64(0.1) * t is t.__rmul__), instead of turning the tensor into an array and dropping
    # its graph. torch relies on the same three hooks and defines no __array_ufunc__.
    __array_priority__ = 1000

    def __array__(self, dtype: Any = None, copy: Any = None) -> numpy.ndarray:
        if self.requires_grad:  # np.exp(t) would silently cut t's graph: torch refuses it
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
        a = _backend.to_host(self._data)
        return a if dtype is None else a.astype(dtype)

    def __array_wrap__(self, array: Any, context: Any = None, return_scalar: builtins.bool = False) -> Tensor:
        return Tensor._wrap(array)  # np.exp(t) is a tensor, as in torch

    def __repr__(self) -> str:
        return tensor_repr(self)

    def __dir__(self) -> list[str]:
        # torch's names that minigrad lacks are class attributes that raise (minigrad/_missing.py): not offered
        return [name for name in super().__dir__() if not is_missing(inspect.getattr_static(self, name, None))]

    def draw(self, **kwargs: Any) -> Any:
        """The recorded graph behind this tensor: ``minigrad.viz.draw_graph(self, **kwargs)``."""
        return draw_graph(self, **kwargs)

    # -- conversions (differentiable where torch's are) -------------------------------------
    def to(self, *args: Any, **kwargs: Any) -> Tensor:
        """``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(other_tensor)``.

        Differs from torch: ``non_blocking`` is accepted and ignored (copies are synchronous), and
        ``memory_format`` is refused with a TypeError.
        """
        dtype = kwargs.pop("dtype", None)
        device = kwargs.pop("device", None)
        kwargs.pop("non_blocking", None)
        copy = kwargs.pop("copy", False)
        if kwargs:
            raise TypeError(f"to() got an unexpected keyword argument '{next(iter(kwargs))}'")
        for a in args:
            if isinstance(a, _dtype.dtype):
                dtype = a
            elif isinstance(a, Tensor):
                dtype, device = a.dtype, a.device
            else:
                device = a
        out = _to(self, dtype, None if device is None else _backend.as_device(device))
        if copy and out is self:  # nothing to convert, but the caller asked for new memory
            out = named(ops.clone(self), "ToCopyBackward0")
        return out

    def type(self, dtype: Any = None) -> Any:
        """The type's name without an argument; with a dtype, this tensor converted to it (``to(dtype)``).

        Differs from torch: the name is the dtype's, ``'minigrad.float32'``, where torch says
        ``'torch.FloatTensor'``, and the target must be a dtype object, not a type name string.
        """
        return self.to(dtype) if dtype is not None else f"minigrad.{self.dtype.name}"

    def type_as(self, other: Tensor) -> Tensor:
        return self.to(other.dtype)

    def float(self) -> Tensor:
        return self.to(_dtype.float32)

    def double(self) -> Tensor:
        return self.to(_dtype.float64)

    def half(self) -> Tensor:
        return self.to(_dtype.float16)

    def long(self) -> Tensor:
        return self.to(_dtype.int64)

    def int(self) -> Tensor:
        return self.to(_dtype.int32)

    def bool(self) -> Tensor:
        return self.to(_dtype.bool)

    def cpu(self) -> Tensor:
        return self.to("cpu")

    def cuda(self, device: Any = None) -> Tensor:
        """A copy on a CUDA GPU (``device`` an index or a device; GPU 0 by default), as torch's.

        Differs from torch: the copy is a CuPy array, so it needs CuPy and a visible GPU; without them it raises
        a RuntimeError saying which is missing.
        """
        return self.to(_backend.device("cuda", device if isinstance(device, builtins.int) else None)
                       if not isinstance(device, (str, _backend.device)) else device)

    clone = ops.clone

    def contiguous(self, memory_format: Any = None) -> Tensor:
        """This tensor when its memory is C-contiguous, else a contiguous copy (recorded as a clone).

        Differs from torch: ``memory_format`` is accepted and ignored, as minigrad has no channels-last layout.
        """
        return self if self._data.flags.c_contiguous else ops.clone(self)

    def is_contiguous(self, memory_format: Any = None) -> builtins.bool:
        """Whether the memory is C-contiguous (row-major, no gaps), as torch's ``is_contiguous()``.

        Differs from torch: ``memory_format`` is accepted and ignored, as minigrad has no channels-last layout.
        """
        return builtins.bool(self._data.flags.c_contiguous)  # as torch's, it ignores dims of size 1

    def stride(self, dim: builtins.int | None = None) -> Any:
        """Steps in elements between neighbours along each dim, as torch's ``stride()``."""
        shape, itemsize = self._data.shape, self._data.itemsize
        strides = [s // itemsize for s in self._data.strides]
        if self._data.size == 0:  # NumPy gives an empty array steps of 0; torch its contiguous strides
            strides = [0] * len(shape)
        following = 1
        for d in reversed(range(len(shape))):
            # NumPy gives an inserted dim of size 1 (x[None], expand) step 0; torch the step that dim
            # would have in place, which only shows in stride()
            if strides[d] == 0 and (shape[d] == 1 or self._data.size == 0):
                strides[d] = following
            following = strides[d] * builtins.max(shape[d], 1)
        if dim is None:
            return tuple(strides)
        if not shape:
            raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
        if not -len(shape) <= dim < len(shape):
            raise IndexError(f"Dimension out of range (expected to be in range of [{-len(shape)}, {len(shape) - 1}], "
                             f"but got {dim})")
        return strides[dim]

    # -- in-place (not recorded: minigrad does not differentiate through in-place ops) -------
    # -- in-place ops -----------------------------------------------------------------------
    # Each writes into this tensor's memory (views see the result) and counts the write in the
    # version counter. When a gradient is needed (grad mode on, and this tensor or the value
    # written requires grad) the write is recorded: the out-of-place op runs and this tensor takes
    # its place in the graph, as torch's in-place ops do. A leaf that requires grad refuses.

    def _records_inplace(self, *values: Any) -> builtins.bool:
        """Whether an in-place write of ``values`` into this tensor must be recorded (raises where torch does)."""
        if not is_grad_enabled():
            return False
        for t in (self, *values):  # a view whose base got a history since requires grad now
            if isinstance(t, TensorBase) and t._base is not None:
                t._refresh_view()
        needs = self.requires_grad or any(isinstance(v, TensorBase) and v.requires_grad for v in values)
        if not needs:
            return False
        if self.requires_grad and self.grad_fn is None:
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
        base = self._base
        if base is not None and base.requires_grad:
            if base.grad_fn is None:
                raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place "
                                   "operation.")
            if self._view_of_leaf:  # made before its base had a history: torch refuses it as a leaf
                raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
        return True

    def _take_place_of(self, out: Tensor, *others: Any) -> Tensor:
        """Write ``out`` (just computed from this tensor and ``others``) into this tensor's memory and take over
        its history."""
        if out._data.shape != self._data.shape:
            raise RuntimeError(f"output with shape {list(self._data.shape)} doesn't match the broadcast shape "
                               f"{list(out._data.shape)}")
        if out._data.dtype != self._data.dtype:
            out = _to(out, self.dtype, None)
        node = out.grad_fn
        vc = self._vc
        same = [o for o in others if isinstance(o, Tensor) and vc is not None and o._vc is vc]
        if node is not None and not same and any(a is self._data for a in node.saved):
            # The node saved this tensor's values, which are about to be overwritten: it keeps a copy,
            # as torch keeps the original of self for in-place ops whose derivative needs it. (With the
            # tensor on both sides, x.mul_(x), the other operand's saved values change: torch refuses
            # that at backward, and so does the version check kept here.)
            node.saved = tuple(a.copy() if a is self._data else a for a in node.saved)
            node.saved_versions = tuple(e for e in node.saved_versions if e[0] is not vc)
        result, result_nr, result_vc = out._data, out._output_nr, out._vc
        base = self._base
        if base is None:
            if out._data is not self._data:
                self._data[...] = out._data
        else:
            # A write through a view is a write into its base: the base records it (torch's
            # CopySlices), and the view's history starts again as a view of the base's new history.
            positions = flat_positions(self._data, base._data)
            base._adopt(copy_slices(base, out, positions, flat=True))
            out = view_of(base, positions, self._data)
        self._adopt(out)
        increment_version(self)
        if node is not None and result is not self._data and any(a is result for a in node.saved):
            # The node saved its result (relu_, as relu, keeps its output): what it keeps is now this
            # tensor's memory, at this version; a later write to it is caught at backward, as in torch.
            k = next(i for i, a in enumerate(node.saved) if a is result)
            node.saved = tuple(self._data if a is result else a for a in node.saved)
            node.saved_versions = tuple(e for e in node.saved_versions if e[0] is not result_vc) + \
                ((self._vc, self._vc.value, k, result_nr),)
        self._view_version = self._vc.value
        return self

    def _refresh_view(self) -> None:
        """A view whose memory was written since it got its history takes a new one from its base.

        Writes through other views or into the base change what this view holds, and its gradient
        then flows through the base's new history (torch regenerates a view's grad_fn the same way).
        """
        if self._vc.value == self._view_version:
            return
        self._view_version = self._vc.value
        base = self._base
        if base.requires_grad and is_grad_enabled():
            self._adopt(view_of(base, flat_positions(self._data, base._data), self._data))

    def _adopt(self, t: Tensor) -> None:
        """Take ``t``'s place in the graph (``t`` holds this tensor's new values)."""
        self.grad_fn, self._output_nr, self.requires_grad = t.grad_fn, t._output_nr, t.requires_grad

    def _inplace(self, value: Any, op: Callable, method: Callable) -> Tensor:
        _refuse_partial_overlap(self._data, value)  # x.mul_(x[0]) reads what it writes, elsewhere
        if self._records_inplace(value):
            return self._take_place_of(method(self, value), value)
        _refuse_overlap(self._data)
        other = value._data if isinstance(value, Tensor) else value
        if isinstance(value, Tensor) and type(other) is not type(self._data):
            raise_device_mismatch((self, value))
        try:
            op(self._data, other)
        except (TypeError, ValueError) as exc:  # NumPy's casting and broadcasting errors, as torch's
            _raise_inplace_error(self, value, op, exc)
        increment_version(self)
        return self

    def zero_(self) -> Tensor:
        return self.fill_(0)

    def fill_(self, value: Any) -> Tensor:
        if self._records_inplace(value) or isinstance(value, Tensor):
            self[...] = value
            return self
        _writable(self._data)[...] = value  # torch fills even an expanded tensor (every location gets value)
        increment_version(self)
        return self

    def copy_(self, src: Any) -> Tensor:
        if isinstance(src, Tensor):
            if src.device != self.device:
                src = _to(src, None, self.device)
        elif not isinstance(src, (builtins.int, builtins.float)):
            src = _backend.move(src, self.device)
        self[...] = src
        return self

    def add_(self, other: Any, *, alpha: Any = 1) -> Tensor:
        if alpha != 1:
            other = other * alpha
        return self._inplace(other, _iadd, ops.add)

    def sub_(self, other: Any, *, alpha: Any = 1) -> Tensor:
        if alpha != 1:
            other = other * alpha
        return self._inplace(other, _isub, ops.sub)

    def mul_(self, other: Any) -> Tensor:
        return self._inplace(other, _imul, ops.mul)

    def div_(self, other: Any) -> Tensor:
        return self._inplace(other, _idiv, ops.div)

    def clamp_(self, min: Any = None, max: Any = None) -> Tensor:
        if self._records_inplace(min, max):
            return self._take_place_of(ops.clamp(self, min, max))
        _refuse_overlap(self._data)
        self._xp.clip(self._data, min, max, out=self._data)
        increment_version(self)
        return self

    def relu_(self) -> Tensor:
        if self._records_inplace():
            return self._take_place_of(ops.relu(self))
        _refuse_overlap(self._data)
        self._xp.maximum(self._data, 0, out=self._data)
        increment_version(self)
        return self

    def uniform_(self, a: float = 0.0, b: float = 1.0, *, generator: Any = None) -> Tensor:
        """Fill this tensor with uniform random numbers in [a, b), in place.

        Differs from torch: the numbers come from minigrad's NumPy generator (CuPy's on a GPU), so a seed gives
        other values than torch's.
        """
        self[...] = _backend.rng(self.device, generator).uniform(a, b, size=self._data.shape)
        return self

    # torch's new_* factories: the dtype and device of this tensor unless given.
    def _new_like(self, size: tuple, fill: Any, dtype: Any, device: Any, requires_grad: builtins.bool,
                  data: Any = None) -> Tensor:
        dt = self.dtype if dtype is None else _dtype.from_numpy_dtype(_dtype.to_numpy_dtype(dtype))
        dev = self.device if device is None else _backend.as_device(device)
        if data is not None:
            array = as_array(data, dt, dev)
        else:
            if len(size) == 1 and isinstance(size[0], (tuple, list)):
                size = tuple(size[0])
            shape = tuple(builtins.int(n) for n in size)
            xp = _backend.xp_of_device(dev)
            array = xp.empty(shape, dtype=dt.np) if fill is None else xp.full(shape, fill, dtype=dt.np)
        t = Tensor._wrap(array)
        if requires_grad:
            if not dt.is_floating_point:
                raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
            t.requires_grad_(True)
        return t

    def new_zeros(self, *size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
        return self._new_like(size, 0, dtype, device, requires_grad)

    def new_ones(self, *size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
        return self._new_like(size, 1, dtype, device, requires_grad)

    def new_empty(self, *size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
        return self._new_like(size, None, dtype, device, requires_grad)

    def new_full(self, size: Any, fill_value: Any, *, dtype: Any = None, device: Any = None,
                 requires_grad: bool = False) -> Tensor:
        return self._new_like((size,), fill_value, dtype, device, requires_grad)

    def new_tensor(self, data: Any, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
        return self._new_like((), None, dtype, device, requires_grad, data=data)

    def normal_(self, mean: float = 0.0, std: float = 1.0, *, generator: Any = None) -> Tensor:
        """Fill this tensor with normal random numbers of ``mean`` and ``std``, in place.

        Differs from torch: the numbers come from minigrad's NumPy generator (CuPy's on a GPU), so a seed gives
        other values than torch's.
        """
        self[...] = _backend.rng(self.device, generator).normal(mean, std, size=self._data.shape)
        return self

    def bernoulli(self, *, generator: Any = None) -> Tensor:
        """1 with probability ``self`` (probabilities in [0, 1]), else 0: ``minigrad.bernoulli(self)``."""
        return _sampling.bernoulli(self, generator=generator)

    def bernoulli_(self, p: Any = 0.5, *, generator: Any = None) -> Tensor:
        """Fill this tensor with 1 with probability ``p`` (a number, or a tensor that broadcasts to this one's
        shape), else 0, in place.

        Differs from torch: the numbers come from minigrad's NumPy generator (CuPy's on a GPU), so a seed gives
        other values than torch's.
        """
        if isinstance(p, Tensor):
            prob = p._data
            if prob.size and not builtins.bool(((prob >= 0) & (prob <= 1)).all()):
                raise RuntimeError(_sampling.P_RANGE_MESSAGE)
            shape, target = prob.shape, self._data.shape
            for i in range(1, len(shape) + 1):
                if len(shape) > len(target) or shape[-i] not in (1, target[-i]):
                    k = builtins.min(i, len(target))
                    raise RuntimeError(f"The expanded size of the tensor ({target[-k]}) must match the existing size "
                                       f"({shape[-i]}) at non-singleton dimension {len(target) - k}.  Target sizes: "
                                       f"{list(target)}.  Tensor sizes: {list(shape)}")
            if type(prob) is not type(self._data):
                raise_device_mismatch((self, p))
        else:
            prob = builtins.float(p)
            if not 0 <= prob <= 1:
                raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p}")
        self[...] = _sampling.bernoulli_draw(prob, self._data.shape, self._data.dtype, generator)
        return self

    def exponential_(self, lambd: float = 1, *, generator: Any = None) -> Tensor:
        """Fill this tensor with numbers drawn from the exponential distribution of rate ``lambd``, in place.

        Differs from torch: the numbers come from minigrad's NumPy generator (CuPy's on a GPU), so a seed gives
        other values than torch's.
        """
        if not self._data.dtype.kind == "f":
            raise RuntimeError("Exponential distribution is a continuous probability distribution. dtype must be a "
                               f"floating point but you specified {_dtype.SCALAR_TYPE_NAMES[self.dtype.name]}")
        if not lambd > 0:
            raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd}")
        draw = _backend.rng(self.device, generator).standard_exponential(self._data.shape)
        self[...] = draw / lambd
        return self

    def random_(self, *args: Any, generator: Any = None, **kwargs: Any) -> Tensor:
        """torch's ``random_(from=0, to=None)``: fill this tensor with integers drawn uniformly from
        ``[from, to - 1]``; ``random_(to)`` draws from ``[0, to - 1]``; without ``to`` the range ends at the
        dtype's largest integer (``2**mantissa`` for floats, as torch: 2**24 for float32, 2**53 for float64).

        Differs from torch: the numbers come from minigrad's NumPy generator (CuPy's on a GPU), so a seed gives
        other values than torch's.
        """
        unknown = set(kwargs) - {"from", "to"}
        if unknown or len(args) > 2:
            raise TypeError(f"random_() got an unexpected argument {sorted(unknown)[0] if unknown else args[2]!r}")
        if len(args) == 1 and not kwargs:
            low, high = 0, args[0]
        else:
            given = dict(zip(("from", "to"), args))
            for k, v in kwargs.items():
                if k in given:
                    raise TypeError(f"random_() got multiple values for argument '{k}'")
                given[k] = v
            low, high = given.get("from", 0), given.get("to")
        dt = self._data.dtype
        if dt.kind == "f":
            top = 2 ** {2: 11, 4: 24, 8: 53}[dt.itemsize]
            bottom = -top
        elif dt.kind == "b":
            bottom, top = 0, 1
        else:
            bottom, top = builtins.int(numpy.iinfo(dt).min), builtins.int(numpy.iinfo(dt).max)
        c_name = _dtype.C_TYPE_NAMES[self.dtype.name].replace("long int", "long").replace("short int", "short")
        low = builtins.int(low)
        if high is None:
            if not bottom <= low <= top:
                raise RuntimeError(f"from is out of bounds for {c_name}")
            last = top
        else:
            high = builtins.int(high)
            if low >= high:
                raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
            if not bottom <= low <= top:
                raise RuntimeError(f"from is out of bounds for {c_name}")
            if not bottom <= high - 1 <= top:
                raise RuntimeError(f"to - 1 is out of bounds for {c_name}")
            last = high - 1
        draw = _backend.rng(self.device, generator).integers(low, last, size=self._data.shape, endpoint=True)
        self[...] = draw.astype(dt)
        return self

    def multinomial(self, num_samples: builtins.int, replacement: builtins.bool = False, *,
                    generator: Any = None) -> Tensor:
        return _sampling.multinomial(self, num_samples, replacement, generator=generator)

    def storage_offset(self) -> builtins.int:
        """How many elements from the start of the memory this tensor views (0 for a tensor of its own)."""
        data = root = self._data
        while getattr(root, "base", None) is not None and type(root.base) is type(data):
            root = root.base
        if root is data:
            return 0
        address = (lambda a: a.__array_interface__["data"][0]) if isinstance(data, numpy.ndarray) else \
            (lambda a: a.data.ptr)
        return (address(data) - address(root)) // data.itemsize

    __iadd__ = add_
    __isub__ = sub_
    __imul__ = mul_
    __itruediv__ = div_

    def __setitem__(self, index: Any, value: Any) -> None:
        if type(index) is tuple or isinstance(index, Tensor):
            refuse_byte_mask_fill(index, value)
        if isinstance(value, Tensor) and value._vc is not None and value._vc is self._vc:
            where = unwrap_index(index)
            _refuse_partial_overlap(self._data[where] if is_basic(where) else self._data, value)  # k[1:] = k[:-1]
        if self._records_inplace(value):
            if isinstance(value, Tensor) and type(value._data) is not type(self._data):
                raise_device_mismatch((self, value))
            self._take_place_of(copy_slices(self, value, unwrap_index(index)), value)
            return
        index = unwrap_index(index)
        if 0 in self._data.strides:  # torch refuses a destination whose elements share memory (x[:, 0] = 5)
            _refuse_overlap(self._data[index] if is_basic(index) else self._data)
        value = value._data if isinstance(value, Tensor) else value
        if hasattr(value, "shape"):
            value = fit_value(value, self._data[index].ndim)
        _writable(self._data)[index] = value
        increment_version(self)

    # -- differentiable ops: each is the function of minigrad/ops with the same name ------------
    # Assigned, not wrapped: ``x + y`` calls ops.add directly, one Python call less per op.
    __add__ = add = ops.add
    __sub__ = sub = ops.sub
    __mul__ = mul = ops.mul
    __truediv__ = div = ops.div
    __pow__ = pow = ops.pow
    __matmul__ = matmul = ops.matmul
    mm = _mm
    dot = _dot
    __neg__ = neg = negative = ops.neg
    __abs__ = abs = ops.abs
    __getitem__ = getitem

    # An ndarray on the left reaches these (see __array_priority__); torch refuses it there, and
    # NotImplemented makes Python raise its own TypeError, worded as torch's.
    def __radd__(self, other: Any) -> Tensor:
        return NotImplemented if isinstance(other, numpy.ndarray) else ops.add(other, self)

    def __rsub__(self, other: Any) -> Tensor:
        if isinstance(other, numpy.ndarray):
            return NotImplemented
        return named(ops.sub(other, self), "RsubBackward1")  # torch's node for scalar - tensor

    def __rmul__(self, other: Any) -> Tensor:
        return NotImplemented if isinstance(other, numpy.ndarray) else ops.mul(other, self)

    def __rtruediv__(self, other: Any) -> Tensor:
        return ops.div(other, self)  # torch divides by an ndarray (1 / t times it)

    def __rpow__(self, other: Any) -> Tensor:
        return NotImplemented if isinstance(other, numpy.ndarray) else ops.pow(other, self)

    def __rfloordiv__(self, other: Any) -> Tensor:
        return NotImplemented if isinstance(other, numpy.ndarray) else _ew.floor_divide(other, self)

    def __rmod__(self, other: Any) -> Tensor:
        return NotImplemented if isinstance(other, numpy.ndarray) else _ew.remainder(other, self)

    def __rmatmul__(self, other: Any) -> Tensor:
        return NotImplemented if isinstance(other, numpy.ndarray) else ops.matmul(other, self)

    exp = ops.exp
    log = ops.log
    sqrt = ops.sqrt
    sin = ops.sin
    cos = ops.cos
    tanh = ops.tanh
    sigmoid = ops.sigmoid
    relu = ops.relu
    clamp = clip = ops.clamp
    maximum = ops.maximum
    log1p = _ew.log1p
    expm1 = _ew.expm1
    rsqrt = _ew.rsqrt
    reciprocal = _ew.reciprocal
    erf = _ew.erf
    floor = _ew.floor
    ceil = _ew.ceil
    trunc = _ew.trunc
    round = _ew.round
    sign = _ew.sign
    __floordiv__ = floor_divide = _ew.floor_divide
    __mod__ = remainder = _ew.remainder
    isnan = _ew.isnan
    isinf = _ew.isinf
    isfinite = _ew.isfinite
    nan_to_num = _ew.nan_to_num
    minimum = ops.minimum

    def square(self) -> Tensor:
        return ops.pow(self, 2)

    def where(self, condition: Tensor, other: Any) -> Tensor:
        return ops.where(condition, self, other)

    sum = ops.sum
    mean = ops.mean
    max = ops.max
    min = ops.min
    amax = ops.amax
    amin = ops.amin
    argmax = ops.argmax
    argmin = ops.argmin
    var = ops.var
    std = ops.std

    def softmax(self, *args: Any, **kwargs: Any) -> Tensor:
        if not args and "dim" not in kwargs and "axis" not in kwargs:  # the method has no implicit dim
            raise TypeError('softmax() missing 1 required positional arguments: "dim"')
        return ops.softmax(self, *args, **kwargs)

    def log_softmax(self, *args: Any, **kwargs: Any) -> Tensor:
        if not args and "dim" not in kwargs and "axis" not in kwargs:
            raise TypeError('log_softmax() missing 1 required positional arguments: "dim"')
        return ops.log_softmax(self, *args, **kwargs)

    def __format__(self, format_spec: str) -> str:
        from ._format import tensor_format

        return tensor_format(self, format_spec)

    reshape = ops.reshape
    view = ops.view
    flatten = ops.flatten
    permute = ops.permute
    transpose = ops.transpose
    t = ops.t
    unsqueeze = ops.unsqueeze
    squeeze = ops.squeeze
    expand = ops.expand
    gather = ops.gather

    norm = ops.norm
    prod = ops.prod
    cumsum = ops.cumsum
    cumprod = ops.cumprod
    logsumexp = ops.logsumexp
    sort = ops.sort
    argsort = ops.argsort
    topk = ops.topk
    unique = ops.unique
    chunk = ops.chunk
    unbind = ops.unbind
    unflatten = ops.unflatten
    flip = ops.flip
    roll = ops.roll
    repeat = ops.repeat
    repeat_interleave = ops.repeat_interleave
    tile = ops.tile
    narrow = ops.narrow
    masked_fill = ops.masked_fill
    masked_select = ops.masked_select
    scatter = ops.scatter
    scatter_add = ops.scatter_add
    index_select = ops.index_select
    take_along_dim = ops.take_along_dim
    tril = _matrix.tril
    triu = _matrix.triu
    diag = _matrix.diag
    trace = _matrix.trace
    outer = _matrix.outer
    bmm = _bmm
    lerp = _ew.lerp
    dist = _distance.dist
    isclose = _comparison.isclose
    nonzero = _comparison.nonzero
    bincount = _counting.bincount
    histc = _counting.histc
    argwhere = _counting.argwhere
    count_nonzero = _counting.count_nonzero
    diff = _counting.diff
    cross = _counting.cross

    def tril_(self, diagonal: builtins.int = 0) -> Tensor:
        return self._write_result(lambda: _matrix.tril(self, diagonal))

    def triu_(self, diagonal: builtins.int = 0) -> Tensor:
        return self._write_result(lambda: _matrix.triu(self, diagonal))

    def lerp_(self, end: Tensor, weight: Any) -> Tensor:
        return self._write_result(lambda: _ew.lerp(self, end, weight), end, weight)

    def split(self, split_size: Any, dim: builtins.int = 0) -> tuple:
        return ops.split(self, split_size, dim)

    def _write_result(self, compute: Callable, *values: Any) -> Tensor:
        """An in-place op given by its out-of-place ``compute()``: recorded when a gradient needs it, else written
        into this tensor's memory."""
        if self._records_inplace(*values):
            return self._take_place_of(compute(), *values)
        _refuse_overlap(self._data)
        out = compute()
        if out._data.shape != self._data.shape:
            raise RuntimeError(f"output with shape {list(self._data.shape)} doesn't match the broadcast shape "
                               f"{list(out._data.shape)}")
        self._data[...] = out._data
        increment_version(self)
        return self

    def masked_fill_(self, mask: Tensor, value: Any) -> Tensor:
        return self._write_result(lambda: ops.masked_fill(self, mask, value), value)

    def scatter_(self, dim: builtins.int, index: Tensor, src: Any = None, *, value: Any = None,
                 reduce: Any = None) -> Tensor:
        """``scatter`` written into this tensor, in place: ``self[index[i][j]][j] = src[i][j]`` for dim=0.

        Differs from torch: ``reduce="multiply"`` raises NotImplementedError; ``reduce="add"`` works.
        """
        return self._write_result(lambda: ops.scatter(self, dim, index, src, value=value, reduce=reduce), src)

    def scatter_add_(self, dim: builtins.int, index: Tensor, src: Tensor) -> Tensor:
        return self._write_result(lambda: ops.scatter_add(self, dim, index, src), src)

    def view_as(self, other: Tensor) -> Tensor:
        return ops.view(self, other._data.shape)

    def reshape_as(self, other: Tensor) -> Tensor:
        return ops.reshape(self, other._data.shape)

    def expand_as(self, other: Tensor) -> Tensor:
        return ops.expand(self, other._data.shape)

    @property
    def T(self) -> Tensor:
        """The dims in reverse order."""
        return ops.permute(self, tuple(reversed(range(self._data.ndim))))

    @property
    def mT(self) -> Tensor:
        """The last two dims swapped (a batch of transposed matrices)."""
        if self._data.ndim == 0:
            warnings.warn("Tensor.mT is deprecated on 0-D tensors. This function is the identity in these cases.",
                          UserWarning, stacklevel=2)
            return ops.permute(self, ())
        if self._data.ndim == 1:
            raise RuntimeError(f"tensor.mT is only supported on matrices or batches of matrices. Got "
                               f"{self._data.ndim}-D tensor.")
        return ops.transpose(self, -2, -1)

    # -- comparisons and logic (not differentiable: plain tensors, as in torch) --------------
    def _compare(self, other: Any, op: Callable) -> Tensor:
        if isinstance(other, Tensor):
            other = other._data
        elif isinstance(other, numpy.ndarray) and op in _ORDERING:
            return NotImplemented  # torch refuses to order a tensor and an ndarray (Python's TypeError)
        return Tensor._wrap(op(self._data, other))

    # ``t == None`` is False and ``t != None`` True (Python's fallback after NotImplemented), as in
    # torch, so that ``if t == None:`` works.
    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return NotImplemented if other is None else self._compare(other, _eq)

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return NotImplemented if other is None else self._compare(other, _ne)

    def __lt__(self, other: Any) -> Tensor:
        return self._compare(other, _lt)

    def __le__(self, other: Any) -> Tensor:
        return self._compare(other, _le)

    def __gt__(self, other: Any) -> Tensor:
        return self._compare(other, _gt)

    def __ge__(self, other: Any) -> Tensor:
        return self._compare(other, _ge)

    def eq(self, other: Any) -> Tensor:
        return _method_result(self.__eq__(other), "eq", other)

    def ne(self, other: Any) -> Tensor:
        return _method_result(self.__ne__(other), "ne", other)

    def lt(self, other: Any) -> Tensor:
        return _method_result(self.__lt__(other), "lt", other)

    def le(self, other: Any) -> Tensor:
        return _method_result(self.__le__(other), "le", other)

    def gt(self, other: Any) -> Tensor:
        return _method_result(self.__gt__(other), "gt", other)

    def ge(self, other: Any) -> Tensor:
        return _method_result(self.__ge__(other), "ge", other)

    def __invert__(self) -> Tensor:
        return Tensor._wrap(~self._data)

    def __and__(self, other: Any) -> Tensor:
        return self._compare(other, _and)

    def __or__(self, other: Any) -> Tensor:
        return self._compare(other, _or)

    def __rand__(self, other: Any) -> Tensor:
        return NotImplemented if isinstance(other, numpy.ndarray) else self._compare(other, _and)

    def __ror__(self, other: Any) -> Tensor:
        return NotImplemented if isinstance(other, numpy.ndarray) else self._compare(other, _or)

    def equal(self, other: Tensor) -> bool:
        return self.shape == other.shape and builtins.bool((self._data == other._data).all())

    def allclose(self, other: Tensor, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False) -> bool:
        """Whether ``isclose`` holds everywhere (torch's definition, with its dtype rules)."""
        return builtins.bool(_comparison.isclose(self, other, rtol, atol, equal_nan)._data.all())

    def all(self, dim: builtins.int | None = None, keepdim: builtins.bool = False) -> Tensor:
        return Tensor._wrap(self._data.all(axis=dim, keepdims=keepdim))

    def any(self, dim: builtins.int | None = None, keepdim: builtins.bool = False) -> Tensor:
        return Tensor._wrap(self._data.any(axis=dim, keepdims=keepdim))


_new = object.__new__


def _legacy_data(args: tuple, kwargs: dict, device: Any, dtype: Any = None) -> Any:
    """The array of ``Tensor(*args, **kwargs)``, by torch's rules for its legacy constructor (``dtype`` is
    a NumPy dtype for the typed ones, ``LongTensor``; the default float dtype otherwise)."""
    dtype = _dtype.get_default_dtype().np if dtype is None else dtype
    if kwargs.keys() - {"size"} or (kwargs and args):
        got = ", ".join([type(a).__name__ for a in args] + [f"{k}={type(v).__name__}" for k, v in kwargs.items()])
        raise TypeError(f"new() received an invalid combination of arguments - got ({got}), but expected one of:\n"
                        " * (*, torch.device device = None)\n * (torch.Storage storage)\n * (Tensor other)\n"
                        " * (tuple of ints size, *, torch.device device = None)\n"
                        " * (object data, *, torch.device device = None)")
    dev = _backend.as_device(device) if device is not None else _backend.device("cpu")
    xp = _backend.xp_of_device(dev)
    if "size" in kwargs:
        args = tuple(kwargs["size"])
    elif len(args) == 1 and isinstance(args[0], Size):
        args = tuple(args[0])
    elif len(args) == 1 and not isinstance(args[0], builtins.int):
        data = args[0]
        if isinstance(data, str):
            raise TypeError(f"new(): invalid data type '{type(data).__name__}'")
        if isinstance(data, (builtins.float, builtins.bool, numpy.generic)):
            kind = type(data)
            name = kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__name__}"
            raise TypeError(f"new(): data must be a sequence (got {name})")
        if isinstance(data, numpy.ndarray) and data.dtype == dtype and dev.type == "cpu":
            return data  # torch shares an array of the default dtype, and copies any other
        return as_array(data, _dtype.from_numpy_dtype(dtype), dev)
    for i, n in enumerate(args):
        if not isinstance(n, builtins.int) or isinstance(n, builtins.bool):
            raise TypeError(f"new(): argument 'size' failed to unpack the object at pos {i + 1} with error \"type "
                            f"must be tuple of ints,but got {type(n).__name__}\"")
        if n < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {n}: {list(args)}")
    return xp.empty(args if args else (0,), dtype=dtype)


def _iadd(a: Any, b: Any) -> None:
    a += b


def _isub(a: Any, b: Any) -> None:
    a -= b


def _imul(a: Any, b: Any) -> None:
    a *= b


def _idiv(a: Any, b: Any) -> None:
    a /= b


def _eq(a: Any, b: Any) -> Any:
    return a == b


def _ne(a: Any, b: Any) -> Any:
    return a != b


def _lt(a: Any, b: Any) -> Any:
    return a < b


def _le(a: Any, b: Any) -> Any:
    return a <= b


def _gt(a: Any, b: Any) -> Any:
    return a > b


def _ge(a: Any, b: Any) -> Any:
    return a >= b


def _and(a: Any, b: Any) -> Any:
    return a & b


def _or(a: Any, b: Any) -> Any:
    return a | b


_ORDERING = (_lt, _le, _gt, _ge)


def _writable(a: Any) -> Any:
    """``a``, or a writable view of it when it is an expanded (broadcast) array.

    torch writes into an expanded tensor where no two written elements share a location
    (``x[0] = v``) and fills one (``fill_``, ``zero_``: every location gets the same value); NumPy
    marks broadcast arrays read-only. Other writes are refused (``_refuse_overlap``), as torch does.
    """
    flags = getattr(a, "flags", None)
    if flags is not None and not flags.writeable and 0 in a.strides:
        a = a.view()
        a.flags.writeable = True
    return a


def _refuse_overlap(a: Any) -> None:
    """torch's refusal of an in-place write where elements share memory (a dim expanded from size 1)."""
    if 0 in getattr(a, "strides", ()) and any(stride == 0 and n > 1 for stride, n in zip(a.strides, a.shape)):
        raise RuntimeError("unsupported operation: more than one element of the written-to tensor refers to a single "
                           "memory location. Please clone() the tensor before performing the operation.")


def _check_assigned_grad(t: Tensor, g: Any) -> None:
    """torch's checks on ``t.grad = g``, in its order."""
    if not isinstance(g, Tensor):
        kind = type(g)
        name = kind.__name__ if kind.__module__ in ("builtins", "__main__") else f"{kind.__module__}.{kind.__name__}"
        raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of type {name}")
    if g is t:
        raise RuntimeError("can't assign Variable as its own grad")
    a, b = g._data, t._data
    if a.dtype != b.dtype:
        raise RuntimeError(f"attempting to assign a gradient with dtype '{_dtype.C_TYPE_NAMES[g.dtype.name]}' to a "
                           f"tensor with grad_dtype '{_dtype.SCALAR_TYPE_NAMES[t.dtype.name]}'. The gradient must "
                           "match the tensor's grad_dtype (defaults to the tensor's dtype).")
    if type(a) is not type(b) or (type(a) is not numpy.ndarray and g.device != t.device):
        dg, dt = g.device, t.device
        if dg.type != dt.type:
            raise RuntimeError(f"attempting to assign a gradient with device type '{dg.type}' to a tensor with device "
                               f"type '{dt.type}'. Please ensure that the gradient and the tensor are on the same "
                               "device")
        raise RuntimeError(f"attempting to assign a gradient located on device with index '{dg.index}' to a tensor "
                           f"located on device with index '{dt.index}'. Please ensure that the gradient and the tensor "
                           "are on the same device")
    if a.shape != b.shape:
        raise RuntimeError(f"attempting to assign a gradient of size '{list(a.shape)}' to a tensor of size "
                           f"'{list(b.shape)}'. Please ensure that the gradient and the tensor are the same size")


def _method_result(out: Any, name: str, other: Any) -> Tensor:
    """What ``t.eq(other)`` returns: the operator's result, or torch's TypeError where the operator gives up."""
    if out is NotImplemented:
        raise TypeError(f"{name}() received an invalid combination of arguments - got ({type(other).__name__}), but "
                        "expected one of:\n * (Tensor other)\n * (Number other)")
    return out


def _raise_inplace_error(t: Tensor, value: Any, op: Callable, exc: Exception) -> None:
    """torch's RuntimeError for an in-place op whose result cannot be stored in ``t``."""
    other_shape = value._data.shape if isinstance(value, Tensor) else numpy.shape(value)
    if isinstance(exc, ValueError):
        try:
            shape = numpy.broadcast_shapes(t._data.shape, other_shape)
        except ValueError:
            message = broadcast_message(t._data.shape, other_shape)
            if message is None:
                raise exc from None
            raise RuntimeError(message) from None
        if shape == t._data.shape:  # the shapes fit: NumPy refused something else (a read-only expand)
            raise exc
        raise RuntimeError(f"output with shape {list(t._data.shape)} doesn't match the broadcast shape "
                           f"{list(shape)}") from None
    if isinstance(value, Tensor) and value._data.dtype.kind == "f":
        result = value.dtype
    elif isinstance(value, builtins.float) or op is _idiv:
        result = _dtype.get_default_dtype()
    else:
        result = _dtype.int64
    names = _dtype.SCALAR_TYPE_NAMES
    raise RuntimeError(f"result type {names[result.name]} can't be cast to the desired output type "
                       f"{names[t.dtype.name]}") from None


def _partial_overlap(a: Any, b: Any) -> builtins.bool:
    """torch's check for an in-place write of ``b`` into ``a``: both dense, their memory overlapping but not the same.

    As torch, a full overlap (``x.copy_(x)``) is allowed, and so is any pair where one is not
    contiguous (torch cannot decide cheaply there and lets it through).
    """
    if isinstance(a, numpy.generic) or isinstance(b, numpy.generic):  # a NumPy scalar is a copy
        return False
    if not (a.flags.c_contiguous and b.flags.c_contiguous) or a.size == 0 or b.size == 0:
        return False
    start = (lambda x: x.__array_interface__["data"][0]) if isinstance(a, numpy.ndarray) else (lambda x: x.data.ptr)
    a0, b0 = start(a), start(b)
    a1, b1 = a0 + a.nbytes, b0 + b.nbytes
    return a0 < b1 and b0 < a1 and (a0, a1) != (b0, b1)


def _refuse_partial_overlap(target: Any, value: Any) -> None:
    if isinstance(value, Tensor) and _partial_overlap(target, value._data):
        raise RuntimeError("unsupported operation: some elements of the input tensor and the written-to tensor "
                           "refer to a single memory location. Please clone() the tensor before performing the "
                           "operation.")


class RemovableHandle:
    """What ``register_hook`` returns: ``remove()`` unregisters the hook."""

    def __init__(self, hooks: list, fn: Callable) -> None:
        self._hooks, self._fn = hooks, fn

    def remove(self) -> None:
        for i, (_, fn) in enumerate(self._hooks):
            if fn is self._fn:
                del self._hooks[i]
                return


class Size(tuple):
    """torch.Size: a tuple that prints as ``minigrad.Size([2, 3])``.

    Differs from torch: its repr says ``minigrad.Size([2, 3])`` where torch's says ``torch.Size([2, 3])``.
    """

    def __repr__(self) -> str:
        return f"minigrad.Size({list(self)})"

    def numel(self) -> int:
        n = 1
        for s in self:
            n *= s
        return n
