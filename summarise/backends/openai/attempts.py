"""The attempts at one article: each answer judged, and what to send next.

An answer is accepted (a valid ``ModelSummary``), re-asked (invalid JSON or schema: the
model sees its answer and the validation errors; cut off at the token limit: asked again
for a shorter one), or ends the article (a refusal, or ``max_attempts`` used up). The
state is a pydantic model so that a batch can keep it between rounds, days apart: the
synchronous client and the Batch API path judge answers with this same code.
"""

from __future__ import annotations

from typing import Literal

from openai.types.chat import ChatCompletion
from pydantic import BaseModel, Field

from summarise import prompt
from summarise.backends.openai.answers import InvalidAnswer, parse_summary
from summarise.errors import ArticleError
from summarise.schema import ModelSummary, RecordWarning, Usage, WarningCode


class ModelError(ArticleError):
    """This article could not be summarised by the model; becomes an error record."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        stage: Literal["model", "validate"] = "model",
        attempts: int = 0,
        last_response_id: str | None = None,
        usage: Usage | None = None,
    ) -> None:
        super().__init__(
            code,
            message,
            stage=stage,
            attempts=attempts,
            last_response_id=last_response_id,
            usage=usage,
        )


class Attempts(BaseModel):
    """Where one article stands between model calls."""

    messages: list[prompt.Message]
    """The article's prompt, as first sent."""
    conversation: list[prompt.Message]
    """What the next call sends: the prompt, or the prompt plus a re-ask."""
    made: int = 0
    """Model calls answered so far."""
    usage: Usage = Field(default_factory=Usage)
    warnings: list[RecordWarning] = Field(default_factory=list)
    last_response_id: str | None = None
    finish_reason: str | None = None
    problem: tuple[str, str] = ("empty_response", "no answer")
    """(code, message) of the last rejected answer: the error if attempts run out."""

    @classmethod
    def start(cls, messages: list[prompt.Message]) -> Attempts:
        return cls(messages=messages, conversation=list(messages))

    def judge(self, completion: ChatCompletion) -> ModelSummary | None:
        """Take one answer: the summary if it is valid, else None with the re-ask set up.

        Raises ``ModelError`` for a refusal.
        """
        self.made += 1
        self.last_response_id = completion.id or self.last_response_id
        _add_usage(self.usage, completion)
        if not completion.choices:
            self._reask(WarningCode.reasked, ("empty_response", "the endpoint returned no choices"))
            return None
        choice = completion.choices[0]
        message = choice.message
        if message.refusal or choice.finish_reason == "content_filter":
            reason = message.refusal or "content filter"
            raise self.failure("refused", f"the model refused: {reason}")
        if choice.finish_reason == "length":
            problem = ("truncated", "the answer was cut off at the token limit")
            self._reask(WarningCode.truncated_retry, problem, note="hit the token limit")
            self.conversation = [*self.messages, prompt.truncated_message()]
            return None
        content = message.content or ""
        try:
            summary = parse_summary(content)
        except InvalidAnswer as exc:
            self._reask(WarningCode.reasked, (exc.code, str(exc)))
            self.conversation = [
                *self.messages,
                {"role": "assistant", "content": content},
                prompt.reask_message(str(exc)),
            ]
            return None
        self.finish_reason = choice.finish_reason
        return summary

    def _reask(self, code: WarningCode, problem: tuple[str, str], note: str = "") -> None:
        self.problem = problem
        text = f"attempt {self.made} {note}" if note else f"attempt {self.made}: {problem[1]}"
        # Re-ask problems quote the model's answer: kept short so a record stays readable.
        self.warnings.append(RecordWarning(code=code, message=text[:300]))

    def exhausted(self, max_attempts: int) -> ModelError:
        """The error once ``max_attempts`` calls gave no valid answer."""
        code, text = self.problem
        stage: Literal["model", "validate"] = (
            "validate" if code in ("invalid_json", "schema_invalid") else "model"
        )
        return self.failure(code, f"{text} (after {max_attempts} attempts)", stage=stage)

    def failure(
        self, code: str, message: str, *, stage: Literal["model", "validate"] = "model"
    ) -> ModelError:
        """An error for this article that carries what its attempts cost."""
        return ModelError(
            code,
            message,
            stage=stage,
            attempts=self.made,
            last_response_id=self.last_response_id,
            usage=self.usage,
        )


def _add_usage(usage: Usage, completion: ChatCompletion) -> None:
    if completion.usage is None:
        return
    usage.prompt_tokens += completion.usage.prompt_tokens or 0
    usage.completion_tokens += completion.usage.completion_tokens or 0
    details = completion.usage.prompt_tokens_details
    if details is not None and details.cached_tokens:
        usage.cached_tokens += details.cached_tokens
