"""The shared search: search terms cut and folded in one place, and BM25 ranking with filters,
as intake's knowledge base and dispatch use them over their own texts."""

import numpy as np
import pytest

from hotline.shared.domain.text import SearchIndex, _pairs, text_matcher

TEXTS = {
    "engine": "已注册登记的机动车更换发动机需要办理变更登记",
    "plate": "新车如何办理注册登记上牌",
    "gas": "新房如何办理管道燃气开户通气",
}


def test_search_terms_drop_stock_phrasing_and_questions_and_fold_how_citizens_ask() -> None:
    terms = text_matcher().search_terms("市民反映想咨询新买的小汽车怎么上牌")

    assert "市民" not in terms
    assert "咨询" not in terms
    assert "怎么" not in terms
    assert {"机动车", "注册登记"} <= set(terms)  # 小汽车 → 机动车, 上牌 → 注册登记


def test_a_title_counts_twice() -> None:
    terms = text_matcher().search_document("燃气开户", "带上房产证")

    assert terms.count("燃气") == 2
    assert terms.count("不动产权证书") == 1


def test_the_best_match_comes_first_and_texts_sharing_nothing_are_not_found() -> None:
    index = SearchIndex.of_texts(TEXTS)
    matcher = text_matcher()

    hits = index.search(matcher.search_terms("车换了发动机要不要去车管所报备"), limit=5)

    assert [hit.key for hit in hits] == ["engine"]
    assert index.search(matcher.search_terms("路灯不亮"), limit=5) == []


def test_a_mask_leaves_out_documents_and_the_limit_is_kept() -> None:
    index = SearchIndex.of_texts(TEXTS)
    terms = text_matcher().search_terms("注册登记")

    everything = index.search(terms, limit=5)
    masked = index.search(terms, limit=5, allowed=np.array([False, True, True]))
    one = index.search(terms, limit=1)

    assert {hit.key for hit in everything} == {"engine", "plate"}
    assert [hit.key for hit in masked] == ["plate"]
    assert one == everything[:1]
    assert everything[0].score >= everything[-1].score > 0


def test_an_empty_index_finds_nothing() -> None:
    assert SearchIndex([], []).search(["燃气"], limit=5) == []
    # Entries of digits and punctuation only leave no term to index.
    assert SearchIndex(["K1"], [[]]).search(["燃气"], limit=5) == []


def test_keys_and_documents_must_pair_up() -> None:
    with pytest.raises(ValueError, match="one key per document"):
        SearchIndex(["a", "b"], [["燃气"]])


SYNONYMS = _pairs("search_synonyms.txt")


@pytest.mark.parametrize("word", sorted(SYNONYMS))
def test_each_search_synonym_is_a_word_the_search_cut_yields_whole(word: str) -> None:
    """A synonym whose word the cut splits would never be folded."""
    assert SYNONYMS[word] in text_matcher().search_terms(f"请问{word}的事")
