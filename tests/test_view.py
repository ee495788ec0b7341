"""The review page (`summarise view`), driven in a real headless Chromium.

The browser is the system's Chromium driven by the playwright client (no browser is
downloaded). Without either, the browser tests are skipped, unless
``SUMMARISE_REQUIRE_BROWSER=1`` (set by .ci/run) makes that a failure.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import pytest

from summarise.schema import Record
from summarise.view import browser
from tests.helpers import EXAMPLES, read_jsonl, run_cli, schema_validator
from tests.test_recorded_replay import REPLAY_ARGS

if TYPE_CHECKING:
    from playwright.sync_api import Page


def _browser_problem() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright client is not installed (pip install -e '.[test]')"
    if browser.find_chromium() is None:
        return "no Chromium (apt-get install chromium)"
    return None


PROBLEM = _browser_problem()
if PROBLEM and os.environ.get("SUMMARISE_REQUIRE_BROWSER") == "1":
    raise RuntimeError(f"browser tests required but {PROBLEM}")
needs_browser = pytest.mark.skipif(PROBLEM is not None, reason=PROBLEM or "")


def summarise(*args: str) -> subprocess.CompletedProcess[str]:
    """``summarise ARGS`` in a child process: the sync playwright client holds this thread's
    event loop while a page is open, so ``summarise run`` (asyncio) cannot run beside it."""
    env = {**os.environ, "OPENAI_API_KEY": "", "OPENAI_BASE_URL": "", "SUMMARISE_WORKERS": "1"}
    command = [sys.executable, "-m", "summarise", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, check=False)


@pytest.fixture(scope="module")
def seeds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The five seeds through the offline extractor: a real feed."""
    feed = tmp_path_factory.mktemp("seeds") / "seeds.jsonl"
    done = summarise("run", str(EXAMPLES), "-o", str(feed), "--no-progress")
    assert done.returncode == 0, done.stderr
    return feed


@pytest.fixture(scope="module")
def page() -> Iterator[Page]:
    if PROBLEM:
        pytest.skip(PROBLEM)
    with browser.chromium_page() as opened:
        yield opened


def make_page(feed: Path, *extra: str) -> Path:
    out = feed.with_name(feed.stem + ".html")
    result = run_cli("view", str(feed), "-o", str(out), *extra)
    assert result.exit_code == 0, result.output
    return out


def visit(page: Page, report: Path, record_id: str | None = None) -> None:
    """Open the page fresh (review state cleared), at a record's article view if given."""
    page.goto("about:blank")
    page.goto(report.resolve().as_uri())
    browser.wait_ready(page)
    page.evaluate("localStorage.clear()")
    page.reload()
    browser.wait_ready(page)
    if record_id is not None:
        page.evaluate(f"location.hash = {json.dumps('#' + quote(record_id, safe=''))}")
        page.wait_for_selector("#article-view:not([hidden]) #text")


def until(page: Page, condition: str, timeout_s: float = 10.0) -> None:
    """Wait for a JS condition (polled: the page's CSP forbids wait_for_function's eval)."""
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(condition):
        assert time.monotonic() < deadline, f"timed out waiting for {condition}"
        time.sleep(0.02)


def listed(page: Page) -> list[str]:
    """Ids of the index rows rendered (all of them, for a feed this small)."""
    ids: list[str] = page.eval_on_selector_all(
        "#list .row[data-id]", "rs => rs.map(r => r.dataset.id)"
    )
    return ids


def highlighted(page: Page, selector: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = page.eval_on_selector_all(
        selector,
        "els => els.map(e => ({span: e.dataset.span, text: e.textContent,"
        " speaker: e.dataset.speaker, quote: e.dataset.quote}))",
    )
    return found


def span_of(value: str) -> tuple[int, int]:
    start, end = value.split(",")
    return int(start), int(end)


# --- the page as a file -----------------------------------------------------------------


def test_page_is_one_self_contained_utf8_file(seeds: Path) -> None:
    report = make_page(seeds)
    html = report.read_bytes().decode("utf-8")
    assert '<meta charset="utf-8">' in html
    assert "default-src 'none'" in html  # the page may not load anything
    for reference in ("<script src", "<link", "@import", "url(http", 'src="http'):
        assert reference not in html
    assert report.stat().st_size > 0


def test_page_is_written_as_utf8_under_an_ascii_locale(tmp_path: Path, seeds: Path) -> None:
    record = read_jsonl(seeds)[0]
    record["article"]["title"] = "Лавров и Ван И — «переговоры» 会谈"
    feed = tmp_path / "feed.jsonl"
    feed.write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "LANG", "PYTHONUTF8"))}
    env |= {"LC_ALL": "C", "LANG": "C", "PYTHONIOENCODING": "ascii", "PYTHONUTF8": "0"}
    out = tmp_path / "report.html"
    done = subprocess.run(
        [sys.executable, "-m", "summarise", "view", str(feed), "-o", str(out)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Лавров и Ван И — «переговоры» 会谈" in out.read_bytes().decode("utf-8")


def test_view_refuses_a_missing_feed_and_overwriting_it(tmp_path: Path, seeds: Path) -> None:
    missing = run_cli("view", str(tmp_path / "nope.jsonl"))
    assert missing.exit_code == 2 and "feed not found" in missing.stderr
    same = run_cli("view", str(seeds), "-o", str(seeds))
    assert same.exit_code == 2 and "overwrite the feed" in same.stderr
    folder = run_cli("view", str(tmp_path))
    assert folder.exit_code == 2 and "not a file" in folder.stderr
    (tmp_path / "taken").write_text("a file where a folder should be", encoding="utf-8")
    unwritable = run_cli("view", str(seeds), "-o", str(tmp_path / "taken" / "report.html"))
    assert unwritable.exit_code == 4 and "cannot write" in unwritable.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]  # no temporary file left


# --- the article view -------------------------------------------------------------------


@needs_browser
def test_every_grounded_seed_quote_is_highlighted_at_its_span(page: Page, seeds: Path) -> None:
    report = make_page(seeds)
    for record in read_jsonl(seeds):
        text = record["article"]["text"]
        visit(page, report, record["id"])
        marks = highlighted(page, "#text mark.quote")
        for mark in marks:
            start, end = span_of(mark["span"])
            assert mark["text"] == text[start:end]
        by_quote = {int(m["quote"]): m for m in marks}
        for i, q in enumerate(record["summary"]["quotes"]):
            if q["grounded"] and q["span"]:
                assert i in by_quote, f"{record['id']}: quote {i} not highlighted"
                assert span_of(by_quote[i]["span"]) == tuple(q["span"])
                assert by_quote[i]["speaker"] == (q["speaker"] or "")
        for mention in highlighted(page, "#text .mention"):
            start, end = span_of(mention["span"])
            assert mention["text"] == text[start:end]
        assert page.inner_text("#text").replace("\n", "") == text.replace("\n", "")


@needs_browser
def test_clicking_a_quote_shows_its_speaker_match_and_offsets(page: Page, seeds: Path) -> None:
    report = make_page(seeds)
    record = read_jsonl(seeds)[4]
    visit(page, report, record["id"])
    first = page.query_selector("#text mark.quote")
    assert first is not None
    i = int(first.get_attribute("data-quote") or -1)
    first.click()
    q = record["summary"]["quotes"][i]
    assert page.inner_text("#detail .detail-speaker") == (q["speaker"] or "(none)")
    assert page.inner_text("#detail .detail-match") == q["match"]
    assert page.inner_text("#detail .detail-offsets") == f"[{q['span'][0]}, {q['span'][1]})"
    assert page.inner_text("#detail .detail-attribution")
    page.click("#raw-json summary")
    until(page, "document.querySelector('#raw-json pre').textContent.length > 0")
    raw = json.loads(page.text_content("#raw-json pre") or "")
    assert raw == record


@needs_browser
def test_non_latin_text_is_highlighted_exactly(page: Page, tmp_path: Path, seeds: Path) -> None:
    # Astral characters (two UTF-16 units each), combining marks and CJK before and inside
    # the quotes: the page must count code points, as Python does.
    text = (
        "𝔐𝔬𝔰𝔠𝔬𝔴 😀 — Mr. Lavrov said: 「我们准备好谈判了」. "
        "Ms. Jolie\u0301 (e\u0301) replied \u201cNous sommes pre\u0302ts 🇫🇷 à parler\u201d, "
        "and Lavrov added \u201c𠀀𠀁 is a word 👍🏽 too\u201d."
    )
    quotes = ["我们准备好谈判了", "Nous sommes pre\u0302ts 🇫🇷 à parler", "𠀀𠀁 is a word 👍🏽 too"]
    record = copy.deepcopy(read_jsonl(seeds)[0])
    record["id"] = "非拉丁-𝔐"
    record["article"]["text"] = text
    record["summary"]["quotes"] = [
        {
            "speaker": who,
            "text": q,
            "span": [text.index(q), text.index(q) + len(q)],
            "grounded": True,
            "match": "exact",
        }
        for who, q in zip(["Lavrov", "Jolie\u0301", "Lavrov"], quotes, strict=True)
    ]
    record["summary"]["participants"] = [
        {**record["summary"]["participants"][0], "name": name, "mentions": [[i, i + len(name)]]}
        for name in ("Lavrov", "Jolie\u0301")
        if (i := text.index(name)) >= 0
    ]
    Record.model_validate(record)
    feed = tmp_path / "cjk.jsonl"
    feed.write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
    visit(page, make_page(feed), record["id"])
    marks = highlighted(page, "#text mark.quote")
    assert [m["text"] for m in marks] == quotes
    for m in [*marks, *highlighted(page, "#text .mention")]:
        start, end = span_of(m["span"])
        assert m["text"] == text[start:end]


@needs_browser
def test_article_text_is_shown_as_text_never_run(page: Page, tmp_path: Path, seeds: Path) -> None:
    record = copy.deepcopy(read_jsonl(seeds)[3])
    hostile = '</script><script>window.pwned = 1</script><img src=x onerror="window.pwned = 2">'
    record["article"]["text"] = hostile + "\n\n" + record["article"]["text"]
    record["article"]["title"] = hostile
    record["summary"]["quotes"] = []
    record["summary"]["participants"] = []
    feed = tmp_path / "hostile.jsonl"
    feed.write_text(json.dumps(record) + "\n", encoding="utf-8")
    report = make_page(feed)
    visit(page, report, record["id"])
    assert page.evaluate("window.pwned") is None
    assert page.inner_text("#text").startswith(hostile)
    assert page.inner_text("#article h1") == hostile


@needs_browser
def test_odd_records_render_without_script_errors(page: Page, tmp_path: Path, seeds: Path) -> None:
    good = read_jsonl(seeds)[4]
    text = good["article"]["text"]
    odd = [
        {"id": "bare", "article": {"text": "Only text."}, "summary": {}},
        {
            "id": "odd spans #%/?&=é 𝔐",
            "article": {"text": text},
            "summary": {
                "quotes": [
                    None,
                    {"text": "x", "span": [50, 10], "grounded": True},
                    {"text": "y", "span": [0, len(text) + 99], "grounded": True},
                    {"text": "z", "span": [1.5, 3], "grounded": True},
                    {"speaker": 7, "text": None, "span": None, "grounded": False},
                ],
                "participants": [{"name": "No Mentions"}, {"mentions": [[3, 1], "x"]}],
                "event": None,
            },
            "warnings": "not a list",
        },
    ]
    feed = tmp_path / "odd.jsonl"
    lines = [json.dumps(r) for r in [good, *odd]] + ['{"id": "no article", "summary": {}}', "[]"]
    feed.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = make_page(feed)
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    visit(page, report)
    assert listed(page) == [good["id"], "bare", odd[1]["id"]]
    for record in [good, *odd]:
        visit(page, report, str(record["id"]))
        assert page.inner_text("#text").replace("\n", "") == record["article"]["text"].replace(
            "\n", ""
        )
    assert len(page.query_selector_all(".error-row")) == 2  # the two lines that are no records
    assert problems == []


# --- the index --------------------------------------------------------------------------


@needs_browser
def test_filters_and_search_change_what_is_listed(page: Page, seeds: Path) -> None:
    records = read_jsonl(seeds)
    visit(page, make_page(seeds))
    assert listed(page) == [r["id"] for r in records]

    page.select_option("#f-kind", "phone_call")
    calls = [r["id"] for r in records if r["summary"]["event"]["kind"] == "phone_call"]
    assert listed(page) == calls and calls
    page.select_option("#f-kind", "")

    page.select_option("#f-country", "CHN")
    with_china = [
        r["id"] for r in records if any(p["country"] == "CHN" for p in r["summary"]["participants"])
    ]
    assert listed(page) == with_china and with_china
    page.select_option("#f-country", "")

    page.fill("#f-participant", "lavrov")
    with_lavrov = [
        r["id"]
        for r in records
        if any("lavrov" in p["name"].lower() for p in r["summary"]["participants"])
    ]
    assert listed(page) == with_lavrov and 1 < len(with_lavrov) < len(records)
    page.fill("#f-participant", "")

    page.fill("#search", "laos")
    assert listed(page) == [r["id"] for r in records if "laos" in r["article"]["title"].lower()]
    page.fill("#search", "no such words anywhere")
    assert listed(page) == []
    assert page.inner_text("#shown").startswith("0 of 5")
    page.fill("#search", "")

    page.check("#f-ungrounded")
    assert listed(page) == []  # the offline extractor only quotes what is in the text
    page.uncheck("#f-ungrounded")
    assert len(listed(page)) == len(records)


@needs_browser
def test_keyboard_moves_through_the_index_and_opens_records(page: Page, seeds: Path) -> None:
    records = read_jsonl(seeds)
    visit(page, make_page(seeds))
    page.focus("#list")
    page.keyboard.press("j")
    page.keyboard.press("j")
    assert page.get_attribute("#list .row.current", "data-id") == records[2]["id"]
    page.keyboard.press("Enter")
    page.wait_for_selector("#article-view:not([hidden])")
    assert page.inner_text("#article h1") == records[2]["article"]["title"]
    page.keyboard.press("j")
    until(page, f"document.title.startsWith({json.dumps(records[3]['article']['title'])})")
    page.keyboard.press("Escape")
    page.wait_for_selector("#index-view:not([hidden])")
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "search"


@needs_browser
def test_a_record_opens_directly_from_its_address(page: Page, seeds: Path) -> None:
    record = read_jsonl(seeds)[1]
    report = make_page(seeds)
    page.goto(f"{report.resolve().as_uri()}#{quote(record['id'])}")
    page.wait_for_selector("#article-view:not([hidden]) #text")
    assert page.inner_text("#article h1") == record["article"]["title"]


@needs_browser
def test_ungrounded_panel_lists_the_flagged_items_of_a_smollm2_feed(
    page: Page, tmp_path: Path
) -> None:
    feed = tmp_path / "smollm2.jsonl"
    done = summarise("run", str(EXAMPLES), "-o", str(feed), *REPLAY_ARGS)
    records = read_jsonl(feed)
    flagged = [r for r in records if any(not q["grounded"] for q in r["summary"]["quotes"])]
    assert flagged, done.stderr  # the weak model invents quotes: the reason for the panel
    report = make_page(feed)
    visit(page, report)
    page.check("#f-ungrounded")
    has_ungrounded = [
        r["id"]
        for r in records
        if any(not q["grounded"] for q in r["summary"]["quotes"])
        or any(not p["attested"] for p in r["summary"]["participants"])
    ]
    assert listed(page) == has_ungrounded
    for record in records:
        visit(page, report, record["id"])
        panel = "#ungrounded-panel"
        quotes = page.eval_on_selector_all(
            f"{panel} .quote-item", "es => es.map(e => +e.dataset.quote)"
        )
        names = page.eval_on_selector_all(
            f"{panel} .participant-item", "es => es.map(e => +e.dataset.participant)"
        )
        summary = record["summary"]
        assert quotes == [i for i, q in enumerate(summary["quotes"]) if not q["grounded"]]
        assert names == [i for i, p in enumerate(summary["participants"]) if not p["attested"]]


@needs_browser
def test_errors_file_rows_and_unreadable_lines_are_shown(
    page: Page, tmp_path: Path, seeds: Path
) -> None:
    feed = tmp_path / "feed.jsonl"
    feed.write_bytes(seeds.read_bytes() + b"{not json\n")
    errors = tmp_path / "feed.errors.jsonl"
    error = {
        "id": "broken",
        "source": {"path": "in/broken.html", "url": None, "sha256": "0" * 64},
        "stage": "clean",
        "error": "empty_article",
        "message": "no article text left after cleaning",
    }
    errors.write_text(json.dumps(error) + "\n", encoding="utf-8")
    result = run_cli("view", str(feed), "-o", str(tmp_path / "r.html"))
    assert result.exit_code == 0 and "1 unreadable lines" in result.stderr
    visit(page, tmp_path / "r.html")
    rows = page.eval_on_selector_all(
        ".error-row", "rs => rs.map(r => [...r.children].map(c => c.textContent))"
    )
    assert rows[0] == ["broken", "clean", "empty_article", error["message"], "in/broken.html"]
    assert rows[1][2] == "unreadable_line" and rows[1][3].endswith(
        "feed.jsonl:6: not a feed record"
    )


# --- review -----------------------------------------------------------------------------


def review_and_export(page: Page, report: Path, record: dict[str, Any]) -> list[dict[str, Any]]:
    """Accept quote 0, reject quote 1, fix quote 2's speaker, reject participant 1; export."""
    visit(page, report, record["id"])
    page.click("#quotes-panel .quote-item[data-quote='0'] button.accept")
    page.click("#quotes-panel .quote-item[data-quote='1'] button.reject")
    page.click("#quotes-panel .quote-item[data-quote='2'] button.fix-speaker")
    page.fill("#quotes-panel .quote-item[data-quote='2'] input.fix-input", "Someone Else")
    page.click("#quotes-panel .quote-item[data-quote='2'] button.fix-save")
    page.click("#participants-panel .participant-item[data-participant='1'] button.reject")
    page.reload()  # the decisions are kept in the page's storage
    browser.wait_ready(page)
    page.wait_for_selector("#article-view:not([hidden]) #text")
    assert page.inner_text("#review-count") == "4 decisions"
    with page.expect_download() as download:
        page.click("#export")
    path = download.value.path()
    assert download.value.suggested_filename == "corrections.jsonl"
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines()]


@needs_browser
def test_accept_reject_and_fix_export_the_expected_corrections(page: Page, seeds: Path) -> None:
    record = read_jsonl(seeds)[0]
    lines = review_and_export(page, make_page(seeds), record)
    quotes, participants = record["summary"]["quotes"], record["summary"]["participants"]
    common = {"id": record["id"], "sha256": record["source"]["sha256"]}
    expected = [
        {
            **common,
            "item": "participant",
            "index": 1,
            "text": participants[1]["name"],
            "verdict": "reject",
            "speaker": None,
        },
        {
            **common,
            "item": "quote",
            "index": 0,
            "text": quotes[0]["text"],
            "verdict": "accept",
            "speaker": None,
        },
        {
            **common,
            "item": "quote",
            "index": 1,
            "text": quotes[1]["text"],
            "verdict": "reject",
            "speaker": None,
        },
        {
            **common,
            "item": "quote",
            "index": 2,
            "text": quotes[2]["text"],
            "verdict": "fix",
            "speaker": "Someone Else",
        },
    ]
    assert [{k: v for k, v in line.items() if k != "reviewed_at"} for line in lines] == expected
    assert all(line["reviewed_at"].endswith("Z") for line in lines)


@needs_browser
def test_exported_corrections_apply_to_a_feed_that_validates(
    page: Page, tmp_path: Path, seeds: Path
) -> None:
    record = read_jsonl(seeds)[1]
    lines = review_and_export(page, make_page(seeds), record)
    corrections = tmp_path / "corrections.jsonl"
    corrections.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    out = tmp_path / "reviewed.jsonl"
    result = run_cli("apply", str(seeds), str(corrections), "-o", str(out))
    assert result.exit_code == 0, result.output
    validator = schema_validator("feed")
    reviewed = read_jsonl(out)
    for line in reviewed:
        validator.validate(line)
        Record.model_validate(line)
    [changed] = [r for r in reviewed if r["id"] == record["id"]]
    quotes = record["summary"]["quotes"]
    assert [q["text"] for q in changed["summary"]["quotes"]] == [
        q["text"] for i, q in enumerate(quotes) if i != 1
    ]
    assert changed["summary"]["quotes"][1]["speaker"] == "Someone Else"
    assert changed["provenance"]["review"]["rejected_quotes"][0]["text"] == quotes[1]["text"]
    assert [p["name"] for p in changed["provenance"]["review"]["rejected_participants"]] == [
        record["summary"]["participants"][1]["name"]
    ]


@needs_browser
def test_a_second_click_takes_a_decision_back(page: Page, seeds: Path) -> None:
    record = read_jsonl(seeds)[2]
    visit(page, make_page(seeds), record["id"])
    accept = "#quotes-panel .quote-item[data-quote='0'] button.accept"
    page.click(accept)
    assert page.inner_text("#review-count") == "1 decision"
    page.click(accept)
    assert page.inner_text("#review-count") == ""


@needs_browser
def test_screenshots_of_the_index_and_an_article(tmp_path: Path, seeds: Path) -> None:
    done = summarise(
        "view", str(seeds), "-o", str(tmp_path / "r.html"), "--screenshot", str(tmp_path)
    )
    assert done.returncode == 0, done.stderr
    for name in ("view-index.png", "view-article.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
