"""Ingest (files, folders, globs, JSONL, stdin) and the feed files (resume, torn lines)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from summarise.feed import (
    ResumeIndex,
    compact_errors,
    default_errors_path,
    repair_torn_tail,
    resume_key,
)
from summarise.ingest import InputError, check_inputs, count_articles, read
from tests.helpers import EXAMPLES


def test_folder_glob_and_file_inputs_expand_in_order(tmp_path: Path) -> None:
    paths = check_inputs([str(EXAMPLES), str(EXAMPLES / "00[01]*.txt")])
    assert len(paths) == 7 and paths[0].endswith("000_5132f6c47e1c0e2b.txt")


@pytest.mark.parametrize("bad", ["no/such/file.txt", "no/such/*.txt"])
def test_inputs_that_name_nothing_are_an_error(bad: str) -> None:
    with pytest.raises(InputError, match="no"):
        check_inputs([bad])


def test_jsonl_lines_become_articles_and_a_broken_line_an_error(tmp_path: Path) -> None:
    feed = tmp_path / "in.jsonl"
    feed.write_text(
        '{"id": "a", "text": "Talks.", "url": "http://x", "published": "2024-01-02"}\n'
        "{broken\n"
        '{"id": "b", "html": "<html><p>Hi</p></html>"}\n'
        '{"id": "c"}\n',
        encoding="utf-8",
    )
    articles = list(read([str(feed)]))
    assert [(a.id, a.kind, a.error) for a in articles] == [
        ("a", "text", None),
        ("in:2", "text", "invalid_jsonl"),
        ("b", "html", None),
        ("c", "text", "invalid_jsonl"),
    ]
    assert articles[0].published == "2024-01-02" and articles[0].url == "http://x"


def test_stdin_takes_plain_text_or_jsonl() -> None:
    [plain] = read(["-"], io.BytesIO(b"Blinken met Lavrov."))
    assert (plain.id, plain.data) == ("stdin", b"Blinken met Lavrov.")
    lines = read(["-"], io.BytesIO(b'\n{"id": "x", "text": "A"}\n{"id": "y", "text": "B"}\n'))
    assert [a.id for a in lines] == ["x", "y"]


def test_errors_file_sits_beside_the_feed() -> None:
    assert default_errors_path("out/feed.jsonl") == Path("out/feed.errors.jsonl")


def test_torn_last_line_is_cut_and_whole_lines_kept(tmp_path: Path) -> None:
    feed = tmp_path / "f.jsonl"
    feed.write_bytes(b'{"id": "a"}\n{"id": "b"}\n{"id": "c", "sum')
    assert repair_torn_tail(feed)
    assert feed.read_bytes() == b'{"id": "a"}\n{"id": "b"}\n'
    assert not repair_torn_tail(feed)


def _line(article_id: str, sha: str, *, error: bool = False) -> str:
    if error:
        return json.dumps(
            {"id": article_id, "source": {"sha256": sha}, "prompt_version": "p", "model": "m"}
        )
    return json.dumps(
        {
            "id": article_id,
            "source": {"sha256": sha},
            "provenance": {"prompt_version": "p", "model": "m"},
        }
    )


def test_resume_index_skips_done_and_failed_unless_retrying(tmp_path: Path) -> None:
    feed, errors = tmp_path / "f.jsonl", tmp_path / "f.errors.jsonl"
    feed.write_text(_line("a", "1") + "\n")
    errors.write_text(_line("b", "2", error=True) + "\n")
    index = ResumeIndex.load(str(feed), errors)
    done, failed = resume_key("a", "1", "p", "m"), resume_key("b", "2", "p", "m")
    assert index.should_skip(done, retry_errors=False) and index.should_skip(
        done, retry_errors=True
    )
    assert index.should_skip(failed, retry_errors=False)
    assert not index.should_skip(failed, retry_errors=True)
    # a changed article (new content hash) or another model is not "done"
    assert not index.should_skip(resume_key("a", "9", "p", "m"), retry_errors=False)
    assert not index.should_skip(resume_key("a", "1", "p", "other"), retry_errors=False)


def test_compacting_errors_drops_articles_that_later_succeeded(tmp_path: Path) -> None:
    errors = tmp_path / "e.jsonl"
    errors.write_text(_line("a", "1", error=True) + "\n" + _line("b", "2", error=True) + "\n")
    assert compact_errors(errors, {resume_key("a", "1", "p", "m")}) == 1
    assert [json.loads(x)["id"] for x in errors.read_text().splitlines()] == ["b"]


def test_count_articles_matches_what_read_yields(tmp_path: Path) -> None:
    big = tmp_path / "big.jsonl"
    line = json.dumps({"id": "x", "text": "é" * 300_000})  # lines straddle 1 MiB blocks
    big.write_text("\n".join([line] * 9 + ["", "{broken"]), encoding="utf-8")  # no final \n
    paths = check_inputs([str(EXAMPLES), str(big)])
    assert count_articles(paths) == len(list(read(paths))) == 5 + 10
    assert count_articles(["-"]) is None
