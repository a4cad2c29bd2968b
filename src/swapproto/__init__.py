"""swapproto: secure bilateral exchanges of lists between parties who do not trust each other."""

from __future__ import annotations

from swapproto.errors import SwapprotoError

__all__ = ["SwapprotoError", "__version__"]

__version__ = "0.1.0"
