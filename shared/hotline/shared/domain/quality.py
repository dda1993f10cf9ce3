"""The province's data-quality rules (the seed's Attachment 4), one small named function each,
run by scoring as events arrive and by provincial-sync before it uploads.

A document is what the province receives about one ticket — the ticket with its call record,
its dispatch steps and its survey — or a call record on its own, or the period's seat report or
video-stream metadata. `check` runs every rule that applies and returns the findings, each with
its code and the field at fault. The codes and texts are the domain guide's table.
"""

import itertools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from hotline.shared.domain import phones
from hotline.shared.domain.classifier import Classifier, default_classifier
from hotline.shared.domain.text_quality import copies_request, garbled, too_simple

# GB/T 2260 districts of 邵阳市 (the domain guide's list): a location code outside them is T05.
CITY_DISTRICTS = {
    "430502": "双清区",
    "430503": "大祥区",
    "430511": "北塔区",
    "430522": "新邵县",
    "430523": "邵阳县",
    "430524": "隆回县",
    "430525": "洞口县",
    "430527": "绥宁县",
    "430528": "新宁县",
    "430529": "城步",
    "430581": "武冈市",
    "430582": "邵东市",
}
LOCATION_CODE = re.compile(r"^\d{6}(\d{3}(\d{3})?)?$")
# A name or a surname with 先生/女士…; anonymous callers are written *先生 / *女士 (T07).
SALUTATION = re.compile(r"^(\*|[\u4e00-\u9fa5·A-Za-z]{1,16})[\u4e00-\u9fa5A-Za-z]*$")
ANONYMOUS = re.compile(r"^\*(先生|女士)$")


class Document(BaseModel):
    model_config = ConfigDict(extra="ignore")


class CallDocument(Document):
    """A call record (话单)."""

    call_id: str
    line: str = "12345"
    direction: Literal["in", "out"] = "in"
    caller_number: str | None = None
    callee_number: str | None = None
    agent_id: str | None = None
    started_at: AwareDatetime
    queued_at: AwareDatetime | None = None
    ringing_at: AwareDatetime | None = None
    connected_at: AwareDatetime | None = None
    ended_at: AwareDatetime
    talk_seconds: int = 0
    recording_url: str | None = None


class SurveyDocument(Document):
    """The survey (回访) of the ticket's closure."""

    outcome: Literal["answered", "unreachable"]
    satisfaction: Literal["satisfied", "basically_satisfied", "unsatisfied"] | None = None
    completed_at: AwareDatetime


class ExtensionDocument(Document):
    """An extension (延期) a unit asked for."""

    requested_at: AwareDatetime
    current_deadline: AwareDatetime
    requested_deadline: AwareDatetime
    outcome: Literal["pending", "accepted", "rejected"] = "pending"


class TicketDocument(Document):
    """A ticket (工单) as the province receives it, with what dispatch and callback added."""

    ticket_no: str
    channel: str
    call_id: str | None = None
    caller_salutation: str
    caller_number: str | None = None
    request_type: str
    category: str
    business_environment: bool = False
    location_code: str | None = None
    address: str | None = None
    content: str
    handling_mode: Literal["answered", "forward", "not_accepted", "pre_accepted"]
    status: str
    resolution: str | None = None
    repeat_of: str | None = None
    repeat_rule: str | None = None
    accepted_at: AwareDatetime
    updated_at: AwareDatetime | None = None
    dispatched_at: AwareDatetime | None = None
    dispatched_to: list[str] = Field(default_factory=list, description="Units, in order")
    replied_by: str | None = None
    replied_at: AwareDatetime | None = None
    closed_at: AwareDatetime | None = None
    handling_unit: str | None = None
    reported_satisfaction: str | None = None
    extensions: list[ExtensionDocument] = Field(default_factory=list)
    approved_extensions_without_request: int = 0


class TicketBundle(Document):
    """One ticket with its call record and survey, when they exist."""

    ticket: TicketDocument
    call: CallDocument | None = None
    survey: SurveyDocument | None = None


class SeatReport(Document):
    """The seats (座席) the city reported for a period, beside what its call records show."""

    reported_seats: int = Field(ge=0)
    agents_at_once: int = Field(ge=0, description="Most agents seen on calls at one time")


class VideoStream(Document):
    """Metadata of the call hall's video stream."""

    covers_work_area: bool = True
    width: int
    height: int
    frames_per_second: float
    bitrate_kbps: float


@dataclass(frozen=True)
class Finding:
    code: str
    field: str
    message: str


@dataclass(frozen=True)
class RuleContext:
    """What the rules need beyond the document."""

    now: datetime
    city_code: str = "4305"
    known_units: frozenset[str] = frozenset()
    call_grace: timedelta = timedelta(hours=2)
    classifier: Classifier = field(default_factory=default_classifier)
    min_bitrate_kbps: float = 2000.0


@dataclass(frozen=True)
class Rule:
    code: str
    text: str  # the seed's wording, abridged
    kind: Literal["ticket", "call", "seats", "video"]
    check: Callable[..., Iterable[Finding]]


RULES: dict[str, Rule] = {}


def rule(
    code: str, text: str, kind: Literal["ticket", "call", "seats", "video"] = "ticket"
) -> Callable[[Callable[..., Iterable[Finding]]], Callable[..., Iterable[Finding]]]:
    def register(check: Callable[..., Iterable[Finding]]) -> Callable[..., Iterable[Finding]]:
        RULES[code] = Rule(code, text, kind, check)
        return check

    return register


# --- tickets (工单) ----------------------------------------------------------------------------


@rule("T01", "工单关联不上话单详情")
def call_record_missing(bundle: TicketBundle, context: RuleContext) -> Iterable[Finding]:
    ticket = bundle.ticket
    if ticket.channel != "phone":
        return
    if ticket.call_id is None:
        yield Finding("T01", "call_id", "电话工单未关联话单 (a phone ticket names no call)")
    elif bundle.call is None and context.now - ticket.accepted_at > context.call_grace:
        yield Finding("T01", "call_id", f"话单{ticket.call_id}未收到 (its call record never came)")


@rule("T02", "工单详情的更新时间缺失、未更新或上报有误")
def updated_time(bundle: TicketBundle, context: RuleContext) -> Iterable[Finding]:
    ticket = bundle.ticket
    if ticket.updated_at is None:
        yield Finding("T02", "updated_at", "更新时间缺失 (no updated time)")
        return
    changes = [ticket.accepted_at, ticket.dispatched_at, ticket.replied_at, ticket.closed_at]
    latest = max(moment for moment in changes if moment is not None)
    if ticket.updated_at < latest:
        yield Finding("T02", "updated_at", "更新时间早于最后一次状态变更 (not updated)")
    if ticket.updated_at > context.now + timedelta(minutes=5):
        yield Finding("T02", "updated_at", "更新时间在未来 (in the future)")


@rule("T03", "转办工单受理时间、办结时间一致")
def accepted_equals_closed(bundle: TicketBundle, context: RuleContext) -> Iterable[Finding]:
    ticket = bundle.ticket
    if ticket.handling_mode == "forward" and ticket.closed_at == ticket.accepted_at:
        yield Finding("T03", "closed_at", "转办工单受理时间与办结时间一致")


@rule("T04", "转办工单收单部门不准确")
def receiving_unit(bundle: TicketBundle, context: RuleContext) -> Iterable[Finding]:
    ticket = bundle.ticket
    if ticket.handling_mode != "forward" or ticket.status == "awaiting_closure":
        return
    unit = ticket.dispatched_to[-1] if ticket.dispatched_to else None
    if unit is None:
        if ticket.closed_at is not None:
            yield Finding("T04", "dispatched_to", "转办工单无收单部门 (no receiving unit)")
        return
    if context.known_units and unit not in context.known_units:
        yield Finding("T04", "dispatched_to", f"收单部门{unit}不在成员单位名录 (unknown unit)")
    if ticket.replied_by is not None and ticket.replied_by != unit:
        yield Finding(
            "T04", "replied_by", f"答复单位{ticket.replied_by}不是收单部门{unit} (not the unit)"
        )


@rule("T05", "转办工单的事件发生地编码空缺或不准确")
def location_code(bundle: TicketBundle, context: RuleContext) -> Iterable[Finding]:
    ticket = bundle.ticket
    code = ticket.location_code
    if code is None:
        if ticket.handling_mode == "forward":
            yield Finding("T05", "location_code", "转办工单缺少事件发生地编码")
        return
    if not LOCATION_CODE.match(code):
        yield Finding("T05", "location_code", "不是6/9/12位行政区划代码 (not a division code)")
        return
    if not code.startswith(context.city_code) or (
        context.city_code == "4305" and code[:6] not in CITY_DISTRICTS
    ):
        yield Finding("T05", "location_code", f"编码不在本市 ({context.city_code}…)")
        return
    named = [number for number, name in CITY_DISTRICTS.items() if name in (ticket.address or "")]
    if named and code[:6] not in named:
        yield Finding(
            "T05", "location_code", f"编码与地址不符 (the address names {CITY_DISTRICTS[named[0]]})"
        )


@rule("T06", "受理渠道为电话时，呼入号码空缺或明显错误（如12345等）")
def caller_number(bundle: TicketBundle, context: RuleContext) -> Iterable[Finding]:
    ticket = bundle.ticket
    if ticket.channel != "phone":
        return
    number = phones.normalize(ticket.caller_number or "")
    if not phones.is_citizen_number(number):
        yield Finding("T06", "caller_number", "呼入号码空缺或明显错误 (not a citizen's number)")


@rule("T07", "诉求人称呼内容为空白、数字、符号等")
def salutation(bundle: TicketBundle, context: RuleContext) -> Iterable[Finding]:
    value = bundle.ticket.caller_salutation.strip()
    if value.startswith("*"):
        if not ANONYMOUS.match(value):
            yield Finding("T07", "caller_salutation", "匿名称呼应为“*先生”或“*女士”")
    elif not SALUTATION.match(value):
        yield Finding("T07", "caller_salutation", "称呼为空白、数字或符号 (a name, or *先生/*女士)")


@rule("T08", "工单受理内容与办结内容一致")
def resolution_copies_content(bundle: TicketBundle, context: RuleContext) -> Iterable[Finding]:
    ticket = bundle.ticket
    if ticket.resolution and copies_request(ticket.content, ticket.resolution):
        yield Finding("T08", "resolution", "办结内容与受理内容一致")


@rule("T09", "不规范使用标点、符号或出现乱码")
def garbled_text(bundle: TicketBundle, context: RuleContext) -> Iterable[Finding]:
    ticket = bundle.ticket
    for name, value in (("content", ticket.content), ("resolution", ticket.resolution)):
        if value and garbled(value):
            yield Finding("T09", name, "含乱码或不规范符号 (garbled text or symbol runs)")


@rule("T10", "受理内容、办结内容过于简单（“已告知”“咨询后答复”“在线办结”“转办办结”）")
def too_simple_text(bundle: TicketBundle, context: RuleContext) -> Iterable[Finding]:
    ticket = bundle.ticket
    if too_simple(ticket.content):
        yield Finding("T10", "content", "受理内容过于简单 (say what the citizen asked)")
    closed_with_text = ticket.closed_at is not None and ticket.resolution is not None
    if closed_with_text and too_simple(ticket.resolution or ""):
        yield Finding("T10", "resolution", "办结内容过于简单 (say what was done and found)")


@rule("T11", "根据工单内容判断，业务类型不准确")
def request_type(bundle: TicketBundle, context: RuleContext) -> Iterable[Finding]:
    ticket = bundle.ticket
    guess = context.classifier.request_type(ticket.content)
    if guess is not None and guess.label != ticket.request_type:
        yield Finding(
            "T11", "request_type", f"内容像是“{guess.label}”（{'、'.join(guess.evidence)}）"
        )


@rule("T12", "转办工单计入在线办结 / 在线办结计入转办")
def handling_mode(bundle: TicketBundle, context: RuleContext) -> Iterable[Finding]:
    ticket = bundle.ticket
    if ticket.handling_mode == "answered" and ticket.dispatched_to:
        yield Finding("T12", "handling_mode", "在线办结工单有转办记录 (answered, yet dispatched)")
    if (
        ticket.handling_mode == "forward"
        and not ticket.dispatched_to
        and ticket.status == "closed"
        and ticket.repeat_rule is None
    ):
        yield Finding("T12", "handling_mode", "转办工单无转办记录 (forwarded, never dispatched)")


@rule("T13", "不满意工单计入满意工单")
def reported_satisfaction(bundle: TicketBundle, context: RuleContext) -> Iterable[Finding]:
    reported, survey = bundle.ticket.reported_satisfaction, bundle.survey
    if reported is None or survey is None or survey.satisfaction is None:
        return
    if (reported == "unsatisfied") != (survey.satisfaction == "unsatisfied"):
        yield Finding(
            "T13", "reported_satisfaction", f"上报“{reported}”，回访结果“{survey.satisfaction}”"
        )


@rule("T14", "不予受理、预受理信息不准确")
def not_accepted(bundle: TicketBundle, context: RuleContext) -> Iterable[Finding]:
    ticket = bundle.ticket
    if ticket.handling_mode not in ("not_accepted", "pre_accepted"):
        return
    if not ticket.resolution:
        yield Finding("T14", "resolution", "不予受理/预受理未说明理由")
    if ticket.repeat_rule is not None and ticket.repeat_of is None:
        yield Finding("T14", "repeat_of", "重复件未关联原工单 (no original ticket)")


@rule("T15", "工单延期信息不准确或不符合逻辑")
def extensions(bundle: TicketBundle, context: RuleContext) -> Iterable[Finding]:
    for extension in bundle.ticket.extensions:
        if extension.requested_at >= extension.current_deadline:
            yield Finding("T15", "extensions", "延期申请晚于办理时限 (asked after the deadline)")
        if extension.requested_deadline <= extension.current_deadline:
            yield Finding("T15", "extensions", "延期后时限未晚于原时限 (not later)")
    if bundle.ticket.approved_extensions_without_request:
        yield Finding("T15", "extensions", "无延期申请而批准延期 (approved, never asked)")


@rule("T16", "特定诉求分类（优化营商环境）不准确")
def business_environment(bundle: TicketBundle, context: RuleContext) -> Iterable[Finding]:
    ticket = bundle.ticket
    guess = context.classifier.business_environment(ticket.content)
    if guess is not None and guess.label != ticket.business_environment:
        state = "是" if guess.label else "不是"
        yield Finding(
            "T16",
            "business_environment",
            f"内容{state}优化营商环境类（{'、'.join(guess.evidence)}）",
        )


@rule("T17", "工单分类不准确（执行时间待定）")
def category(bundle: TicketBundle, context: RuleContext) -> Iterable[Finding]:
    ticket = bundle.ticket
    guess = context.classifier.category(ticket.content)
    if guess is not None and guess.label != ticket.category:
        yield Finding("T17", "category", f"内容像是“{guess.label}”（{'、'.join(guess.evidence)}）")


@rule("X01", "三单中的时间字段不符合逻辑")
def three_records_in_order(bundle: TicketBundle, context: RuleContext) -> Iterable[Finding]:
    """call start ≤ ticket accepted ≤ dispatched ≤ replied ≤ closed ≤ callback."""
    ticket = bundle.ticket
    steps: list[tuple[str, datetime | None]] = [
        ("call.started_at", bundle.call.started_at if bundle.call else None),
        ("accepted_at", ticket.accepted_at),
        ("dispatched_at", ticket.dispatched_at),
        ("replied_at", ticket.replied_at),
        ("closed_at", ticket.closed_at),
        ("survey.completed_at", bundle.survey.completed_at if bundle.survey else None),
    ]
    present = [(name, moment) for name, moment in steps if moment is not None]
    for (before, earlier), (after, later) in itertools.pairwise(present):
        if later < earlier:
            yield Finding("X01", after, f"{after}早于{before} (out of order)")


# --- call records (话单), seats (座席), video (视频流) -------------------------------------------


@rule("C01", "话单中呼叫、队列、振铃、进座席 4 个环节时间完全一致", kind="call")
def four_times_identical(call: CallDocument, context: RuleContext) -> Iterable[Finding]:
    times = [call.started_at, call.queued_at, call.ringing_at, call.connected_at]
    if None not in times and len(set(times)) == 1:
        yield Finding("C01", "queued_at", "呼叫、队列、振铃、进座席时间完全一致")


@rule("C02", "话单有通话时长数据，但缺失录音地址", kind="call")
def recording_missing(call: CallDocument, context: RuleContext) -> Iterable[Finding]:
    if call.talk_seconds > 0 and not call.recording_url:
        yield Finding("C02", "recording_url", "有通话时长但缺失录音地址")


@rule("C03", "进座席时间和挂机时间完全一致，且存在录音", kind="call")
def connected_equals_ended(call: CallDocument, context: RuleContext) -> Iterable[Finding]:
    if call.connected_at is not None and call.connected_at == call.ended_at and call.recording_url:
        yield Finding("C03", "connected_at", "进座席时间与挂机时间一致却有录音")


@rule("S01", "座席数据与实际情况不符", kind="seats")
def seats(report: SeatReport, context: RuleContext) -> Iterable[Finding]:
    if report.reported_seats < report.agents_at_once:
        yield Finding(
            "S01",
            "reported_seats",
            f"上报座席{report.reported_seats}个，话单显示同时在岗{report.agents_at_once}人",
        )


@rule("V01", "视频流：角度偏移、未按要求覆盖话务大厅工作区域", kind="video")
def video_angle(stream: VideoStream, context: RuleContext) -> Iterable[Finding]:
    if not stream.covers_work_area:
        yield Finding("V01", "covers_work_area", "未覆盖话务大厅工作区域")


@rule("V02", "视频流：像素（1920×1080）、帧率（25 帧/秒）错误", kind="video")
def video_resolution(stream: VideoStream, context: RuleContext) -> Iterable[Finding]:
    if (stream.width, stream.height) != (1920, 1080):
        yield Finding("V02", "width", f"像素{stream.width}×{stream.height}，应为1920×1080")
    if stream.frames_per_second < 25:
        yield Finding("V02", "frames_per_second", f"帧率{stream.frames_per_second:g}，应为25")


@rule("V03", "视频流：码率偏低，画面模糊", kind="video")
def video_bitrate(stream: VideoStream, context: RuleContext) -> Iterable[Finding]:
    if stream.bitrate_kbps < context.min_bitrate_kbps:
        yield Finding("V03", "bitrate_kbps", f"码率{stream.bitrate_kbps:g} kbps偏低")


def _run(kind: str, document: object, context: RuleContext) -> list[Finding]:
    return [
        found
        for item in RULES.values()
        if item.kind == kind
        for found in item.check(document, context)
    ]


def check_ticket(
    bundle: TicketBundle, context: RuleContext, *, with_call: bool = True
) -> list[Finding]:
    """Every ticket rule, and the call rules on its call record unless the call's findings are
    kept apart (`with_call=False`: the ticket rules still see the record, T01 and X01 need it)."""
    findings = _run("ticket", bundle, context)
    if with_call and bundle.call is not None:
        findings += check_call(bundle.call, context)
    return findings


def check_call(call: CallDocument, context: RuleContext) -> list[Finding]:
    return _run("call", call, context)


def check_seats(report: SeatReport, context: RuleContext) -> list[Finding]:
    return _run("seats", report, context)


def check_video(stream: VideoStream, context: RuleContext) -> list[Finding]:
    return _run("video", stream, context)
