"""Realistic ticket webhooks, drawn from the seed bulletin's busiest categories and units."""

import json
import random
from datetime import UTC, datetime
from uuid import uuid4

from standardwebhooks.webhooks import Webhook

from hotline.shared.domain.units import seed_units

DISTRICTS = ["430502", "430503", "430511", "430522", "430523", "430524", "430581", "430582"]
SURNAMES = "王李张刘陈杨黄赵周吴徐孙胡朱高林何郭马罗"
# (category, request type, handling mode, what citizens say) after the seed's hot issues.
ISSUES = [
    (
        "人力资源与社会保障类",
        "complaint",
        "forward",
        "在{place}工地做工三个月，老板拖欠工资{n}元至今未付，请求帮助追讨",
    ),
    (
        "人力资源与社会保障类",
        "consultation",
        "answered",
        "咨询{place}灵活就业人员养老保险怎么缴费，每月缴多少",
    ),
    (
        "突发事件类",
        "consultation",
        "answered",
        "从外省返回{place}，咨询是否需要做核酸检测和居家隔离几天",
    ),
    (
        "金融商贸财经类",
        "report",
        "forward",
        "{place}有一家无证经营的小餐馆，卫生条件很差，请相关部门查处",
    ),
    ("生活服务类", "help", "forward", "{place}从昨天开始停水，没有提前通知，家里老人小孩生活不便"),
    ("社会服务类", "consultation", "answered", "咨询{place}的居民医保在哪里办理，需要带什么材料"),
    (
        "交通运输类",
        "complaint",
        "forward",
        "{place}路口红绿灯坏了{n}天，早晚高峰拥堵严重，存在安全隐患",
    ),
]
PLACES = ["翠园小区", "城南公园附近", "宝庆路口", "资江大桥", "西湖路菜市场", "双拥路学校旁"]
ANSWERS = {
    "人力资源与社会保障类": "已告知来电人可携带身份证到当地社保经办窗口办理，按月缴费标准为当地最低缴费基数的20%，可选择按月或按年缴纳。",
    "突发事件类": "已告知来电人按当地疫情防控指挥部最新规定，抵达后24小时内到就近采样点进行核酸检测，并向所在社区报备。",
    "社会服务类": "已告知来电人居民医保可在所在社区或乡镇便民服务中心办理，需携带户口簿和身份证原件。",
}


def ticket(rng: random.Random) -> dict[str, object]:
    category, request_type, mode, template = rng.choice(ISSUES)
    place = rng.choice(PLACES)
    district = rng.choice(DISTRICTS)
    body: dict[str, object] = {
        "source_ticket_id": f"desk-{uuid4().hex}",
        "call_id": f"call-{uuid4().hex}",
        "channel": "phone",
        "caller": {
            "salutation": rng.choice(SURNAMES) + rng.choice(["先生", "女士"]),
            "number": "1" + rng.choice("3578") + "".join(rng.choices("0123456789", k=9)),
        },
        "request_type": request_type,
        "category": category,
        "location_code": district + f"{rng.randrange(1000):03d}",
        "address": place,
        "content": template.format(place=place, n=rng.randrange(2, 30) * 100),
        "handling_mode": mode,
        "agent_id": f"A{rng.randrange(1, 60):03d}",
        "accepted_at": datetime.now(UTC).isoformat(),
    }
    if mode == "answered":
        body["resolution"] = ANSWERS[category]
    else:
        body["suggested_unit"] = "大祥区政府"
    return body


Issue = tuple[str, str, str]  # category, request type, what the citizen says


def _forwarded_choices() -> tuple[list[tuple[str, str, list[Issue]]], list[int]]:
    """Each seed unit that takes one of the forwarded issues (its category in the unit's remit;
    a district government: all of them, from its own area), with those issues and the unit's
    tickets in the seed bulletin as its weight."""
    forwarded = [(c, kind, text) for c, kind, mode, text in ISSUES if mode == "forward"]
    units, weights = [], []
    for unit in seed_units():
        district = "*" in unit.categories and len(unit.location_prefixes) == 1
        issues = [issue for issue in forwarded if district or issue[0] in unit.categories]
        if issues:
            # A city bureau takes tickets from any district: one is drawn per ticket.
            prefix = unit.location_prefixes[0] if district else ""
            units.append((unit.name, prefix, issues))
            weights.append(unit.assigned_in_seed)
    return units, weights


def forwarded_ticket(rng: random.Random) -> dict[str, object]:
    """A forwarded ticket naming a real unit of the seed (its category one the unit handles),
    the units drawn in the proportions of the bulletin's Attachment 1."""
    units, weights = FORWARDED
    unit, prefix, issues = rng.choices(units, weights)[0]
    category, request_type, template = rng.choice(issues)
    body = {key: value for key, value in ticket(rng).items() if key != "resolution"}
    place = rng.choice(PLACES)
    district = prefix or rng.choice(DISTRICTS)
    return body | {
        "request_type": request_type,
        "category": category,
        "handling_mode": "forward",
        # A village-level code of its own: tickets at one precise place about one issue are
        # repeats, which intake holds rather than forwards.
        "location_code": district + f"{rng.randrange(10**6):06d}",
        "address": place,
        "content": template.format(place=place, n=rng.randrange(2, 30) * 100),
        "suggested_unit": unit,
    }


def signed(
    secret: Webhook, body: dict[str, object], at: datetime | None = None
) -> tuple[bytes, dict[str, str]]:
    """The body and its Standard Webhooks headers, signed as of `at` (now unless given)."""
    raw = json.dumps(body, ensure_ascii=False)
    webhook_id = f"msg_{uuid4().hex}"
    now = at or datetime.now(UTC)
    return raw.encode(), {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": secret.sign(webhook_id, now, raw),
        "content-type": "application/json",
    }


FORWARDED = _forwarded_choices()
