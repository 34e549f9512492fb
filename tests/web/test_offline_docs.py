"""/docs and GraphiQL work in a network without a way out: in Chromium, with every other
host blocked (``web_page`` records and aborts such requests), they render, and no request is
made to another host. /redoc takes its bundle from the platform too; its page's policy keeps
the bundle's one image from another host (its maker's logo) from being asked for."""

from __future__ import annotations

import httpx

from tests.web.conftest import Pages, Served


def _no_other_host(pages: Pages) -> None:
    assert pages.blocked == [], f"requests to other hosts: {pages.blocked}"


def test_swagger_ui_renders_its_operations_without_another_host(web_page: Pages) -> None:
    web_page.goto("/docs")
    # Swagger UI needs seconds for the platform's 1.2 MB document (more on a busy machine).
    tags = web_page.page.locator(".opblock-tag")
    tags.first.wait_for(timeout=60_000)
    assert tags.count() > 10
    web_page.page.locator(".opblock-tag", has_text="case management: cases").first.click()
    web_page.page.locator(".opblock").first.wait_for(timeout=10_000)
    paths = web_page.page.locator(".opblock-summary-path").all_inner_texts()
    assert any(path.startswith("/case_management/tenants/") for path in paths)
    web_page.page.screenshot(path=str(web_page.shots / "offline-docs-swagger.png"))
    _no_other_host(web_page)


def test_graphiql_renders_its_editor_without_another_host(web_page: Pages) -> None:
    web_page.page.goto(web_page.base + "/graphql", wait_until="networkidle")
    editor = web_page.page.locator(".graphiql-query-editor .CodeMirror")
    editor.wait_for(timeout=15_000)
    assert "Welcome to GraphiQL" in editor.inner_text()
    assert web_page.page.locator(".graphiql-execute-button").count() == 1
    web_page.page.screenshot(path=str(web_page.shots / "offline-docs-graphiql.png"))
    _no_other_host(web_page)


def test_the_docs_pages_name_no_other_host_and_serve_their_assets(web_server: Served) -> None:
    base = web_server.base
    for path in ("/docs", "/redoc", "/graphql"):
        html = httpx.get(f"{base}{path}", headers={"Accept": "text/html"}).text
        for cdn in ("unpkg.com", "cdn.jsdelivr.net", "fonts.googleapis.com"):
            assert cdn not in html, (path, cdn)
    redoc = httpx.get(f"{base}/redoc")
    assert redoc.headers["content-security-policy"] == "img-src 'self' data:"
    asset = httpx.get(f"{base}/graphql/ide/graphiql.min.js")
    assert asset.status_code == 200
    assert asset.headers["content-type"].startswith("text/javascript")
    assert httpx.get(f"{base}/static-offline-docs/swagger-ui-bundle.js").status_code == 200
    missing = httpx.get(f"{base}/graphql/ide/..%2Fgraphiql.html")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
