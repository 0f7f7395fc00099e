"""hzeval — evaluation and supervision workbench for Huizhou's public-data rules."""

__version__ = "0.1.0"

from hzeval.errors import HzevalError  # noqa: E402

__all__ = ["HzevalError", "__version__"]
