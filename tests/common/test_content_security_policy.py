"""A strict Content-Security-Policy, templates that need nothing inline, and API docs that
load Swagger UI from this site only when enabled."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_DIRS = ["scheduling/templates", "referrals/templates", "notifications/templates"]
# What a CSP without 'unsafe-inline' refuses in a served page.
INLINE = {
    "inline script": re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/(?:ld\+)?json)[^>]*>"),
    "event handler attribute": re.compile(r"\son[a-z]+\s*=", re.I),
    "style attribute": re.compile(r"\sstyle\s*=", re.I),
    "style element": re.compile(r"<style\b", re.I),
    "javascript: URL": re.compile(r"javascript:", re.I),
}


def served_templates() -> list[Path]:
    """Every HTML template a browser renders (email bodies, under messages/, are not)."""
    found = []
    for folder in TEMPLATE_DIRS:
        for path in (ROOT / folder).rglob("*.html"):
            if "messages" not in path.relative_to(ROOT / folder).parts:
                found.append(path)
    return sorted(found)


def test_pages_carry_a_strict_policy():
    policy = Client().get("/")["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
    assert "unsafe" not in policy


@pytest.mark.parametrize("template", served_templates(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_served_template_needs_anything_inline(template: Path):
    text = template.read_text(encoding="utf-8")
    found = [name for name, pattern in INLINE.items() if pattern.search(text)]
    assert not found, f"{template.relative_to(ROOT)}: {', '.join(found)}"


@pytest.mark.parametrize("path", ["/api/docs/", "/api/schema/"])
def test_api_docs_are_off_unless_enabled(settings, path):
    settings.API_DOCS_ENABLED = False
    response = Client().get(path)
    assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_enabled_docs_load_swagger_ui_from_this_site_without_inline_script(settings):
    settings.API_DOCS_ENABLED = True
    page = Client().get("/api/docs/")
    assert page.status_code == 200
    sources = re.findall(r'<(?:script|link)[^>]*(?:src|href)="([^"]+)"', page.text)
    assert sources and all(s.startswith("/") and not s.startswith("//") for s in sources)
    assert any("drf_spectacular_sidecar/swagger-ui-dist" in s for s in sources)
    assert not INLINE["inline script"].search(page.text)
    assert not INLINE["style element"].search(page.text)
    script = Client().get("/api/docs/?script=")
    assert script.status_code == 200 and "SwaggerUIBundle" in script.text
