"""What an answer commits the unit to, and whether two answers to one question contradict.

The seed's "two answers" (两个答复): the traffic police told a citizen one list of papers for
re-registering a car after an engine change, and a second ticket on the same question got
another. What a citizen acts on is the substance a reply states: the documents to bring (材料),
amounts (元), shares (比例), time limits (N个工作日, a date to act before) and places (窗口, 楼层,
地址, 办事大厅). Those are read from the text; everything else (wording, courtesy, what was
done) is left alone.

Two answers contradict when, for one kind of fact, both state it and each states a value the
other does not: the first list has 营业执照 the second lacks and the second 行驶证 the first
lacks; 300元 against 320元. An answer that only adds (a document more, a fee besides) is read as
more detail, not a contradiction: the detector suggests, a supervisor decides, and a reply held
wrongly costs the unit a day, so precision comes first (tests/dispatch/answer_pairs.py measures
it).
"""

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Facet = Literal["documents", "amounts", "ratios", "time_limits", "places"]
FACETS: tuple[Facet, ...] = ("documents", "amounts", "ratios", "time_limits", "places")

# Document names as answers write them → one canonical name. Longest aliases are matched first
# and their text consumed, so 安全技术检验合格证明 is never also read as 合格证.
DOCUMENTS: dict[str, tuple[str, ...]] = {
    "身份证": ("居民身份证", "身份证件", "身份证明", "身份证"),
    "户口簿": ("户口簿", "户口本", "居民户口簿"),
    "户口迁移证": ("户口迁移证", "迁移证"),
    "准迁证": ("准予迁入证明", "准迁证明", "准迁证"),
    "户籍证明": ("户籍证明",),
    "行驶证": ("机动车行驶证", "行驶证"),
    "登记证书": ("机动车登记证书", "登记证书", "大绿本", "绿本"),
    "驾驶证": ("机动车驾驶证", "驾驶证", "驾照"),
    "查验记录表": ("机动车查验记录表", "查验记录表"),
    "安全技术检验合格证明": (
        "机动车安全技术检验合格证明",
        "安全技术检验合格证明",
        "安全技术检验合格单",
        "安全技术检验和格单",  # the seed's own typo
        "检验合格证明",
    ),
    "合格证": ("发动机合格证", "产品合格证", "合格证"),
    "维修证明": ("维修证明",),
    "营业执照": ("营业执照",),
    "发票": ("购车发票", "购买发票", "发票原件", "发票"),
    "结婚证": ("结婚证",),
    "离婚证": ("离婚证",),
    "离婚协议": ("离婚协议书", "离婚协议"),
    "出生医学证明": ("出生医学证明", "出生证明", "出生证"),
    "不动产权证书": (
        "不动产权证书",
        "不动产权证",
        "不动产证",
        "房屋所有权证",
        "房产证",
    ),
    "土地证": ("国有土地使用证", "土地使用证", "土地证"),
    "购房合同": ("商品房买卖合同", "房屋买卖合同", "购房合同", "买卖合同"),
    "租赁合同": ("房屋租赁合同", "租赁合同", "租房合同"),
    "完税证明": ("契税完税凭证", "完税证明", "契税发票"),
    "测绘报告": ("房屋测绘报告", "测绘报告"),
    "劳动合同": ("劳动合同",),
    "解除劳动合同证明": ("解除劳动合同证明", "离职证明"),
    "退休证": ("退休证",),
    "死亡证明": ("死亡医学证明", "死亡证明"),
    "火化证明": ("火化证明",),
    "社保卡": ("社会保障卡", "社保卡", "医保卡"),
    "银行卡": ("银行卡", "银行存折", "存折"),
    "委托书": ("授权委托书", "委托书"),
    "申请表": ("申请审批表", "申请表", "登记表"),
    "照片": ("免冠照片", "证件照", "照片"),
    "居住证": ("居住证",),
    "收入证明": ("收入证明",),
    "残疾证": ("残疾人证", "残疾证"),
    "费用清单": ("费用明细清单", "费用清单", "费用明细"),
    "出院记录": ("出院小结", "出院记录"),
    "诊断证明": ("疾病诊断证明", "诊断证明书", "诊断证明"),
    "转诊证明": ("转诊证明", "转院证明", "转诊单", "异地就医备案表"),
    "病历": ("门诊病历", "病历本", "病历"),
    "缴存证明": ("公积金缴存证明", "缴存证明"),
    "毕业证": ("毕业证书", "毕业证"),
    "学籍证明": ("学籍证明",),
    "户主同意书": ("户主同意书", "户主同意"),
}
_ALIASES = sorted(
    ((alias, name) for name, aliases in DOCUMENTS.items() for alias in aliases),
    key=lambda pair: len(pair[0]),
    reverse=True,
)
# A repair shop's certificate, however the answer words it ("维修企业出示的…证明").
_REPAIR_PROOF = re.compile(r"维修[\u4e00-\u9fff]{0,10}?(?:开具|出具|出示)?的?证明")

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5}
_CN_DIGITS |= {"六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
NUMBER = r"(\d+(?:\.\d+)?|[零〇一二两三四五六七八九十百千]+)"

_AMOUNT = re.compile(NUMBER + r"\s*(万)?\s*元")
_RATIO = re.compile(NUMBER + r"\s*[%％]|百分之" + NUMBER)
_DURATION = re.compile(
    NUMBER
    + r"\s*(个工作日|工作日|个自然日|自然日|日|天|个月|小时|年)(?=内|以内|之内|左右|办结|完成|到账)"
)
_DEADLINE_DATE = re.compile(
    r"(?:(\d{4})年)?(\d{1,2})月(\d{1,2})日(?=前(?!往)|之前|以前|止|截止)|每月(\d{1,2})日(?=前(?!往)|之前|以前)"
)
_WINDOW = re.compile(NUMBER + r"\s*号?窗口")
_FLOOR = re.compile(NUMBER + r"\s*(?:楼|层)(?!盘)")
_ADDRESS = re.compile(r"([\u4e00-\u9fff]{2,6}?(?:路|街|大道))\s*(\d+)\s*号")
_HALL = re.compile(r"政务服务中心|市民之家|办事大厅|服务大厅|营业厅|车管所|不动产登记中心|服务窗口")
_REGION = re.compile(r"[\u4e00-\u9fff]{0,3}?(?:市|区|县|镇|乡|街道)")
# Where a hall's name stops, reading back from 政务服务中心: the verb or particle before it.
_HALL_STOP = set("到往至在于去赴来请或和及的、，。；：向经由从找前需可均携带")
_UNIT_OF = {
    "个工作日": "工作日",
    "工作日": "工作日",
    "个自然日": "日",
    "自然日": "日",
    "日": "日",
    "天": "日",
    "个月": "月",
    "小时": "小时",
    "年": "年",
}


def chinese_number(text: str) -> float:
    """12, 12.5, 十二, 二十, 一百五十 → a number (the small numbers answers write)."""
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        return float(text)
    total, digit = 0, 0
    for ch in text:
        if ch in _CN_DIGITS:
            digit = _CN_DIGITS[ch]
        elif ch in _CN_UNITS:
            total += (digit or 1) * _CN_UNITS[ch]
            digit = 0
    return float(total + digit)


def _number(text: str) -> str:
    value = chinese_number(text)
    return str(int(value)) if value.is_integer() else str(value)


@dataclass(frozen=True)
class Facts:
    """What an answer states, by kind; each value normalized (身份证明 → 身份证, 十日 → 10日)."""

    documents: frozenset[str] = frozenset()
    amounts: frozenset[str] = frozenset()
    ratios: frozenset[str] = frozenset()
    time_limits: frozenset[str] = frozenset()
    places: frozenset[str] = frozenset()

    def of(self, facet: Facet) -> frozenset[str]:
        return frozenset(getattr(self, facet))


@dataclass(frozen=True)
class Difference:
    """One kind of fact on which two answers part: what only the earlier says, and the new."""

    facet: Facet
    only_earlier: tuple[str, ...]
    only_new: tuple[str, ...]


def facts(text: str) -> Facts:
    """The documents, amounts, shares, time limits and places an answer states."""
    text = unicodedata.normalize("NFKC", text)
    return Facts(
        documents=frozenset(_documents(text)),
        amounts=frozenset(_amounts(text)),
        ratios=frozenset(_number(m.group(1) or m.group(2)) + "%" for m in _RATIO.finditer(text)),
        time_limits=frozenset(_time_limits(text)),
        places=frozenset(_places(text)),
    )


def contradictions(earlier: Facts, new: Facts) -> list[Difference]:
    """The kinds of fact on which each answer states a value the other does not."""
    found = []
    for facet in FACETS:
        first, second = earlier.of(facet), new.of(facet)
        for kind in {_kind(value) for value in first} & {_kind(value) for value in second}:
            only_first = sorted(v for v in first if _kind(v) == kind and not _named(v, second))
            only_second = sorted(v for v in second if _kind(v) == kind and not _named(v, first))
            if only_first and only_second:
                found.append(Difference(facet, tuple(only_first), tuple(only_second)))
    return found


def contradict(earlier: str, new: str) -> list[Difference]:
    """`contradictions` of two answers' texts."""
    return contradictions(facts(earlier), facts(new))


def _named(value: str, others: frozenset[str]) -> bool:
    """The other answer names it too; a hall by its full name or a shorter one
    (邵阳市政务服务中心, 市政务服务中心)."""
    if value in others:
        return True
    if _kind(value) != "大厅":
        return False
    name = value.partition(":")[2]
    return any(
        _kind(other) == "大厅"
        and (name.endswith(other.partition(":")[2]) or other.partition(":")[2].endswith(name))
        for other in others
    )


def _kind(value: str) -> str:
    """Places compare window with window, hall with hall; every other facet is one kind."""
    head, sep, _ = value.partition(":")
    return head if sep else ""


def _documents(text: str) -> Iterable[str]:
    masked = text
    for alias, name in _ALIASES:
        while alias in masked:
            yield name
            masked = masked.replace(alias, "□" * len(alias), 1)
    if _REPAIR_PROOF.search(masked):  # after the names: 维修企业的营业执照和证明 names both
        yield "维修证明"


def _amounts(text: str) -> Iterable[str]:
    for match in _AMOUNT.finditer(text):
        value = chinese_number(match.group(1)) * (10_000 if match.group(2) else 1)
        yield (str(int(value)) if value.is_integer() else str(value)) + "元"


def _time_limits(text: str) -> Iterable[str]:
    for match in _DURATION.finditer(text):
        unit = _UNIT_OF[match.group(2)]
        yield _number(match.group(1)) + ("个" if unit in ("工作日", "月") else "") + unit
    for match in _DEADLINE_DATE.finditer(text):
        year, month, day, monthly = match.groups()
        if monthly:
            yield f"每月{int(monthly)}日前"
        else:
            yield f"{year + '年' if year else ''}{int(month)}月{int(day)}日前"


def _places(text: str) -> Iterable[str]:
    for match in _WINDOW.finditer(text):
        yield f"窗口:{_number(match.group(1))}号窗口"
    for match in _FLOOR.finditer(text):
        yield f"楼层:{_number(match.group(1))}楼"
    for match in _ADDRESS.finditer(text):
        street = re.sub(r"^(?:地址|位于|地处|在|于)+", "", match.group(1))
        yield f"地址:{street}{match.group(2)}号"
    for match in _HALL.finditer(text):
        start = match.start()
        while start > 0 and start > match.start() - 8:
            ch = text[start - 1]
            if ch in _HALL_STOP or not ("\u4e00" <= ch <= "\u9fff" or ch.isdigit()):
                break
            start -= 1
        before = _FLOOR.sub("", text[start : match.start()]).lstrip("0123456789")
        # A hall is named by its city, district or town (市政务服务中心, 大祥区车管所); anything
        # else before it is the sentence (核实车管所, 按车管所): a bare hall names none in
        # particular.
        region = _REGION.search(before)
        if region:
            yield f"大厅:{before[region.start() :]}{match.group()}"
