"""Corpus: the versions of each story, aligned, filtered, split by story and exported as a dataset.

``build_corpus(corpus_dir, out_dir, BuildConfig(...))`` runs ``mtkit build`` (:mod:`.builder`): a manifest of
raw pages (:mod:`mtkit.ingest.manifest`) in, a dataset folder with its card, report and stats out. The pieces: the
executor steps that ingest, segment and align a story (:mod:`.steps`), pair filters by name (:mod:`.filters`), document
pairing by similarity (:mod:`.docpair`), the build report (:mod:`.report`), and the reader of a built dataset's
splits (:mod:`.dataset`).

The names below are imported from their modules on first use, so that importing one module of this package
(as translate does :mod:`.dataset`) does not import the builder.
"""

__all__ = ["build_corpus", "BuildConfig", "BuildResult"]

from .. import _lazy

__getattr__, __dir__ = _lazy.lazy_attributes(__name__, globals(),
                                             dict.fromkeys(("build_corpus", "BuildConfig", "BuildResult"), "builder"))
