"""``summarise estimate`` and the cost in ``run-stats.json``: the price table (data, with a
user file over it), the token estimate of the prompt as sent, sync vs Batch API prices."""

from __future__ import annotations

import hashlib
import json
import math
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from summarise import cost, prompt
from summarise.backends.base import CHARS_PER_TOKEN
from summarise.batch import RunStats, _write_stats
from summarise.clean import clean
from summarise.ingest import check_inputs, read
from summarise.mock import MockServer
from tests.helpers import EXAMPLES, MOCK_ENV, SEED_IDS, raw_seed, run_against, run_cli

OPENAI_MODELS = ["gpt-4o-mini", "gpt-4o", "gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano", "o4-mini"]
NO_PRICES_ENV = {"SUMMARISE_PRICES": "", "SUMMARISE_MODEL": ""}


def samples() -> list[Any]:
    return list(read(check_inputs([str(EXAMPLES)])))


def estimate_json(*args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    result = run_cli("estimate", str(EXAMPLES), "--json", *args, env=env or NO_PRICES_ENV)
    assert result.exit_code == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_package_table_prices_every_documented_model_with_half_price_batches() -> None:
    table = cost.load_prices(env={})
    assert set(OPENAI_MODELS) <= set(table.prices)
    for name in OPENAI_MODELS:
        price = table.price(name)
        assert price.batch_discount == 0.5
        assert 0 < price.cached_input < price.input < price.output


@pytest.mark.parametrize("model", OPENAI_MODELS)
def test_estimate_on_the_samples_batch_costs_half_of_sync(model: str) -> None:
    data = estimate_json("--model", model)
    assert data["model"] == model and data["articles"] == 5 and data["skipped"] == {}
    sync, batch = data["usd"]["sync"], data["usd"]["batch"]
    for part in ("input", "output", "total"):
        assert batch[part] == pytest.approx(sync[part] / 2, abs=1e-8)
    price = cost.load_prices(env={}).price(model)
    expected = (data["input_tokens"] * price.input + data["output_tokens"] * price.output) / 1e6
    assert sync["total"] == pytest.approx(expected, abs=1e-8)


def test_estimate_totals_are_the_sum_of_the_articles() -> None:
    per_article = list(cost.article_tokens(samples()))
    assert [a.id for a in per_article] == SEED_IDS
    assert all(a.error is None and a.input_tokens > 0 for a in per_article)
    price = cost.load_prices(env={}).price("gpt-4o-mini")
    total = cost.estimate(samples(), price, output_tokens=1000, counter=cost.chars_counter)
    assert total.articles == 5
    assert total.input_tokens == sum(a.input_tokens for a in per_article)
    assert total.output_tokens == 5 * 1000
    cli = estimate_json("--model", "gpt-4o-mini", "--output-tokens", "1000")
    assert cli["input_tokens"] == total.input_tokens and cli["output_tokens"] == 5000


def test_estimate_counts_the_prompt_as_it_would_be_sent() -> None:
    """Every message of ``prompt.build_messages`` for the cleaned article, the chat framing
    and the response_format schema, at CHARS_PER_TOKEN characters a token."""
    raw = raw_seed(EXAMPLES / f"{SEED_IDS[4]}.txt")
    article = clean(raw)
    messages = prompt.build_messages(article.text, title=article.title, published=article.published)
    by_hand = sum(math.ceil(len(m["content"]) / CHARS_PER_TOKEN) + 4 for m in messages)
    [counted] = cost.article_tokens([raw])
    assert counted.input_tokens == by_hand + cost.request_overhead()
    assert cost.request_overhead() > 500  # the strict schema is sent with every request


def test_output_tokens_assumption_changes_only_the_output_side() -> None:
    low, high = (estimate_json("--model", "gpt-4.1", "--output-tokens", n) for n in ("100", "2000"))
    assert low["input_tokens"] == high["input_tokens"]
    assert (low["output_tokens"], high["output_tokens"]) == (500, 10_000)
    assert low["usd"]["sync"]["input"] == high["usd"]["sync"]["input"]
    assert estimate_json("--model", "gpt-4.1")["output_tokens_per_article"] == 1500


def test_estimate_prints_a_table_for_a_person() -> None:
    result = run_cli("estimate", str(EXAMPLES), "--model", "gpt-4o-mini", env=NO_PRICES_ENV)
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "synchronous" in out and "batch (-50%)" in out
    assert "estimated at 3.5 characters a token" in out and "assumed 1,500 per article" in out
    assert "prices: summarise/prices.toml" in out


PRICES = """
[models."gpt-4o-mini"]
input = 1.0
output = 2.0
batch_discount = 0.25

[models."my-vllm-model"]
input = 0.5
cached_input = 0.1
output = 0.5
batch_discount = 0
"""


def test_a_price_file_overrides_the_package_table(tmp_path: Path) -> None:
    prices = tmp_path / "prices.toml"
    prices.write_text(PRICES, encoding="utf-8")
    data = estimate_json("--model", "gpt-4o-mini", "--prices", str(prices))
    assert data["prices"] == ["summarise/prices.toml", str(prices)]
    assert data["batch_discount"] == 0.25
    expected = (data["input_tokens"] * 1.0 + data["output_tokens"] * 2.0) / 1e6
    assert data["usd"]["sync"]["total"] == pytest.approx(expected, abs=1e-8)
    assert data["usd"]["batch"]["total"] == pytest.approx(expected * 0.75, abs=1e-8)
    # a model only the user file knows; the package's other models are still there
    own = estimate_json("--model", "my-vllm-model", "--prices", str(prices))
    assert own["usd"]["batch"] == own["usd"]["sync"]
    table = cost.load_prices(prices, env={})
    assert table.price("gpt-4o").input == 2.5
    assert table.price("gpt-4o-mini").cached_input == 1.0  # not given: the input price


def test_the_environment_names_a_price_file_and_the_flag_wins(tmp_path: Path) -> None:
    prices, other = tmp_path / "prices.toml", tmp_path / "other.toml"
    prices.write_text(PRICES, encoding="utf-8")
    other.write_text('[models."gpt-4o-mini"]\ninput = 9\noutput = 9\n', encoding="utf-8")
    from_env = estimate_json("--model", "my-vllm-model", env={"SUMMARISE_PRICES": str(prices)})
    assert from_env["prices"][-1] == str(prices)
    flag = estimate_json(
        "--model", "gpt-4o-mini", "--prices", str(other), env={"SUMMARISE_PRICES": str(prices)}
    )
    assert flag["prices"][-1] == str(other) and flag["batch_discount"] == 0.5


def test_unknown_model_exits_2_listing_the_known_ones() -> None:
    result = run_cli("estimate", str(EXAMPLES), "--model", "llama-3-70b", env=NO_PRICES_ENV)
    assert result.exit_code == 2
    assert "no price for model 'llama-3-70b'" in result.stderr
    assert "known models: gpt-4.1, gpt-4.1-mini, gpt-4.1-nano, gpt-4o, gpt-4o-mini" in result.stderr
    assert "--prices FILE" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("[models.x\n", "not valid TOML"),
        ("title = 'no models'\n", "no [models"),
        ('[models."x"]\noutput = 1\n', "needs 'input'"),
        ('[models."x"]\ninput = "cheap"\noutput = 1\n', "must be a number >= 0"),
        ('[models."x"]\ninput = 1\noutput = 1\nbatch = 0.5\n', "unknown keys batch"),
        ('[models."x"]\ninput = 1\noutput = 1\nbatch_discount = 50\n', "at most 1"),
    ],
)
def test_a_malformed_price_file_is_refused_with_exit_2(
    tmp_path: Path, text: str, says: str
) -> None:
    prices = tmp_path / "prices.toml"
    prices.write_text(text, encoding="utf-8")
    result = run_cli("estimate", str(EXAMPLES), "--prices", str(prices), env=NO_PRICES_ENV)
    assert result.exit_code == 2
    assert says in result.stderr and str(prices) in result.stderr


def test_a_missing_price_file_is_refused_with_exit_2(tmp_path: Path) -> None:
    result = run_cli(
        "estimate", str(EXAMPLES), "--prices", str(tmp_path / "nope.toml"), env=NO_PRICES_ENV
    )
    assert result.exit_code == 2 and "cannot read price file" in result.stderr


def test_a_dated_snapshot_takes_the_price_of_its_model() -> None:
    table = cost.load_prices(env={})
    assert table.price("gpt-4o-mini-2024-07-18") == table.price("gpt-4o-mini")
    assert table.find("offline-extractor") is None and table.find(None) is None


def test_unreadable_inputs_are_counted_apart(tmp_path: Path) -> None:
    export = tmp_path / "export.jsonl"
    export.write_text('{"id": "a", "text": "Short."}\n{broken\n', encoding="utf-8")
    result = run_cli(
        "estimate", str(export), str(EXAMPLES), "--model", "gpt-4o-mini", "--json",
        env=NO_PRICES_ENV,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["articles"] == 6 and data["skipped"] == {"invalid_jsonl": 1}


# --- cost in run-stats.json ------------------------------------------------------------


def test_run_stats_carry_the_cost_at_the_models_price(tmp_path: Path) -> None:
    stats = RunStats(ok=2, prompt_tokens=1_000_000, cached_tokens=400_000, completion_tokens=10_000)
    # gpt-4o-mini: 600k fresh at 0.15, 400k cached at 0.075, 10k out at 0.60
    assert stats.to_dict("gpt-4o-mini")["cost_usd"] == pytest.approx(0.09 + 0.03 + 0.006)
    assert stats.to_dict("offline-extractor")["cost_usd"] is None
    assert stats.to_dict()["cost_usd"] is None
    _write_stats(tmp_path / "run-stats.json", stats, "gpt-4.1-nano")
    written = json.loads((tmp_path / "run-stats.json").read_text())
    assert written["cost_usd"] == pytest.approx(0.06 + 0.01 + 0.004)


@pytest.mark.usefixtures("no_endpoint_env")
def test_an_offline_run_has_no_cost(tmp_path: Path) -> None:
    result = run_cli("run", str(EXAMPLES), "-o", str(tmp_path / "f.jsonl"), "--no-progress")
    assert result.exit_code == 0, result.stderr
    assert json.loads((tmp_path / "run-stats.json").read_text())["cost_usd"] is None


def test_a_run_against_an_endpoint_reports_what_it_spent(tmp_path: Path) -> None:
    prices = tmp_path / "prices.toml"
    prices.write_text(
        '[models."mock-model"]\ninput = 2.0\ncached_input = 1.0\noutput = 4.0\n', encoding="utf-8"
    )
    with MockServer() as server:
        result = run_against(
            server,
            str(EXAMPLES),
            "-o",
            str(tmp_path / "f.jsonl"),
            env=MOCK_ENV | {"SUMMARISE_PRICES": str(prices)},
        )
    assert result.exit_code == 0, result.stderr
    stats = json.loads((tmp_path / "run-stats.json").read_text())
    assert stats["prompt_tokens"] > 0 and stats["completion_tokens"] > 0
    fresh = stats["prompt_tokens"] - stats["cached_tokens"]
    spent = (fresh * 2.0 + stats["cached_tokens"] * 1.0 + stats["completion_tokens"] * 4.0) / 1e6
    assert stats["cost_usd"] == pytest.approx(spent, abs=1e-6)


# --- counting tokens -------------------------------------------------------------------


def test_tiktoken_is_used_only_when_its_encoding_is_already_on_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """tiktoken downloads encodings on first use: the estimate never makes it try."""
    asked: list[str] = []

    class Encoding:
        def encode(self, text: str, disallowed_special: Any = ()) -> list[int]:
            return [0] * len(text.split())

    def get_encoding(name: str) -> Encoding:
        asked.append(name)
        return Encoding()

    fake = types.ModuleType("tiktoken")
    fake.get_encoding = get_encoding  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "tiktoken", fake)
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    counter, method = cost.token_counter()
    assert counter is cost.chars_counter and "3.5 characters a token" in method
    assert asked == []  # not cached: never asked (it would have gone to the network)

    cached = tmp_path / hashlib.sha1(cost._O200K_URL.encode()).hexdigest()
    cached.write_bytes(b"damaged")  # tiktoken would download it again: not used either
    assert cost.token_counter()[0] is cost.chars_counter and asked == []
    monkeypatch.setattr(cost, "_O200K_SHA256", hashlib.sha256(b"intact").hexdigest())
    cached.write_bytes(b"intact")
    counter, method = cost.token_counter()
    assert asked == ["o200k_base"] and method == "counted with tiktoken o200k_base"
    assert counter("four words right here") == 4
