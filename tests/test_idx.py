"""load_idx against IDX files written byte by byte here with struct (not with the loader's code)."""

import gzip
import struct

import numpy as np
import pytest

import minigrad
from minigrad.utils.idx import load_idx

# code -> (struct format of one value, dtype name minigrad should give, sample values)
CASES = {
    0x08: ("B", "uint8", [0, 1, 127, 128, 255, 7]),
    0x09: ("b", "int8", [-128, -1, 0, 1, 127, 5]),
    0x0B: ("h", "int16", [-32768, -2, 0, 3, 32767, 258]),
    0x0C: ("i", "int32", [-2**31, -70000, 0, 1, 2**31 - 1, 65536]),
    0x0D: ("f", "float32", [-1.5, 0.0, 0.25, 3.0, 1e30, -2.0]),
    0x0E: ("d", "float64", [-1.5, 1e-300, 0.1, 3.0, 1e300, -2.0]),
}


def idx_bytes(code: int, dims: list, fmt: str, values: list) -> bytes:
    header = bytes([0, 0, code, len(dims)]) + struct.pack(f">{len(dims)}I", *dims)
    return header + struct.pack(f">{len(values)}{fmt}", *values)


@pytest.mark.parametrize("code", sorted(CASES))
def test_every_dtype_code_reads_back_the_values_written(tmp_path, code):
    fmt, name, values = CASES[code]
    path = tmp_path / "data-idx2"
    path.write_bytes(idx_bytes(code, [2, 3], fmt, values))
    t = load_idx(path)
    assert isinstance(t, minigrad.Tensor)
    assert t.shape == (2, 3)
    assert t.dtype == getattr(minigrad, name)
    expected = [values[:3], values[3:]]
    if name == "float32":  # 0.25 etc. are exact in float32; 1e30 rounds the same way struct rounds it
        expected = np.array(expected, dtype=np.float32).tolist()
    assert t.tolist() == expected


def test_mnist_like_images_file_and_its_gzip_give_the_same_tensor(tmp_path):
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, size=(4, 28, 28)).ravel().tolist()
    raw = idx_bytes(0x08, [4, 28, 28], "B", pixels)
    assert raw[:4] == b"\x00\x00\x08\x03"  # the magic number 0x00000803 of MNIST images
    (tmp_path / "train-images-idx3-ubyte").write_bytes(raw)
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(raw))
    plain = load_idx(tmp_path / "train-images-idx3-ubyte")
    packed = load_idx(str(tmp_path / "train-images-idx3-ubyte.gz"))
    assert plain.shape == (4, 28, 28) and plain.dtype == minigrad.uint8
    assert plain.numpy().ravel().tolist() == pixels
    assert packed.equal(plain)


def test_labels_file_is_one_dimensional(tmp_path):
    path = tmp_path / "t10k-labels-idx1-ubyte"
    path.write_bytes(idx_bytes(0x08, [5], "B", [7, 2, 1, 0, 4]))
    assert load_idx(path).tolist() == [7, 2, 1, 0, 4]


def test_result_is_native_byte_order_and_writable(tmp_path):
    path = tmp_path / "x"
    path.write_bytes(idx_bytes(0x0C, [3], "i", [1, 256, -1]))
    arr = load_idx(path).numpy()
    assert arr.dtype.isnative and arr.flags.writeable
    arr[0] = 5  # a read-only buffer would raise here


def test_empty_dimension(tmp_path):
    path = tmp_path / "empty"
    path.write_bytes(idx_bytes(0x0D, [0, 4], "f", []))
    assert load_idx(path).shape == (0, 4)


@pytest.mark.parametrize("raw, problem", [
    (b"\x12\x34\x08\x01" + struct.pack(">I", 1) + b"\x00", "magic"),
    (b"\x00\x00\x0a\x01" + struct.pack(">I", 1) + b"\x00", "dtype code 0x0A"),
    (b"\x00\x00\x08", "too short"),
    (b"\x00\x00\x08\x03" + struct.pack(">I", 2), "truncated header"),
    (idx_bytes(0x08, [2, 3], "B", [1, 2, 3, 4, 5, 6])[:-1], "truncated data"),
    (idx_bytes(0x0E, [2], "d", [1.0, 2.0])[:-3], "truncated data"),
    (idx_bytes(0x08, [2], "B", [1, 2]) + b"\x00", "unexpected bytes"),
])
def test_corrupt_files_raise_value_error_naming_file_and_problem(tmp_path, raw, problem):
    path = tmp_path / "broken-idx"
    path.write_bytes(raw)
    with pytest.raises(ValueError) as info:
        load_idx(path)
    assert str(path) in str(info.value)
    assert problem in str(info.value)


def test_truncated_gzip_raises_value_error(tmp_path):
    path = tmp_path / "broken.gz"
    path.write_bytes(gzip.compress(idx_bytes(0x08, [100], "B", list(range(100))))[:-10])
    with pytest.raises(ValueError, match="broken.gz.*gzip"):
        load_idx(path)


def test_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_idx(tmp_path / "nope")
