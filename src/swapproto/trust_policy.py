"""Trust policies: per role, the pinned public keys and how many of them must sign.

``spec/keys.md`` §6: a :class:`RolePolicy` maps key ids to the keys they name (no two
keys of one role may share a component key) and sets a threshold; a
:class:`TrustPolicy` names the role policies of one exchange (party A, party B,
mediator, commission). Threshold verification itself is in :mod:`swapproto.envelope`
(``spec/envelope.md`` §5).
Invalid policies raise :class:`~swapproto.errors.PolicyError`. Pure: no I/O. The names
are also exported by :mod:`swapproto.keys`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from swapproto._signing_keys import PublicKey
from swapproto.errors import PolicyError

__all__ = ["RolePolicy", "TrustPolicy"]


@dataclass(frozen=True, slots=True)
class RolePolicy:
    """The keys trusted for one role (key id -> key) and how many must sign."""

    keys: Mapping[bytes, PublicKey]
    threshold: int

    def __post_init__(self) -> None:
        keys = dict(self.keys)
        seen: set[bytes] = set()
        for key_id, key in keys.items():
            if not isinstance(key, PublicKey) or key_id != key.key_id:
                raise PolicyError("a role policy maps each key id to the key it names")
            parts = {key.ed25519} | ({key.ml_dsa_65} if key.ml_dsa_65 is not None else set())
            if seen & parts:
                raise PolicyError("two keys of one role share a component key")
            seen |= parts
        if type(self.threshold) is not int or not 1 <= self.threshold <= len(keys):
            raise PolicyError(f"threshold must be between 1 and the number of keys ({len(keys)})")
        object.__setattr__(self, "keys", MappingProxyType(dict(sorted(keys.items()))))

    @classmethod
    def of(cls, keys: Iterable[PublicKey], threshold: int) -> RolePolicy:
        """A policy from a list of keys (each indexed by its key id)."""
        return cls({k.key_id: k for k in keys}, threshold)


@dataclass(frozen=True, slots=True)
class TrustPolicy:
    """The role policies of one exchange (e.g. party A, party B, mediator, commission)."""

    roles: Mapping[str, RolePolicy]

    def __post_init__(self) -> None:
        roles = dict(self.roles)
        for name, policy in roles.items():
            if not isinstance(name, str) or not name or not isinstance(policy, RolePolicy):
                raise PolicyError("a trust policy maps role names to role policies")
        object.__setattr__(self, "roles", MappingProxyType(roles))

    def role(self, name: str) -> RolePolicy:
        """The policy of role ``name``; ``PolicyError`` if the role is unknown."""
        try:
            return self.roles[name]
        except KeyError:
            raise PolicyError(f"unknown role {name!r}") from None
