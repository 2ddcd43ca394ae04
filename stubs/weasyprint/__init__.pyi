from typing import Any

from weasyprint.urls import URLFetcher

class CSS:
    def __init__(
        self, *, string: str | None = ..., url_fetcher: URLFetcher | None = ...
    ) -> None: ...

class HTML:
    def __init__(
        self,
        *,
        string: str | None = ...,
        base_url: str | None = ...,
        url_fetcher: URLFetcher | None = ...,
    ) -> None: ...
    def write_pdf(
        self, target: None = ..., *, stylesheets: list[CSS] | None = ..., **options: Any
    ) -> bytes: ...
