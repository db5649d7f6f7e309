"""Errors that mtkit raises on bad input or configuration.

Every message names the bad value and, where there is a fixed set, the allowed choices.
The CLI catches :class:`MtkitError` once at the top and exits non-zero with the message.
"""


class MtkitError(Exception):
    """Base of every error mtkit raises on purpose."""


class ConfigError(MtkitError, ValueError):
    """A setting, option or config key is unknown or out of range."""


class DataError(MtkitError, ValueError):
    """Input data is unreadable, malformed or inconsistent (bad encoding, binary file, mismatched lines)."""


class BackendError(MtkitError, RuntimeError):
    """A model, library or device could not do what was asked (missing package, unloadable model)."""


def missing_dependency(package: str, extra: str | None = None) -> BackendError:
    """The error for an optional package that is not installed, with the pip command that fixes it."""
    hint = f'pip install "mtkit[{extra}]"' if extra else f"pip install {package}"
    return BackendError(f"{package} is not installed; {hint}")
