"""Open311 GeoReport v2 bodies, with the spec's field names."""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from hotline.intake.schemas import RawPhone
from hotline.shared.web.schemas import InputModel, LocalDatetime

Open311Status = Literal["open", "closed"]


Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=16)]
Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
Identifier = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Line = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Description = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)
]


class Open311Service(BaseModel):
    """A service type (GET services): one category of the catalogue."""

    service_code: str = Field(description="The category, as a ticket's `category` takes it")
    service_name: str
    description: str
    metadata: bool = Field(description="Always false: no attributes beyond the spec's fields")
    type: Literal["realtime", "batch", "blackbox"] = Field(
        description="realtime: the request id is returned at once"
    )
    keywords: str = Field(description="Comma separated words that speak for the category")
    group: str


class RequestForm(InputModel):
    """POST requests: the spec's form fields. An empty field counts as one not sent (the spec's
    "optional"); fields the spec allows that we do not use (jurisdiction_id, attribute[…]) are
    ignored."""

    model_config = ConfigDict(extra="ignore")

    api_key: Line | None = None
    service_code: Code | None = None
    lat: float | None = Field(default=None, ge=-90, le=90)
    long: float | None = Field(default=None, ge=-180, le=180)
    address_string: Line | None = None
    address_id: Code | None = Field(
        default=None, description="The GB/T 2260 division code of the place (6, 9 or 12 digits)"
    )
    email: (
        Annotated[str, StringConstraints(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
        | None
    ) = None
    device_id: Identifier | None = None
    account_id: Identifier | None = None
    first_name: Name | None = None
    last_name: Name | None = None
    phone: RawPhone | None = None
    description: Description | None = None
    media_url: (
        Annotated[str, StringConstraints(max_length=2000, pattern=r"^https?://\S+$")] | None
    ) = None


class RequestCreated(BaseModel):
    """POST requests' answer: the ticket number is the service request id."""

    service_request_id: str
    service_notice: str | None
    account_id: str | None


class ServiceRequestPublic(BaseModel):
    """A request's status (GET requests). Never the citizen's name, phone, email or device."""

    service_request_id: str
    status: Open311Status
    status_notes: str | None
    service_name: str
    service_code: str
    description: str | None
    agency_responsible: str | None = Field(description="The handling unit (承办单位)")
    service_notice: str | None
    requested_datetime: LocalDatetime
    updated_datetime: LocalDatetime
    expected_datetime: LocalDatetime | None = Field(description="The unit's deadline")
    address: str | None
    address_id: str | None = Field(description="The GB/T 2260 division code")
    zipcode: str | None
    lat: float | None
    long: float | None
    media_url: str | None


class Open311Error(BaseModel):
    code: int
    description: str
