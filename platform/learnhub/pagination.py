"""Lists that can grow are read a page at a time with Flask-SQLAlchemy's `db.paginate`; pages
show its result with the `pager` macro (templates/_macros/pagination.html), plain links that keep
the list's filters."""

from __future__ import annotations

from flask import has_request_context, request
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select

from .extensions import db

#: The highest page a link may ask for: it keeps the offset well inside a 64-bit integer, which
#: both databases refuse past (a larger page answered 500).
LAST_PAGE = 1_000_000


def requested_page(name: str = "page") -> int:
    """The `page` query argument (`name` on a page with two lists); 1 when it is missing, not
    a number, out of range, or there is no request (an email rendering a list)."""
    page = request.args.get(name, 1, type=int) if has_request_context() else 1
    return page if 1 <= page <= LAST_PAGE else 1


def page_of(statement: Select, page: int, per_page: int) -> Pagination:
    """One page of `statement`'s rows and their total (two queries). A page past the end (the
    list shrank under a bookmark, or a decision moved people out of a filter) shows the last."""
    found = db.paginate(statement, page=page, per_page=per_page, error_out=False)
    if not found.items and found.page > 1 and found.pages:
        found = db.paginate(statement, page=found.pages, per_page=per_page, error_out=False)
    return found
