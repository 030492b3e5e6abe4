"""The paging styles vendors use. Each generator yields one page at a time with the token that fetches
the next, so a sync can store its position after each page and resume from it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .client import ApiClient


def by_next_url(
    client: ApiClient, first: str, *, items: str, next_url: str, done: str | None = None, **kwargs: Any
) -> Iterator[tuple[list[dict[str, Any]], dict[str, Any]]]:
    """Next-URL paging (Salesforce `nextRecordsUrl`, Zendesk `next_page` / `after_url`)."""
    url: str | None = first
    while url:
        body = client.get_json(url, **kwargs)
        kwargs.pop("params", None)  # the next URL carries its own query
        yield body.get(items) or [], body
        if done and body.get(done):
            return
        following = body.get(next_url)
        if following == url:
            return  # a page naming itself as the next would be read for ever: nothing more to gain
        url = following


def by_keyset(
    client: ApiClient, path: str, *, params: dict[str, Any], starting_after: str | None = None
) -> Iterator[tuple[list[dict[str, Any]], dict[str, Any]]]:
    """ID keyset paging (Stripe's `starting_after` with `has_more`)."""
    while True:
        query = dict(params)
        if starting_after:
            query["starting_after"] = starting_after
        body = client.get_json(path, params=query)
        data = body.get("data") or []
        yield data, body
        if not body.get("has_more") or not data:
            return
        starting_after = data[-1]["id"]


def by_offset(
    client: ApiClient, method: str, path: str, *, limit: int, offset: int = 0, **kwargs: Any
) -> Iterator[tuple[list[dict[str, Any]], dict[str, Any]]]:
    """Offset paging with `hasMore` (NetSuite SuiteQL and record collections)."""
    while True:
        body = client.request(method, path, params={"limit": limit, "offset": offset}, **kwargs).json()
        data = body.get("items") or []
        yield data, body
        if not body.get("hasMore") or not data:
            return
        offset += len(data)
