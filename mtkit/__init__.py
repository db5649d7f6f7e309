"""mtkit: machine translation and parallel-corpus alignment.

Data flows one way: ingest -> segment -> align -> corpus -> (translate, evaluate, finetune) -> publish.
Stages exchange the small records of :mod:`mtkit.records`.

Each stage is a subpackage, imported on first use (``import mtkit`` stays cheap; ``mtkit.align`` then imports
the aligner): ``mtkit.ingest``, ``mtkit.segment``, ``mtkit.align``, ``mtkit.corpus``, ``mtkit.translate``,
``mtkit.evaluate``, ``mtkit.finetune``, ``mtkit.publish`` and ``mtkit.scale`` (where the work runs);
``mtkit.records`` and ``mtkit.errors`` hold the records and the errors they share.
"""

from . import _lazy

__version__ = "0.1.0"

# the modules ``mtkit.<name>`` imports on first access, as ``import mtkit.<name>`` would
__getattr__, __dir__ = _lazy.lazy_attributes(__name__, globals(), dict.fromkeys((
    "ingest", "segment", "align", "corpus", "translate", "evaluate", "finetune", "publish", "scale", "records",
    "errors")))
