"""CardioScreen: 12-lead ECG screening from any common file format to a calibrated, explained result."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("cardioscreen")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0"

__all__ = ["__version__"]
