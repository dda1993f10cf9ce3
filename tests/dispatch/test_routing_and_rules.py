"""Routing by suggestion and remit; the reply rules; API key handling."""

import dataclasses

from hotline.dispatch import credentials
from hotline.dispatch.routing import UnitRemit, choose_unit
from hotline.dispatch.service import reply_findings

UNITS = [
    UnitRemit("U001", "大祥区政府", ["*"], ["430503"]),
    UnitRemit("U011", "市燃气总公司", ["生活服务类"], ["4305"]),
    UnitRemit("U019", "市自来水公司", ["生活服务类"], ["4305"]),
    UnitRemit("U010", "市人力资源和社会保障局", ["人力资源与社会保障类"], ["4305"]),
]


def test_the_agents_suggestion_wins_by_name_or_id() -> None:
    by_name = choose_unit(
        UNITS, category="生活服务类", location_code="430503", suggested="市燃气总公司"
    )
    by_id = choose_unit(UNITS, category="生活服务类", location_code="430503", suggested="U011")

    assert by_name is not None
    assert (by_name.unit_id, by_name.how) == ("U011", "suggested")
    assert by_id is not None
    assert by_id.unit_id == "U011"


def test_a_named_category_beats_a_unit_that_takes_everything() -> None:
    route = choose_unit(
        UNITS, category="人力资源与社会保障类", location_code="430503001", suggested=None
    )

    assert route is not None
    assert (route.unit_id, route.how) == ("U010", "routed")


def test_a_tie_goes_to_the_supervisors_queue() -> None:
    assert choose_unit(UNITS, category="生活服务类", location_code="430503", suggested=None) is None


def test_the_district_takes_what_only_it_covers_and_a_returning_unit_is_never_chosen_again() -> (
    None
):
    route = choose_unit(UNITS, category="城乡建设类", location_code="430503002", suggested=None)
    after_return = choose_unit(
        UNITS, category="城乡建设类", location_code="430503002", suggested=None, excluding="U001"
    )

    assert route is not None
    assert route.unit_id == "U001"
    assert after_return is None


# The four units the seed gives 城乡建设类, as a registry with one district office added.
BUILDING = [
    UnitRemit("U009", "市住房和城乡建设局", ["城乡建设类"], ["4305"], priority=10),
    UnitRemit("U016", "市城市管理和综合执法局", ["城乡建设类"], ["4305"]),
    UnitRemit("U029", "市不动产登记中心", ["城乡建设类"], ["4305"]),
    UnitRemit("U053", "市自然资源和规划局", ["城乡建设类"], ["4305"]),
]
DAXIANG_OFFICE = UnitRemit("T100", "大祥区城管执法大队", ["城乡建设类"], ["430503"])


def test_units_of_one_category_are_told_apart_by_the_tickets_district_first() -> None:
    in_daxiang = choose_unit(
        [*BUILDING, DAXIANG_OFFICE],
        category="城乡建设类",
        location_code="430503001",
        suggested=None,
    )
    in_shuangqing = choose_unit(
        [*BUILDING, DAXIANG_OFFICE],
        category="城乡建设类",
        location_code="430502001",
        suggested=None,
    )

    assert in_daxiang is not None
    assert (in_daxiang.unit_id, in_daxiang.how) == ("T100", "routed")
    # Outside its district the office does not fit: the city bureaus' priority decides.
    assert in_shuangqing is not None
    assert in_shuangqing.unit_id == "U009"


def test_units_of_one_category_and_area_are_told_apart_by_their_priority() -> None:
    route = choose_unit(BUILDING, category="城乡建设类", location_code="430511", suggested=None)

    assert route is not None
    assert (route.unit_id, route.how) == ("U009", "routed")


def test_units_equal_in_category_area_and_priority_go_to_the_supervisors_queue() -> None:
    no_lead = [dataclasses.replace(unit, priority=0) for unit in BUILDING]
    two_leads = [dataclasses.replace(unit, priority=10) for unit in BUILDING[:2]] + BUILDING[2:]

    def route(units: list[UnitRemit]) -> object:
        return choose_unit(units, category="城乡建设类", location_code="430511", suggested=None)

    assert route(no_lead) is None
    assert route(two_leads) is None


def test_the_lead_that_returned_a_ticket_leaves_the_rest_to_the_supervisors() -> None:
    route = choose_unit(
        BUILDING, category="城乡建设类", location_code="430511", suggested=None, excluding="U009"
    )

    assert route is None


def test_a_perfunctory_reply_is_refused_naming_the_rule_and_the_part() -> None:
    request = "百春园小区门口路灯不亮，晚上出行不便，请尽快维修"
    good_result = "已安排维修人员于1月21日更换灯泡，路灯已恢复照明。"

    perfunctory = reply_findings(request, "已和社区联系并处理", "已告知")
    copied = reply_findings(request, request, good_result)
    fine = reply_findings(
        request, "1月20日派维修班组现场检查线路", "更换损坏灯泡2只，路灯已恢复照明。"
    )

    assert [(f.code, f.field) for f in perfunctory] == [("T10", "actions"), ("T10", "result")]
    assert [(f.code, f.field) for f in copied] == [("T08", "actions")]
    assert fine == []


def test_api_keys_are_checked_against_their_hash_only() -> None:
    key = credentials.new_key()
    parts = credentials.split_key(key.api_key)

    assert parts is not None
    assert parts[0] == key.key_id
    assert credentials.secret_matches(parts[1], key.secret_hash)
    assert not credentials.secret_matches(parts[1] + "x", key.secret_hash)
    assert credentials.split_key("Bearer nonsense") is None
