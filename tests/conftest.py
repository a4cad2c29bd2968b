"""Shared pytest fixtures (the exchange kit lives in ``tests/exchange_kit.py``)."""

from __future__ import annotations

import pytest

import exchange_kit as kit
from swapproto.terms import Terms


@pytest.fixture
def terms() -> Terms:
    """The kit's unsealed terms."""
    return kit.make_terms()


@pytest.fixture
def sealed_terms() -> Terms:
    """The kit's sealed terms (reveals encrypted to the counterparty and the mediator)."""
    return kit.make_terms(sealed=True)


@pytest.fixture
def exchange() -> kit.Exchange:
    """A complete honest unsealed exchange (both parties accepted)."""
    return kit.honest()


@pytest.fixture
def sealed_exchange() -> kit.Exchange:
    """A complete honest sealed exchange."""
    return kit.honest(sealed=True)
