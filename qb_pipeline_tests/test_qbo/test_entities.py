"""The client's entity catalogue agrees with the emulator's (and so with API_FACTS), and the
client package never imports the emulator."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from qb_pipeline.emulator.entities import ENTITY_TYPES, Kind
from qb_pipeline.qbo import entities
from qb_pipeline.qbo.entities import ENTITIES, UnknownEntityError, cdc_entities, entity


@pytest.mark.parametrize("name", sorted(ENTITY_TYPES))
def test_agrees_with_the_emulator(name: str) -> None:
    theirs, ours = ENTITY_TYPES[name], entity(name)
    assert ours.path == theirs.path
    assert ours.cdc == theirs.cdc
    assert ours.voidable == theirs.voidable
    assert ours.is_transaction == (theirs.kind == Kind.TRANSACTION)
    if ours.is_name_list:
        assert theirs.kind == Kind.NAME_LIST
    if ours.is_transaction:
        assert ours.deletable == theirs.deletable


def test_cdc_exclusions_and_odd_names() -> None:
    excluded = {e.name for e in ENTITIES.values() if not e.cdc}
    assert {"TaxCode", "TaxRate", "TaxAgency", "TimeActivity"} <= excluded
    assert "Invoice" in cdc_entities() and "TaxCode" not in cdc_entities()
    card = entity("creditcardpaymenttxn")
    assert (card.name, card.path, card.key) == (
        "CreditCardPayment",
        "creditcardpayment",
        "CreditCardPaymentTxn",
    )
    assert not entity("Customer").deletable and entity("Customer").is_name_list
    with pytest.raises(UnknownEntityError, match="Invoyce"):
        entity("Invoyce")


def test_the_client_never_imports_the_emulator_or_dagster() -> None:
    package = Path(entities.__file__).parent
    for source in package.glob("*.py"):
        tree = ast.parse(source.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            assert not any("emulator" in n or "dagster" in n for n in names), (source.name, names)
