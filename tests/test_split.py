"""Long articles on the model path: the split into parts and the merge of their answers.

On a real transcript (tests/long/, see its README) and hand-written part answers
(tests/synthetic/split_parts.json); the whole path on real model answers is in
tests/test_recorded_long.py.
"""

from __future__ import annotations

import time
from itertools import pairwise
from pathlib import Path

import pytest

from summarise.backends.base import Extraction
from summarise.backends.openai import OpenAIBackend
from summarise.backends.openai.attempts import ModelError
from summarise.backends.split import (
    merge_extractions,
    merge_summaries,
    part_spans,
    split_warning,
)
from summarise.clean import clean
from summarise.config import EndpointConfig
from summarise.ground import ground_summary
from summarise.pipeline import process
from summarise.schema import ErrorRecord, ModelSummary, Record, Usage, WarningCode
from tests.helpers import raw_seed, synthetic

LONG = Path(__file__).resolve().parent / "long" / "valdai-2016-final-plenary.txt"
LIMIT = 4075  # what a 4,096-token context leaves for the article (--max-tokens 1024)


@pytest.fixture(scope="module")
def text() -> str:
    return clean(raw_seed(LONG)).text


@pytest.fixture(scope="module")
def parts() -> list[ModelSummary]:
    return [ModelSummary.model_validate(p) for p in synthetic("split_parts.json")["parts"]]


def test_parts_fit_overlap_and_cover_the_text(text: str) -> None:
    spans = part_spans(text, LIMIT)
    assert len(spans) > 3
    assert spans[0][0] == 0 and spans[-1][1] == len(text.rstrip())
    for (start, end), (following, _) in pairwise(spans):
        assert end - start <= LIMIT
        assert start < following < end  # the next part repeats the tail of this one
        assert text[following - 2 : following] == "\n\n"  # and opens a paragraph
    for start, end in spans:
        assert text[start:end] == text[start:end].strip()


def test_a_text_that_fits_is_one_part(text: str) -> None:
    assert part_spans(text, len(text)) == [(0, len(text))]


def test_a_text_without_paragraphs_is_cut_at_sentences() -> None:
    text = " ".join(f"Sentence number {n} is here." for n in range(400))
    spans = part_spans(text, 1000)
    assert all(text[start].isupper() and text[end - 1] == "." for start, end in spans)
    assert all(b[0] < a[1] for a, b in pairwise(spans))


def test_merge_keeps_one_of_each_participant_by_name_or_alias(
    parts: list[ModelSummary],
) -> None:
    merged = merge_summaries(parts)
    assert [p.name for p in merged.participants] == ["Timothy Colton", "Vladimir Putin"]
    putin = merged.participants[1]
    # Fields one part left null come from another.
    assert (putin.role, putin.affiliation, putin.country) == (
        "President of Russia",
        "Government of Russia",
        "RUS",
    )


def test_merge_keeps_a_quote_once_and_whole(parts: list[ModelSummary]) -> None:
    merged = merge_summaries(parts)
    texts = [q.text for q in merged.quotes]
    assert texts == [
        "The tensions engendered by shifts in distribution of economic and political "
        "influence continue to grow.",
        "I think that this style of discussion is extremely needed today given the great "
        "changes taking place in the world.",
        "We see how free trade is being sacrificed and countries use sanctions as a means "
        "of political pressure",
    ]
    assert merged.quotes[0].speaker == "Vladimir Putin"  # the whole one had none


def test_merge_joins_near_identical_issues_and_outcomes(parts: list[ModelSummary]) -> None:
    merged = merge_summaries(parts)
    assert [i.topic for i in merged.issues] == ["world order", "free trade"]
    assert [p.party for p in merged.issues[0].positions] == ["Putin"]
    [outcome] = merged.outcomes
    assert outcome.parties == ["Putin", "Russia"]
    assert merged.headline == parts[0].headline and merged.event == parts[0].event


def test_merged_quotes_ground_exactly_in_the_whole_text(
    text: str, parts: list[ModelSummary]
) -> None:
    summary, _ = ground_summary(merge_summaries(parts), text)
    assert summary.quotes and all(q.grounded for q in summary.quotes)
    for quote in summary.quotes:
        assert quote.span is not None
        start, end = quote.span
        assert text[start:end] == quote.text
    assert len({q.span for q in summary.quotes}) == len(summary.quotes)


def test_merged_extraction_sums_what_the_parts_cost(parts: list[ModelSummary]) -> None:
    extractions = [
        Extraction(
            part, 1 + n, Usage(prompt_tokens=100, completion_tokens=10 * n), "stop", 1.5, f"r{n}"
        )
        for n, part in enumerate(parts)
    ]
    merged = merge_extractions(extractions, merge_summaries(parts))
    assert merged.attempts == 1 + 2 + 3
    assert merged.usage == Usage(prompt_tokens=300, completion_tokens=30)
    assert merged.latency_s == 4.5 and merged.response_id == "r2"
    warning = split_warning(3, 9000, LIMIT)
    assert warning.code == WarningCode.article_split and "3 parts" in warning.message


async def test_the_offline_extractor_reads_a_long_text_fast() -> None:
    from summarise.backends.offline import OfflineBackend

    started = time.monotonic()
    record = await process(raw_seed(LONG), OfflineBackend())
    assert time.monotonic() - started < 10
    assert isinstance(record, Record)
    assert record.summary.participants
    assert WarningCode.article_split not in {w.code for w in record.warnings}


class PartAnswers:
    """A stand-in for ``ModelClient``: the hand-written answers in turn, one per part; the
    call numbered ``fail_at`` (if any) fails as a real client's would after its re-asks."""

    def __init__(self, answers: list[ModelSummary], fail_at: int | None = None) -> None:
        self.answers, self.fail_at, self.calls = answers, fail_at, 0

    async def extract(self, messages: object) -> Extraction:
        self.calls += 1
        if self.calls == self.fail_at:
            raise ModelError(
                "schema_invalid", "no valid answer", attempts=3, usage=Usage(prompt_tokens=7)
            )
        answer = self.answers[(self.calls - 1) % len(self.answers)]
        return Extraction(
            answer, 1, Usage(prompt_tokens=1000, completion_tokens=50), "stop", 2.0, None
        )


def split_backend(client: PartAnswers) -> OpenAIBackend:
    backend = OpenAIBackend(EndpointConfig(model="fake", base_url="http://fake.test/v1"), client)  # type: ignore[arg-type]
    backend.max_article_chars = LIMIT  # what start() finds for a 4,096-token context
    return backend


async def test_a_long_article_is_one_record_of_its_parts(
    text: str, parts: list[ModelSummary]
) -> None:
    client = PartAnswers(parts)
    record = await process(raw_seed(LONG), split_backend(client))
    assert isinstance(record, Record)
    count = len(part_spans(text, LIMIT))
    assert client.calls == count and record.article.text == text
    [split] = [w for w in record.warnings if w.code == WarningCode.article_split]
    assert f"into {count} parts" in split.message
    assert record.provenance.attempts == count
    assert record.provenance.usage == Usage(
        prompt_tokens=1000 * count, completion_tokens=50 * count
    )
    for quote in record.summary.quotes:
        assert quote.span is not None and text[quote.span[0] : quote.span[1]] == quote.text
    names = [p.name for p in record.summary.participants]
    assert names == ["Timothy Colton", "Vladimir Putin"]


async def test_a_failed_part_fails_the_article_counting_every_part(
    parts: list[ModelSummary],
) -> None:
    record = await process(raw_seed(LONG), split_backend(PartAnswers(parts, fail_at=3)))
    assert isinstance(record, ErrorRecord)
    assert (record.error, record.attempts) == ("schema_invalid", 1 + 1 + 3)
    assert record.usage == Usage(prompt_tokens=2007, completion_tokens=100)


def test_namesakes_and_short_phrases_stay_apart() -> None:
    answers = synthetic("split_parts.json")["namesakes"]["parts"]
    merged = merge_summaries([ModelSummary.model_validate(a) for a in answers])
    assert [p.name for p in merged.participants] == ["Vladimir Putin", "Vladimir Zelensky"]
    assert len(merged.quotes) == 2
