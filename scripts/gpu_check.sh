#!/usr/bin/env bash
# The checks that need a real GPU with CuPy: the `cuda`-marked tests, the digits example on the
# GPU and the training-step benchmark against hand-written CuPy and torch CUDA.
# Usage: bash scripts/gpu_check.sh [LOG_DIR]     (each part's output is also written to LOG_DIR)
set -uo pipefail
log=${1:-.}
export PYTHONUNBUFFERED=1
status=0
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv | tee "$log/gpu.txt"
python3 -c "import cupy, numpy, torch; print('CuPy', cupy.__version__, 'NumPy', numpy.__version__, 'torch', torch.__version__)" \
    | tee -a "$log/gpu.txt"
python3 -m pytest -m cuda -rs -q -p no:cacheprovider tests/test_devices.py tests/test_memory.py tests/test_checkpoints.py \
    tests/test_optim_paths.py tests/test_distributed.py 2>&1 \
    | tee "$log/cuda_tests.txt" || status=1
python3 examples/train_digits.py --device cuda 2>&1 | tee "$log/digits_cuda.txt" || status=1
python3 benchmarks/mlp_step.py --device cuda --repeats "${REPEATS:-10}" 2>&1 | tee "$log/bench_cuda.txt" || status=1
exit $status
