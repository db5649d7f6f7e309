"""Name -> class registries for pluggable units (encoders, aligners, filters, metrics, backends).

YAML configs and the CLI refer to units by these names; a miss lists the known names.
"""

from __future__ import annotations

from typing import Callable, Generic, TypeVar

from .errors import ConfigError

T = TypeVar("T")


class Registry(Generic[T]):
    def __init__(self, kind: str):
        self.kind = kind
        self._items: dict[str, T] = {}
        self._aliases: dict[str, str] = {}  # another name -> the registered name it stands for

    def register(self, name: str, *, aliases: tuple[str, ...] = ()) -> Callable[[T], T]:
        """Register under ``name``; ``aliases`` are other names a lookup accepts for it (``chrf++`` for ``chrf``)."""
        def decorator(obj: T) -> T:
            for key in (name, *aliases):
                if key in self._items or key in self._aliases:
                    raise ConfigError(f"{self.kind} {key!r} is registered twice")
            self._items[name] = obj
            self._aliases.update(dict.fromkeys(aliases, name))
            try:
                obj.registered_name = name  # type: ignore[attr-defined]
            except (AttributeError, TypeError):
                pass
            return obj

        return decorator

    def get(self, name: str) -> T:
        return self._items[self.canonical(name)]

    def canonical(self, name: str) -> str:
        """The registered name of ``name`` (itself, or the name an alias stands for); a miss lists the names."""
        if name in self._items:
            return name
        if name in self._aliases:
            return self._aliases[name]
        aliases = ", ".join(f"{alias} ({target})" for alias, target in sorted(self._aliases.items()))
        raise ConfigError(f"unknown {self.kind} {name!r}; known: {', '.join(sorted(self._items))}"
                          + (f"; aliases: {aliases}" if aliases else ""))

    def names(self) -> list[str]:
        return sorted(self._items)

    def __contains__(self, name: str) -> bool:
        return name in self._items or name in self._aliases

    def __iter__(self):
        return iter(sorted(self._items))
