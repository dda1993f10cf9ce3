"""The knowledge base's search at 50,000 published entries: latency of `GET /v1/knowledge`
(p50, p99) with and without filters, the time one process takes to rebuild its index after a
change, and recall@5 of the labelled set once it is lost among the 50,000.

    .venv/bin/python -m bench.knowledge_search [--entries 50000] [--requests 2000]

Starts its own embedded PostgreSQL and broker and intake as a uvicorn process (one worker);
writes the entries straight into intake's tables (their search terms cut as intake cuts them),
the labelled set's among them, then asks the labelled questions over HTTP, one at a time.
"""

import argparse
import asyncio
import json
import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import httpx
import jieba.analyse
from sqlalchemy import insert, update

from bench.harness import RESULTS, embedded_stack, figures, served
from hotline.intake.models import KnowledgeEntry, KnowledgeRevision, KnowledgeVersion
from hotline.shared import secrets
from hotline.shared.db import create_engine
from hotline.shared.domain.text import text_matcher
from hotline.shared.migrations import upgrade
from tests.intake.knowledge_corpus import ASKED, ENTRIES, TOPICS, LabelledEntry, recall_at

READER = {"Authorization": f"Bearer {secrets.DEVELOPMENT_INTAKE_READER_TOKEN}"}
SUPERVISOR = {"Authorization": f"Bearer {secrets.DEVELOPMENT_INTAKE_SUPERVISOR_TOKEN}"}
PLACES = (
    "双清区", "大祥区", "北塔区", "邵东市", "武冈市", "新邵县", "邵阳县", "隆回县",
    "洞口县", "绥宁县", "新宁县", "城步县", "经开区", "宝庆", "敏州", "东塔",
)  # fmt: skip
SITUATIONS = (
    "退休职工", "个体工商户", "农村居民", "外地务工人员", "在校学生", "企业", "残疾人",
    "低保户", "退役军人", "新就业人员", "老年人", "未成年人", "港澳台居民", "外籍人员",
)  # fmt: skip
VARIANTS = (
    "需要哪些材料", "办理时限是多久", "在哪里办理", "可以网上办理吗", "收费标准是什么",
    "委托他人办理需要什么", "办理流程是什么", "有什么条件", "逾期会怎样", "能否加急",
)  # fmt: skip
CHUNK = 5000


def synthetic(count: int, rng: random.Random) -> list[LabelledEntry]:
    """The crowd the labelled entries must be found in: entries for other places and people
    that share two words of one labelled subject and one of another, the rest of their words
    drawn from jieba's general dictionary (as other questions on the same subjects would)."""
    matcher, made = text_matcher(), []
    words = [matcher.search_terms(f"{question} {answer}") for *_, question, answer, _a in TOPICS]
    general = sorted(
        word
        for word, idf in jieba.analyse.TFIDF().idf_freq.items()
        if len(word) > 1 and 6 < idf < 11
    )
    for i in range(count):
        first, second = rng.sample(range(len(TOPICS)), 2)
        _key, category, unit, *_rest = TOPICS[first]
        place, who, variant = rng.choice(PLACES), rng.choice(SITUATIONS), rng.choice(VARIANTS)
        mixed = [*rng.sample(words[first], 2), rng.choice(words[second])]
        mixed += rng.sample(general, 5)
        rng.shuffle(mixed)
        made.append(
            LabelledEntry(
                f"s{i}",
                category,
                unit,
                f"{place}{who}{''.join(mixed[:4])}，{variant}？",
                f"{place}{who}：{'，'.join(mixed)}（第{i}号）",
            )
        )
    return made


async def load(database_url: str, entries: list[LabelledEntry]) -> dict[str, str]:
    """Write the entries as published version-1 rows; their keys → entry ids."""
    matcher, ids = text_matcher(), {}
    engine = create_engine(database_url, pool_size=1)
    now = datetime.now(UTC)
    try:
        await upgrade(engine, "hotline.intake")
        for start in range(0, len(entries), CHUNK):
            rows, versions = [], []
            for entry in entries[start : start + CHUNK]:
                entry_id = ids[entry.key] = f"K{uuid4().hex[:12].upper()}"
                rows.append(
                    {
                        "entry_id": entry_id,
                        "status": "published",
                        "current_version": 1,
                        "created_by": "bench",
                        "published_by": "bench",
                        "published_at": now,
                    }
                )
                versions.append(
                    {
                        "entry_id": entry_id,
                        "version": 1,
                        "question": entry.question,
                        "answer": entry.answer,
                        "unit_id": entry.unit_id,
                        "category": entry.category,
                        "valid_from": now - timedelta(days=1),
                        "valid_until": None,
                        "search_terms": " ".join(
                            matcher.search_document(entry.question, entry.answer)
                        ),
                        "edited_by": "bench",
                    }
                )
            async with engine.begin() as connection:
                await connection.execute(insert(KnowledgeEntry), rows)
                await connection.execute(insert(KnowledgeVersion), versions)
        async with engine.begin() as connection:
            await connection.execute(
                update(KnowledgeRevision).values(revision=KnowledgeRevision.revision + 1)
            )
    finally:
        await engine.dispose()
    return ids


def timed(
    http: httpx.Client, params: dict[str, Any], path: str = "/v1/knowledge"
) -> tuple[float, httpx.Response]:
    started = time.perf_counter()
    response = http.get(path, params=params, headers=READER)
    return time.perf_counter() - started, response


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=50_000)
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    rng = random.Random(12345)
    entries = [*ENTRIES, *synthetic(args.entries - len(ENTRIES), rng)]

    with embedded_stack() as stack:
        started = time.perf_counter()
        ids = asyncio.run(load(stack.database_url, entries))
        loaded_seconds = time.perf_counter() - started
        with (
            served("hotline.intake.main:app", stack.env) as url,
            httpx.Client(base_url=url) as http,
        ):
            first_seconds, _ = timed(http, {"q": ASKED[0].text})  # builds the index
            keys = {entry_id: key for key, entry_id in ids.items()}
            found = {}
            for asked in ASKED:
                hits = timed(http, {"q": asked.text, "limit": 5})[1].json()["hits"]
                found[asked.text] = [keys[hit["entry_id"]] for hit in hits]
            recall, _missed = recall_at(5, lambda text: found[text])
            runs = []
            by_key = {entry.key: entry for entry in ENTRIES}
            for mode in ("no filter", "category filter", "unit filter"):
                latencies, errors = [], 0
                for n in range(args.requests):
                    asked = ASKED[n % len(ASKED)]
                    params: dict[str, Any] = {"q": asked.text, "limit": 10}
                    if mode == "category filter":
                        params["category"] = by_key[asked.entry].category
                    elif mode == "unit filter":
                        params["unit"] = by_key[asked.entry].unit_id
                    seconds, response = timed(http, params)
                    latencies.append(seconds)
                    errors += response.status_code != 200
                runs.append(figures("knowledge", mode, sum(latencies), latencies, errors))
            # The same service reading one entry by id: what any request costs here.
            one = f"/v1/knowledge/{ids[ASKED[0].entry]}"
            latencies = [timed(http, {}, one)[0] for _ in range(args.requests // 2)]
            runs.append(
                figures("knowledge", "baseline: one entry by id", sum(latencies), latencies, 0)
            )
            # A supervisor publishes one entry: the next search rebuilds this process's index.
            made = http.post(
                "/v1/knowledge",
                json={
                    "question": "犬只如何办理养犬登记？",
                    "answer": "养犬人持身份证和犬只免疫证明到所在地派出所办理养犬登记。",
                    "unit_id": "U015",
                    "category": "公共安全类",
                },
                headers=SUPERVISOR,
            ).json()
            http.post(f"/v1/knowledge/{made['entry_id']}/publish", headers=SUPERVISOR)
            # The search that notices starts the rebuild and answers from the previous index;
            # the new entry is found once the rebuild is done.
            changed = time.perf_counter()
            stale_seconds, _ = timed(http, {"q": "养犬登记"})
            while made["entry_id"] not in [
                hit["entry_id"] for hit in timed(http, {"q": "养犬登记"})[1].json()["hits"]
            ]:
                time.sleep(0.05)
            rebuild_seconds = time.perf_counter() - changed

    report = {
        "entries": len(entries),
        "labelled_questions": len(ASKED),
        "recall_at_5_among_all": round(recall, 4),
        "load_seconds": round(loaded_seconds, 1),
        "first_search_ms (builds the index)": round(first_seconds * 1000, 1),
        "search_after_a_change_ms (answered from the previous index)": round(
            stale_seconds * 1000, 1
        ),
        "published_to_found_ms (the background rebuild)": round(rebuild_seconds * 1000, 1),
        "runs": [run.__dict__ for run in runs],
    }
    print(json.dumps(report, ensure_ascii=False, indent=2))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "knowledge_search.json").write_text(json.dumps(report, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
