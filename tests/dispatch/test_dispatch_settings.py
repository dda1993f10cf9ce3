"""Dispatch's settings: partial maps merge over the defaults; what cannot work stops the start."""

import pytest
from pydantic import ValidationError

from hotline.dispatch.config import DEFAULT_DEADLINE_DAYS, DispatchSettings


@pytest.fixture(autouse=True)
def development(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_ENVIRONMENT", "development")


def test_a_partial_deadline_table_changes_only_what_it_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HOTLINE_DISPATCH_DEADLINE_DAYS", '{"complaint": 7}')

    days = DispatchSettings().dispatch.deadline_days

    assert days == {**DEFAULT_DEADLINE_DAYS, "complaint": 7}
    assert days["consultation"] == 2


@pytest.mark.parametrize(
    "table", ['{"complain": 7}', '{"complaint": 0}', '{"complaint": "soon"}', "[7]"]
)
def test_a_deadline_table_that_cannot_work_stops_the_start_naming_the_field(
    monkeypatch: pytest.MonkeyPatch, table: str
) -> None:
    monkeypatch.setenv("HOTLINE_DISPATCH_DEADLINE_DAYS", table)

    with pytest.raises(ValidationError, match="deadline_days"):
        DispatchSettings()
