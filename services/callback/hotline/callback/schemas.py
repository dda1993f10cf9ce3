"""The bodies of callback's API: survey results from the call centre, the agents' worklist."""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from hotline.shared.messaging.events import Satisfaction
from hotline.shared.web.schemas import InputModel, LocalDatetime

Method = Literal["automatic", "manual"]


class SurveyResultIn(InputModel):
    """What a survey found: the citizen's verdict, or that they could not be reached."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "survey_id": "sv-SY20261130000042-1",
                    "outcome": "answered",
                    "satisfaction": "unsatisfied",
                    "unit_contacted": False,
                    "resolved": False,
                    "comment": "燃气公司没有人和我联系，到现在还是没有气",
                    "method": "automatic",
                    "outbound_call_id": "call-20261201-000311",
                },
                {"outcome": "unreachable", "method": "manual"},
            ]
        }
    )

    survey_id: Annotated[str, StringConstraints(min_length=1, max_length=80)] | None = Field(
        default=None, description="The survey asked for; checked against the one open"
    )
    outcome: Literal["answered", "unreachable"]
    satisfaction: Satisfaction | None = Field(
        default=None, description="Required when the outcome is answered"
    )
    unit_contacted: bool | None = Field(default=None, description="Did the unit contact you?")
    resolved: bool | None = Field(default=None, description="Is the issue resolved?")
    comment: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None = None
    method: Method
    outbound_call_id: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = Field(
        default=None, description="The survey call's record; one call reported twice counts once"
    )


class SurveyOutcome(BaseModel):
    survey_id: str
    ticket_no: str
    state: Literal["scheduled", "requesting", "requested", "completed", "unreachable"]
    attempts: int
    due_at: LocalDatetime | None
    contradicted: bool
    reopened: bool


class WorkItem(BaseModel):
    """A survey an agent should make now, with what they need to make it."""

    survey_id: str
    ticket_no: str
    due_at: LocalDatetime
    attempts: int
    caller_salutation: str | None
    caller_number: str | None
    unit_name: str | None
    resolution: str | None
