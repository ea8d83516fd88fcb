"""Time ``minigrad.distributed.all_reduce`` against the message size, to fit the cost model t = a + n b.

    mpiexec -n 2 python benchmarks/allreduce.py

For each size (float32 elements), the median over 50 calls of one all_reduce, after 5 warm-up
calls, with a barrier before each call so that every process starts it together. Rank 0 prints a
table of milliseconds and the bandwidth seen (bytes sent per process, 2 (N-1)/N n, over the time).
"""

from __future__ import annotations

import statistics
import time

import minigrad as torch
import minigrad.distributed as dist

SIZES = [1, 1_000, 10_000, 100_000, 1_000_000, 4_000_000]


def main() -> None:
    dist.init_process_group()
    rank, world = dist.get_rank(), dist.get_world_size()
    rows = []
    for n in SIZES:
        t = torch.ones(n)
        times = []
        for i in range(55):
            dist.barrier()
            start = time.perf_counter()
            dist.all_reduce(t)
            if i >= 5:
                times.append(time.perf_counter() - start)
        rows.append((n, statistics.median(times)))
    if rank == 0:
        print(f"{world} processes; all_reduce of n float32 values, median of 50")
        print("| n | bytes | ms | sent per process (MB/s) |")
        print("|---|---|---|---|")
        for n, s in rows:
            sent = 2 * (world - 1) / world * 4 * n
            print(f"| {n:,} | {4 * n:,} | {1000 * s:.3f} | {sent / s / 1e6:,.0f} |")
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
