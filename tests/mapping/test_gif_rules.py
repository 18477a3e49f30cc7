"""docs/gif-rules.md is current, and every function and test it names exists."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from isoill.mapping.gif_rules import RULES, Rule, render

ROOT = Path(__file__).resolve().parents[2]


def test_every_rule_is_listed_once() -> None:
    assert [r.id for r in RULES] == [f"N-{n}" for n in range(1, 41)]


def test_the_document_is_current() -> None:
    assert (ROOT / "docs" / "gif-rules.md").read_text("utf-8") == render()


@pytest.mark.parametrize("rule", [r for r in RULES if r.kind != "non-goal"], ids=lambda r: r.id)
def test_named_function_and_test_exist(rule: Rule) -> None:
    module, _, rest = rule.by.partition(".mapping.")
    parts = f"mapping.{rest}".split(".")
    target: object = importlib.import_module(f"{module}.{parts[0]}.{parts[1]}")
    for name in parts[2:]:
        target = getattr(target, name)
    assert callable(target)
    path, _, name = rule.test.partition("::")
    assert f"def {name}(" in (ROOT / path).read_text("utf-8"), rule.test


def test_a_missing_test_would_be_noticed() -> None:
    text = (ROOT / "tests" / "mapping" / "test_receive.py").read_text("utf-8")
    assert "def test_no_such_thing(" not in text
