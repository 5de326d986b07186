from __future__ import annotations

from django import template

from console.tables import TablePage

register = template.Library()


@register.simple_tag
def sort_url(table: TablePage, field: str) -> str:
    return table.sort_url(field)


@register.simple_tag
def sort_state(table: TablePage, field: str) -> str:
    return table.sort_state(field)


@register.simple_tag
def page_url(table: TablePage, page: int) -> str:
    return table.url(page=page)


@register.filter
def split_commas(value: str) -> list[str]:
    return [part.strip() for part in value.split(",")]


@register.filter
def seconds_hms(seconds: int) -> str:
    hours, rest = divmod(int(seconds), 3600)
    minutes = rest // 60
    return f"{hours}h {minutes:02d}m" if hours else f"{minutes}m"
