"""Render a skew report (the JSON-able dict of schema version 1): one module per format.

`render_text` (`text`: terminal table), `render_markdown` (`markdown`), `render_html`
(`html`: the page, with `svg` charts built by the `markup` builder); `common` holds what
they share. The renderers only read the report; they never recompute a verdict, and each
escapes user strings for its own medium.

Example:
    >>> report = {"passed": True, "features": []}
    >>> render_text(report, color=False).splitlines()[-1]
    'PASSED: 0 error, 0 warn, 0 ok, 0 insufficient_data (0 features); 0 schema problems'
"""

from tskew.skew.render.common import format_value
from tskew.skew.render.html import feature_id, render_html
from tskew.skew.render.markdown import render_markdown
from tskew.skew.render.text import render_text

__all__ = ["feature_id", "format_value", "render_html", "render_markdown", "render_text"]
