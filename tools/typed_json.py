"""The typed JSON notation that vector files use for SP-CMP values.

JSON has no byte strings and loses integer precision in many parsers, so vector files
write every value with its type: ``{"nil": null}``, ``{"bool": true}``,
``{"int": "-5"}`` (decimal string), ``{"str": "..."}``, ``{"bin": "<hex>"}``,
``{"array": [...]}``, ``{"map": [[key, value], ...]}`` (keys are plain strings).
"""

from __future__ import annotations

from typing import Any


def to_typed(value: Any) -> Any:
    """Render a value in typed JSON notation."""
    if value is None:
        return {"nil": None}
    if isinstance(value, bool):
        return {"bool": value}
    if isinstance(value, int):
        return {"int": str(value)}
    if isinstance(value, str):
        return {"str": value}
    if isinstance(value, bytes):
        return {"bin": value.hex()}
    if isinstance(value, list | tuple):
        return {"array": [to_typed(v) for v in value]}
    if isinstance(value, dict):
        return {"map": [[k, to_typed(v)] for k, v in value.items()]}
    raise TypeError(type(value).__name__)


def from_typed(node: Any) -> Any:
    """Parse typed JSON notation back to a value."""
    ((kind, payload),) = node.items()
    if kind == "nil":
        return None
    if kind == "bool":
        return bool(payload)
    if kind == "int":
        return int(payload)
    if kind == "str":
        return payload
    if kind == "bin":
        return bytes.fromhex(payload)
    if kind == "array":
        return [from_typed(v) for v in payload]
    if kind == "map":
        return {k: from_typed(v) for k, v in payload}
    raise ValueError(kind)
