"""Server-side text filter, sort and pagination for console tables (the Cloudscape table's toolbar)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from django.db.models import Q, QuerySet
from django.http import HttpRequest

PAGE_SIZES = (10, 25, 50, 100)


@dataclass
class TablePage:
    rows: list
    total: int
    page: int
    pages: int
    page_size: int
    query: str
    sort: str
    base_params: dict[str, str]

    def url(self, **changes: object) -> str:
        params = {**self.base_params, "q": self.query, "sort": self.sort, "page": self.page, "size": self.page_size}
        params.update(changes)
        return "?" + urlencode({k: v for k, v in params.items() if v not in ("", None)})

    def sort_url(self, field: str) -> str:
        return self.url(sort=f"-{field}" if self.sort == field else field, page=1)

    def sort_state(self, field: str) -> str:
        if self.sort == field:
            return "ascending"
        if self.sort == f"-{field}":
            return "descending"
        return "none"

    @property
    def page_numbers(self) -> Sequence[int]:
        first = max(1, min(self.page - 3, self.pages - 6))
        return range(first, min(self.pages, first + 6) + 1)

    @property
    def prev_url(self) -> str | None:
        return self.url(page=self.page - 1) if self.page > 1 else None

    @property
    def next_url(self) -> str | None:
        return self.url(page=self.page + 1) if self.page < self.pages else None


def paginate(
    request: HttpRequest,
    queryset: QuerySet,
    *,
    search: Sequence[str],
    sorts: dict[str, str],
    default_sort: str,
    default_size: int = 25,
    base_params: dict[str, str] | None = None,
) -> TablePage:
    """Filter ``queryset`` by ``?q=`` over ``search`` fields, order by an allowed ``?sort=`` key, slice a page.

    Runs two queries (count and page) whatever the table's size or the page's depth.
    """
    query = request.GET.get("q", "").strip()[:200]
    if query:
        condition = Q()
        for field in search:
            condition |= Q(**{f"{field}__icontains": query})
        queryset = queryset.filter(condition)
    sort = request.GET.get("sort", default_sort)
    key = sort.lstrip("-")
    if key not in sorts:
        sort, key = default_sort, default_sort.lstrip("-")
    order = sorts[key]
    # Descending reverses the tie-break too, so one index on (account, column, id) serves both directions.
    descending = sort.startswith("-")
    queryset = queryset.order_by(f"-{order}" if descending else order, "-pk" if descending else "pk")
    try:
        size = int(request.GET.get("size", default_size))
    except ValueError:
        size = default_size
    size = size if size in PAGE_SIZES else default_size
    total = queryset.count()
    pages = max(1, -(-total // size))
    try:
        page = min(max(1, int(request.GET.get("page", 1))), pages)
    except ValueError:
        page = 1
    start = (page - 1) * size
    # A deep page: its rows' keys are chosen first by a narrow subquery (the OFFSET then skips keys, not rows joined
    # and annotated), and only those rows are joined and annotated; same rows, same order, one query.
    rows = list(queryset.filter(pk__in=queryset.values("pk")[start : start + size]) if start else queryset[:size])
    return TablePage(rows, total, page, pages, size, query, sort, base_params or {})
