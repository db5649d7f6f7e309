"""The Ray executor: a pipeline of :class:`~mtkit.scale.Step` as Ray Data ``map_batches`` steps.

Without GPUs the pipeline is one Ray Data step run by a pool of ``num_workers`` one-CPU actors
(``ActorPoolStrategy``): each actor sets every step up once (one encoder or model load) and does all of an
item's work. With GPUs, stateful steps run in a pool of one-GPU actors and the stateless steps before them as
CPU tasks, so that page cleaning does not hold a GPU. Items travel pickled in one binary column, so that any
record (documents, sentence lists, alignments) crosses without an Arrow schema. Results stream back to the
driver, in input order when asked.

Worker failure: a dead actor is restarted (``max_restarts``) and the batch it held is run again
(``max_task_retries``); Ray retries a dead task by itself. Steps are pure functions of their inputs, so a
re-run batch gives the same results, and the driver, which alone writes, sees each result once.

This module imports ray only when an executor is made, so that ``mtkit`` works without the ``ray`` extra.
"""

from __future__ import annotations

import logging
import os
import pickle
import sys
from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Sequence

from ..errors import BackendError, ConfigError, MtkitError, missing_dependency
from ..utils import option_text
from . import EXECUTORS, Executor, Step, _apply, batched

logger = logging.getLogger("mtkit.scale")

# Test hook for worker failure (tests/scale): when this names a folder holding `<stage>.crash` (the stage's
# step names joined by +) with a number N, the first worker to reach its N-th batch of that stage removes the
# file and kills its own process, as a crashed node or an out-of-memory kill would. Removing the file first
# makes it happen once across all workers.
FAULT_DIR_ENV = "MTKIT_FAULT_DIR"


@EXECUTORS.register("ray")
class RayExecutor(Executor):
    """Ray Data over a local or remote cluster.

    ``address``: ``None`` follows Ray's rule: the cluster ``RAY_ADDRESS`` names, else one started with ``ray start``
    on this machine, else a new Ray in this process (one this process started already is reused); ``"auto"``
    joins the cluster this node belongs to (``ray start``); ``HOST:PORT`` or ``ray://HOST:PORT`` names one.
    ``num_workers``: actors in the pool (default: one per GPU with ``num_gpus``, else 1). ``num_gpus``: GPUs for
    the pool, one per actor.
    """

    name = "ray"
    CPUS_PER_WORKER = 1
    MAX_RESTARTS = 4  # per actor: a worker that dies more often than this is a bug, not bad luck
    MAX_RETRIES = 4  # per batch

    def __init__(self, *, address: str | None = None, num_workers: int | None = None, num_gpus: int = 0):
        try:
            import ray.data  # noqa: F401
        except ImportError:
            raise missing_dependency("ray[data]", "ray") from None
        if num_gpus < 0 or (num_workers is not None and num_workers < 1):
            bad = ("num_workers", num_workers) if num_gpus >= 0 else ("num_gpus", num_gpus)
            raise ConfigError(f"{option_text(*bad)} must be >= {1 if bad[0] == 'num_workers' else 0}")
        if num_gpus and num_workers not in (None, num_gpus):
            raise ConfigError(f"with {option_text('num_gpus', num_gpus)} there is one worker per GPU; "
                              f"{option_text('num_workers', num_workers)} does not match")
        if address is not None and not address.strip():
            raise ConfigError(f"{option_text('address')} is empty; give auto, HOST:PORT or ray://HOST:PORT, or "
                              "leave it out")
        self.address = address
        self.num_gpus = num_gpus
        self.num_workers = num_workers or num_gpus or 1

    def describe(self) -> str:
        where = self.address or "local"
        return f"ray({where}, {self.num_workers} workers{f', {self.num_gpus} GPUs' if self.num_gpus else ''})"

    def connect(self):
        """The ray module, joined to the cluster (a Ray already started in this process is reused)."""
        import ray

        if not ray.is_initialized():
            _check_reachable(self.address)
            quiet = not logging.getLogger("mtkit").isEnabledFor(logging.INFO)
            if not sys.stderr.isatty():
                # workers' lines reach the driver prefixed in ANSI colours, which a log file shows as escapes
                os.environ.setdefault("RAY_COLOR_PREFIX", "0")
            try:
                # mtkit's verbosity for Ray's own logging: its INFO lines (where the dashboard is, which cluster
                # was joined, "execution finished") outnumbered mtkit's output at the default level and under -q
                ray.init(address=self.address, include_dashboard=False,
                         logging_level=logging.WARNING if quiet else logging.INFO)
            except ConnectionError as exc:
                tried = self.address or os.environ.get("RAY_ADDRESS")
                raise BackendError(f"cannot join the Ray cluster at {tried!r}: {exc} (start it with `ray start "
                                   "--head` on the head and `ray start --address=HEAD:6379` on the others)") from None
            except ValueError as exc:  # Ray's "Invalid address format"
                raise ConfigError(f"{option_text('address', self.address)}: {exc}; give auto, HOST:PORT or "
                                  "ray://HOST:PORT") from None
            if quiet:
                logging.getLogger("ray.data").setLevel(logging.WARNING)
        return ray

    def start(self) -> None:
        if getattr(self, "_started", False):
            return
        ray = self.connect()
        gpus = ray.cluster_resources().get("GPU", 0)
        if self.num_gpus > gpus:
            # Ray would queue the GPU actors for ever ("No available node types can fulfill resource request")
            raise ConfigError(f"{option_text('num_gpus', self.num_gpus)}, but the Ray cluster has {gpus:g} GPU"
                              f"{'s' * (gpus != 1)}")
        logger.info("running on %s, cluster resources: %s", self.describe(),
                    ", ".join(f"{k} {v:g}" for k, v in sorted(ray.cluster_resources().items())
                              if k in ("CPU", "GPU")))
        self._started = True

    def map(self, steps: Sequence[Step], items: Iterable[Any], *, ordered: bool = True) -> Iterator[Any]:
        ray = self.connect()
        # One row per batch of the first step, formed here as LocalExecutor forms it: the rows are the units of
        # work (and of retry), and every step makes the calls it makes locally when the steps share a batch size.
        rows = [{"batch": _dumps(batch)} for batch in batched(items, steps[0].batch_size)]
        if not rows:
            return iter(())
        ds = ray.data.from_items(rows, override_num_blocks=len(rows))
        ds.context.execution_options.preserve_order = ordered
        ds.context.enable_progress_bars = False  # callers show their own progress, in their units
        workers = min(self.num_workers, len(rows))  # an actor with no row to work on would only start up
        for stage in self.stages(steps):
            ds = self._add(ds, stage, workers)
        return _results(ds)

    def stages(self, steps: Sequence[Step]) -> list["_Stage"]:
        """Steps grouped into Ray Data steps. Without GPUs the whole pipeline is one pool of ``num_workers``
        one-CPU actors: a worker is one process doing all of an item's work (a task stage beside the pool
        could find no CPU left). With GPUs, stateless steps run as CPU tasks feeding the GPU actors."""
        if not self.num_gpus:
            return [_Stage(list(steps), pooled=True)]
        stages: list[_Stage] = []
        for step in steps:
            if stages and stages[-1].pooled == step.STATEFUL:
                stages[-1].steps.append(step)
            else:
                stages.append(_Stage([step], pooled=step.STATEFUL))
        return stages

    def _add(self, ds, stage: "_Stage", workers: int):
        import warnings

        import ray.data
        from ray.util.annotations import RayDeprecationWarning

        if not stage.pooled:
            return ds.map_batches(_StageTask(stage), batch_size=1, batch_format="numpy",
                                  num_cpus=self.CPUS_PER_WORKER)
        # Ray Data would restart actors and retry their batches without end; a bound turns a worker that dies
        # on every try (a crash on one input) into an error. Ray 2.60 takes these only through the deprecated
        # **ray_remote_args (no named parameter yet), hence the filter.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RayDeprecationWarning)
            return ds.map_batches(
                _StageActor, fn_constructor_args=(stage,), batch_size=1, batch_format="numpy",
                compute=ray.data.ActorPoolStrategy(size=workers),
                num_gpus=1 if self.num_gpus else 0, num_cpus=self.CPUS_PER_WORKER,
                max_restarts=self.MAX_RESTARTS, max_task_retries=self.MAX_RETRIES)


def _check_reachable(address: str | None, timeout: float = 5.0) -> None:
    """A BackendError in seconds when HOST:PORT (or ray://HOST:PORT) takes no connection: ``ray.init`` retries
    an unreachable address for about 14 minutes before it gives up."""
    import socket

    if not address or address in ("auto", "local"):
        return
    host, sep, port = address.removeprefix("ray://").rpartition(":")
    if not sep or not port.isdigit():
        return  # Ray's own message says what is wrong with the format
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except OSError as exc:
        raise BackendError(f"cannot join the Ray cluster at {address!r}: nothing answers there ({exc}); start it "
                           "with `ray start --head` on the head and `ray start --address=HEAD:6379` on the others, "
                           "or check the address") from None


@dataclass
class _Failed:
    """An mtkit error raised on a worker, sent back as a result: Ray hands the driver only its traceback text,
    and the CLI should print the error's own message."""

    error: MtkitError


def _results(ds) -> Iterator[Any]:
    rows = iter(ds.iter_rows())  # a generator: close() below ends Ray Data's run
    try:
        for row in rows:
            batch = pickle.loads(row["batch"])
            if isinstance(batch, _Failed):
                raise batch.error
            yield from batch
    finally:
        # A caller that stops early (an error, an interrupt) ends the run now: its actors would otherwise hold
        # their CPUs until garbage collection, and the next run could not start its own.
        rows.close()


def _dumps(obj: Any) -> bytes:
    return pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)


@dataclass
class _Stage:
    """Steps that run in one Ray Data step: one row (a batch of items) at a time, in one process."""

    steps: list[Step]
    pooled: bool  # in an actor pool (set up once per actor) rather than as tasks
    calls: int = 0
    failed: _Failed | None = None

    @property
    def name(self) -> str:
        return "+".join(step.NAME for step in self.steps)

    def setup(self) -> None:
        try:
            for step in self.steps:
                step.setup()
        except MtkitError as exc:
            self.failed = _Failed(exc)

    def __call__(self, rows: dict) -> dict:
        self.calls += 1
        _fault_point(self.name, self.calls)
        out = []
        for data in rows["batch"]:
            batch = pickle.loads(data)
            if not isinstance(batch, _Failed):
                batch = self.failed or self._run(batch)
            out.append(_dumps(batch))
        return {"batch": out}

    def _run(self, batch: list[Any]) -> list[Any] | _Failed:
        stream: Iterator[Any] = iter(batch)
        for step in self.steps:
            stream = _apply(step, stream)
        try:
            return list(stream)
        except MtkitError as exc:
            return _Failed(exc)


class _StageTask:
    """A stateless stage as a Ray Data function (a callable object, not a class: Ray runs it as tasks)."""

    def __init__(self, stage: _Stage):
        self.stage = stage

    def __call__(self, rows: dict) -> dict:
        _fit_threads(RayExecutor.CPUS_PER_WORKER)
        self.stage.setup()
        _fit_threads(RayExecutor.CPUS_PER_WORKER)
        return self.stage(rows)


class _StageActor:
    """A stateful stage in an actor: ``setup`` once when the actor starts, then row after row."""

    def __init__(self, stage: _Stage):
        self.stage = stage
        _fit_threads(RayExecutor.CPUS_PER_WORKER)
        stage.setup()
        _fit_threads(RayExecutor.CPUS_PER_WORKER)

    def __call__(self, rows: dict) -> dict:
        return self.stage(rows)


def _fit_threads(cpus: int) -> None:
    """Thread pools as big as the CPUs Ray gave this worker. numba (the aligner's parallel DP) and torch size
    theirs by the machine's cores, so k workers on a node would run k x cores threads taking turns: measured,
    two workers on two cores were slower than one. Called before the stage loads anything (numba reads its
    variable when imported) and after (torch's pool is set at run time)."""
    os.environ["NUMBA_NUM_THREADS"] = str(cpus)
    if "numba" in sys.modules:
        sys.modules["numba"].set_num_threads(min(cpus, sys.modules["numba"].config.NUMBA_NUM_THREADS))
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(cpus)


def _fault_point(stage_name: str, calls: int) -> None:
    folder = os.environ.get(FAULT_DIR_ENV)
    if not folder:
        return
    marker = os.path.join(folder, f"{stage_name}.crash")
    try:
        with open(marker, encoding="utf-8") as fh:
            at = int(fh.read().strip() or 1)
        if calls < at:
            return
        os.unlink(marker)  # only one worker wins this
    except (FileNotFoundError, ValueError):
        return
    logger.warning("fault injection: worker %d dies in stage %s, batch %d", os.getpid(), stage_name, calls)
    os._exit(1)
