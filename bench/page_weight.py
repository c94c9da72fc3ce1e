"""Page weight: bytes and requests of the door page and the report page in headless Chromium."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import CDPSession, Page, sync_playwright

from bench.databases import fresh_database
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.serving import PROJECT_ROOT, gunicorn

SCREENSHOTS = PROJECT_ROOT / "test-artifacts" / "bench"
# The demo accounts `flask demo` creates, and the page each one works on.
PAGES = (
    ("door", "pintu-demo-1", "/"),
    ("manager", "manajer-demo", "/manage/reports"),
)


@dataclass(frozen=True)
class Weight:
    """What one page load fetched, as Chromium's network layer counted it."""

    path: str
    cache: str
    status: int
    responses: int
    from_cache: int
    not_modified: int
    wire_bytes: int
    by_type: dict[str, int]


def load(page: Page, cdp: CDPSession, path: str, base_url: str, cache: str) -> Weight:
    """Load ``path`` until the network is idle; count its responses and the bytes received.

    ``data:`` URIs inside the stylesheets are left out: they travel inside the CSS.
    """
    responses: dict[str, dict] = {}
    served_from_cache: set[str] = set()
    wire_bytes: dict[str, int] = {}

    def on_response(event: dict) -> None:
        if not event["response"]["url"].startswith("data:"):
            responses[event["requestId"]] = event["response"] | {"type": event["type"].lower()}

    def on_cache_hit(event: dict) -> None:
        served_from_cache.add(event["requestId"])

    def on_finished(event: dict) -> None:
        wire_bytes[event["requestId"]] = event["encodedDataLength"]

    handlers = {
        "Network.responseReceived": on_response,
        "Network.requestServedFromCache": on_cache_hit,
        "Network.loadingFinished": on_finished,
    }
    for event, handler in handlers.items():
        cdp.on(event, handler)
    response = page.goto(base_url + path, wait_until="networkidle")
    for event, handler in handlers.items():
        cdp.remove_listener(event, handler)
    by_type: dict[str, int] = {}
    for item in responses.values():
        by_type[item["type"]] = by_type.get(item["type"], 0) + 1
    return Weight(
        path=path,
        cache=cache,
        status=response.status,
        responses=len(responses),
        from_cache=len(served_from_cache & responses.keys()),
        not_modified=sum(1 for item in responses.values() if item["status"] == 304),
        wire_bytes=sum(wire_bytes.get(request_id, 0) for request_id in responses),
        by_type=by_type,
    )


def weigh(base_url: str) -> list[Weight]:
    """Log in as each demo account and weigh its page with the cache off, then warm."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    weights = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for username, password, path in PAGES:
            context = browser.new_context(viewport={"width": 1280, "height": 800})
            page = context.new_page()
            page.goto(base_url + "/login")
            page.fill("input[name=username]", username)
            page.fill("input[name=password]", password)
            with page.expect_navigation():
                page.press("input[name=password]", "Enter")
            cdp = context.new_cdp_session(page)
            cdp.send("Network.enable")
            cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
            weights.append(load(page, cdp, path, base_url, "cold"))
            page.screenshot(path=SCREENSHOTS / f"{username}-page.png", full_page=True)
            cdp.send("Network.setCacheDisabled", {"cacheDisabled": False})
            load(page, cdp, path, base_url, "priming")
            weights.append(load(page, cdp, path, base_url, "warm"))
            context.close()
        browser.close()
    return weights


def run() -> list[Weight]:
    """Serve the demo site from a fresh database with 2 workers and weigh its pages."""
    with fresh_database("sqlite", "checkin_bench_pages") as url:
        env = {"CHECKIN_DATABASE_URL": url, "CHECKIN_SECRET_KEY": "bench-pages"}
        subprocess.run(
            [sys.executable, "-m", "flask", "--app", "checkin", "demo"],
            cwd=PROJECT_ROOT,
            env=os.environ | env,
            check=True,
            capture_output=True,
        )
        with gunicorn("wsgi:app", env, workers=2) as server:
            return weigh(f"http://127.0.0.1:{server.port}")


def table(weights: list[Weight]) -> str:
    """Return a Markdown table of the page weights."""
    lines = [
        "| page | cache | status | responses | from cache | 304 | bytes received | by type |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for weight in weights:
        types = ", ".join(f"{kind} {count}" for kind, count in sorted(weight.by_type.items()))
        lines.append(
            f"| {weight.path} | {weight.cache} | {weight.status} | {weight.responses} "
            f"| {weight.from_cache} | {weight.not_modified} | {weight.wire_bytes:,} | {types} |"
        )
    return "\n".join(lines)


def screenshot_paths() -> list[Path]:
    """Return where the page screenshots were saved."""
    return sorted(SCREENSHOTS.glob("*-page.png"))
