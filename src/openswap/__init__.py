"""openswap: plan, simulate and operate cross-brand battery-swap networks for heavy trucks."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("openswap")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0+unknown"
