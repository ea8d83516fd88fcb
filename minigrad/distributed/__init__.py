"""``minigrad.distributed``: torch.distributed's names for processes that work together, on MPI.

minigrad does not move bytes between machines itself: the processes are MPI processes
(``mpiexec -n 4 python train.py``, or ``srun`` on a cluster), the collectives are MPI's, called
through ``mpi4py`` (``pip install "minigrad[distributed]"`` brings mpi4py and the MPICH library).
Arrays on a GPU (CuPy) go through NCCL (``cupy.cuda.nccl``) with ``backend="nccl"``; with the MPI
backend they are copied to the host and back.

Every collective works in place on a tensor's array, as torch's: ``all_reduce(t)`` leaves the sum
over all processes in ``t`` on every process. They are blocking; ``async_op=True`` returns an
already completed ``Work``, so code that calls ``.wait()`` runs unchanged.

The backend names torch's CPU scripts use (``"gloo"``, ``"mpi"``) both mean MPI here.

Differs from torch: the processes are an MPI job, 'gloo' means MPI and 'nccl' is NCCL through CuPy, and there is
only the default group of all processes (``group`` arguments are ignored, ``new_group`` is missing).
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import numpy

from .._backend import xp_of
from ..autograd.graph import TensorBase, increment_version

__all__ = ["ReduceOp", "Work", "all_gather", "all_reduce", "barrier", "broadcast", "destroy_process_group",
           "get_backend", "get_rank", "get_world_size", "init_process_group", "is_available", "is_initialized",
           "is_mpi_available", "is_nccl_available", "reduce"]


class ReduceOp:
    """How ``all_reduce`` and ``reduce`` combine the processes' values (torch.distributed.ReduceOp).

    Differs from torch: the ops are plain strings (SUM, AVG, PRODUCT, MIN and MAX), with no BAND, BOR, BXOR or
    PREMUL_SUM, and AVG works with MPI too, where torch's gloo refuses it.
    """

    SUM = "sum"
    AVG = "avg"  # the sum divided by the number of processes
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"


_NOT_INITIALIZED = "Default process group has not been initialized, please make sure to call init_process_group."


class Work:
    """What a collective returns with ``async_op=True``: minigrad's collectives have finished already.

    Differs from torch: it is always complete, ``wait()`` returns True at once, and it has no ``result()``,
    ``exception()`` or ``get_future()``.
    """

    def wait(self, timeout: Any = None) -> bool:
        return True

    def is_completed(self) -> bool:
        return True


class _MPIGroup:
    """All processes of the MPI job: each collective is one MPI call on host arrays."""

    name = "mpi"

    def __init__(self) -> None:
        from mpi4py import MPI

        self.mpi = MPI
        self.comm = MPI.COMM_WORLD.Dup()  # our own communicator: the user's MPI traffic can't mix with ours
        self.rank = self.comm.Get_rank()
        self.size = self.comm.Get_size()
        self.ops = {ReduceOp.SUM: MPI.SUM, ReduceOp.AVG: MPI.SUM, ReduceOp.PRODUCT: MPI.PROD,
                    ReduceOp.MIN: MPI.MIN, ReduceOp.MAX: MPI.MAX}

    def all_reduce(self, array: Any, op: str) -> None:
        self.comm.Allreduce(self.mpi.IN_PLACE, array, op=self.ops[op])

    def reduce(self, array: Any, op: str, dst: int) -> None:
        if self.rank == dst:
            self.comm.Reduce(self.mpi.IN_PLACE, array, op=self.ops[op], root=dst)
        else:
            self.comm.Reduce(array, None, op=self.ops[op], root=dst)

    def broadcast(self, array: Any, src: int) -> None:
        self.comm.Bcast(array, root=src)

    def all_gather(self, array: Any) -> numpy.ndarray:
        out = numpy.empty((self.size, *array.shape), dtype=array.dtype)
        self.comm.Allgather(array, out)
        return out

    def barrier(self) -> None:
        self.comm.Barrier()

    def close(self) -> None:
        self.comm.Free()


class _NCCLGroup(_MPIGroup):
    """CuPy arrays through NCCL; MPI starts the processes, hands out NCCL's id, and serves the host arrays."""

    name = "nccl"

    def __init__(self) -> None:
        super().__init__()
        import cupy
        from cupy.cuda import nccl

        self.cupy, self.nccl = cupy, nccl
        cupy.cuda.Device(self.rank % cupy.cuda.runtime.getDeviceCount()).use()  # one GPU per process
        uid = self.comm.bcast(nccl.get_unique_id() if self.rank == 0 else None, root=0)
        self.nccl_comm = nccl.NcclCommunicator(self.size, uid, self.rank)
        self.nccl_ops = {ReduceOp.SUM: nccl.NCCL_SUM, ReduceOp.AVG: nccl.NCCL_SUM, ReduceOp.PRODUCT: nccl.NCCL_PROD,
                         ReduceOp.MIN: nccl.NCCL_MIN, ReduceOp.MAX: nccl.NCCL_MAX}
        self.nccl_types = {numpy.dtype(k): getattr(nccl, v) for k, v in (
            ("float16", "NCCL_FLOAT16"), ("float32", "NCCL_FLOAT32"), ("float64", "NCCL_FLOAT64"),
            ("int32", "NCCL_INT32"), ("int64", "NCCL_INT64"), ("uint8", "NCCL_UINT8"), ("int8", "NCCL_INT8"))}

    def _on_gpu(self, array: Any) -> bool:
        return isinstance(array, self.cupy.ndarray)

    def _stream(self) -> int:
        return self.cupy.cuda.get_current_stream().ptr

    def all_reduce(self, array: Any, op: str) -> None:
        if not self._on_gpu(array):
            return super().all_reduce(array, op)
        self.nccl_comm.allReduce(array.data.ptr, array.data.ptr, array.size, self.nccl_types[array.dtype],
                                 self.nccl_ops[op], self._stream())

    def reduce(self, array: Any, op: str, dst: int) -> None:
        if not self._on_gpu(array):
            return super().reduce(array, op, dst)
        self.nccl_comm.reduce(array.data.ptr, array.data.ptr, array.size, self.nccl_types[array.dtype],
                              self.nccl_ops[op], dst, self._stream())

    def broadcast(self, array: Any, src: int) -> None:
        if not self._on_gpu(array):
            return super().broadcast(array, src)
        self.nccl_comm.bcast(array.data.ptr, array.size, self.nccl_types[array.dtype], src, self._stream())

    def all_gather(self, array: Any) -> Any:
        if not self._on_gpu(array):
            return super().all_gather(array)
        out = self.cupy.empty((self.size, *array.shape), dtype=array.dtype)
        self.nccl_comm.allGather(array.data.ptr, out.data.ptr, array.size, self.nccl_types[array.dtype],
                                 self._stream())
        return out

    def barrier(self) -> None:
        self.cupy.cuda.get_current_stream().synchronize()
        super().barrier()


_group: _MPIGroup | None = None


def is_available() -> bool:
    """Whether minigrad can run collectives here: mpi4py (with an MPI library) is installed.

    Differs from torch: it asks whether mpi4py imports, not whether the distributed package was built.
    """
    return is_mpi_available()


def is_mpi_available() -> bool:
    try:
        importlib.import_module("mpi4py.MPI")
    except ImportError:
        return False
    return True


def is_nccl_available() -> bool:
    """Whether the 'nccl' backend can be used: NCCL is reachable here.

    Differs from torch: NCCL is CuPy's (``cupy.cuda.nccl``), so this asks whether that module imports.
    """
    try:
        importlib.import_module("cupy.cuda.nccl")
    except ImportError:
        return False
    return True


def is_initialized() -> bool:
    return _group is not None


def init_process_group(backend: str | None = None, init_method: str | None = None, timeout: Any = None,
                       world_size: int = -1, rank: int = -1, store: Any = None, group_name: str = "",
                       pg_options: Any = None, device_id: Any = None) -> None:
    """Join the processes of this MPI job (``mpiexec -n N python script.py``): rank and size come from MPI.

    ``backend``: ``"mpi"`` (the default; ``"gloo"`` is taken to mean it too) or ``"nccl"`` for CuPy
    arrays on GPUs. ``world_size`` and ``rank``, when given, must be MPI's. ``init_method``,
    ``store`` and the rest are accepted for torch's signature: MPI has already connected the
    processes.

    Differs from torch: 'gloo' is taken to mean MPI, and ``init_method``, ``store``, ``timeout``, ``group_name``,
    ``pg_options`` and ``device_id`` are accepted and ignored. ``world_size`` and ``rank`` must be MPI's own.
    """
    global _group
    if _group is not None:
        raise ValueError("trying to initialize the default process group twice!")
    name = (backend or "mpi").lower()
    if name not in ("mpi", "gloo", "nccl"):
        raise ValueError(f"Invalid backend: '{backend}'; minigrad has 'mpi' (also for 'gloo') and 'nccl'")
    if not is_mpi_available():
        raise RuntimeError("minigrad.distributed needs mpi4py and an MPI library: "
                           "pip install \"minigrad[distributed]\"")
    group = _NCCLGroup() if name == "nccl" else _MPIGroup()
    if world_size not in (-1, group.size) or rank not in (-1, group.rank):
        group.close()
        raise ValueError(f"world_size={world_size}, rank={rank} given, but MPI started this process as rank "
                         f"{group.rank} of {group.size} (start it with mpiexec -n {world_size})")
    _group = group
    if group.size > 1:
        _abort_job_on_uncaught_exceptions(group)


def _abort_job_on_uncaught_exceptions(group: _MPIGroup) -> None:
    """Make an uncaught exception in one process end the whole job (``MPI_Abort``) after its traceback.

    Otherwise the other processes would wait forever in their next collective for the one that died.
    """
    previous = sys.excepthook

    def hook(kind: type, value: BaseException, tb: Any) -> None:
        previous(kind, value, tb)
        sys.stderr.write(f"minigrad.distributed: rank {group.rank} raised {kind.__name__}; aborting all "
                         f"{group.size} processes\n")
        sys.stderr.flush()
        group.mpi.COMM_WORLD.Abort(1)

    sys.excepthook = hook


def destroy_process_group(group: Any = None) -> None:
    """Leave the default process group (the collectives then need ``init_process_group`` again).

    Differs from torch: ``group`` is accepted and ignored: the default group is the only one.
    """
    global _group
    if _group is not None:
        _group.close()
        _group = None


def _default() -> _MPIGroup:
    if _group is None:
        raise ValueError(_NOT_INITIALIZED)
    return _group


def get_rank(group: Any = None) -> int:
    """This process's rank in the default group (its MPI rank).

    Differs from torch: ``group`` is accepted and ignored: the default group is the only one.
    """
    return _default().rank


def get_world_size(group: Any = None) -> int:
    """The number of processes in the default group (the MPI job's size).

    Differs from torch: ``group`` is accepted and ignored: the default group is the only one.
    """
    return _default().size


def get_backend(group: Any = None) -> str:
    """The default group's backend name: 'mpi' or 'nccl'.

    Differs from torch: a group started with 'gloo' reports 'mpi', and ``group`` is accepted and ignored.
    """
    return _default().name


def barrier(group: Any = None, async_op: bool = False, device_ids: Any = None, timeout: Any = None) -> Work | None:
    """Wait until every process has reached this call.

    Differs from torch: it always blocks (``async_op=True`` returns a completed ``Work``), and ``group``,
    ``device_ids`` and ``timeout`` are accepted and ignored.
    """
    _default().barrier()
    return Work() if async_op else None


def _check_tensor(tensor: Any, name: str = "tensor") -> None:
    if not isinstance(tensor, TensorBase):
        raise TypeError(f"Invalid function argument. Expected parameter `{name}` of type minigrad.Tensor\n"
                        f"             but got {type(tensor)} instead.")


def _in_place(tensor: TensorBase, collective: Any) -> None:
    """Run ``collective`` on the tensor's array; MPI needs contiguous memory, so a strided tensor goes
    through a contiguous copy, written back after."""
    _check_tensor(tensor)
    array = tensor._data
    work = array if array.flags.c_contiguous else xp_of(array).ascontiguousarray(array)
    collective(work)
    if work is not array:
        array[...] = work
    increment_version(tensor)


def all_reduce(tensor: TensorBase, op: str = ReduceOp.SUM, group: Any = None, async_op: bool = False) -> Work | None:
    """Combine ``tensor`` over all processes (the sum by default); every process gets the result, in place.

    Differs from torch: it always blocks (``async_op=True`` returns a completed ``Work``), and ``group`` is
    accepted and ignored: the default group is the only one.
    """
    g = _default()

    def collective(array: Any) -> None:
        g.all_reduce(array, op)
        if op == ReduceOp.AVG:
            _divide_in_place(array, g.size)

    _in_place(tensor, collective)
    return Work() if async_op else None


def reduce(tensor: TensorBase, dst: int | None = None, op: str = ReduceOp.SUM, group: Any = None,
           async_op: bool = False) -> Work | None:
    """Combine ``tensor`` over all processes into process ``dst``'s tensor; the others' are left as they are.

    Differs from torch: it always blocks (``async_op=True`` returns a completed ``Work``), and ``group`` is
    accepted and ignored: the default group is the only one.
    """
    g = _default()
    dst = 0 if dst is None else dst

    def collective(array: Any) -> None:
        g.reduce(array, op, dst)
        if op == ReduceOp.AVG and g.rank == dst:
            _divide_in_place(array, g.size)

    _in_place(tensor, collective)
    return Work() if async_op else None


def broadcast(tensor: TensorBase, src: int | None = None, group: Any = None, async_op: bool = False) -> Work | None:
    """Copy process ``src``'s tensor into every other process's ``tensor``, in place.

    Differs from torch: it always blocks (``async_op=True`` returns a completed ``Work``), and ``group`` is
    accepted and ignored: the default group is the only one.
    """
    g = _default()
    _in_place(tensor, lambda array: g.broadcast(array, 0 if src is None else src))
    return Work() if async_op else None


def all_gather(tensor_list: list, tensor: TensorBase, group: Any = None, async_op: bool = False) -> Work | None:
    """Fill ``tensor_list[i]`` (in place) with process ``i``'s ``tensor``, on every process.

    Differs from torch: it always blocks (``async_op=True`` returns a completed ``Work``), and ``group`` is
    accepted and ignored: the default group is the only one.
    """
    g = _default()
    _check_tensor(tensor)
    if len(tensor_list) != g.size:
        raise ValueError(f"tensor list size ({len(tensor_list)}) does not match world size ({g.size})")
    for i, t in enumerate(tensor_list):
        _check_tensor(t, "tensor_list")
        if tuple(t.shape) != tuple(tensor.shape):
            raise ValueError(f"all_gather: tensor_list[{i}] has shape {list(t.shape)}, expected "
                             f"{list(tensor.shape)} (the shape of the input tensor)")
    gathered = g.all_gather(xp_of(tensor._data).ascontiguousarray(tensor._data))
    for i, t in enumerate(tensor_list):
        t._data[...] = gathered[i]
        increment_version(t)
    return Work() if async_op else None


def _divide_in_place(array: Any, n: int) -> None:
    if array.dtype.kind in "fc":
        array /= n
    else:  # torch's AVG of integers rounds down
        xp_of(array).floor_divide(array, n, out=array)
