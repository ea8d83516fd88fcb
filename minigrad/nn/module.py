"""``Module``: the base class of every layer and model.

A module owns three ordered dicts, filled by plain attribute assignment:

* ``_parameters``: the ``Parameter`` objects (``self.weight = Parameter(...)``);
* ``_buffers``: tensors that are state but not learnable (``register_buffer``);
* ``_modules``: child modules (``self.fc = Linear(...)``).

Everything else (``parameters()``, ``state_dict()``, ``to()``, ``train()``, the printed
tree) walks these dicts, in the order in which the attributes were assigned.
"""

from __future__ import annotations

import builtins
import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from typing import Any, NamedTuple

from .. import _backend, _dtype
from .._grad_mode import is_grad_enabled
from ..autograd.function import Function
from ..tensor import Size, Tensor
from .hooks import RemovableHandle
from .parameter import Parameter


class _IncompatibleKeys(NamedTuple):
    missing_keys: list
    unexpected_keys: list

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return f"_IncompatibleKeys(missing_keys={self.missing_keys}, unexpected_keys={self.unexpected_keys})"

    __str__ = __repr__


class Module:
    """Base class of every layer and model (``torch.nn.Module``): parameters, buffers and submodules by attribute.

    Differs from torch: ``load_state_dict`` checks the whole dict before copying anything, so a failed load
    leaves the module unchanged where torch may have copied part of it. ``to()`` ignores ``non_blocking`` and
    refuses ``memory_format`` with a TypeError.
    """

    training: bool
    _has_backward_hooks = False  # set on a module when a full backward hook is registered: __call__ reads it

    def __init__(self) -> None:
        # object.__setattr__: our own __setattr__ needs these dicts to exist already.
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers_set", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_forward_pre_hooks", OrderedDict())
        object.__setattr__(self, "_forward_hooks", OrderedDict())
        object.__setattr__(self, "_forward_hooks_with_kwargs", set())  # ids of hooks given with_kwargs=True
        object.__setattr__(self, "_backward_pre_hooks", OrderedDict())
        object.__setattr__(self, "_backward_hooks", OrderedDict())

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required "forward" function')

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._forward_pre_hooks:  # checked first: most modules have no hooks, and calls are hot
            with_kwargs = self.__dict__.get("_forward_hooks_with_kwargs", ())
            for hook_id, hook in list(self._forward_pre_hooks.items()):
                if hook_id in with_kwargs:
                    result = hook(self, args, kwargs)
                    if result is not None:
                        if not (isinstance(result, tuple) and len(result) == 2):
                            raise RuntimeError("forward pre-hook must return None or a tuple of (new_args, "
                                               f"new_kwargs), but got {result}.")
                        args, kwargs = result
                else:
                    result = hook(self, args)
                    if result is not None:
                        args = result if isinstance(result, tuple) else (result,)
        backward_hooks = False
        if self._has_backward_hooks:  # a class default: one lookup for the modules that never had one
            backward_hooks = bool(self.__dict__.get("_backward_hooks") or self.__dict__.get("_backward_pre_hooks"))
        if backward_hooks:
            state = _BackwardHookState(self)
            args = state.wrap_inputs(args)
        output = self.forward(*args, **kwargs)
        if self._forward_hooks:
            with_kwargs = self.__dict__.get("_forward_hooks_with_kwargs", ())
            for hook_id, hook in list(self._forward_hooks.items()):
                result = hook(self, args, kwargs, output) if hook_id in with_kwargs else hook(self, args, output)
                if result is not None:
                    output = result
        if backward_hooks:
            output = state.wrap_outputs(output)
        return output

    # -- hooks --------------------------------------------------------------------------
    def register_forward_pre_hook(self, hook: Callable, *, prepend: bool = False,
                                  with_kwargs: bool = False) -> RemovableHandle:
        """Call ``hook(module, args)`` before ``forward``; a returned value replaces the arguments.

        With ``with_kwargs=True`` it is ``hook(module, args, kwargs)``, which may return ``(args, kwargs)``.
        """
        return self._add_forward_hook(self._forward_pre_hooks, hook, prepend, with_kwargs)

    def register_forward_hook(self, hook: Callable, *, prepend: bool = False,
                              with_kwargs: bool = False) -> RemovableHandle:
        """Call ``hook(module, args, output)`` after ``forward``; a returned value replaces the output.

        With ``with_kwargs=True`` it is ``hook(module, args, kwargs, output)``.
        """
        return self._add_forward_hook(self._forward_hooks, hook, prepend, with_kwargs)

    def _add_forward_hook(self, hooks: OrderedDict, hook: Callable, prepend: bool,
                          with_kwargs: bool) -> RemovableHandle:
        handle = _add_hook(hooks, hook, prepend)
        if with_kwargs:
            if "_forward_hooks_with_kwargs" not in self.__dict__:  # a module unpickled from before these existed
                object.__setattr__(self, "_forward_hooks_with_kwargs", set())
            self._forward_hooks_with_kwargs.add(handle.id)
        return handle

    def register_full_backward_pre_hook(self, hook: Callable, prepend: bool = False) -> RemovableHandle:
        """Call ``hook(module, grad_output)`` when the gradients of the module's outputs are known, before
        they go on into the module; a returned tuple replaces ``grad_output``."""
        object.__setattr__(self, "_has_backward_hooks", True)
        return _add_hook(self._hook_dict("_backward_pre_hooks"), hook, prepend)

    def register_full_backward_hook(self, hook: Callable, prepend: bool = False) -> RemovableHandle:
        """Call ``hook(module, grad_input, grad_output)`` once the gradients of the module's tensor inputs are
        computed (``None`` for inputs that need none); a returned tuple replaces ``grad_input``."""
        object.__setattr__(self, "_has_backward_hooks", True)
        return _add_hook(self._hook_dict("_backward_hooks"), hook, prepend)

    def _hook_dict(self, name: str) -> OrderedDict:
        if name not in self.__dict__:  # a module unpickled from before these existed
            object.__setattr__(self, name, OrderedDict())
        return self.__dict__[name]

    # -- registration ---------------------------------------------------------------------
    def register_parameter(self, name: str, param: Parameter | None) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign parameter before Module.__init__() call")
        _check_name("parameter", name)
        if hasattr(self, name) and name not in self._parameters:
            raise KeyError(f"attribute '{name}' already exists")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{_typename(param)}' object to parameter '{name}' "
                            "(minigrad.nn.Parameter or None required)")
        if param is not None and param.grad_fn is not None:
            raise ValueError(f"Cannot assign non-leaf Tensor to parameter '{name}'. Model parameters must be "
                             f"created explicitly. To express '{name}' as a function of another Tensor, compute "
                             "the value in the forward() method.")
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """A tensor that is part of the module's state but is not trained (saved in state_dict if persistent)."""
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot assign buffer before Module.__init__() call")
        _check_name("buffer", name)
        if hasattr(self, name) and name not in self._buffers:
            raise KeyError(f"attribute '{name}' already exists")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{_typename(tensor)}' object to buffer '{name}' "
                            "(minigrad Tensor or None required)")
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        if not isinstance(module, Module) and module is not None:
            raise TypeError(f"{_typename(module)} is not a Module subclass")
        if not isinstance(name, str):
            raise TypeError(f"module name should be a string. Got {_typename(name)}")
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        if "." in name:
            raise KeyError(f"module name can't contain \".\", got: {name}")
        if name == "":
            raise KeyError('module name can\'t be empty string ""')
        self._modules[name] = module

    register_module = add_module

    def __setattr__(self, name: str, value: Any) -> None:
        params = self.__dict__.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            self._forget(name, keep=self._parameters)
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{_typename(value)}' as parameter '{name}' "
                                "(minigrad.nn.Parameter or None expected)")
            params[name] = None
        elif isinstance(value, Module):
            if "_modules" not in self.__dict__:
                raise AttributeError("cannot assign module before Module.__init__() call")
            self._forget(name, keep=self._modules)
            self._modules[name] = value
        elif name in self.__dict__.get("_modules", ()):
            if value is not None:
                raise TypeError(f"cannot assign '{_typename(value)}' as child module '{name}' "
                                "(minigrad.nn.Module or None expected)")
            self._modules[name] = None
        elif name in self.__dict__.get("_buffers", ()):
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{_typename(value)}' as buffer '{name}' "
                                "(minigrad.Tensor or None expected)")
            self._buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def _forget(self, name: str, keep: dict) -> None:
        """Drop ``name`` from wherever else it was registered, so it is registered once.

        ``keep`` (the dict it is being assigned in) keeps its entry, and so its place: replacing
        ``seq[0]`` or ``self.fc`` must not move it to the end of the forward pass or state dict.
        """
        self.__dict__.pop(name, None)
        for d in (self._parameters, self._buffers, self._modules):
            if d is not keep:
                d.pop(name, None)
        self._non_persistent_buffers_set.discard(name)

    def __getattr__(self, name: str) -> Any:
        # Only called when normal lookup fails. Read __dict__ directly: during copy/unpickling the
        # dicts may not exist yet, and self._parameters would recurse into __getattr__.
        for dict_name in ("_parameters", "_buffers", "_modules"):
            d = self.__dict__.get(dict_name)
            if d is not None and name in d:
                return d[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        if name in self._parameters:
            del self._parameters[name]
        elif name in self._buffers:
            del self._buffers[name]
            self._non_persistent_buffers_set.discard(name)
        elif name in self._modules:
            del self._modules[name]
        else:
            object.__delattr__(self, name)

    # -- walking the tree -----------------------------------------------------------------
    def named_modules(self, memo: set | None = None, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Module]]:
        """This module and all below it, depth first, each once (a shared module keeps its first name).

        An explicit stack instead of recursion: nesting depth is then never limited by Python's stack.
        """
        if memo is None:
            memo = set()
        stack = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if remove_duplicate:
                if module in memo:
                    continue
                memo.add(module)
            yield name, module
            children = [(name + ("." if name else "") + child_name, child)
                        for child_name, child in module._modules.items() if child is not None]
            stack.extend(reversed(children))  # reversed: the first child comes off the stack first

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        seen = set()
        for name, module in self._modules.items():
            if module is not None and module not in seen:
                seen.add(module)
                yield name, module

    def children(self) -> Iterator[Module]:
        for _, module in self.named_children():
            yield module

    def _named_members(self, attr: str, prefix: str, recurse: bool, remove_duplicate: bool) -> Iterator:
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse else [(prefix, self)]
        seen = set()  # ids: a tensor shared by two modules (tied weights) is listed once
        for module_prefix, module in modules:
            for name, value in getattr(module, attr).items():
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                seen.add(id(value))
                yield module_prefix + ("." if module_prefix else "") + name, value

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        """``("0.weight", param)`` pairs, in registration order; a shared parameter is listed once."""
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Tensor]]:
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, buf in self.named_buffers(recurse=recurse):
            yield buf

    def apply(self, fn: Callable[[Module], None]) -> Module:
        """Call ``fn`` on every submodule (children first) and on this module; e.g. to initialise weights."""
        # Children before parents is the reverse of a depth-first walk that lists each
        # module's children right to left after it.
        order = []
        stack = [self]
        while stack:
            module = stack.pop()
            order.append(module)
            stack.extend(module.children())
        for module in reversed(order):
            fn(module)
        return self

    # -- modes and gradients --------------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        if not isinstance(mode, builtins.bool):
            raise ValueError("training mode is expected to be boolean")
        self.training = mode
        for module in self.children():
            module.train(mode)
        return self

    def eval(self) -> Module:
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Drop the gradients (``set_to_none=True``, which frees their memory) or fill them with zeros."""
        for p in self.parameters():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                p.grad.detach_()
                p.grad.zero_()

    # -- dtype and device -----------------------------------------------------------------
    def _apply(self, convert: Callable[[Any], Any]) -> Module:
        """Convert every parameter, gradient and buffer array with ``convert`` (array -> array).

        Parameters change IN PLACE: the same ``Parameter`` objects get the new arrays, so an
        optimizer that already holds them keeps working after ``model.to(...)``.
        """
        for module in self.modules():
            for p in module._parameters.values():
                if p is None:
                    continue
                p._data = convert(p._data)
                if p.grad is not None:
                    p.grad._data = convert(p.grad._data)
            for name, buf in module._buffers.items():
                if buf is not None:
                    new = convert(buf._data)
                    if new is not buf._data:  # as torch: a converted buffer is a new tensor
                        module._buffers[name] = Tensor._wrap(new)
        return self

    def to(self, *args: Any, **kwargs: Any) -> Module:
        """``to(device)``, ``to(dtype)``, ``to(device, dtype)`` or ``to(tensor)``, in place (returns self).

        A dtype applies to floating-point parameters and buffers only; integer buffers keep theirs.
        """
        device, dtype = _parse_to(args, kwargs)
        if dtype is not None and not dtype.is_floating_point:
            raise TypeError(f"nn.Module.to only accepts floating point or complex dtypes, but got desired "
                            f"dtype={dtype}")

        def convert(a: Any) -> Any:
            if device is not None:
                a = _backend.move(a, device)
            if dtype is not None and a.dtype.kind == "f":
                a = a.astype(dtype.np, copy=False)
            return a

        return self._apply(convert)

    def double(self) -> Module:
        return self.to(_dtype.float64)

    def float(self) -> Module:
        return self.to(_dtype.float32)

    def half(self) -> Module:
        return self.to(_dtype.float16)

    def cuda(self, device: int | str | _backend.device | None = None) -> Module:
        if device is None or isinstance(device, builtins.int):
            device = _backend.device("cuda", device)
        return self.to(device)

    def cpu(self) -> Module:
        return self.to(_backend.CPU)

    # -- state dict -----------------------------------------------------------------------
    def state_dict(self, *, destination: dict | None = None, prefix: str = "",
                   keep_vars: bool = False) -> OrderedDict:
        """Every parameter and persistent buffer by dotted name (``"0.weight"``).

        The values are detached tensors that share memory with the module, as in torch: they change
        when training continues. Save them (``minigrad.save``) or clone them to keep a snapshot.
        """
        if destination is None:
            destination = OrderedDict()
        for name, tensor in self._local_state().items():
            destination[prefix + name] = tensor if keep_vars else tensor.detach()
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination=destination, prefix=prefix + name + ".", keep_vars=keep_vars)
        return destination

    def _local_state(self) -> dict:
        state = {k: v for k, v in self._parameters.items() if v is not None}
        state.update((k, v) for k, v in self._buffers.items()
                     if v is not None and k not in self._non_persistent_buffers_set)
        return state

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True) -> _IncompatibleKeys:
        """Copy values into the parameters and buffers, keeping the same tensor objects.

        Unlike torch, everything is checked before anything is copied: on error the module is unchanged.
        Values must be tensors, as in torch (a list or a NumPy array is refused with torch's error).
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
        missing: list = []
        unexpected: list = []
        errors: list = []
        copies: list = []  # (destination tensor, source array), done only when all is well
        self._check_state(state_dict, "", missing, unexpected, errors, copies)
        if strict:
            if unexpected:
                errors.insert(0, f"Unexpected key(s) in state_dict: {_quoted(unexpected)}. ")
            if missing:
                errors.insert(0, f"Missing key(s) in state_dict: {_quoted(missing)}. ")
        if errors:
            raise RuntimeError("Error(s) in loading state_dict for {}:\n\t{}".format(
                type(self).__name__, "\n\t".join(errors)))
        for tensor, array in copies:
            tensor._data[...] = _backend.move(array, tensor.device)  # assignment casts to the tensor's dtype
        return _IncompatibleKeys(missing, unexpected)

    def _check_state(self, state_dict: Mapping, prefix: str, missing: list, unexpected: list, errors: list,
                     copies: list) -> None:
        """Collect what load_state_dict would do for this module and its children (in torch's order)."""
        local = self._local_state()
        for name, tensor in local.items():
            key = prefix + name
            if key not in state_dict:
                missing.append(key)
                continue
            value = state_dict[key]
            array = value._data if isinstance(value, Tensor) else None
            if array is None:
                errors.append(f'While copying the parameter named "{key}", expected minigrad.Tensor or '
                              f"Tensor-like object from checkpoint but received {type(value)}")
                continue
            if tuple(array.shape) != tuple(tensor.shape):
                errors.append(f"size mismatch for {key}: copying a param with shape {_size(array.shape)} from "
                              f"checkpoint, the shape in current model is {_size(tensor.shape)}.")
                continue
            copies.append((tensor, array))
        for key in state_dict:
            if not key.startswith(prefix):
                continue
            first = key[len(prefix):].split(".", 1)[0]
            if first not in self._modules and first not in local:
                unexpected.append(key)
        for name, module in self._modules.items():
            if module is not None:
                child_prefix = prefix + name + "."
                child_state = {k: v for k, v in state_dict.items() if k.startswith(child_prefix)}
                module._check_state(child_state, child_prefix, missing, unexpected, errors, copies)

    # -- printing -------------------------------------------------------------------------
    def extra_repr(self) -> str:
        """The text between the parentheses of this module's line, e.g. ``in_features=5, ...``."""
        return ""

    def _get_name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({name}): " + _addindent(repr(module), 2) for name, module in self._modules.items()]
        lines = extra_lines + child_lines
        main = self._get_name() + "("
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                main += extra_lines[0]
            else:
                main += "\n  " + "\n  ".join(lines) + "\n"
        return main + ")"


class _BackwardHookState:
    """One call of a module with full backward hooks: identity ops around its tensor inputs and outputs.

    The outputs' op sees the gradients of the outputs (``grad_output``): it runs the pre-hooks and keeps
    them. The inputs' op, one node for all tensor inputs, then sees the gradients of the inputs
    (``grad_input``) and runs the hooks. When no input needs a gradient, the hooks run from the outputs'
    op with ``grad_input`` all ``None``, as in torch.
    """

    def __init__(self, module: Module) -> None:
        self.module = module
        self.grad_output: tuple = ()
        self.n_inputs = 0
        self.inputs_wrapped = False

    def wrap_inputs(self, args: tuple) -> tuple:
        positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        self.n_inputs = len(positions)
        if not any(args[i].requires_grad for i in positions) or not is_grad_enabled():
            return args
        self.inputs_wrapped = True
        wrapped = _HookedInputs.apply(self, *(args[i] for i in positions))
        args = list(args)
        for i, w in zip(positions, wrapped):
            args[i] = w
        return tuple(args)

    def wrap_outputs(self, output: Any) -> Any:
        if not is_grad_enabled():
            return output
        if isinstance(output, Tensor):
            return _HookedOutputs.apply(self, output)[0] if output.requires_grad else output
        if isinstance(output, (tuple, list)) and any(isinstance(o, Tensor) and o.requires_grad for o in output):
            positions = [i for i, o in enumerate(output) if isinstance(o, Tensor)]
            wrapped = _HookedOutputs.apply(self, *(output[i] for i in positions))
            out = list(output)
            for i, w in zip(positions, wrapped):
                out[i] = w
            return type(output)(out)
        return output

    def run_pre_hooks(self, grads: tuple) -> tuple:
        for hook in list(self.module._hook_dict("_backward_pre_hooks").values()):
            result = hook(self.module, grads)
            if result is not None:
                grads = _checked_grads(result, grads, "backward pre hook")
        return grads

    def run_hooks(self, grad_input: tuple) -> tuple:
        for hook in list(self.module._hook_dict("_backward_hooks").values()):
            result = hook(self.module, grad_input, self.grad_output)
            if result is not None:
                grad_input = _checked_grads(result, grad_input, "backward hook")
        return grad_input


def _checked_grads(result: Any, grads: tuple, what: str) -> tuple:
    result = tuple(result) if isinstance(result, (tuple, list)) else (result,)
    if len(result) != len(grads):
        raise RuntimeError(f"{what} returned an invalid number of grad_input, got {len(result)}, but expected "
                           f"{len(grads)}")
    return result


class _HookedInputs(Function):
    @staticmethod
    def forward(ctx, state, *tensors):
        ctx.state = state
        return tuple(t.view_as(t) for t in tensors)

    @staticmethod
    def backward(ctx, *grads):
        grads = tuple(g if need else None for g, need in zip(grads, ctx.needs_input_grad[1:]))
        return (None, *ctx.state.run_hooks(grads))


class _HookedOutputs(Function):
    @staticmethod
    def forward(ctx, state, *tensors):
        ctx.state = state
        return tuple(t.view_as(t) for t in tensors)

    @staticmethod
    def backward(ctx, *grads):
        state = ctx.state
        grads = state.run_pre_hooks(grads)
        state.grad_output = grads
        if not state.inputs_wrapped:  # as torch, even when only pre-hooks are left
            warnings.warn("Full backward hook is firing when gradients are computed with respect to module outputs "
                          "since no inputs require gradients. See https://docs.pytorch.org/docs/main/generated/"
                          "torch.nn.Module.html#torch.nn.Module.register_full_backward_hook for more details.",
                          stacklevel=2)
            state.run_hooks((None,) * state.n_inputs)
        return (None, *grads)


def _add_hook(hooks: OrderedDict, hook: Callable, prepend: bool) -> RemovableHandle:
    handle = RemovableHandle(hooks)
    hooks[handle.id] = hook
    if prepend:
        hooks.move_to_end(handle.id, last=False)
    return handle


def _addindent(text: str, spaces: int) -> str:
    """Indent every line but the first (the first follows ``(name): ``); blank lines stay empty."""
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    return lines[0] + "\n" + "\n".join(" " * spaces + line if line.strip() else "" for line in lines[1:])


def _quoted(keys: list) -> str:
    return ", ".join(f'"{k}"' for k in keys)


def _check_name(kind: str, name: Any) -> None:
    if not isinstance(name, str):
        raise TypeError(f"{kind} name should be a string. Got {_typename(name)}")
    if "." in name:
        raise KeyError(f"{kind} name can't contain \".\"")
    if name == "":
        raise KeyError(f'{kind} name can\'t be empty string ""')


def _typename(obj: Any) -> str:
    if isinstance(obj, Tensor):
        return "minigrad." + type(obj).__name__
    module = type(obj).__module__
    name = type(obj).__qualname__
    return name if module in ("builtins", "__builtin__") else f"{module}.{name}"


def _size(shape: tuple) -> str:
    return repr(Size(shape))


def _parse_to(args: tuple, kwargs: dict) -> tuple:
    """The (device, dtype) asked for by ``to(...)``'s arguments."""
    device = kwargs.pop("device", None)
    dtype = kwargs.pop("dtype", None)
    kwargs.pop("non_blocking", None)
    if kwargs:
        raise TypeError(f"to() received an invalid combination of arguments: unexpected keyword "
                        f"'{next(iter(kwargs))}'")
    for a in args:
        if isinstance(a, _dtype.dtype):
            dtype = a
        elif isinstance(a, Tensor):
            device, dtype = a.device, a.dtype
        elif isinstance(a, builtins.bool):
            continue  # non_blocking given by position
        else:
            device = a
    return (None if device is None else _backend.as_device(device)), dtype
