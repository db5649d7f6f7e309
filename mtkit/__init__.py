"""mtkit: machine translation and parallel-corpus alignment.

Data flows one way: ingest -> segment -> align -> corpus -> (translate, evaluate, finetune) -> publish.
Stages exchange the small records of :mod:`mtkit.records`.

Each stage is a subpackage, imported on first use (``import mtkit`` stays cheap; ``mtkit.align`` then imports
the aligner): ``mtkit.ingest``, ``mtkit.segment``, ``mtkit.align``, ``mtkit.corpus``, ``mtkit.translate``,
``mtkit.evaluate``, ``mtkit.finetune``, ``mtkit.publish`` and ``mtkit.scale`` (where the work runs);
``mtkit.records`` and ``mtkit.errors`` hold the records and the errors they share.
"""

__version__ = "0.1.0"

# the modules ``mtkit.<name>`` imports on first access, as ``import mtkit.<name>`` would
_SUBMODULES = ("ingest", "segment", "align", "corpus", "translate", "evaluate", "finetune", "publish", "scale",
               "records", "errors")


def __getattr__(name: str):
    if name in _SUBMODULES:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")  # also binds it here: no second call
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    # private helpers (_SUBMODULES) left out: dir() is for finding what to use
    return sorted(n for n in {*globals(), *_SUBMODULES} if not n.startswith("_") or n.startswith("__"))
