# SPDX-License-Identifier: Apache-2.0
"""Data that fit, evaluate and predict read batch by batch, as Keras 3 takes it:
a ``keras.utils.PyDataset`` (``keras.utils.Sequence``) or a Python generator or
iterator. The batches are fetched in order, in the calling thread, each when
the library asks for it (a single-input model's training epoch is driven from
C through ``rnn_batch_fn``).
"""
from __future__ import annotations

import warnings
from typing import Any, Callable

from ._base import unsupported


class PyDataset:
    """Keras 3's base class for a dataset of whole batches (``keras.utils.PyDataset``).

    Subclass it, call ``super().__init__(**kwargs)``, and define
    ``__getitem__(index)`` (batch ``index``: ``x``, ``(x,)``, ``(x, y)`` or
    ``(x, y, None)``) and ``__len__`` (the number of batches). fit reads
    batches 0 .. len - 1 every epoch, in order (``shuffle`` does not apply:
    shuffle inside the dataset), and calls ``on_epoch_begin()`` before and
    ``on_epoch_end()`` after each epoch: the place to draw the next epoch's
    samples.

    ``workers``, ``use_multiprocessing`` and ``max_queue_size`` are kept for
    compatibility; librnn fetches every batch in the training thread when the
    library needs it, so the batches and the results are those of
    ``workers=1``.
    """

    def __init__(self, workers: int = 1, use_multiprocessing: bool = False,
                 max_queue_size: int = 10) -> None:
        """Keeps Keras' parallelism settings (unused by librnn, see the class).

        Args:
            workers: Keras' number of fetching threads or processes.
            use_multiprocessing: Keras' choice of processes over threads.
            max_queue_size: Keras' number of batches fetched ahead.
        """
        self._workers = workers
        self._use_multiprocessing = use_multiprocessing
        self._max_queue_size = max_queue_size

    @property
    def workers(self) -> int:
        """Keras' number of fetching workers (librnn fetches in the training thread)."""
        return getattr(self, "_workers", 1)

    @workers.setter
    def workers(self, value: int) -> None:
        self._workers = value

    @property
    def use_multiprocessing(self) -> bool:
        """Keras' choice of processes for fetching (unused by librnn)."""
        return getattr(self, "_use_multiprocessing", False)

    @use_multiprocessing.setter
    def use_multiprocessing(self, value: bool) -> None:
        self._use_multiprocessing = value

    @property
    def max_queue_size(self) -> int:
        """Keras' number of batches fetched ahead (unused by librnn)."""
        return getattr(self, "_max_queue_size", 10)

    @max_queue_size.setter
    def max_queue_size(self, value: int) -> None:
        self._max_queue_size = value

    def __getitem__(self, index: int) -> Any:
        """Batch ``index`` (0-based): ``x``, ``(x,)``, ``(x, y)`` or ``(x, y, None)``.

        Args:
            index: The batch's index in the epoch.

        Raises:
            NotImplementedError: Always; subclasses define it.
        """
        raise NotImplementedError("%s.__getitem__ is not defined" % type(self).__name__)

    @property
    def num_batches(self) -> int | None:
        """The number of batches in an epoch: ``len(self)`` (None: endless, which
        needs ``steps_per_epoch``).

        Raises:
            NotImplementedError: The subclass defines neither ``__len__`` nor
                ``num_batches``.
        """
        if hasattr(self, "__len__"):
            return len(self)  # type: ignore[arg-type]
        raise NotImplementedError("You need to implement the `num_batches` property (or "
                                  "`__len__`) of %s" % type(self).__name__)

    def on_epoch_begin(self) -> None:
        """Called before each epoch (nothing by default)."""

    def on_epoch_end(self) -> None:
        """Called after each epoch (nothing by default): redraw or reshuffle here."""


def is_dataset(x: Any) -> bool:
    """Whether ``x`` is data given batch by batch rather than arrays.

    Args:
        x: What fit, evaluate or predict got as data.

    Returns:
        True for a PyDataset (or any object with ``__getitem__`` and
        ``on_epoch_end``), a generator or iterator, a callable or a tf.data
        dataset.
    """
    return (hasattr(x, "element_spec") or hasattr(x, "__next__") or callable(x) or
            (hasattr(x, "__getitem__") and (hasattr(x, "on_epoch_end") or
                                            isinstance(x, PyDataset))))


def _is_pydataset(x):
    return isinstance(x, PyDataset) or (hasattr(x, "__getitem__") and hasattr(x, "on_epoch_end")
                                        and not isinstance(x, (list, tuple, dict)))


def unpack(item: Any, what: str) -> tuple[Any, Any]:
    """A batch as Keras unpacks it: ``x``, ``(x,)``, ``(x, y)`` or ``(x, y, None)``.

    Args:
        item: What the dataset gave.
        what: The data's name for messages.

    Returns:
        ``(x, y)``, y None when absent.

    Raises:
        NotImplementedError: A sample weight that is not None.
        ValueError: A tuple of another length.
    """
    if not isinstance(item, tuple):
        return item, None
    if len(item) == 1:
        return item[0], None
    if len(item) == 2:
        return item[0], item[1]
    if len(item) == 3:
        if item[2] is not None:
            raise unsupported("sample weights from %s (the third item of a batch)" % what)
        return item[0], item[1]
    raise ValueError("%s: a batch must be x, (x,), (x, y) or (x, y, sample_weight) "
                     "(got a tuple of %d items)" % (what, len(item)))


class Batches:
    """One dataset (PyDataset or iterator) as fit, evaluate and predict read it:
    ``steps`` batches an epoch (None: until the iterator ends)."""

    def __init__(self, data: Any, steps: int | None, what: str, steps_arg: str) -> None:
        """Adapts ``data``.

        Args:
            data: A PyDataset (or Keras Sequence-like object), or an iterator,
                generator or iterable that is not an array.
            steps: ``steps_per_epoch`` / ``validation_steps`` / ``steps``.
            what: The data's name for messages ("x", "validation_data").
            steps_arg: The name of the steps argument for messages.

        Raises:
            NotImplementedError: tf.data datasets, callables, or fewer steps
                than a PyDataset's batches.
            ValueError: A bad steps value, or an endless PyDataset without steps.
        """
        if hasattr(data, "element_spec"):
            raise unsupported("%s as a tf.data.Dataset" % what,
                              "pass numpy arrays, a keras.utils.PyDataset or a generator")
        if steps is not None and (not isinstance(steps, int) or steps < 1):
            raise ValueError("%s must be a positive integer or None (got %r)"
                             % (steps_arg, steps))
        self.what, self._pending = what, []
        self.exhausted = False
        #: The batches the last ``batches()`` pass gave.
        self.count = 0
        if _is_pydataset(data):
            self._ds, self._it = data, None
            n = data.num_batches if hasattr(data, "num_batches") else len(data)
            if n is None and steps is None:
                raise ValueError("%s is an endless PyDataset (num_batches is None): give %s"
                                 % (what, steps_arg))
            if n is not None and steps is not None and steps < n:
                raise unsupported("%s=%d with a PyDataset of %d batches" % (steps_arg, steps, n),
                                  "Keras carries on from batch %d in the next epoch; librnn "
                                  "reads batches from 0 each epoch: make the dataset %d long"
                                  % (steps, steps))
            self.steps = int(n) if steps is None else (steps if n is None else min(steps, n))
        elif callable(data) and not hasattr(data, "__next__"):
            raise unsupported("%s as a function" % what,
                              "pass a generator, a keras.utils.PyDataset or arrays")
        elif hasattr(data, "__next__") or hasattr(data, "__iter__"):
            self._ds, self._it, self.steps = None, iter(data), steps
        else:
            raise ValueError("%s: not arrays, a PyDataset or an iterator (got %s)"
                             % (what, type(data).__name__))

    def epoch_begin(self) -> None:
        """Starts an epoch (a PyDataset's on_epoch_begin)."""
        if self._ds is not None and hasattr(self._ds, "on_epoch_begin"):
            self._ds.on_epoch_begin()

    def epoch_end(self) -> None:
        """Ends an epoch (a PyDataset's on_epoch_end)."""
        if self._ds is not None and hasattr(self._ds, "on_epoch_end"):
            self._ds.on_epoch_end()

    def peek(self) -> tuple[Any, Any]:
        """The first batch, without consuming it (to build a model from its shape).

        Returns:
            The batch's ``(x, y)``.

        Raises:
            ValueError: An iterator that gives no batch.
        """
        if self._ds is not None:
            return unpack(self._ds[0], self.what)
        if not self._pending:
            try:
                self._pending.append(next(self._it))
            except StopIteration:
                raise ValueError("%s: the iterator gave no batch" % self.what) from None
        return unpack(self._pending[0], self.what)

    def has_next(self) -> bool:
        """Whether the epoch about to start has a batch (an iterator's next one is
        fetched and kept for it).

        Returns:
            False when an iterator has ended.
        """
        if self._ds is not None:
            return self.steps is None or self.steps > 0
        if not self._pending:
            try:
                self._pending.append(next(self._it))
            except StopIteration:
                self.exhausted = True
                return False
        return True

    def get(self, b: int) -> tuple[Any, Any] | None:
        """Batch ``b`` of the epoch.

        Args:
            b: The batch's index in the epoch, from 0, in order.

        Returns:
            Its ``(x, y)``, or None at the epoch's end.
        """
        if self.steps is not None and b >= self.steps:
            return None
        if self._ds is not None:
            return unpack(self._ds[b], self.what)
        if self._pending:
            return unpack(self._pending.pop(), self.what)
        try:
            return unpack(next(self._it), self.what)
        except StopIteration:
            self.exhausted = True
            return None

    def fetch(self, b: int, before: Callable[[int], None] | None = None
              ) -> tuple[Any, Any] | None:
        """Batch ``b`` within the steps bound, ``before(b)`` called first.

        Args:
            b: The batch's index in the epoch, from 0, in order.
            before: Called with ``b`` before the batch is fetched (not past
                the steps bound).

        Returns:
            Its ``(x, y)``, or None at the epoch's end.
        """
        if self.steps is not None and b >= self.steps:
            return None
        if before is not None:
            before(b)
        return self.get(b)

    def batches(self, convert: Callable[[Any, Any], Any],
                before: Callable[[int], None] | None = None) -> Any:
        """The batches of one epoch, converted (``before(b)`` is called first).

        Args:
            convert: Turns a batch's x and y into what the caller steps on.
            before: Called with each batch's index before it is fetched.

        Returns:
            A generator of ``convert(x, y)``; ``count`` then holds how many.
        """
        self.count = 0
        while True:
            item = self.fetch(self.count, before)
            if item is None:
                return
            yield convert(*item)
            self.count += 1

    def warn_if_short(self, got: int) -> bool:
        """Warns, as Keras does, when the iterator ended before ``steps`` batches
        (or gave none).

        Args:
            got: The batches the epoch had.

        Returns:
            Whether it warned: fit then stops training, as Keras.
        """
        if self.exhausted and (self.steps is None and got == 0 or
                               self.steps is not None and got < self.steps):
            warnings.warn("Your input ran out of data; interrupting training. Make sure that "
                          "your dataset or generator can generate at least `steps_per_epoch "
                          "* epochs` batches.", stacklevel=3)
            return True
        return False
