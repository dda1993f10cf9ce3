"""Reading what an answer commits to, and telling two answers to one question apart: measured on
the labelled pairs of `answer_pairs.py`."""

from hotline.dispatch.answers import contradict, facts
from tests.dispatch.answer_pairs import PAIRS

# Measured on the labelled set (58 pairs, 28 contradicting): precision 1.0, recall 26/28 (0.93;
# the misses name a document or a duration the rules do not read). The floors leave a little room.
MIN_PRECISION = 0.9
MIN_RECALL = 0.9


def test_the_labelled_set_is_large_enough_and_balanced() -> None:
    contradicting = sum(pair.contradicts for pair in PAIRS)

    assert len(PAIRS) >= 50
    assert 0.4 <= contradicting / len(PAIRS) <= 0.6


def test_contradictions_are_found_with_high_precision_and_measured_recall() -> None:
    found = [(pair, bool(contradict(pair.earlier, pair.new))) for pair in PAIRS]
    true_positives = sum(1 for pair, held in found if held and pair.contradicts)
    flagged = sum(1 for _, held in found if held)
    contradicting = sum(1 for pair in PAIRS if pair.contradicts)

    precision = true_positives / flagged
    recall = true_positives / contradicting
    print(f"two answers: precision {precision:.3f}, recall {recall:.3f} on {len(PAIRS)} pairs")

    assert precision >= MIN_PRECISION
    assert recall >= MIN_RECALL


def test_the_seeds_two_engine_change_answers_part_on_the_documents() -> None:
    first = (
        "已经注册登记的车辆更换发动机应当在变更后十日内向车辆管理所申请变更登记。需提供：更换"
        "同品牌、同型号的发动机；提供有资质的专业维修企业出示的营业执照和证明；新发动机合格证；"
        "机动车安全技术检验和格单。"
    )
    second = (
        "机动车变更发动机所需资料：机动车所有人的身份证明、行驶证、登记证书、机动车查验记录表，"
        "机动车安全技术检验合格证明和更换发动机维修店开具的证明（需盖公章）。"
    )

    [difference] = contradict(first, second)

    assert difference.facet == "documents"
    assert set(difference.only_earlier) == {"营业执照", "合格证"}
    assert {"身份证", "行驶证", "登记证书", "查验记录表"} <= set(difference.only_new)


def test_facts_are_normalized_so_other_words_for_one_thing_agree() -> None:
    read = facts(
        "请携带身份证明、户口本到市政务服务中心二楼3号窗口，十五个工作日内办结，收费300元，报销百分之七十"
    )

    assert read.documents == {"身份证", "户口簿"}
    assert read.places == {"大厅:市政务服务中心", "楼层:2楼", "窗口:3号窗口"}
    assert read.time_limits == {"15个工作日"}
    assert read.amounts == {"300元"}
    assert read.ratios == {"70%"}


def test_an_answer_that_only_adds_detail_does_not_contradict() -> None:
    assert (
        contradict("需携带身份证，费用300元", "需携带身份证和户口簿，费用300元，另收表具费50元")
        == []
    )
