"""Which earlier questions are this one: the threshold of `evidence.SAME_QUESTION_SCORE`,
measured on pairs of questions one unit gets."""

from hotline.dispatch.evidence import SAME_QUESTION_SCORE, question_terms
from hotline.shared.domain.text import text_matcher

SAME = [
    (
        "市民反映购买了一台新车，已在车管所进行登记，现新车的发动机重新更换，市民想咨询车辆需不需要"
        "再次进行备案，如果需要，市民需要携带哪些资料来车管所办理",
        "市民咨询车辆更换发动机后办理变更登记需要带哪些材料",
    ),
    (
        "市民咨询双清区田江大桥是否在规划中，什么时候动工修建",
        "来电人询问田江大桥什么时候开始修建，有没有列入规划",
    ),
    ("市民咨询购房提取住房公积金需要哪些材料", "来电人想了解买房后提取公积金要带什么资料"),
    (
        "市民咨询城乡居民医保在二级医院住院报销比例是多少",
        "市民询问居民医保住院报销能报多少比例，在二级医院",
    ),
    ("市民咨询户口迁入需要办理哪些手续", "来电人询问把户口迁到丈夫家需要什么手续"),
    ("市民咨询新装燃气开户费用是多少", "市民询问家里新装天然气要交多少开户费"),
    ("市民咨询二手房过户不动产登记多久能办好", "来电人询问二手房转移登记办理时限"),
    ("市民咨询社保卡丢了在哪里补办", "来电人社保卡遗失，询问补办地点"),
]
DIFFERENT = [
    ("市民咨询车辆更换发动机后办理变更登记需要带哪些材料", "市民咨询新车上牌需要哪些材料"),
    ("市民咨询购房提取住房公积金需要哪些材料", "市民咨询公积金贷款最高能贷多少"),
    ("市民咨询城乡居民医保在二级医院住院报销比例是多少", "市民咨询生育津贴怎么申领"),
    ("市民咨询户口迁入需要办理哪些手续", "市民咨询新生儿落户需要哪些材料"),
    ("市民咨询新装燃气开户费用是多少", "市民咨询燃气过户需要什么资料"),
    ("市民咨询二手房过户不动产登记多久能办好", "市民咨询契税在哪里缴纳"),
    ("市民咨询双清区田江大桥是否在规划中，什么时候动工修建", "市民反映双清区宝庆路路灯不亮"),
    ("市民咨询驾驶证到期换证时间", "市民咨询驾驶证丢失补办需要什么材料"),
]


def _score(first: str, second: str) -> float:
    return (
        text_matcher().similarity(question_terms(first, None), question_terms(second, None)).score
    )


def test_the_same_question_in_other_words_reaches_the_threshold() -> None:
    scores = [_score(first, second) for first, second in SAME]

    assert min(scores) >= SAME_QUESTION_SCORE, scores


def test_another_question_to_the_same_unit_stays_below_it() -> None:
    scores = [_score(first, second) for first, second in DIFFERENT]

    assert max(scores) < SAME_QUESTION_SCORE, scores


def test_the_words_every_question_asks_with_tie_no_two_questions() -> None:
    assert question_terms("市民咨询需要哪些材料，怎么办理", None) == {}
