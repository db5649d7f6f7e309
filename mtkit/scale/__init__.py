"""Executors: where the per-item work of a build or a translation runs.

A :class:`Step` is work over a batch of items, built from picklable settings; what is heavy to make (an
encoder, a translation model) is made once per worker in ``setup``. An :class:`Executor` runs a pipeline of
steps over items and hands the results back to the caller: :class:`LocalExecutor` in this process,
:class:`~mtkit.scale.ray_executor.RayExecutor` on a Ray cluster as Ray Data ``map_batches`` steps, stateful
steps in an actor pool. Workers only compute; the caller (the driver) does every write. That is why both
executors write the same files: the same step code makes the same results, and one process writes them in
one order.

Data flows one way: ``corpus`` and ``translate`` define their steps on top of this module; this package knows
nothing of them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar, Iterable, Iterator, Sequence

from ..errors import ConfigError
from ..registry import Registry
from ..utils import option_text

__all__ = ["Step", "Executor", "LocalExecutor", "EXECUTORS", "get_executor", "batched"]

EXECUTORS: Registry[type["Executor"]] = Registry("executor")


class Step(ABC):
    """Work over a batch of items: one output per input, in order.

    ``STATEFUL`` steps hold something loaded in ``setup`` and run in long-lived workers (Ray actors, one
    ``setup`` each); the others are plain tasks. ``batch_size`` is how many items go to one call.
    """

    NAME: ClassVar[str] = "step"
    STATEFUL: ClassVar[bool] = False
    batch_size: int = 1

    def setup(self) -> None:
        """Load what the step needs, once per worker."""

    @abstractmethod
    def __call__(self, items: list[Any]) -> list[Any]:
        ...


class Executor(ABC):
    """Runs ``steps`` over ``items`` and yields the last step's outputs: in input order when ``ordered``, else
    as they finish (callers that file results by index need no order)."""

    name: ClassVar[str] = ""
    IN_PROCESS: ClassVar[bool] = False  # steps run in this process: they may hold what it has loaded already
    num_gpus: int = 0  # GPUs the workers get, one each

    @abstractmethod
    def map(self, steps: Sequence[Step], items: Iterable[Any], *, ordered: bool = True) -> Iterator[Any]:
        ...

    @property
    def gpu(self) -> bool | None:
        """Whether the workers get a GPU; None when they are this process, which looks for one itself."""
        return None if self.IN_PROCESS else self.num_gpus > 0

    def describe(self) -> str:
        return self.name

    def start(self) -> None:
        """Check that the workers can be had (a cluster joined, the GPUs asked for present) before the caller
        loads models or writes anything: a run fails in seconds, not after its setup. Nothing to do in this
        process."""


@EXECUTORS.register("local")
class LocalExecutor(Executor):
    """Every step in this process, batch by batch, streaming: an item's results come back before the next
    batch is read, as mtkit ran before executors existed."""

    name = "local"
    IN_PROCESS = True

    def map(self, steps: Sequence[Step], items: Iterable[Any], *, ordered: bool = True) -> Iterator[Any]:
        stream: Iterator[Any] = iter(items)
        for step in steps:
            step.setup()
            stream = _apply(step, stream)
        return stream


def _apply(step: Step, items: Iterator[Any]) -> Iterator[Any]:
    for batch in batched(items, step.batch_size):
        yield from step(batch)


def batched(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """Lists of ``size`` items in order (the last one shorter), read from ``items`` as they are needed."""
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def get_executor(name: str = "local", *, address: str | None = None, num_workers: int | None = None,
                 num_gpus: int = 0) -> Executor:
    """An executor by name (``local``, ``ray``) with the cluster options the CLI passes."""
    from . import ray_executor  # noqa: F401 - registers "ray"; imports ray itself only when one is made

    cls = EXECUTORS.get(name)
    if cls is LocalExecutor:
        # `is not None`: --num-workers 0 and --address '' are ray options too (and wrong ones)
        given = [option_text(setting) for setting, value in (("address", address), ("num_workers", num_workers),
                                                              ("num_gpus", num_gpus or None)) if value is not None]
        if given:
            raise ConfigError(f"{', '.join(given)} only apply to the ray executor "
                              f"({option_text('name', 'ray', flag='--executor')})")
        return LocalExecutor()
    return cls(address=address, num_workers=num_workers, num_gpus=num_gpus)
