"""The installed package's version (a foundation: every layer may read it; none imports the package root)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("reportgen")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"
