# SPDX-License-Identifier: Apache-2.0
"""Tensors: owned by librnn, or wrapping a numpy array without copying."""
import ctypes
import weakref

import numpy as np

from . import _lib
from ._lib import F32, I32, TensorP, lib

_NP = {F32: np.dtype(np.float32), I32: np.dtype(np.int32)}


def _dtype_code(dtype):
    """'float32' / 'int32' / numpy dtypes / F32, I32 -> the rnn_dtype code."""
    if dtype in (F32, I32):
        return dtype
    d = np.dtype(dtype)
    if d == np.float32:
        return F32
    if d == np.int32:
        return I32
    raise TypeError("librnn tensors are float32 or int32 (got %s)" % d)


def _dims(shape):
    shape = tuple(int(s) for s in shape)
    return shape, (ctypes.c_int64 * max(1, len(shape)))(*shape)


def _destroy(handle, _keep):
    # _keep: the numpy array a wrapped tensor borrows; released after the tensor.
    lib.rnn_tensor_destroy(handle)


class _ArrayView:
    """Exposes a tensor's buffer to numpy; the array keeps this (and the tensor) alive."""

    def __init__(self, owner, addr, shape, dtype, readonly=False):
        self._owner = owner
        self.__array_interface__ = {"version": 3, "shape": tuple(shape),
                                    "typestr": dtype.str, "data": (addr, readonly)}


class Tensor:
    """A librnn tensor (``rnn_tensor``): float32 or int32, C order, rank 0..8.

    Made with :meth:`zeros`, :meth:`wrap` (zero copy over a numpy array, which
    the tensor keeps alive) or :meth:`from_numpy`. ``numpy()`` copies the data
    out; ``numpy(copy=False)`` is a view sharing the buffer (it keeps the tensor
    alive). ``close()`` (or ``with``) releases it now; otherwise it is released
    when garbage-collected.
    """

    __slots__ = ("_h", "_fin", "_array", "__weakref__")

    def __init__(self, handle, keep=None, owned=True):
        self._h = handle
        self._array = keep
        self._fin = weakref.finalize(self, _destroy, handle, keep) if owned else None

    # -------------------------------------------------------------- creation
    @classmethod
    def zeros(cls, shape, dtype="float32"):
        """An owned zero-filled tensor."""
        shape, dims = _dims(shape)
        h = TensorP()
        lib.rnn_tensor_create(_dtype_code(dtype), len(shape), dims, ctypes.byref(h))
        return cls(h)

    @classmethod
    def wrap(cls, array):
        """A tensor over ``array``'s memory, no copy: ``array`` must be a C-contiguous,
        aligned float32 or int32 numpy array. Writes through the tensor change it."""
        if not isinstance(array, np.ndarray):
            raise TypeError("Tensor.wrap needs a numpy array (got %s)" % type(array).__name__)
        code = _dtype_code(array.dtype)
        if not (array.flags.c_contiguous and array.flags.aligned and array.flags.writeable):
            raise ValueError("Tensor.wrap needs a C-contiguous, aligned, writeable array; "
                             "use Tensor.from_numpy (which copies when needed)")
        if array.ndim > _lib.MAX_RANK:
            raise ValueError("rank %d > %d" % (array.ndim, _lib.MAX_RANK))
        if array.size == 0:
            raise ValueError("librnn tensors have no empty dimension (shape %s)"
                             % (array.shape,))
        shape, dims = _dims(array.shape)
        h = TensorP()
        lib.rnn_tensor_wrap(code, len(shape), dims, ctypes.c_void_p(array.ctypes.data),
                            array.nbytes, ctypes.byref(h))
        return cls(h, keep=array)

    @classmethod
    def from_numpy(cls, array, dtype=None):
        """Zero copy when ``array`` already is C-contiguous float32/int32 (of ``dtype``
        if given), else over a converted copy. Floats become float32 and integers
        int32 when ``dtype`` is None."""
        return cls.wrap(as_array(array, dtype))

    @classmethod
    def _borrowed(cls, handle, owner):
        """A tensor owned by ``owner`` (a model): never destroyed here. Its data is
        only valid until the model changes it (copy it out at once)."""
        return cls(handle, keep=owner, owned=False)

    # -------------------------------------------------------------- properties
    @property
    def handle(self):
        if self._fin is not None and not self._fin.alive:
            raise ValueError("tensor is closed")
        return self._h

    @property
    def dtype(self):
        v = ctypes.c_int()
        lib.rnn_tensor_dtype(self.handle, ctypes.byref(v))
        return _NP[v.value]

    @property
    def ndim(self):
        v = ctypes.c_int()
        lib.rnn_tensor_rank(self.handle, ctypes.byref(v))
        return v.value

    @property
    def shape(self):
        dims = (ctypes.c_int64 * _lib.MAX_RANK)()
        rank = ctypes.c_int()
        lib.rnn_tensor_shape(self.handle, dims, _lib.MAX_RANK, ctypes.byref(rank))
        return tuple(dims[i] for i in range(rank.value))

    def dim(self, axis):
        v = ctypes.c_int64()
        lib.rnn_tensor_dim(self.handle, axis, ctypes.byref(v))
        return v.value

    @property
    def size(self):
        v = ctypes.c_int64()
        lib.rnn_tensor_numel(self.handle, ctypes.byref(v))
        return v.value

    @property
    def nbytes(self):
        v = ctypes.c_size_t()
        lib.rnn_tensor_nbytes(self.handle, ctypes.byref(v))
        return v.value

    def __len__(self):
        shape = self.shape
        if not shape:
            raise TypeError("len() of a scalar tensor")
        return shape[0]

    def __repr__(self):
        if self._fin is not None and not self._fin.alive:
            return "<librnn.Tensor closed>"
        return "<librnn.Tensor shape=%s dtype=%s>" % (self.shape, self.dtype)

    # -------------------------------------------------------------- data
    def data_ptr(self):
        p = ctypes.c_void_p()
        lib.rnn_tensor_data(self.handle, ctypes.byref(p))
        return p.value

    def numpy(self, copy=True):
        """The values as a numpy array: a copy, or (``copy=False``) a view of the
        tensor's buffer that keeps the tensor alive."""
        if copy:  # read-only access (rnn_tensor_data_const), then copied
            p = ctypes.c_void_p()
            lib.rnn_tensor_data_const(self.handle, ctypes.byref(p))
            return np.array(_ArrayView(self, p.value, self.shape, self.dtype, readonly=True))
        return np.asarray(_ArrayView(self, self.data_ptr(), self.shape, self.dtype))

    def __array__(self, dtype=None):
        a = self.numpy()
        return a if dtype is None else a.astype(dtype)

    def _index(self, index):
        if not isinstance(index, tuple):
            index = (index,)
        return len(index), (ctypes.c_int64 * max(1, len(index)))(*[int(i) for i in index])

    def __getitem__(self, index):
        """One element, every index given (``t[i, j]``; ``t[()]`` for a scalar),
        read through rnn_tensor_get_f32/i32. A different number of indices
        than the rank raises :class:`librnn.RnnError` (RNN_ERR_INVALID_ARG)."""
        n, idx = self._index(index)
        if self.dtype == np.float32:
            v = ctypes.c_float()
            lib.rnn_tensor_get_f32(self.handle, n, idx, ctypes.byref(v))
        else:
            v = ctypes.c_int32()
            lib.rnn_tensor_get_i32(self.handle, n, idx, ctypes.byref(v))
        return v.value

    def __setitem__(self, index, value):
        """Writes one element; the index as for ``__getitem__``."""
        n, idx = self._index(index)
        if self.dtype == np.float32:
            lib.rnn_tensor_set_f32(self.handle, n, idx, float(value))
        else:
            lib.rnn_tensor_set_i32(self.handle, n, idx, int(value))

    def fill(self, value):
        if self.dtype == np.float32:
            lib.rnn_tensor_fill_f32(self.handle, float(value))
        else:
            lib.rnn_tensor_fill_i32(self.handle, int(value))
        return self

    def copy_from(self, other):
        """Copies the values of ``other`` (a Tensor or array of the same shape)."""
        src = other if isinstance(other, Tensor) else Tensor.from_numpy(other, self.dtype)
        lib.rnn_tensor_copy(self.handle, src.handle)
        return self

    def clone(self):
        """An owned deep copy."""
        h = TensorP()
        lib.rnn_tensor_clone(self.handle, ctypes.byref(h))
        return Tensor(h)

    def reshape(self, shape):
        """Changes the shape in place (same number of elements); returns self."""
        shape, dims = _dims(shape)
        lib.rnn_tensor_reshape(self.handle, len(shape), dims)
        return self

    # -------------------------------------------------------------- lifetime
    def close(self):
        """Releases the tensor now (idempotent). Borrowed tensors are left alone."""
        if self._fin is not None:
            self._fin()
        self._array = None

    @property
    def closed(self):
        return self._fin is not None and not self._fin.alive

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def as_array(value, dtype=None):
    """``value`` as a C-contiguous, writeable float32 or int32 numpy array: the same
    object when it already is one (zero copy), else a converted copy."""
    if isinstance(value, Tensor):
        return value.numpy(copy=False)
    a = np.asarray(value)
    if dtype is None:
        if a.dtype in (np.float32, np.int32):
            dtype = a.dtype
        elif a.dtype.kind in "iub":
            dtype = np.int32
        elif a.dtype.kind == "f":
            dtype = np.float32
        else:
            raise TypeError("cannot pass %s data to librnn" % a.dtype)
    dtype = _NP[_dtype_code(dtype)]
    if a.dtype != dtype and a.dtype.kind in "iu" and dtype == np.int32 and a.size:
        if a.min() < -2 ** 31 or a.max() >= 2 ** 31:
            raise OverflowError("values do not fit int32")
    return np.require(a, dtype=dtype, requirements=["C", "A", "W"])


def as_tensor(value, dtype=None):
    """A Tensor for ``value``: itself if it is one, else a zero-copy wrap of the
    array (converted first when not C-contiguous float32/int32). None stays None."""
    if value is None or isinstance(value, Tensor):
        return value
    return Tensor.wrap(as_array(value, dtype))


def tensor_array(tensors):
    """A C array ``const rnn_tensor *const[]`` (NULL for None entries)."""
    arr = (TensorP * max(1, len(tensors)))()
    for i, t in enumerate(tensors):
        arr[i] = t.handle if t is not None else TensorP()
    return arr
