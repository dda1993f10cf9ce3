"""The shape of the seed's traffic (Shaoyang's 12345 bulletin, January–February 2022), as
figures the simulator scales: each says where it comes from — the bulletin's text, one of its
attachments, or ours where the bulletin is silent."""

from dataclasses import dataclass
from datetime import date

from hotline.shared.domain.units import HOTLINE_UNIT

# The period the bulletin covers (its title: 2022 年 1-2 月份).
SEED_START, SEED_END = date(2022, 1, 1), date(2022, 2, 28)
SEED_DAYS = (SEED_END - SEED_START).days + 1

# 一、基本情况: 呼入总次数 32972次（含归并优化后 12333呼入 4375次，12315呼入 10951次，12348呼入
# 1331次），呼出总次数 6714次. The 12345 line's own share is what remains.
INBOUND_CALLS = 32_972
INBOUND_BY_LINE = {"12333": 4_375, "12315": 10_951, "12348": 1_331}
INBOUND_BY_LINE = {"12345": INBOUND_CALLS - sum(INBOUND_BY_LINE.values()), **INBOUND_BY_LINE}
OUTBOUND_CALLS = 6_714

# 一、基本情况: 受理…有效投诉事项 32525件，热线当即答复 27652件，网络转办 4873件; 满意 32459件.
TICKETS, ANSWERED_DIRECTLY, FORWARDED = 32_525, 27_652, 4_873

# 一、基本情况 (the three largest) and 二、热点问题 (the fourth and fifth): tickets per category.
# The rest of the tickets (11,906) the bulletin does not break down: ours, spread over the other
# categories of intake's default catalogue by the weights below.
SEED_CATEGORIES = {
    "社会服务类": 11_570,
    "人力资源与社会保障类": 4_074,
    "突发事件类": 2_360,
    "金融商贸财经类": 1_877,
    "生活服务类": 738,
}
OTHER_CATEGORY_WEIGHTS = {  # ours: none above 金融商贸财经类, the seed's fourth
    "城乡建设类": 15,
    "交通运输类": 15,
    "政务服务类": 14,
    "医疗卫生类": 12,
    "教育文化类": 12,
    "公共安全类": 10,
    "生态环境类": 8,
    "农业农村类": 8,
    "其他类": 6,
}

# Ours: the bulletin counts request types nowhere. Direct answers are mostly questions; what is
# forwarded is mostly what someone has to go and do.
DIRECT_REQUEST_TYPES = {"consultation": 70, "help": 20, "suggestion": 4, "praise": 3, "other": 3}
FORWARDED_REQUEST_TYPES = {
    "complaint": 40,
    "help": 25,
    "report": 10,
    "consultation": 15,
    "suggestion": 7,
    "other": 3,
}

# Ours: channels (受理渠道). The bulletin counts calls, not channels; a phone ticket has a call
# record (T01), and the inbound calls that made no ticket are abandoned or hung up.
CHANNELS = {"phone": 88, "wechat": 5, "web": 3, "app": 2, "sms": 1, "provincial": 1}

# 一、基本情况 and Attachment 1: every ticket was surveyed (回访量 = 交办总量). Ours: some
# citizens are not reached at the first try and answer the second.
UNREACHABLE_FIRST_TRY = 0.03

# Ours: how units behave, for the review paths (the seed's problems 一 and 三 name them, not
# their frequency).
RETURN_SHARE = 0.02  # 退单: half rejected (the 田江大桥 case), half sent on to the right unit
EXTENSION_SHARE = 0.03  # 延期: three approved out of four
PERFUNCTORY_SHARE = 0.02  # "已和社区联系并处理": refused (T10), then answered properly
REPEAT_SHARE = 0.01  # the same caller again with nothing new: not accepted (Attachment 5)


@dataclass(frozen=True)
class SeedUnitRow:
    """One row of Attachment 1 (各成员单位办件量统计): assigned, overdue, unsatisfied. In the seed
    handled = callbacks = assigned and satisfied = assigned − unsatisfied, for every unit."""

    unit: str
    assigned: int
    overdue: int
    unsatisfied: int


# Attachment 1, row by row (its overdue column is Attachment 2).
ATTACHMENT_1: tuple[SeedUnitRow, ...] = (
    SeedUnitRow("大祥区政府", 1089, 2, 22),
    SeedUnitRow("双清区政府", 733, 0, 11),
    SeedUnitRow("北塔区政府", 336, 0, 4),
    SeedUnitRow("邵阳经济开发区", 111, 0, 0),
    SeedUnitRow("12345政务服务便民热线", 27652, 0, 0),
    SeedUnitRow("市市场监督管理局", 340, 0, 6),
    SeedUnitRow("市道路运输管理处", 326, 0, 2),
    SeedUnitRow("市公安局交通警察支队", 324, 0, 3),
    SeedUnitRow("市住房和城乡建设局", 185, 0, 1),
    SeedUnitRow("市人力资源和社会保障局", 154, 0, 1),
    SeedUnitRow("市燃气总公司", 122, 0, 1),
    SeedUnitRow("市教育局", 102, 0, 0),
    SeedUnitRow("移动公司邵阳市分公司", 95, 0, 4),
    SeedUnitRow("市电业局", 92, 1, 0),
    SeedUnitRow("市公安局", 83, 0, 2),
    SeedUnitRow("市城市管理和综合执法局", 75, 0, 0),
    SeedUnitRow("市交通运输综合行政执法支队", 60, 0, 0),
    SeedUnitRow("市中心医院", 56, 1, 2),
    SeedUnitRow("市自来水公司", 55, 0, 0),
    SeedUnitRow("市卫生健康委员会", 50, 0, 1),
    SeedUnitRow("市医疗保障局", 50, 6, 1),
    SeedUnitRow("中国电信股份有限公司邵阳分公司", 46, 0, 1),
    SeedUnitRow("市税务局", 46, 0, 0),
    SeedUnitRow("邵阳联通", 46, 1, 1),
    SeedUnitRow("邮政局", 33, 0, 0),
    SeedUnitRow("市工业和信息化局", 25, 0, 2),
    SeedUnitRow("市消防救援支队", 23, 0, 0),
    SeedUnitRow("城市建设投资经营集团有限公司", 21, 0, 0),
    SeedUnitRow("市不动产登记中心", 19, 0, 0),
    SeedUnitRow("文化市场综合行政执法支队", 18, 0, 0),
    SeedUnitRow("市发展和改革委员会", 16, 2, 0),
    SeedUnitRow("邵阳学院附属第一医院", 15, 0, 0),
    SeedUnitRow("市交通运输局", 15, 0, 0),
    SeedUnitRow("市司法局", 13, 0, 0),
    SeedUnitRow("市公路建设养护中心", 12, 0, 0),
    SeedUnitRow("邵阳市烟草专卖局", 9, 0, 0),
    SeedUnitRow("中国建设银行邵阳市分行", 8, 1, 0),
    SeedUnitRow("广播电视台", 8, 0, 0),
    SeedUnitRow("市生态环境局", 6, 0, 0),
    SeedUnitRow("市民政局", 6, 0, 0),
    SeedUnitRow("邮政储蓄银行邵阳市分行", 6, 0, 0),
    SeedUnitRow("市高速公路管理处", 6, 0, 0),
    SeedUnitRow("市文化旅游广电体育局", 6, 0, 0),
    SeedUnitRow("市农业农村局", 5, 1, 0),
    SeedUnitRow("邵阳市疾病预防控制中心", 5, 0, 0),
    SeedUnitRow("退役军人事务局", 4, 0, 0),
    SeedUnitRow("邵阳市应急管理局", 3, 0, 0),
    SeedUnitRow("宝庆农商行分行", 2, 0, 0),
    SeedUnitRow("市商务局", 2, 0, 1),
    SeedUnitRow("市林业局", 2, 0, 0),
    SeedUnitRow("市国资委", 2, 2, 0),
    SeedUnitRow("中国人民财产保险股份有限公司邵阳市分公司", 2, 1, 0),
    SeedUnitRow("市自然资源和规划局", 2, 0, 0),
    SeedUnitRow("工商银行邵阳市分行", 1, 0, 0),
    SeedUnitRow("中国银行邵阳市分行", 1, 0, 0),
    SeedUnitRow("机关事务局", 1, 0, 0),
)

# Attachment 3 (省12345指挥监管平台抽查回访不满意工单统计): the province's unsatisfied spot checks.
ATTACHMENT_3 = {
    "大祥区政府": 3,
    "市住房和城乡建设局": 1,
    "市公安局交通警察支队": 1,
    "市交通运输综合行政执法支队": 1,
    "市道路运输管理处": 1,
}

# 二、（四）: 1月31日、2月10日和11日三天接到燃气停气的问题 191件; 1月31日（除夕）的停气未事前告知.
# The split over the three days is ours, as is the share of the unannounced day's calls the
# agents forwarded to the gas company (the others they answered on the call).
GAS_COMPANY = "市燃气总公司"
GAS_OUTAGE_CALLS = {date(2022, 1, 31): 101, date(2022, 2, 10): 50, date(2022, 2, 11): 40}
GAS_UNANNOUNCED = date(2022, 1, 31)
GAS_FORWARDED_SHARE = 0.3
GAS_DISTRICT = "430503"  # 大祥区 (ours)

HOTLINE = HOTLINE_UNIT
