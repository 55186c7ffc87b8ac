"""Skew report rendering: terminal text, Markdown, offline HTML (also in headless Chromium)."""

from __future__ import annotations

import copy
import io
import re
import shutil
import subprocess
from html.parser import HTMLParser

import pytest

from tskew.skew.render import feature_id, render_html, render_markdown, render_text
from tskew.skew.render.markup import Element, Trusted, el, empty

HOSTILE = "<b>x&y</b>"
QUOTES = "he said \"hi\" & 'bye'"
ACCENTED = "température 東京"
ANSI_RE = re.compile(r"\x1b\[[0-9;]*m")


def _metric(name, value, warn, error, verdict, detail=""):
    return {
        "name": name,
        "value": value,
        "warn": warn,
        "error": error,
        "verdict": verdict,
        "detail": detail,
    }


def _numeric(name, verdict, metrics):
    return {
        "name": name,
        "role": "input",
        "kind": "numeric",
        "dtype": "float64",
        "verdict": verdict,
        "training_rows": 170000,
        "serving_rows": 1000000,
        "metrics": metrics,
        "histogram": {
            "edges": [0, 10, 20, 30, 40],
            "training": [0.1, 0.12, 0.5, 0.28],
            "serving": [0.05, 0.31, 0.4, 0.21],
            "below": {"training": 0.0, "serving": 0.01},
            "above": {"training": 0.0, "serving": 0.02},
        },
    }


def make_report() -> dict:
    """A report in schema version 1 with hostile names, an empty category and non-ASCII."""
    company = {
        "name": "company",
        "role": "input",
        "kind": "categorical",
        "dtype": "string",
        "verdict": "warn",
        "training_rows": 170000,
        "serving_rows": 1000000,
        "metrics": [
            _metric("linf_distance", 0.07, 0.05, 0.1, "warn", "category 'Flash Cab'"),
            _metric("unseen_share", 0.001, 0.01, 0.05, "ok"),
        ],
        "categories": {
            "values": ["Flash Cab", "", HOSTILE, "Café Zürich 東京", "a|b"],
            "training": [0.2, 0.15, 0.1, 0.1, 0.15],
            "serving": [0.25, 0.1, 0.12, 0.05, 0.2],
            "other": {"training": 0.3, "serving": 0.28},
        },
    }
    return {
        "schema_version": 1,
        "tool": "tskew",
        "generated_at": "2026-11-28T17:30:00Z",
        "artifact": "artifacts/flights",
        "serving": "logs/2016-*.jsonl (3 files)",
        "passed": False,
        "rows": {"training": 170000, "serving": 1000000, "bad_records": 12},
        "bad_record_examples": [
            {"source": "logs/a.jsonl:17", "reason": "feature 'fare': 'x' is not a valid float64"},
            {"source": "logs/<b>.jsonl:3", "reason": "unparseable JSON & <garbage>"},
        ],
        "schema": {
            "missing_features": ["tips"],
            "unexpected_features": ["debug_id", ""],
            "dtype_violations": {"fare": 3},
        },
        "features": [
            _numeric(
                "fare",
                "error",
                [
                    _metric(
                        "jensen_shannon_divergence",
                        0.21,
                        0.05,
                        0.1,
                        "error",
                        "worst bin [10, 20): 31.0% serving vs 12.0% training",
                    ),
                    _metric("psi", 0.4, 0.1, 0.25, "error"),
                    _metric("missing_rate_change", 0.0, 0.02, 0.05, "ok"),
                ],
            ),
            company,
            _numeric(HOSTILE, "ok", [_metric("psi", float("nan"), None, None, "ok")]),
            _numeric(ACCENTED, "ok", [_metric("ks_statistic", None, 0.1, None, "ok")]),
            {**_numeric(QUOTES, "ok", [_metric("psi", 0.01, 0.1, 0.25, "ok")]), "role": "output"},
            {
                "name": "tips",
                "role": "input",
                "kind": "numeric",
                "dtype": "float64",
                "verdict": "insufficient_data",
                "training_rows": 170000,
                "serving_rows": 7,
                "metrics": [],
            },
        ],
    }


def _metric_lines() -> int:
    return sum(len(f["metrics"]) or 1 for f in make_report()["features"])


# --------------------------------------------------------------------------- text


def test_text_without_color_has_every_metric_line_header_and_status():
    report = make_report()
    text = render_text(report, color=False)
    assert "\x1b" not in text
    lines = text.splitlines()
    assert lines[0] == "tskew skew report: artifacts/flights vs logs/2016-*.jsonl (3 files)"
    assert "bad records 12" in lines[1]
    assert "schema problems: 4" in lines[1]
    assert "missing from serving: tips" in lines[1]
    assert 'unexpected in serving: debug_id, ""' in lines[1]
    assert "dtype violations: fare (3)" in lines[1]
    assert lines[-1].startswith("FAILED: 1 error, 1 warn, 3 ok, 1 insufficient_data (6 features)")
    header = next(i for i, line in enumerate(lines) if line.startswith("feature"))
    table = lines[header + 2 : header + 2 + _metric_lines()]
    assert lines[header + 2 + len(table)] == ""
    assert sum("jensen_shannon_divergence" in line for line in table) == 1
    for name in ("fare", "company", HOSTILE, ACCENTED, f"{QUOTES} (output)", "tips"):
        assert sum(line.startswith(name + " ") for line in table) == 1, name
    tips = next(line for line in table if line.startswith("tips"))
    assert "insufficient_data" in tips and "only 7 serving rows" in tips


def test_text_columns_are_aligned_in_display_width():
    lines = render_text(make_report(), color=False).splitlines()
    header = next(line for line in lines if line.startswith("feature"))
    column = header.index("verdict")
    start = lines.index(header) + 2
    for line in lines[start : start + _metric_lines()]:
        # 東京 takes two terminal columns per character: add one per wide character.
        wide = sum(1 for ch in line[:column] if ch in "東京")
        verdict = line[column - wide :].split()[0]
        assert verdict in {"ok", "warn", "error", "insufficient_data"}, line


def test_text_nan_and_null_values_and_thresholds():
    text = render_text(make_report(), color=False)
    hostile = next(line for line in text.splitlines() if line.startswith(HOSTILE))
    assert hostile.split()[1:4] == ["psi", "n/a", "-"]
    accented = next(line for line in text.splitlines() if line.startswith("température"))
    assert "n/a" in accented and "warn 0.1" in accented and "error" not in accented


def test_text_with_color_paints_verdicts_and_strips_to_plain():
    report = make_report()
    colored = render_text(report, color=True)
    assert "\x1b[31merror" in colored
    assert "\x1b[33mwarn" in colored
    assert "\x1b[32mok" in colored
    assert "\x1b[2minsufficient_data" in colored
    assert "FAILED" in colored.splitlines()[-1] and "\x1b[31m" in colored.splitlines()[-1]
    assert ANSI_RE.sub("", colored) == render_text(report, color=False)


def test_text_color_none_follows_the_tty(monkeypatch):
    class Tty(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setattr("sys.stdout", io.StringIO())
    assert "\x1b[" not in render_text(make_report())
    monkeypatch.setattr("sys.stdout", Tty())
    assert "\x1b[31m" in render_text(make_report())
    monkeypatch.setenv("NO_COLOR", "1")
    assert "\x1b[" not in render_text(make_report())


def test_text_passed_and_control_characters_cannot_reach_the_terminal():
    report = make_report()
    report["passed"] = True
    report["features"][0]["name"] = "evil\x1b[2Jname\n\u202e"
    text = render_text(report, color=False)
    assert text.splitlines()[-1].startswith("PASSED")
    assert "\x1b" not in text and "\u202e" not in text
    assert "evil\\x1b[2Jname\\n\\u202e" in text


def test_text_of_a_minimal_report_does_not_crash():
    text = render_text({"features": []}, color=False)
    assert text.splitlines()[-1].startswith("PASSED: 0 error")


# --------------------------------------------------------------------------- Markdown


def _md_cells(line: str) -> list[str]:
    return re.split(r"(?<!\\)\|", line.strip())[1:-1]


def test_markdown_table_has_a_row_per_metric_and_six_columns():
    md = render_markdown(make_report())
    assert md.startswith("# tskew skew report: FAILED\n")
    lines = md.splitlines()
    start = lines.index("| feature | metric | value | threshold | verdict | worst |")
    rows = lines[start + 2 : start + 2 + _metric_lines()]
    assert all(len(_md_cells(line)) == 6 for line in rows)
    assert lines[start + 2 + len(rows)] == ""
    assert "**error**" in rows[0] and "jensen" in rows[0]
    assert "## Bad records (12)" in md
    assert "bad records 12" in md
    assert lines[-1].startswith("**FAILED")


def test_markdown_escapes_html_and_table_syntax():
    md = render_markdown(make_report())
    assert HOSTILE not in md and "<b>" not in md and "<garbage>" not in md
    assert r"\<b\>x\&y\</b\>" in md
    assert r"\[10, 20)" in md


# --------------------------------------------------------------------------- HTML


class PageParser(HTMLParser):
    """Collects tags, attributes, section ids, heading text and svgs per section."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.sections: dict[str, dict] = {}
        self._section: str | None = None
        self._in_h2 = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if tag == "section":
            self._section = attributes.get("id")
            self.sections[self._section] = {"heading": "", "svg": 0, "rect": 0}
        if self._section is None:
            return
        if tag == "h2":
            self._in_h2 = True
        current = self.sections[self._section]
        if tag in ("svg", "rect"):
            current[tag] += 1

    def handle_endtag(self, tag):
        if tag == "h2":
            self._in_h2 = False
        if tag == "section" and self._section is not None:
            self._section = None

    def handle_data(self, data):
        if self._section is not None and self._in_h2:
            self.sections[self._section]["heading"] += data


def parse(page: str) -> PageParser:
    parser = PageParser()
    parser.feed(page)
    parser.close()
    return parser


def _expected_heading(feature: dict) -> str:
    return feature["name"] or "(empty string)"


def _check_sections(parser: PageParser, report: dict) -> None:
    features = report["features"]
    assert len(parser.sections) == len(features)
    for feature in features:
        fid = feature_id(feature["name"])
        assert fid in parser.sections, fid
        section = parser.sections[fid]
        assert section["heading"].startswith(_expected_heading(feature)), section
        assert feature["verdict"] in section["heading"]
        assert section["svg"] == 1, fid
        if feature["metrics"]:
            assert section["rect"] > 4, fid  # the legend's two squares plus bars


def test_html_is_offline_and_self_contained():
    parser = parse(render_html(make_report()))
    tags = [tag for tag, _ in parser.tags]
    assert "script" not in tags and "link" not in tags
    assert "iframe" not in tags and "img" not in tags and "object" not in tags
    for tag, attrs in parser.tags:
        for key in ("src", "href", "xlink:href", "action", "srcset"):
            value = attrs.get(key)
            if value is None:
                continue
            assert key == "href" and value.startswith("#"), (tag, key, value)
        style = attrs.get("style") or ""
        assert "url(" not in style
    page = render_html(make_report())
    assert "@import" not in page and "url(" not in page
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in page
    assert "default-src 'none'" in page


def test_html_has_a_section_heading_and_svg_per_feature():
    report = make_report()
    parser = parse(render_html(report))
    _check_sections(parser, report)
    assert parser.sections["feature-fare"]
    ids = [attrs.get("id") for _, attrs in parser.tags if attrs.get("id")]
    assert len(ids) == len(set(ids))
    links = {attrs["href"][1:] for tag, attrs in parser.tags if tag == "a"}
    assert links == {feature_id(f["name"]) for f in report["features"]}


def test_html_escapes_every_user_string():
    page = render_html(make_report())
    assert HOSTILE not in page and "<garbage>" not in page and "logs/<b>" not in page
    assert "&lt;b&gt;x&amp;y&lt;/b&gt;" in page
    assert "he said &quot;hi&quot; &amp; &#x27;bye&#x27;" in page
    assert "température 東京" in page and "Café Zürich 東京" in page
    assert "(empty string)" in page  # the empty category and the empty unexpected feature


def test_html_charts_hold_histogram_and_category_bars():
    parser = parse(render_html(make_report()))
    fare = parser.sections["feature-fare"]
    # 4 bins + below + above, two bars each, two legend squares.
    assert fare["rect"] == 6 * 2 + 2
    company = parser.sections["feature-company"]
    # 5 categories + other, two bars each, two legend squares.
    assert company["rect"] == 6 * 2 + 2
    assert parser.sections["feature-tips"]["rect"] == 1  # the placeholder frame


def test_html_folds_categories_past_the_top_into_other_and_dedupes_ids():
    report = make_report()
    cats = report["features"][1]["categories"]
    cats["values"] = [f"c{i}" for i in range(40)]
    cats["training"] = cats["serving"] = [0.01] * 40
    report["features"].append(copy.deepcopy(report["features"][0]))
    page = render_html(report)
    parser = parse(page)
    assert parser.sections["feature-company"]["rect"] == 16 * 2 + 2
    assert "feature-fare-2" in parser.sections
    assert "c14" in page and "c15<" not in page


def test_html_escapes_tiny_shares_in_chart_text():
    # "<0.1%" once reached the SVG unescaped (a stray "<" in the markup)
    report = make_report()
    cats = report["features"][1]["categories"]
    cats["training"][0] = 0.0004
    page = render_html(report)
    assert "&lt;0.1% → " in page and "<0.1%" not in page
    parse(page)  # still well-formed enough to parse


def test_markup_builder_escapes_text_and_attributes_and_refuses_bad_names():
    node = el("g", {"data-x": '"><script>'}, "<script>&", empty("rect", {"x": 1.5}))
    assert node.render() == (
        '<g data-x="&quot;&gt;&lt;script&gt;">&lt;script&gt;&amp;<rect x="1.5"/></g>'
    )
    assert el("style", {}, Trusted("a>b")).render() == "<style>a>b</style>"
    for tag, attrs in (("a onload=x", {}), ("a", {'x" onload="y': "1"})):
        with pytest.raises(ValueError, match="not a tag or attribute name"):
            el(tag, attrs)
    with pytest.raises(ValueError, match="no children"):
        Element("rect", {}, ("text",), "self")
    with pytest.raises(TypeError, match="not markup"):
        el("p", {}, 3).render()  # type: ignore[arg-type]


def test_html_of_a_minimal_report_does_not_crash():
    parser = parse(render_html({}))
    assert parser.sections == {}


# --------------------------------------------------------------------------- browser


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(
    _chromium() is None,
    reason="headless Chromium not installed (Debian: apt-get install -y chromium)",
)
def test_html_renders_every_feature_in_headless_chromium(tmp_path):
    report = make_report()
    page = tmp_path / "report.html"
    page.write_text(render_html(report), encoding="utf-8")
    command = [
        _chromium(),
        "--headless",
        "--disable-gpu",
        "--no-sandbox",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--dump-dom",
        page.as_uri(),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    dom = parse(done.stdout)
    _check_sections(dom, report)
    # The browser kept the text as text: the hostile name did not become markup.
    assert not any(tag == "b" for tag, _ in dom.tags)
    assert "température 東京" in done.stdout
