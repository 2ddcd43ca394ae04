"""Crawl what a signed-in role can reach: every GET route the table allows, then the links on
those pages, bounded so a crawl always ends."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import Flask
from flask.testing import FlaskClient

from campus.models import Role
from tests.security.routes import ACCESS
from tests.security.routes import PUBLIC
from tests.security.routes import url_for_rule

MAX_PAGES = 150
_HREF = re.compile(r'href="(/[^"#]*)"')
_SKIP = ("/static/", "/logout", "/language/")


@dataclass(frozen=True)
class Page:
    url: str
    status: int
    content_type: str
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


def start_urls(app: Flask, role: Role, ids: dict[str, int]) -> list[str]:
    urls = []
    for rule in app.url_map.iter_rules():
        allowed = ACCESS.get(rule.endpoint, frozenset())
        if "GET" in rule.methods and allowed != PUBLIC and role in allowed:
            urls.append(url_for_rule(rule, ids))
    return sorted(urls)


def crawl(client: FlaskClient, start: list[str], suffix: str = "") -> Iterator[Page]:
    """Every page reachable from `start` by GET (at most MAX_PAGES), each with `suffix` added
    to its query string."""
    seen: set[str] = set()
    queue = list(start)
    while queue and len(seen) < MAX_PAGES:
        url = queue.pop(0).replace("&amp;", "&")
        if url in seen or url.startswith(_SKIP):
            continue
        seen.add(url)
        joiner = "&" if "?" in url else "?"
        response = client.get(url + (joiner + suffix if suffix else ""))
        page = Page(url, response.status_code, response.content_type or "", response.data)
        yield page
        if page.content_type.startswith("text/html"):
            queue.extend(h for h in _HREF.findall(page.text) if urlsplit(h).path not in seen)
