"""Package attributes imported on first use (PEP 562's module ``__getattr__``), so that importing a package stays
cheap. Standard library only: ``import mtkit`` imports this module and no stage."""

import importlib


def lazy_attributes(package: str, namespace: dict, lazy: dict):
    """The ``__getattr__`` and ``__dir__`` of the package named ``package`` whose globals are ``namespace``.

    ``lazy`` maps each lazy name to the submodule that holds it (``"builder"`` for ``mtkit.corpus.builder``), or to
    None where the name is a submodule itself (``mtkit.align``). The first access imports it, as ``import`` would,
    and binds the name in ``namespace``, so that later ones find it there; any other name is the AttributeError
    Python gives. ``dir()`` lists the lazy names with the loaded ones, private helpers left out: it is for finding
    what to use."""

    def __getattr__(name: str):
        if name not in lazy:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        if lazy[name] is None:
            value = importlib.import_module(f"{package}.{name}")
        else:
            value = getattr(importlib.import_module(f"{package}.{lazy[name]}"), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(n for n in {*namespace, *lazy} if not n.startswith("_") or n.startswith("__"))

    return __getattr__, __dir__
