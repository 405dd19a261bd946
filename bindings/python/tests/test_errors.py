"""Every error class through real bad inputs, with the library's message."""

import ctypes
import struct
import zlib

import numpy as np
import pytest

import rwcnn
from rwcnn import _lib
from conftest import write_safetensors

pytestmark = pytest.mark.usefixtures("lib")


def png_chunk(kind, data):
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def png_header_only(width, height):
    """A PNG signature and a valid IHDR (8-bit RGB) claiming width x height,
    and an IDAT too small for it: the header alone says how big it is."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr)
            + png_chunk(b"IDAT", zlib.compress(b"\0" * 16)) + png_chunk(b"IEND", b""))


def check_error(exc_info, cls, status):
    e = exc_info.value
    assert type(e) is cls
    assert isinstance(e, rwcnn.Error)
    assert e.status == status
    assert str(e) and e.message == str(e)
    return str(e)


# ---- ArgumentError --------------------------------------------------------------

def test_bad_cut_lists_valid_names():
    with pytest.raises(rwcnn.ArgumentError) as ei:
        rwcnn.Model(arch="vgg16", cut="pool9")
    msg = check_error(ei, rwcnn.ArgumentError, 1)
    assert "pool9" in msg
    for name in ("conv1_1", "pool2", "conv5_3", "pool5"):
        assert name in msg
    assert isinstance(ei.value, ValueError)


@pytest.mark.parametrize("kwargs", [
    dict(arch="8,X,16", cut="conv1_1"),
    dict(arch="", cut="conv1_1"),
    dict(arch="8k4", cut="conv1_1"),
    dict(arch="8", cut="conv1_1", width=0.0),
    dict(arch="8", cut="conv1_1", kernel_size=4),
    dict(arch="8", cut="conv1_1", scale="fixed", std=-1.0),
])
def test_bad_model_configs(kwargs):
    with pytest.raises(rwcnn.ArgumentError) as ei:
        rwcnn.Model(**kwargs)
    check_error(ei, rwcnn.ArgumentError, 1)


def test_binding_side_argument_checks():
    for kwargs in (dict(distribution="gaussian"), dict(unpool="max"), dict(decoder="learned"),
                   dict(seed=-1), dict(arch=3)):
        with pytest.raises(rwcnn.ArgumentError):
            rwcnn.Model(**kwargs)
    with pytest.raises(rwcnn.ArgumentError):
        rwcnn.load_image("x.png", channels=2)
    with pytest.raises(rwcnn.ArgumentError):
        rwcnn.save_image("x.png", np.zeros((3, 2, 2), np.float32), bit_depth=12)


def test_library_argument_errors():
    with rwcnn.Model(arch="8,M,16,M", cut="pool2") as m:
        with pytest.raises(rwcnn.ArgumentError) as ei:
            m.encode(np.zeros((1, 16, 16), np.float32))          # 1 channel into RGB
        assert "channels" in check_error(ei, rwcnn.ArgumentError, 1)
        with pytest.raises(rwcnn.ArgumentError):
            m.encode(np.zeros((3, 3, 3), np.float32))             # too small for the pools
        with pytest.raises(rwcnn.ArgumentError):
            m.feature_shape(0, 10)
        with pytest.raises(rwcnn.ArgumentError):
            m.feature_shape(100000, 100000)                       # absurd: beyond 65536
        with pytest.raises(rwcnn.ArgumentError):
            m.decode(np.zeros((16, 2, 2), np.float32))            # switches needed
    with pytest.raises(rwcnn.ArgumentError):
        rwcnn.set_threads(0)
    with pytest.raises(rwcnn.ArgumentError):
        rwcnn.save_image("x.png", np.zeros((2, 4, 4), np.float32))  # 2 channels
    with pytest.raises(rwcnn.ArgumentError):
        rwcnn.ssim(np.zeros((3, 5, 5), np.float32), np.zeros((3, 5, 5), np.float32))


def test_buffer_too_small_names_size(lib):
    """Raw calls raise by themselves (errcheck on every status function)."""
    img = np.zeros((3, 4, 4), np.float32)
    small = np.zeros(1, np.float32)
    size = ctypes.c_size_t()
    with pytest.raises(rwcnn.BufferTooSmallError) as ei:
        lib.rwcnn_png_encode(_lib.float_ptr(img), 3, 4, 4, 8, small.ctypes.data_as(ctypes.c_void_p),
                             1, ctypes.byref(size))
    assert ei.value.status == _lib.RWCNN_ERR_BUFFER_TOO_SMALL and "needs" in str(ei.value)
    assert isinstance(ei.value, rwcnn.ArgumentError)  # still caught as an argument error
    with rwcnn.Model(arch="4", cut="conv1_1") as m, m._use() as h:
        out = np.zeros(5, np.float32)
        with pytest.raises(rwcnn.BufferTooSmallError, match="64"):   # 4 x 4 x 4 floats needed
            lib.rwcnn_model_encode(h, _lib.float_ptr(img), 1, 3, 4, 4, _lib.float_ptr(out), 5)
        with pytest.raises(rwcnn.ArgumentError):
            lib.rwcnn_model_encode(h, None, 1, 3, 4, 4, _lib.float_ptr(out), 5)


def test_every_status_function_has_errcheck(lib):
    for name, (restype, _) in _lib.PROTOTYPES.items():
        f = getattr(lib, name)
        if restype is _lib.status_t:
            assert f.errcheck is _lib._errcheck, name
        assert lib.rwcnn_get_threads() >= 1 and lib.rwcnn_version_number() > 0  # plain ints


# ---- FileError ---------------------------------------------------------------------

def test_missing_files(tmp_path):
    with pytest.raises(rwcnn.FileError) as ei:
        rwcnn.load_image(tmp_path / "nope.png")
    check_error(ei, rwcnn.FileError, 2)
    assert isinstance(ei.value, OSError)
    with pytest.raises(rwcnn.FileError):
        rwcnn.Model.load(tmp_path / "nope.safetensors")
    with pytest.raises(rwcnn.FileError):
        rwcnn.save_image(tmp_path / "no" / "such" / "dir.png", np.zeros((3, 2, 2), np.float32))
    with rwcnn.Model(arch="4", cut="conv1_1") as m:
        with pytest.raises(rwcnn.FileError):
            m.save(tmp_path / "no" / "dir" / "m.safetensors")
        with pytest.raises(rwcnn.FileError):
            m.load_torchvision(tmp_path / "nope.safetensors")


# ---- FormatError -------------------------------------------------------------------

def test_corrupt_png(tmp_path, photos):
    bad = tmp_path / "text.png"
    bad.write_bytes(b"this is not a PNG file at all\n" * 4)
    with pytest.raises(rwcnn.FormatError) as ei:
        rwcnn.load_image(bad)
    check_error(ei, rwcnn.FormatError, 3)
    data = open(photos[0], "rb").read()
    trunc = tmp_path / "truncated.png"
    trunc.write_bytes(data[:len(data) // 2])
    with pytest.raises(rwcnn.FormatError):
        rwcnn.load_image(trunc)
    flipped = bytearray(data)
    for i in range(100, len(flipped), 97):
        flipped[i] ^= 0x5A
    with pytest.raises(rwcnn.FormatError):
        rwcnn.load_image_bytes(bytes(flipped))
    with pytest.raises(rwcnn.FormatError):
        rwcnn.load_image_bytes(b"\x89PNG\r\n\x1a\n")
    with pytest.raises(rwcnn.FormatError):
        rwcnn.load_image_bytes(png_header_only(8, 8))             # IDAT too short


def test_corrupt_safetensors(tmp_path):
    garbage = tmp_path / "garbage.safetensors"
    garbage.write_bytes(b"\xff" * 64)
    with pytest.raises(rwcnn.FormatError) as ei:
        rwcnn.Model.load(garbage)
    check_error(ei, rwcnn.FormatError, 3)

    with rwcnn.Model(arch="8,M,16", cut="conv2_1") as m:
        good = tmp_path / "good.safetensors"
        m.save(good)
    data = good.read_bytes()
    trunc = tmp_path / "truncated.safetensors"
    trunc.write_bytes(data[:len(data) - 100])
    with pytest.raises(rwcnn.FormatError):
        rwcnn.Model.load(trunc)

    foreign = tmp_path / "foreign.safetensors"                     # valid file, not rwcnn's
    write_safetensors(foreign, {"w": np.zeros((2, 2), np.float32)}, {"format": "pt"})
    with pytest.raises(rwcnn.FormatError):
        rwcnn.Model.load(foreign)

    from conftest import read_safetensors
    meta, tensors = read_safetensors(good)
    tensors["encoder.conv2_1.weight"] = tensors["encoder.conv2_1.weight"][:, :4]
    wrong = tmp_path / "wrong_shape.safetensors"
    write_safetensors(wrong, tensors, meta)
    with pytest.raises(rwcnn.FormatError) as ei:
        rwcnn.Model.load(wrong)
    assert "conv2_1" in str(ei.value)

    with rwcnn.Model(arch="vgg16", cut="conv1_1", normalize_input=True) as m:
        with pytest.raises(rwcnn.FormatError) as ei:
            m.load_torchvision(good)                               # no features.<i> tensors
        assert "features" in str(ei.value)


# ---- OutOfMemoryError ------------------------------------------------------------

def test_png_pixel_limit(tmp_path):
    huge = png_header_only(100000, 100000)                         # 10 gigapixels claimed
    with pytest.raises(rwcnn.OutOfMemoryError) as ei:
        rwcnn.load_image_bytes(huge)
    check_error(ei, rwcnn.OutOfMemoryError, 4)
    assert isinstance(ei.value, MemoryError)
    path = tmp_path / "bomb.png"
    path.write_bytes(huge)
    assert rwcnn.image_size(path) == (100000, 100000, 3)          # the header is fine
    with pytest.raises(rwcnn.OutOfMemoryError):
        rwcnn.load_image(path)


def test_working_memory_limit():
    # One conv with 8192 channels on 256 x 256: its output alone is 2 GiB,
    # over a 1 GiB budget; refused before anything is allocated.
    rwcnn.set_memory_limit(1 << 30)
    try:
        with rwcnn.Model(arch="8192", cut="conv1_1") as m:
            assert m.feature_shape(256, 256) == (8192, 256, 256)
            with pytest.raises(rwcnn.OutOfMemoryError) as ei:
                m.encode(np.zeros((3, 256, 256), np.float32))
            check_error(ei, rwcnn.OutOfMemoryError, 4)
            assert "working memory (encode)" in str(ei.value)
    finally:
        rwcnn.set_memory_limit(None)


def test_absurd_batch_sizes_in_the_c_call(lib):
    a = np.zeros(16, np.float32)
    out = ctypes.c_double()
    with pytest.raises(rwcnn.OutOfMemoryError):
        lib.rwcnn_mse(_lib.float_ptr(a), _lib.float_ptr(a), 1 << 20, 3, 1 << 12, 1 << 12,
                      ctypes.byref(out))
    with pytest.raises((rwcnn.OutOfMemoryError, rwcnn.ArgumentError)):
        lib.rwcnn_mse(_lib.float_ptr(a), _lib.float_ptr(a), 1 << 62, 1 << 62, 4, 4,
                      ctypes.byref(out))                          # overflows size_t


# ---- mapping ---------------------------------------------------------------------------

def test_status_mapping():
    from rwcnn.errors import error_for_status
    for status, cls in [(1, rwcnn.ArgumentError), (2, rwcnn.FileError), (3, rwcnn.FormatError),
                        (4, rwcnn.OutOfMemoryError), (5, rwcnn.CancelledError),
                        (6, rwcnn.InternalError)]:
        e = error_for_status(status, "m")
        assert type(e) is cls and e.status == status and str(e) == "m"
    e = error_for_status(42, "x")
    assert type(e) is rwcnn.Error and e.status == 42
