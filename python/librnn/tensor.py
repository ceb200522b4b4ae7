# SPDX-License-Identifier: Apache-2.0
"""Tensors: owned by librnn, or wrapping a numpy array without copying."""
from __future__ import annotations

import ctypes
import weakref
from typing import TYPE_CHECKING, Any, Sequence, Tuple, Union, overload

import numpy as np

if TYPE_CHECKING:
    import numpy.typing as npt

    #: What a Tensor or a librnn dtype argument may be given as.
    DTypeLike = Union[str, type, np.dtype, int]
    #: One index per axis, or a single int for a rank-1 tensor.
    Index = Union[int, Tuple[int, ...]]

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

    def __init__(self, handle: Any, keep: Any = None, owned: bool = True) -> None:
        """Wraps a C tensor handle; use :meth:`zeros`, :meth:`wrap` or :meth:`from_numpy`.

        Args:
            handle: A ``TensorP`` (``rnn_tensor *``).
            keep: An object to keep alive as long as the tensor (the array a
                wrapped tensor borrows, or the model owning a borrowed one).
                Defaults to None.
            owned: Whether this object destroys the handle when released.
                Defaults to True.
        """
        self._h = handle
        self._array = keep
        self._fin = weakref.finalize(self, _destroy, handle, keep) if owned else None

    # -------------------------------------------------------------- creation
    @classmethod
    def zeros(cls, shape: Sequence[int], dtype: DTypeLike = "float32") -> Tensor:
        """An owned zero-filled tensor (``rnn_tensor_create``).

        Args:
            shape: Its dimensions (rank 0..8, each > 0).
            dtype: 'float32' or 'int32' (or the numpy dtype). Defaults to "float32".

        Returns:
            A new tensor.

        Raises:
            TypeError: ``dtype`` is neither float32 nor int32.
            RnnError: A bad rank or a dimension < 1 (RNN_ERR_SHAPE), a size too
                large (RNN_ERR_OVERFLOW), or no memory (RNN_ERR_NOMEM).
        """
        shape, dims = _dims(shape)
        h = TensorP()
        lib.rnn_tensor_create(_dtype_code(dtype), len(shape), dims, ctypes.byref(h))
        return cls(h)

    @classmethod
    def wrap(cls, array: np.ndarray) -> Tensor:
        """A tensor over ``array``'s memory, without copying (``rnn_tensor_wrap``).

        Writes through the tensor change the array, which the tensor keeps alive.

        Args:
            array: A C-contiguous, aligned, writeable float32 or int32 numpy array
                of rank 0..8 with no empty dimension.

        Returns:
            A new tensor sharing the array's buffer.

        Raises:
            TypeError: ``array`` is not a numpy array, or not float32/int32.
            ValueError: It is not C-contiguous, aligned and writeable, its rank
                exceeds 8, or it is empty.
        """
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
    def from_numpy(cls, array: npt.ArrayLike, dtype: DTypeLike | None = None) -> Tensor:
        """A tensor over ``array``, converted when needed.

        Zero copy when ``array`` already is C-contiguous float32/int32 (of
        ``dtype`` if given), else over a converted copy.

        Args:
            array: A numpy array, a Tensor, or anything ``numpy.asarray`` takes.
            dtype: 'float32' or 'int32'; None keeps float32/int32 data as it is
                and makes other floats float32 and integers and booleans int32.
                Defaults to None.

        Returns:
            A new tensor.

        Raises:
            TypeError: The data or ``dtype`` is neither numeric nor float32/int32.
            OverflowError: Integers outside int32's range.
            ValueError: The array is empty or its rank exceeds 8.
        """
        return cls.wrap(as_array(array, dtype))

    @classmethod
    def _borrowed(cls, handle, owner):
        """A tensor owned by ``owner`` (a model): never destroyed here. Its data is
        only valid until the model changes it (copy it out at once)."""
        return cls(handle, keep=owner, owned=False)

    # -------------------------------------------------------------- properties
    @property
    def handle(self) -> Any:
        """The C handle (a ``TensorP``), for calls through ``librnn.lib``.

        Raises:
            ValueError: The tensor is closed.
        """
        if self._fin is not None and not self._fin.alive:
            raise ValueError("tensor is closed")
        return self._h

    @property
    def dtype(self) -> np.dtype:
        """The element type: ``numpy.dtype('float32')`` or ``numpy.dtype('int32')``.

        Raises:
            ValueError: The tensor is closed.
        """
        v = ctypes.c_int()
        lib.rnn_tensor_dtype(self.handle, ctypes.byref(v))
        return _NP[v.value]

    @property
    def ndim(self) -> int:
        """The rank, 0..8.

        Raises:
            ValueError: The tensor is closed.
        """
        v = ctypes.c_int()
        lib.rnn_tensor_rank(self.handle, ctypes.byref(v))
        return v.value

    @property
    def shape(self) -> tuple[int, ...]:
        """The dimensions, as a tuple of ints.

        Raises:
            ValueError: The tensor is closed.
        """
        dims = (ctypes.c_int64 * _lib.MAX_RANK)()
        rank = ctypes.c_int()
        lib.rnn_tensor_shape(self.handle, dims, _lib.MAX_RANK, ctypes.byref(rank))
        return tuple(dims[i] for i in range(rank.value))

    def dim(self, axis: int) -> int:
        """One dimension (``rnn_tensor_dim``).

        Args:
            axis: The axis, 0..ndim-1 (negative counts from the end).

        Returns:
            Its size.

        Raises:
            ValueError: The tensor is closed.
            RnnError: ``axis`` is outside [-ndim, ndim) (RNN_ERR_RANGE).
        """
        v = ctypes.c_int64()
        lib.rnn_tensor_dim(self.handle, axis, ctypes.byref(v))
        return v.value

    @property
    def size(self) -> int:
        """The number of elements.

        Raises:
            ValueError: The tensor is closed.
        """
        v = ctypes.c_int64()
        lib.rnn_tensor_numel(self.handle, ctypes.byref(v))
        return v.value

    @property
    def nbytes(self) -> int:
        """The size of the data in bytes.

        Raises:
            ValueError: The tensor is closed.
        """
        v = ctypes.c_size_t()
        lib.rnn_tensor_nbytes(self.handle, ctypes.byref(v))
        return v.value

    def __len__(self) -> int:
        shape = self.shape
        if not shape:
            raise TypeError("len() of a scalar tensor")
        return shape[0]

    def __repr__(self) -> str:
        if self._fin is not None and not self._fin.alive:
            return "<librnn.Tensor closed>"
        return "<librnn.Tensor shape=%s dtype=%s>" % (self.shape, self.dtype)

    # -------------------------------------------------------------- data
    def data_ptr(self) -> int | None:
        """The address of the data, for writing (``rnn_tensor_data``).

        Returns:
            The address as an int.

        Raises:
            ValueError: The tensor is closed.
        """
        p = ctypes.c_void_p()
        lib.rnn_tensor_data(self.handle, ctypes.byref(p))
        return p.value

    def numpy(self, copy: bool = True) -> np.ndarray:
        """The values as a numpy array.

        Args:
            copy: True for a copy; False for a view of the tensor's buffer,
                which keeps the tensor alive. Defaults to True.

        Returns:
            A float32 or int32 array of the tensor's shape.

        Raises:
            ValueError: The tensor is closed.
        """
        if copy:  # read-only access (rnn_tensor_data_const), then copied
            p = ctypes.c_void_p()
            lib.rnn_tensor_data_const(self.handle, ctypes.byref(p))
            return np.array(_ArrayView(self, p.value, self.shape, self.dtype, readonly=True))
        return np.asarray(_ArrayView(self, self.data_ptr(), self.shape, self.dtype))

    def __array__(self, dtype: npt.DTypeLike | None = None) -> np.ndarray:
        a = self.numpy()
        return a if dtype is None else a.astype(dtype)

    def _index(self, index):
        if not isinstance(index, tuple):
            index = (index,)
        return len(index), (ctypes.c_int64 * max(1, len(index)))(*[int(i) for i in index])

    def __getitem__(self, index: Index) -> float | int:
        """One element, every index given (``t[i, j]``; ``t[()]`` for a scalar).

        Read through ``rnn_tensor_get_f32``/``_i32``.

        Args:
            index: One int per axis.

        Returns:
            The value (a float or an int).

        Raises:
            ValueError: The tensor is closed.
            RnnError: A different number of indices than the rank
                (RNN_ERR_INVALID_ARG), or an index out of bounds (RNN_ERR_RANGE).
        """
        n, idx = self._index(index)
        v: ctypes.c_float | ctypes.c_int32
        if self.dtype == np.float32:
            v = ctypes.c_float()
            lib.rnn_tensor_get_f32(self.handle, n, idx, ctypes.byref(v))
        else:
            v = ctypes.c_int32()
            lib.rnn_tensor_get_i32(self.handle, n, idx, ctypes.byref(v))
        return v.value

    def __setitem__(self, index: Index, value: float) -> None:
        """Writes one element; the index as for ``__getitem__``.

        Args:
            index: One int per axis.
            value: The value (converted to the tensor's dtype).

        Raises:
            ValueError: The tensor is closed.
            RnnError: A bad index, as for ``__getitem__``.
        """
        n, idx = self._index(index)
        if self.dtype == np.float32:
            lib.rnn_tensor_set_f32(self.handle, n, idx, float(value))
        else:
            lib.rnn_tensor_set_i32(self.handle, n, idx, int(value))

    def fill(self, value: float) -> Tensor:
        """Sets every element to ``value`` (``rnn_tensor_fill_f32``/``_i32``).

        Args:
            value: The value (converted to the tensor's dtype).

        Returns:
            This tensor.

        Raises:
            ValueError: The tensor is closed.
        """
        if self.dtype == np.float32:
            lib.rnn_tensor_fill_f32(self.handle, float(value))
        else:
            lib.rnn_tensor_fill_i32(self.handle, int(value))
        return self

    def copy_from(self, other: Tensor | npt.ArrayLike) -> Tensor:
        """Copies the values of ``other`` into this tensor (``rnn_tensor_copy``).

        Args:
            other: A Tensor or array of the same shape (converted to this
                tensor's dtype).

        Returns:
            This tensor.

        Raises:
            ValueError: The tensor is closed.
            RnnError: The shapes or dtypes differ (RNN_ERR_SHAPE, RNN_ERR_DTYPE).
        """
        src = other if isinstance(other, Tensor) else Tensor.from_numpy(other, self.dtype)
        lib.rnn_tensor_copy(self.handle, src.handle)
        return self

    def clone(self) -> Tensor:
        """An owned deep copy (``rnn_tensor_clone``).

        Returns:
            A new tensor.

        Raises:
            ValueError: The tensor is closed.
            RnnError: No memory (RNN_ERR_NOMEM).
        """
        h = TensorP()
        lib.rnn_tensor_clone(self.handle, ctypes.byref(h))
        return Tensor(h)

    def reshape(self, shape: Sequence[int]) -> Tensor:
        """Changes the shape in place (``rnn_tensor_reshape``).

        Args:
            shape: The new dimensions, with the same number of elements.

        Returns:
            This tensor.

        Raises:
            ValueError: The tensor is closed.
            RnnError: Another number of elements or a bad dimension (RNN_ERR_SHAPE).
        """
        shape, dims = _dims(shape)
        lib.rnn_tensor_reshape(self.handle, len(shape), dims)
        return self

    # -------------------------------------------------------------- lifetime
    def close(self) -> None:
        """Releases the tensor now (idempotent). Borrowed tensors are left alone."""
        if self._fin is not None:
            self._fin()
        self._array = None

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` released it (always False for a borrowed tensor)."""
        return self._fin is not None and not self._fin.alive

    def __enter__(self) -> Tensor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def as_array(value: Tensor | npt.ArrayLike, dtype: DTypeLike | None = None) -> np.ndarray:
    """``value`` as a C-contiguous, writeable float32 or int32 numpy array.

    Args:
        value: A Tensor (its buffer, as a view), a numpy array, or anything
            ``numpy.asarray`` takes.
        dtype: 'float32' or 'int32'; None keeps float32/int32 data as it is and
            makes other floats float32 and integers and booleans int32.
            Defaults to None.

    Returns:
        The same object when it already is such an array (zero copy), else a
        converted copy.

    Raises:
        TypeError: The data is not numeric, or ``dtype`` is not float32/int32.
        OverflowError: Integers outside int32's range.
    """
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


@overload
def as_tensor(value: None, dtype: DTypeLike | None = None) -> None: ...


@overload
def as_tensor(value: Tensor | npt.ArrayLike, dtype: DTypeLike | None = None) -> Tensor: ...


def as_tensor(value: Tensor | npt.ArrayLike | None,
              dtype: DTypeLike | None = None) -> Tensor | None:
    """A Tensor for ``value``.

    Args:
        value: A Tensor (returned as is), None (returned as is), or an array as
            :func:`as_array` takes.
        dtype: As for :func:`as_array`. Defaults to None.

    Returns:
        The tensor: a zero-copy wrap of the array, converted first when it is
        not C-contiguous float32/int32; or None.

    Raises:
        TypeError: As :func:`as_array`.
        OverflowError: As :func:`as_array`.
        ValueError: The array is empty or its rank exceeds 8.
    """
    if value is None or isinstance(value, Tensor):
        return value
    return Tensor.wrap(as_array(value, dtype))


def tensor_array(tensors: Sequence[Tensor | None]) -> Any:
    """A C array ``const rnn_tensor *const[]`` of the tensors' handles.

    Args:
        tensors: Tensors, or None for a NULL entry.

    Returns:
        A ctypes array of ``TensorP`` (at least one entry long).

    Raises:
        ValueError: A tensor is closed.
    """
    arr = (TensorP * max(1, len(tensors)))()
    for i, t in enumerate(tensors):
        arr[i] = t.handle if t is not None else TensorP()
    return arr
