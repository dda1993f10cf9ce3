"""Realistic ticket webhooks, drawn from the seed bulletin's busiest categories and units."""

import json
import random
from datetime import UTC, datetime
from uuid import uuid4

from standardwebhooks.webhooks import Webhook

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


def signed(secret: Webhook, body: dict[str, object]) -> tuple[bytes, dict[str, str]]:
    raw = json.dumps(body, ensure_ascii=False)
    webhook_id = f"msg_{uuid4().hex}"
    now = datetime.now(UTC)
    return raw.encode(), {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": secret.sign(webhook_id, now, raw),
        "content-type": "application/json",
    }
