"""Cost: what a run will cost before it starts (``summarise estimate``), and what it cost.

Prices are data, in ``summarise/prices.toml`` (USD per 1M tokens: input, cached input,
output, and the Batch API discount), overridden model by model by a user file given as
``--prices FILE`` or ``SUMMARISE_PRICES``. Model names with a date suffix
(``gpt-4o-mini-2024-07-18``) take the price of their base name.

The estimate sends each article through the same stages as a run (ingest, clean, the
article cut to ``DEFAULT_MAX_ARTICLE_CHARS``, ``prompt.build_messages``) and counts the
tokens of the request as it would be sent: every message, a few tokens of chat framing per
message, and the strict ``json_schema`` ``response_format`` (providers bill the schema as
input too). Tokens are counted with tiktoken's ``o200k_base`` (the encoding of every OpenAI
model in the table) when tiktoken is installed *and* that encoding is already on disk (it
is never downloaded here); otherwise they are estimated at ``CHARS_PER_TOKEN`` characters a
token, the conservative figure the client uses for rate limits: it overstates news prose
(the five samples' cleaned articles: about 6,400 tokens at 3.5 characters a token, 4,415
in ``o200k_base`` by the README's cleaning benchmark, +45 %): read it as an upper bound.
No prompt-cache hits are assumed. The answer is not known before it is written, so output
is an assumption: ``DEFAULT_OUTPUT_TOKENS`` per article, overridable.

Example::

    table = load_prices()
    est = estimate(read(check_inputs(["examples/"])), table.price("gpt-4o-mini"))
    print(format_estimate(est))
"""

from __future__ import annotations

import hashlib
import importlib
import json
import math
import os
import re
import tempfile
import tomllib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

from summarise import prompt
from summarise.backends.base import CHARS_PER_TOKEN, DEFAULT_MAX_ARTICLE_CHARS, fit_text
from summarise.clean import CleanError, clean
from summarise.errors import UsageError
from summarise.ingest import RawArticle
from summarise.schema import model_facing_schema

ENV_PRICES = "SUMMARISE_PRICES"
PRICES_FILE = "prices.toml"

DEFAULT_OUTPUT_TOKENS = 1500
"""Assumed answer tokens per article. The offline extractor's summaries of the five sample
articles, in the shape the model is asked for, average about 1,400 tokens (at
``CHARS_PER_TOKEN``); a model's are usually shorter (fewer, abstractive issue lines), so
this errs high. Reasoning models (o4-mini) add hidden reasoning tokens, billed as output."""

# Chat framing per message and the priming of the reply (OpenAI cookbook's counting).
MESSAGE_OVERHEAD_TOKENS = 4
REPLY_PRIMING_TOKENS = 3

_DATE_SUFFIX = re.compile(r"-\d{4}-\d{2}-\d{2}$")
_PRICE_FIELDS = ("input", "cached_input", "output", "batch_discount")

TokenCounter = Callable[[str], int]


class PriceError(UsageError):
    """A price file that cannot be read, or a model it has no price for (exit 2)."""

    default_code = "prices"


@dataclass(frozen=True)
class Price:
    """One model's prices: USD per 1M tokens, and the Batch API's discount (0.5 = half)."""

    model: str
    input: float
    cached_input: float
    output: float
    batch_discount: float = 0.5

    def cost(
        self,
        prompt_tokens: int,
        completion_tokens: int,
        cached_tokens: int = 0,
        *,
        batch: bool = False,
    ) -> float:
        """USD for this usage (``cached_tokens`` are part of ``prompt_tokens``)."""
        cached = min(cached_tokens, prompt_tokens)
        usd = (
            (prompt_tokens - cached) * self.input
            + cached * self.cached_input
            + completion_tokens * self.output
        ) / 1_000_000
        return usd * (1 - self.batch_discount) if batch else usd


@dataclass(frozen=True)
class PriceTable:
    """Prices by model, and the files they came from (package table first)."""

    prices: Mapping[str, Price]
    sources: tuple[str, ...] = ()

    def find(self, model: str | None) -> Price | None:
        """The price of ``model`` (or of its base name without a date suffix), if known."""
        if not model:
            return None
        return self.prices.get(model) or self.prices.get(_DATE_SUFFIX.sub("", model))

    def price(self, model: str) -> Price:
        """The price of ``model``; ``PriceError`` naming the known models otherwise."""
        found = self.find(model)
        if found is None:
            known = ", ".join(sorted(self.prices))
            raise PriceError(
                f"no price for model {model!r}; known models: {known}. Add it to a price "
                f"file (same shape as summarise/prices.toml) and pass --prices FILE or set "
                f"{ENV_PRICES}"
            )
        return found


def parse_prices(text: str, source: str) -> dict[str, Price]:
    """The ``[models."NAME"]`` tables of a price file; ``PriceError`` for a malformed one."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PriceError(f"price file {source} is not valid TOML: {exc}") from exc
    models = data.get("models")
    if not isinstance(models, dict) or not models:
        raise PriceError(f'price file {source} has no [models."NAME"] tables')
    return {name: _price(name, entry, source) for name, entry in models.items()}


def _price(name: str, entry: Any, source: str) -> Price:
    where = f'price file {source}, [models."{name}"]'
    if not isinstance(entry, dict):
        raise PriceError(f"{where} must be a table")
    unknown = set(entry) - set(_PRICE_FIELDS)
    if unknown:
        raise PriceError(f"{where}: unknown keys {', '.join(sorted(unknown))}")
    values: dict[str, float] = {}
    for key in _PRICE_FIELDS:
        value = entry.get(key)
        if value is None and key in ("input", "output"):
            raise PriceError(f"{where} needs {key!r} (USD per 1M tokens)")
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise PriceError(f"{where}: {key} must be a number >= 0, not {value!r}")
        values[key] = float(value)
    if values.get("batch_discount", 0.5) > 1:
        raise PriceError(f"{where}: batch_discount is a fraction (0.5 = half price), at most 1")
    return Price(
        model=name,
        input=values["input"],
        cached_input=values.get("cached_input", values["input"]),
        output=values["output"],
        batch_discount=values.get("batch_discount", 0.5),
    )


def load_prices(
    override: Path | str | None = None, *, env: Mapping[str, str] | None = None
) -> PriceTable:
    """The package's price table, with ``override`` (else ``$SUMMARISE_PRICES``) on top."""
    env = os.environ if env is None else env
    prices = dict(_builtin_prices())
    sources = [f"summarise/{PRICES_FILE}"]
    user = override if override is not None else env.get(ENV_PRICES) or None
    if user is not None:
        try:
            text = Path(user).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise PriceError(f"cannot read price file {user}: {exc}") from exc
        prices |= parse_prices(text, str(user))
        sources.append(str(user))
    return PriceTable(prices, tuple(sources))


@cache
def _builtin_prices() -> Mapping[str, Price]:
    builtin = files("summarise").joinpath(PRICES_FILE).read_text(encoding="utf-8")
    return parse_prices(builtin, f"summarise/{PRICES_FILE}")


def run_cost(
    model: str | None,
    prompt_tokens: int,
    completion_tokens: int,
    cached_tokens: int = 0,
    *,
    batch: bool = False,
) -> float | None:
    """USD spent by a run, rounded to 1e-6; None for a model without a price (the offline
    extractor, a local model) or when the price file cannot be read."""
    try:
        price = load_prices().find(model)
    except PriceError:
        return None
    if price is None:
        return None
    usd = price.cost(prompt_tokens, completion_tokens, cached_tokens, batch=batch)
    return round(usd, 6)


# --- Counting tokens -------------------------------------------------------------------


def chars_counter(text: str) -> int:
    """Tokens estimated at ``CHARS_PER_TOKEN`` characters a token, rounded up."""
    return math.ceil(len(text) / CHARS_PER_TOKEN)


CHARS_METHOD = f"estimated at {CHARS_PER_TOKEN:g} characters a token"
_O200K_URL = "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken"
_O200K_SHA256 = "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d"


def token_counter() -> tuple[TokenCounter, str]:
    """The best counter available offline, and how it counts (for the report)."""
    chars = (chars_counter, CHARS_METHOD)
    try:
        tiktoken: Any = importlib.import_module("tiktoken")
    except ImportError:
        return chars
    if not _tiktoken_cached(_O200K_URL, _O200K_SHA256):  # else tiktoken would download it
        return chars
    try:
        encoding = tiktoken.get_encoding("o200k_base")
    except Exception:  # a corrupt cache or an incompatible tiktoken: estimate instead
        return chars

    def count(text: str) -> int:
        return len(encoding.encode(text, disallowed_special=()))

    return count, "counted with tiktoken o200k_base"


def _tiktoken_cached(url: str, sha256: str) -> bool:
    """Whether tiktoken's file cache (found as ``tiktoken.load`` finds it) holds ``url``
    intact: tiktoken downloads a missing file again, and a damaged one too."""
    env = os.environ
    if "TIKTOKEN_CACHE_DIR" in env:
        folder = env["TIKTOKEN_CACHE_DIR"]
    elif "DATA_GYM_CACHE_DIR" in env:
        folder = env["DATA_GYM_CACHE_DIR"]
    else:
        folder = os.path.join(tempfile.gettempdir(), "data-gym-cache")
    if not folder:  # caching disabled: tiktoken would always download
        return False
    try:
        data = (Path(folder) / hashlib.sha1(url.encode()).hexdigest()).read_bytes()
    except OSError:
        return False
    return hashlib.sha256(data).hexdigest() == sha256


# --- The estimate ----------------------------------------------------------------------


@dataclass(frozen=True)
class ArticleTokens:
    """One input: the prompt tokens of its request, or why it would not be sent."""

    id: str
    input_tokens: int = 0
    error: str | None = None


def request_overhead(counter: TokenCounter = chars_counter) -> int:
    """Tokens every request carries besides its messages: the ``response_format`` schema
    and the reply priming."""
    # Imported here: the package would load the openai SDK, which the offline path avoids.
    from summarise.backends.openai.answers import response_format_for

    schema = response_format_for("json_schema", model_facing_schema())
    return counter(json.dumps(schema, separators=(",", ":"))) + REPLY_PRIMING_TOKENS


def article_tokens(
    raws: Iterable[RawArticle],
    *,
    counter: TokenCounter = chars_counter,
    system_in_user: bool = False,
    max_article_chars: int = DEFAULT_MAX_ARTICLE_CHARS,
) -> Iterator[ArticleTokens]:
    """Prompt tokens of each article's request, streamed (constant memory)."""
    overhead = request_overhead(counter)
    for raw in raws:
        try:
            article = clean(raw)
        except CleanError as exc:
            yield ArticleTokens(raw.id, error=exc.code)
            continue
        text, _ = fit_text(article.text, max_article_chars)
        messages = prompt.build_messages(
            text, title=article.title, published=article.published, system_in_user=system_in_user
        )
        tokens = sum(counter(m["content"]) + MESSAGE_OVERHEAD_TOKENS for m in messages)
        yield ArticleTokens(raw.id, tokens + overhead)


@dataclass
class Estimate:
    """Totals for a set of articles at one model's prices."""

    price: Price
    output_tokens_per_article: int
    method: str = "estimated"
    """How prompt tokens were counted."""
    articles: int = 0
    """Articles that would be sent."""
    skipped: dict[str, int] = field(default_factory=dict)
    """Inputs that would not be sent (unreadable, no article text), by error code."""
    input_tokens: int = 0
    output_tokens: int = 0

    def add(self, article: ArticleTokens) -> None:
        if article.error is not None:
            self.skipped[article.error] = self.skipped.get(article.error, 0) + 1
            return
        self.articles += 1
        self.input_tokens += article.input_tokens
        self.output_tokens += self.output_tokens_per_article

    def cost(self, *, batch: bool = False) -> dict[str, float]:
        """USD: ``input``, ``output`` and ``total``, synchronous or through the Batch API."""
        usd_in = self.price.cost(self.input_tokens, 0, batch=batch)
        usd_out = self.price.cost(0, self.output_tokens, batch=batch)
        return {"input": usd_in, "output": usd_out, "total": usd_in + usd_out}

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.price.model,
            "articles": self.articles,
            "skipped": dict(self.skipped),
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "output_tokens_per_article": self.output_tokens_per_article,
            "tokens": self.method,
            "batch_discount": self.price.batch_discount,
            "usd": {"sync": _rounded(self.cost()), "batch": _rounded(self.cost(batch=True))},
        }


def estimate(
    raws: Iterable[RawArticle],
    price: Price,
    *,
    output_tokens: int = DEFAULT_OUTPUT_TOKENS,
    counter: TokenCounter | None = None,
    system_in_user: bool = False,
) -> Estimate:
    """Tokens and cost of sending every article of ``raws`` to ``price.model``."""
    if counter is None:
        counter, method = token_counter()
    else:
        method = CHARS_METHOD if counter is chars_counter else "counted by the given counter"
    result = Estimate(price, output_tokens, method=method)
    for article in article_tokens(raws, counter=counter, system_in_user=system_in_user):
        result.add(article)
    return result


def format_estimate(est: Estimate, sources: Iterable[str] = ()) -> str:
    """The estimate as a small table for a person."""
    sync, batch = est.cost(), est.cost(batch=True)
    skipped = sum(est.skipped.values())
    lines = [
        f"model          {est.price.model}",
        f"articles       {est.articles:,}"
        + (f" ({skipped:,} inputs would not be sent: unreadable or no text)" if skipped else ""),
        f"input tokens   {est.input_tokens:,} ({est.method}; prompt + schema, no cache hits)",
        f"output tokens  {est.output_tokens:,} (assumed {est.output_tokens_per_article:,} "
        "per article; --output-tokens)",
        "",
        f"{'USD':<22}{'input':>12}{'output':>12}{'total':>12}{'per 1,000':>12}",
    ]
    discount = f"batch (-{est.price.batch_discount:.0%})"
    for label, usd in (("synchronous", sync), (discount, batch)):
        per_1000 = usd["total"] / est.articles * 1000 if est.articles else 0.0
        lines.append(
            f"{label:<22}{_usd(usd['input']):>12}{_usd(usd['output']):>12}"
            f"{_usd(usd['total']):>12}{_usd(per_1000):>12}"
        )
    if sources:
        lines += ["", f"prices: {' + '.join(sources)}"]
    return "\n".join(lines)


def _rounded(usd: Mapping[str, float]) -> dict[str, float]:
    return {key: round(value, 8) for key, value in usd.items()}


def _usd(value: float) -> str:
    return f"${value:,.2f}" if value >= 100 else f"${value:.4f}"
