"""The mock's Files and Batches API, spoken to by the real ``openai`` SDK (no retries)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any, Final, Literal

import openai
import pytest

from summarise.mock import MockConfig, MockServer, serve_in_process
from summarise.mock.__main__ import _parse_args, config_from_args
from summarise.schema import ModelSummary

ENDPOINT: Final[Literal["/v1/chat/completions"]] = "/v1/chat/completions"


def article(i: int) -> str:
    return f'art-{i}: the minister said "we are ready to talk" on Wednesday.'


def input_line(i: int, **changes: Any) -> dict[str, Any]:
    body = {"model": "mock-model", "messages": [{"role": "user", "content": article(i)}]}
    return {"custom_id": f"req-{i}", "method": "POST", "url": ENDPOINT, "body": body, **changes}


def jsonl(items: list[Any]) -> bytes:
    return b"".join(json.dumps(x).encode() + b"\n" for x in items)


def lines_of(client: openai.OpenAI, file_id: str | None) -> list[dict[str, Any]]:
    if file_id is None:
        return []
    return [json.loads(x) for x in client.files.content(file_id).text.splitlines()]


@pytest.fixture
def make() -> Iterator[Any]:
    """``make(**config)`` -> (server, sync client); everything stopped afterwards."""
    servers: list[MockServer] = []

    def start(**config: Any) -> tuple[MockServer, openai.OpenAI]:
        server = MockServer(MockConfig(**config)).__enter__()
        servers.append(server)
        return server, openai.OpenAI(base_url=server.base_url, api_key="k", max_retries=0)

    yield start
    for server in servers:
        server.__exit__(None, None, None)


def submit(client: openai.OpenAI, data: bytes, **kwargs: Any) -> Any:
    uploaded = client.files.create(file=("input.jsonl", data), purpose="batch")
    return client.batches.create(
        input_file_id=uploaded.id, endpoint=ENDPOINT, completion_window="24h", **kwargs
    )


def poll_to_end(client: openai.OpenAI, batch_id: str, limit: int = 50) -> tuple[Any, list[str]]:
    """Retrieve until the batch ends: (the last batch, every status seen)."""
    seen: list[str] = []
    for _ in range(limit):
        batch = client.batches.retrieve(batch_id)
        seen.append(batch.status)
        if batch.status in ("completed", "failed", "expired", "cancelled"):
            return batch, seen
    raise AssertionError(f"batch never ended: {seen}")


def test_batch_runs_to_completed_one_step_a_poll_and_output_holds_every_answer(make: Any) -> None:
    _, client = make()
    created = submit(client, jsonl([input_line(i) for i in range(3)]), metadata={"run": "r1"})
    assert created.status == "validating"
    assert created.metadata == {"run": "r1"}
    batch, seen = poll_to_end(client, created.id)
    assert seen == ["in_progress", "finalizing", "completed"]
    assert batch.request_counts.model_dump() == {"total": 3, "completed": 3, "failed": 0}
    assert batch.metadata == {"run": "r1"}
    assert batch.error_file_id is None
    assert batch.in_progress_at and batch.finalizing_at and batch.completed_at
    assert batch.usage is not None and batch.usage.total_tokens > 0
    output = client.files.retrieve(batch.output_file_id)
    assert output.purpose == "batch_output"
    lines = lines_of(client, batch.output_file_id)
    assert sorted(x["custom_id"] for x in lines) == ["req-0", "req-1", "req-2"]
    for line in lines:
        assert line["id"].startswith("batch_req_")
        assert line["error"] is None
        response = line["response"]
        assert response["status_code"] == 200 and response["request_id"]
        completion = openai.types.chat.ChatCompletion.model_validate(response["body"])
        assert completion.usage is not None and completion.usage.prompt_tokens > 0
        summary = ModelSummary.model_validate_json(completion.choices[0].message.content or "")
        assert [q.text for q in summary.quotes] == ["we are ready to talk"]


def test_input_file_can_be_read_back_as_uploaded(make: Any) -> None:
    _, client = make()
    data = jsonl([input_line(0)])
    uploaded = client.files.create(file=("in.jsonl", data), purpose="batch")
    assert (uploaded.purpose, uploaded.bytes, uploaded.filename) == ("batch", len(data), "in.jsonl")
    assert client.files.retrieve(uploaded.id).id == uploaded.id
    assert client.files.content(uploaded.id).content == data
    with pytest.raises(openai.NotFoundError):
        client.files.retrieve("file-nope")


def test_files_list_by_purpose_and_delete(make: Any) -> None:
    _, client = make()
    first = client.files.create(file=("a.jsonl", jsonl([input_line(0)])), purpose="batch")
    second = client.files.create(file=("b.jsonl", b"{}\n"), purpose="user_data")
    assert [f.id for f in client.files.list()] == [second.id, first.id]
    assert [f.id for f in client.files.list(order="asc")] == [first.id, second.id]
    assert [f.id for f in client.files.list(purpose="batch")] == [first.id]
    assert client.files.delete(first.id).deleted is True
    with pytest.raises(openai.NotFoundError):
        client.files.content(first.id)
    with pytest.raises(openai.BadRequestError):  # a batch input must be JSONL
        client.files.create(file=("a.txt", b"x"), purpose="batch")


def test_faulted_answers_split_between_output_and_error_files(make: Any) -> None:
    faults = {
        "art-1": ["500"],
        "art-2": ["schema_invalid"],
        "art-3": ["length"],
        "art-4": ["reset"],
    }
    _, client = make(faults=faults)
    batch, _ = poll_to_end(client, submit(client, jsonl([input_line(i) for i in range(5)])).id)
    assert batch.status == "completed"
    assert batch.request_counts.model_dump() == {"total": 5, "completed": 3, "failed": 2}
    output = {x["custom_id"]: x["response"]["body"] for x in lines_of(client, batch.output_file_id)}
    assert sorted(output) == ["req-0", "req-2", "req-3"]
    assert output["req-3"]["choices"][0]["finish_reason"] == "length"
    with pytest.raises(ValueError):
        ModelSummary.model_validate_json(output["req-2"]["choices"][0]["message"]["content"])
    errors = {x["custom_id"]: x for x in lines_of(client, batch.error_file_id)}
    assert sorted(errors) == ["req-1", "req-4"]
    assert errors["req-1"]["response"]["status_code"] == 500
    assert errors["req-1"]["response"]["body"]["error"]["type"] == "server_error"
    assert errors["req-1"]["error"] is None
    assert errors["req-4"]["response"] is None  # the answer never arrived whole
    assert errors["req-4"]["error"]["code"] == "server_error"


def test_timeout_fault_in_a_batch_fails_the_request_without_waiting(make: Any) -> None:
    _, client = make(faults={"art-0": ["timeout"]}, hang_s=30.0, latency_s=5.0)
    started = time.monotonic()
    batch, _ = poll_to_end(client, submit(client, jsonl([input_line(0), input_line(1)])).id)
    assert time.monotonic() - started < 5.0
    assert [x["custom_id"] for x in lines_of(client, batch.error_file_id)] == ["req-0"]
    assert [x["custom_id"] for x in lines_of(client, batch.output_file_id)] == ["req-1"]


def test_expired_batch_leaves_the_requests_it_never_ran_in_neither_file(make: Any) -> None:
    _, client = make(batch_expire_after=3, batch_requests_per_step=2, faults={"art-1": ["429"]})
    batch, seen = poll_to_end(client, submit(client, jsonl([input_line(i) for i in range(6)])).id)
    assert seen == ["in_progress", "in_progress", "expired"]
    assert batch.expired_at is not None and batch.completed_at is None
    assert batch.request_counts.model_dump() == {"total": 6, "completed": 2, "failed": 1}
    done = lines_of(client, batch.output_file_id) + lines_of(client, batch.error_file_id)
    assert sorted(x["custom_id"] for x in done) == ["req-0", "req-1", "req-2"]


def test_cancel_keeps_the_requests_done_before_it(make: Any) -> None:
    _, client = make(batch_requests_per_step=2)
    created = submit(client, jsonl([input_line(i) for i in range(5)]))
    assert client.batches.retrieve(created.id).status == "in_progress"
    assert client.batches.retrieve(created.id).request_counts.completed == 2
    cancelling = client.batches.cancel(created.id)
    assert cancelling.status == "cancelling" and cancelling.cancelling_at is not None
    assert client.batches.cancel(created.id).status == "cancelling"  # said twice: no change
    batch = client.batches.retrieve(created.id)
    assert batch.status == "cancelled" and batch.cancelled_at is not None
    assert batch.request_counts.model_dump() == {"total": 5, "completed": 2, "failed": 0}
    assert sorted(x["custom_id"] for x in lines_of(client, batch.output_file_id)) == [
        "req-0",
        "req-1",
    ]
    with pytest.raises(openai.ConflictError):
        client.batches.cancel(created.id)


def test_cancel_before_validation_runs_nothing(make: Any) -> None:
    server, client = make()
    created = submit(client, jsonl([input_line(0)]))
    client.batches.cancel(created.id)
    batch = client.batches.retrieve(created.id)
    assert batch.status == "cancelled"
    assert batch.output_file_id is None and batch.error_file_id is None
    assert server.stats.batch_requests == 0


def test_status_zero_quirk_lines_lose_the_status_and_sometimes_the_error(make: Any) -> None:
    faults = {f"art-{i}": ["503"] for i in range(10)}
    _, client = make(faults=faults, batch_status_zero_rate=1.0)
    batch, _ = poll_to_end(client, submit(client, jsonl([input_line(i) for i in range(10)])).id)
    assert batch.request_counts.model_dump() == {"total": 10, "completed": 0, "failed": 10}
    assert batch.output_file_id is None
    errors = lines_of(client, batch.error_file_id)
    assert len(errors) == 10
    assert all(x["response"]["status_code"] == 0 for x in errors)
    with_error = [x for x in errors if x["error"] is not None]
    assert 0 < len(with_error) < 10  # both forms of the quirk occur
    assert all(x["error"]["code"] == "overloaded" for x in with_error)


def test_status_zero_rate_applies_to_a_fraction_of_error_lines(make: Any) -> None:
    faults = {f"art-{i}": ["500"] for i in range(40)}
    _, client = make(faults=faults, batch_status_zero_rate=0.5)
    batch, _ = poll_to_end(client, submit(client, jsonl([input_line(i) for i in range(40)])).id)
    zero = [x for x in lines_of(client, batch.error_file_id) if x["response"]["status_code"] == 0]
    assert 8 <= len(zero) <= 32


def test_results_are_written_out_of_input_order_seeded(make: Any) -> None:
    data = jsonl([input_line(i) for i in range(10)])
    orders = []
    for _ in range(2):
        _, client = make(seed=7)
        batch, _ = poll_to_end(client, submit(client, data).id)
        orders.append([x["custom_id"] for x in lines_of(client, batch.output_file_id)])
    in_order = [f"req-{i}" for i in range(10)]
    assert orders[0] != in_order and sorted(orders[0]) == sorted(in_order)
    assert orders[0] == orders[1]  # same seed, same order
    _, client = make(batch_shuffle=False)
    batch, _ = poll_to_end(client, submit(client, data).id)
    assert [x["custom_id"] for x in lines_of(client, batch.output_file_id)] == in_order


def test_two_results_are_never_in_input_order(make: Any) -> None:
    for seed in range(5):
        _, client = make(seed=seed)
        batch, _ = poll_to_end(client, submit(client, jsonl([input_line(0), input_line(1)])).id)
        ids = [x["custom_id"] for x in lines_of(client, batch.output_file_id)]
        assert ids == ["req-1", "req-0"]


def test_listing_pages_newest_first_with_limit_and_after(make: Any) -> None:
    _, client = make()
    ids = [submit(client, jsonl([input_line(i)]), metadata={"n": str(i)}).id for i in range(3)]
    page = client.batches.list(limit=2)
    assert [b.id for b in page.data] == [ids[2], ids[1]]
    assert page.has_more is True
    assert [b.id for b in client.batches.list(limit=2, after=ids[1]).data] == [ids[0]]
    assert [b.id for b in client.batches.list(limit=1)] == ids[::-1]  # auto-paging
    assert [b.metadata for b in client.batches.list()] == [{"n": "2"}, {"n": "1"}, {"n": "0"}]


def test_malformed_input_file_fails_the_batch_with_line_errors(make: Any) -> None:
    server, client = make()
    data = b"\n".join(
        [
            json.dumps(input_line(0)).encode(),
            b"{not json",
            json.dumps(input_line(0)).encode(),  # the same custom_id again
            json.dumps(input_line(3, url="/v1/embeddings")).encode(),
            json.dumps(input_line(4, method="GET")).encode(),
            json.dumps({"custom_id": "x", "method": "POST", "url": ENDPOINT}).encode(),
        ]
    )
    batch = client.batches.retrieve(submit(client, data).id)
    assert batch.status == "failed" and batch.failed_at is not None
    assert batch.errors is not None and batch.errors.data is not None
    found = [(e.code, e.line, e.param) for e in batch.errors.data]
    assert found == [
        ("invalid_json_line", 2, None),
        ("duplicate_custom_id", 3, "custom_id"),
        ("url_mismatch", 4, "url"),
        ("invalid_request", 5, "method"),
        ("missing_required_parameter", 6, "body"),
    ]
    assert batch.output_file_id is None and batch.error_file_id is None
    assert client.batches.retrieve(batch.id).status == "failed"  # it stays failed
    assert server.stats.batch_requests == 0


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"\n\n", "empty_file"),
        (
            jsonl([input_line(0), input_line(1, body={**input_line(1)["body"], "model": "other"})]),
            "model_mismatch",
        ),
    ],
)
def test_input_file_without_one_model_or_any_request_fails(
    make: Any, data: bytes, code: str
) -> None:
    _, client = make()
    batch = client.batches.retrieve(submit(client, data).id)
    assert batch.status == "failed"
    assert batch.errors is not None and [e.code for e in batch.errors.data or []] == [code]


def test_more_requests_than_allowed_fail_as_too_many_tasks(make: Any) -> None:
    _, client = make(batch_max_requests=2)
    batch = client.batches.retrieve(submit(client, jsonl([input_line(i) for i in range(3)])).id)
    assert batch.errors is not None and [e.code for e in batch.errors.data or []] == [
        "too_many_tasks"
    ]


def test_create_refuses_unknown_files_wrong_purpose_and_bad_metadata(make: Any) -> None:
    _, client = make()
    with pytest.raises(openai.NotFoundError):
        client.batches.create(input_file_id="file-nope", endpoint=ENDPOINT, completion_window="24h")
    other = client.files.create(file=("notes.jsonl", b"{}\n"), purpose="user_data")
    with pytest.raises(openai.BadRequestError):
        client.batches.create(input_file_id=other.id, endpoint=ENDPOINT, completion_window="24h")
    with pytest.raises(openai.BadRequestError) as caught:
        submit(client, jsonl([input_line(0)]), metadata={str(i): "v" for i in range(17)})
    assert caught.value.param == "metadata"
    with pytest.raises(openai.NotFoundError):
        client.batches.retrieve("batch_nope")


def test_polls_per_step_sets_how_many_retrieves_move_a_batch(make: Any) -> None:
    _, client = make(batch_polls_per_step=2)
    created = submit(client, jsonl([input_line(0)]))
    seen = [client.batches.retrieve(created.id).status for _ in range(6)]
    assert seen == [
        "validating",
        "in_progress",
        "in_progress",
        "finalizing",
        "finalizing",
        "completed",
    ]
    _, client = make(batch_polls_per_step=0)
    batch = client.batches.retrieve(submit(client, jsonl([input_line(0)])).id)
    assert batch.status == "completed" and batch.request_counts.completed == 1


def test_batch_routes_require_the_api_key(make: Any) -> None:
    server, _ = make(require_api_key="right")
    wrong = openai.OpenAI(base_url=server.base_url, api_key="wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        wrong.batches.list()
    right = openai.OpenAI(base_url=server.base_url, api_key="right", max_retries=0)
    assert poll_to_end(right, submit(right, jsonl([input_line(0)])).id)[0].status == "completed"


async def test_async_client_runs_a_batch_on_the_servers_loop() -> None:
    async with (
        MockServer(MockConfig(faults={"art-1": ["400"]})) as server,
        openai.AsyncOpenAI(base_url=server.base_url, api_key="k", max_retries=0) as client,
    ):
        data = jsonl([input_line(0), input_line(1)])
        uploaded = await client.files.create(file=("in.jsonl", data), purpose="batch")
        batch = await client.batches.create(
            input_file_id=uploaded.id, endpoint=ENDPOINT, completion_window="24h"
        )
        while batch.status not in ("completed", "failed"):
            batch = await client.batches.retrieve(batch.id)
        assert batch.status == "completed"
        assert batch.error_file_id is not None
        errors = (await client.files.content(batch.error_file_id)).text.splitlines()
        assert json.loads(errors[0])["response"]["status_code"] == 400


def test_command_line_flags_set_the_batch_fields() -> None:
    args = _parse_args(
        [
            "--batch-polls-per-step=3",
            "--batch-requests-per-step=5",
            "--batch-expire-after=7",
            "--batch-status-zero-rate=0.25",
            "--batch-in-order",
            "--batch-max-requests=9",
        ]
    )
    config = config_from_args(args)
    assert (
        config.batch_polls_per_step,
        config.batch_requests_per_step,
        config.batch_expire_after,
        config.batch_status_zero_rate,
        config.batch_shuffle,
        config.batch_max_requests,
    ) == (3, 5, 7, 0.25, False, 9)
    defaults = config_from_args(_parse_args([]))
    assert defaults.batch_polls_per_step == 1 and defaults.batch_shuffle is True
    with pytest.raises(ValueError):
        MockConfig(batch_status_zero_rate=1.5)


def test_command_line_server_runs_batches() -> None:
    with serve_in_process("--batch-polls-per-step", "0", "--fault", "art-1=500") as (url, _):
        client = openai.OpenAI(base_url=url, api_key="k", max_retries=0)
        batch = client.batches.retrieve(submit(client, jsonl([input_line(0), input_line(1)])).id)
        assert batch.status == "completed"
        assert batch.request_counts is not None
        assert batch.request_counts.model_dump() == {"total": 2, "completed": 1, "failed": 1}
