"""mtkit: machine translation and parallel-corpus alignment.

Data flows one way: ingest -> segment -> align -> corpus -> (translate, evaluate, finetune) -> publish.
Stages exchange the small records of :mod:`mtkit.records`.
"""

__version__ = "0.1.0"
