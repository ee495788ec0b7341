"""The plan of a batch folder: how its requests are built and which feed they are for.

Written into the ledger's ``meta`` table by the first ``prepare``; every later step reads it
back, so that ``submit``, ``collect`` and later rounds build the same bodies and write the
same feed and errors file, whatever flags they are given. A folder holds one model and one
prompt version: preparing into it with another is refused.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from summarise.batch import Job
from summarise.batchapi.ledger import Ledger
from summarise.batchapi.requests import body_config
from summarise.config import EndpointConfig
from summarise.errors import UsageError
from summarise.feed import STDOUT
from summarise.outputs import OutputPaths

BACKEND_NAME = "openai"
"""``provenance.backend`` of batch records: the same client path as an OpenAI endpoint."""


@dataclass(frozen=True)
class Plan:
    """What a batch folder's requests are and where their records go."""

    model: str
    prompt_version: str
    endpoint_host: str
    """Decides ``max_tokens`` vs ``max_completion_tokens`` in the bodies (as in ``run``)."""
    max_tokens: int
    temperature: float
    system_in_user: bool
    max_article_chars: int
    feed: str
    errors: str

    def body_config(self) -> EndpointConfig:
        """A config that builds this plan's request bodies with ``chat_body``."""
        return body_config(self.model, self.endpoint_host, self.max_tokens, self.temperature)

    @property
    def outputs(self) -> OutputPaths:
        return outputs_for(self.feed, self.errors)

    def producer(self, endpoint: str | None = None) -> BatchProducer:
        return BatchProducer(BACKEND_NAME, self.model, endpoint, self.prompt_version)


@dataclass
class BatchProducer:
    """A batch run standing in for a backend in records (``summarise.pipeline.Producer``)."""

    name: str
    model: str | None
    endpoint: str | None
    prompt_version: str


def outputs_for(feed: str, errors: str | None) -> OutputPaths:
    """The feed, errors file and lock exactly as ``summarise run -o FEED --errors ...``
    would use them (the errors file defaults to ``FEED.errors.jsonl``)."""
    if feed == STDOUT:
        raise UsageError("batch commands need a feed file (-o FILE), not stdout")
    return Job(inputs=[], output=feed, errors=errors).outputs


def save_plan(ledger: Ledger, plan: Plan) -> Plan:
    """Record ``plan`` in a new ledger, or check it against the one recorded: the model
    and prompt version must match. Returns the recorded plan."""
    recorded = load_plan(ledger)
    if recorded is None:
        ledger.set_meta("plan", json.dumps(asdict(plan)))
        ledger.commit()
        return plan
    if (recorded.model, recorded.prompt_version) != (plan.model, plan.prompt_version):
        raise UsageError(
            f"{ledger.folder} holds requests for model {recorded.model!r}, prompt version "
            f"{recorded.prompt_version!r}; this run uses model {plan.model!r}, prompt version "
            f"{plan.prompt_version!r}: prepare into another --dir"
        )
    if Path(recorded.feed) != Path(plan.feed):
        raise UsageError(
            f"{ledger.folder} was prepared for the feed {recorded.feed}, not {plan.feed}"
        )
    return recorded


def load_plan(ledger: Ledger) -> Plan | None:
    text = ledger.meta("plan")
    return None if text is None else Plan(**json.loads(text))
