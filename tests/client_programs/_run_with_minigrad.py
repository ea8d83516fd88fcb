"""Run one torch program, with real torch (recording) or with minigrad as ``torch`` (replaying).

    python _run_with_minigrad.py --record TAPE PROGRAM.py    # real torch; writes TAPE (a pickle)
    python _run_with_minigrad.py --replay TAPE PROGRAM.py    # minigrad as torch; reads TAPE
    python _run_with_minigrad.py --replay-torch TAPE PROGRAM.py  # real torch replaying TAPE (calibration)

Both modes run PROGRAM unchanged, as ``__main__``, in the current directory, and finally write
``TAPE + ".final.npz"`` (recording) or ``TAPE + ".mg.npz"`` (replaying): the values of every module's
parameters and buffers at the end of the run, which the test compares besides the program's output.

Why a tape. minigrad's random generator is NumPy's, not torch's, so ``torch.manual_seed(1)`` gives other
numbers. Rather than editing each program, the runner makes every random number the minigrad run sees the one
torch drew at the same point, through four channels, each a first-in first-out list filled by the torch run:

* ``random``: the results of the random factories the programs call (``torch.randn``, ``rand``, ``randint``,
  ``randn_like``, ``rand_like``, ``normal``, ``randperm``). The minigrad run calls minigrad's own function
  (so its signature is exercised) and replaces its values with torch's, after checking shape and dtype.
* ``module``: a module's parameters and buffers at its first call (``Module.__call__``). Initialization
  happens in constructors and ``init_*`` functions whose draws differ in number and order between the two
  libraries, so they are not taped; the state a module has when first used is. The whole tree under the
  called module is taken at once (children are not taped again). A module given ``load_state_dict`` before
  its first call is not taped, so loading is tested, not masked. Values are copied in place
  (``Tensor.copy_``), so optimizers built earlier keep the same parameter objects.
* ``sampler``: the orders ``RandomSampler`` yields (``DataLoader(shuffle=True)``); recorded while the
  ``random`` channel is paused, since torch's sampler draws with ``torch.randperm`` itself.
* ``dropout``: the kept-element mask of each training-mode ``F.dropout`` (``output != 0``: where the input is
  0 the output is 0 whatever the mask). minigrad's ``F.dropout`` is called, then its output replaced by
  ``input * mask / (1 - p)``.

torch (in both modes, before the program's own ``manual_seed`` if any), Python's ``random`` and NumPy's global
generator are seeded (0), so every recording is the same: a program that draws from them
(``random.randint``, ``np.random.randn``) sees the same numbers in both runs.

In replay mode ``minigrad`` stands in for ``torch``: ``sys.modules['torch']`` and the submodules ``torch.nn``,
``torch.nn.functional``, ``torch.nn.init``, ``torch.optim``, ``torch.optim.lr_scheduler``, ``torch.utils``,
``torch.utils.data``, ``torch.autograd`` are minigrad's, so ``import torch.nn as nn`` and
``from torch.optim.lr_scheduler import StepLR`` resolve to minigrad.
"""

import pickle
import random
import runpy
import sys

import numpy as np

_RANDOM_FACTORIES = ("randn", "rand", "randint", "randn_like", "rand_like", "normal", "randperm")
_SUBMODULES = ("nn", "nn.functional", "nn.init", "optim", "optim.lr_scheduler", "utils", "utils.data", "autograd")


class _Tape:
    def __init__(self) -> None:
        self.channels: dict[str, list] = {"random": [], "module": [], "sampler": [], "dropout": []}
        self.paused = 0

    def push(self, channel: str, value) -> None:
        if not self.paused:
            self.channels[channel].append(value)

    def pop(self, channel: str, what: str):
        queue = self.channels[channel]
        if not queue:
            raise RuntimeError(f"tape: the minigrad run asks for more {channel!r} values than torch drew ({what})")
        return queue.pop(0)


def _mark_tree(module) -> None:
    for m in module.modules():
        m._client_tape_done = True


def _install(torch, tape: _Tape, record: bool, roots: list) -> None:
    """Patch ``torch`` (real torch when ``record``, else minigrad) to record to / replay from ``tape``."""
    for name in _RANDOM_FACTORIES:
        original = getattr(torch, name)

        def factory(*args, _original=original, _name=name, **kwargs):
            out = _original(*args, **kwargs)
            if record:
                tape.push("random", out.detach().numpy().copy())
                return out
            if tape.paused:
                return out
            value = tape.pop("random", f"torch.{_name}")
            if tuple(value.shape) != tuple(out.shape):
                raise RuntimeError(f"tape: torch.{_name} gave shape {value.shape} in torch, {tuple(out.shape)} here")
            return torch.tensor(value, dtype=out.dtype, requires_grad=out.requires_grad)

        setattr(torch, name, factory)

    module_class = torch.nn.Module
    original_call = module_class.__call__

    def call(self, *args, **kwargs):
        if not getattr(self, "_client_tape_done", False):
            _mark_tree(self)
            roots.append(self)
            if record:
                tape.push("module", {k: v.detach().numpy().copy() for k, v in self.state_dict().items()})
            else:
                saved = tape.pop("module", type(self).__name__)
                state = self.state_dict()
                if sorted(saved) != sorted(state):
                    raise RuntimeError(f"tape: {type(self).__name__} has state {sorted(state)} here, "
                                       f"{sorted(saved)} in torch")
                with torch.no_grad():
                    for k, v in state.items():
                        v.copy_(torch.tensor(saved[k], dtype=v.dtype))
        return original_call(self, *args, **kwargs)

    module_class.__call__ = call
    original_load = module_class.load_state_dict

    def load_state_dict(self, *args, **kwargs):
        _mark_tree(self)
        roots.append(self)
        return original_load(self, *args, **kwargs)

    module_class.load_state_dict = load_state_dict

    sampler_class = torch.utils.data.RandomSampler
    original_iter = sampler_class.__iter__

    def sampler_iter(self):
        tape.paused += 1
        try:
            order = [int(i) for i in original_iter(self)]
        finally:
            tape.paused -= 1
        if record:
            tape.push("sampler", order)
        else:
            recorded = tape.pop("sampler", "RandomSampler")
            if len(recorded) != len(order):
                raise RuntimeError(f"tape: RandomSampler gave {len(recorded)} indices in torch, {len(order)} here")
            order = recorded
        yield from order

    sampler_class.__iter__ = sampler_iter

    functional = torch.nn.functional
    original_dropout = functional.dropout

    def dropout(input, p=0.5, training=True, inplace=False):
        out = original_dropout(input, p, training, inplace)
        if not training or p == 0:
            return out
        if record:
            tape.push("dropout", (out != 0).numpy().copy())
            return out
        mask = tape.pop("dropout", "F.dropout")
        return input * torch.tensor(mask.astype(np.float32), dtype=input.dtype) / (1 - p)

    functional.dropout = dropout


def _final_state(roots: list) -> dict:
    seen, state = set(), {}
    for i, root in enumerate(roots):
        if id(root) in seen:
            continue
        seen.add(id(root))
        for k, v in root.state_dict().items():
            state[f"{i}:{type(root).__name__}.{k}"] = v.detach().numpy().copy()
    return state


def main(argv: list[str]) -> None:
    mode, tape_path, program = argv
    if mode not in ("--record", "--replay", "--replay-torch"):
        raise SystemExit(__doc__)
    record = mode == "--record"
    if mode != "--replay":  # --replay-torch: real torch replaying a tape (to calibrate tolerances, torch vs torch)
        import torch
    else:
        import minigrad as torch

        sys.modules["torch"] = torch
        for sub in _SUBMODULES:
            obj = torch
            for part in sub.split("."):
                obj = getattr(obj, part)
            sys.modules[f"torch.{sub}"] = obj
    tape = _Tape()
    if not record:
        with open(tape_path, "rb") as f:
            tape.channels = pickle.load(f)
    roots: list = []
    _install(torch, tape, record, roots)
    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)  # programs that never seed record the same tape every time
    sys.argv = [program]
    runpy.run_path(program, run_name="__main__")
    sys.stdout.flush()
    if record:
        with open(tape_path, "wb") as f:
            pickle.dump(tape.channels, f)
        np.savez(tape_path + ".final.npz", **_final_state(roots))
    else:
        left = {k: len(v) for k, v in tape.channels.items() if v}
        if left:
            raise RuntimeError(f"tape: torch drew more than the minigrad run used: {left}")
        np.savez(tape_path + ".mg.npz", **_final_state(roots))


if __name__ == "__main__":
    main(sys.argv[1:])
