from __future__ import annotations

import pytest

from workflows.errors import UsageError
from workflows.workflow_args import number_arg, parse_workflow_args, reject_unknown_keys


def test_values_are_typed_and_kebab_keys_become_snake() -> None:
    args = parse_workflow_args("max-concurrency=4 rate=1.5 smoke=true name='a b' dataset=random")
    assert dict(args) == {
        "max_concurrency": 4,
        "rate": 1.5,
        "smoke": True,
        "name": "a b",
        "dataset": "random",
    }


@pytest.mark.parametrize("text", ["novalue", "=3", "k='unclosed"])
def test_malformed_pairs_are_rejected(text: str) -> None:
    with pytest.raises(UsageError, match="--workflow-args"):
        parse_workflow_args(text)


def test_workflow_rejects_keys_it_does_not_read() -> None:
    with pytest.raises(
        UsageError, match="server workflow does not take colour; it accepts: ready_timeout"
    ):
        reject_unknown_keys("server", parse_workflow_args("colour=red"), ["ready_timeout"])


def test_number_arg_checks_type() -> None:
    assert number_arg(parse_workflow_args("ready_timeout=30"), "ready_timeout", 5) == 30
    assert number_arg(parse_workflow_args(""), "ready_timeout", 5) == 5
    with pytest.raises(UsageError, match="ready_timeout must be a positive number"):
        number_arg(parse_workflow_args("ready_timeout=soon"), "ready_timeout", 5)
