"""Ingest (files, folders, globs, JSONL, stdin) and the feed files (resume, torn lines)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from summarise.feed import default_errors_path, repair_torn_tail
from summarise.ingest import InputError, check_inputs, count_articles, read
from summarise.resume import FeedState, id_key, reconcile_errors, resume_key
from tests.helpers import EXAMPLES


def test_folder_glob_and_file_inputs_expand_in_order_each_file_once() -> None:
    paths = check_inputs([str(EXAMPLES / "001_708934a6f6b6cdcb.txt"), str(EXAMPLES)])
    assert len(paths) == 5 and paths[0].endswith("001_708934a6f6b6cdcb.txt")
    assert paths[1].endswith("000_5132f6c47e1c0e2b.txt")
    assert check_inputs([str(EXAMPLES / "00[01]*.txt")])[1].endswith("001_708934a6f6b6cdcb.txt")


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


def test_stdin_is_one_article_unless_told_it_is_jsonl() -> None:
    [plain] = read(["-"], io.BytesIO(b"Blinken met Lavrov."))
    assert (plain.id, plain.data) == ("stdin", b"Blinken met Lavrov.")
    jsonl = b'\n{"id": "x", "text": "A"}\n{"id": "y", "text": "B"}\n'
    [text] = read(["-"], io.BytesIO(jsonl))  # a first line starting with '{' is still text
    assert (text.id, text.kind, text.data) == ("stdin", "text", jsonl)
    lines = read(["-"], io.BytesIO(jsonl), stdin_format="jsonl")
    assert [a.id for a in lines] == ["x", "y"]
    [html] = read(["-"], io.BytesIO(b"<p>Talks.</p>"), stdin_format="html")
    assert html.kind == "html"


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
    index = FeedState.load(str(feed), errors)
    done, failed = resume_key("a", "1", "p", "m"), resume_key("b", "2", "p", "m")
    assert index.should_skip(done, retry_errors=False) and index.should_skip(
        done, retry_errors=True
    )
    assert index.should_skip(failed, retry_errors=False)
    assert not index.should_skip(failed, retry_errors=True)
    # a changed article (new content hash) or another model is not "done"
    assert not index.should_skip(resume_key("a", "9", "p", "m"), retry_errors=False)
    assert not index.should_skip(resume_key("a", "1", "p", "other"), retry_errors=False)


def test_reconciling_drops_errors_of_ids_in_the_feed_and_keeps_the_last_per_id(
    tmp_path: Path,
) -> None:
    errors = tmp_path / "e.jsonl"
    lines = [_line("a", "1", error=True), _line("b", "2", error=True), _line("b", "3", error=True)]
    errors.write_text("\n".join(lines) + "\n")
    assert reconcile_errors(errors, {id_key("a")}) == 2
    [kept] = [json.loads(x) for x in errors.read_text().splitlines()]
    assert (kept["id"], kept["source"]["sha256"]) == ("b", "3")


def test_count_articles_matches_what_read_yields(tmp_path: Path) -> None:
    big = tmp_path / "big.jsonl"
    line = json.dumps({"id": "x", "text": "é" * 300_000})  # lines straddle 1 MiB blocks
    big.write_text("\n".join([line] * 9 + ["", "{broken"]), encoding="utf-8")  # no final \n
    paths = check_inputs([str(EXAMPLES), str(big)])
    assert count_articles(paths) == len(list(read(paths))) == 5 + 10
    assert count_articles(["-"]) is None
