"""Every route of the portal, as the URL resolver has it: path pattern, name, the view and its methods.

The access matrix (``test_matrix``) and the route inventory (``test_inventory``) both start from
:func:`all_routes`, so a route added to any ``urls.py`` is in both at once.
"""

from __future__ import annotations

import dataclasses
import re

from django.urls import URLPattern, URLResolver, get_resolver

HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


@dataclasses.dataclass(frozen=True)
class Route:
    name: str  # "namespace:name", or the path itself for unnamed routes (the admin's catch-all)
    path: str  # the pattern as written: "me/changes/<int:pk>/"
    view: str  # module.qualname
    methods: tuple[str, ...]  # the methods the view declares; () when it does not say (all reach it)
    params: tuple[str, ...]  # the path converters' names, in order

    @property
    def api(self) -> bool:
        return self.path.startswith("api/")

    @property
    def admin(self) -> bool:
        return self.path.startswith("manage/")


def _walk(resolver, prefix="", namespace=""):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), f"{namespace}{entry.name}" if entry.name else "", entry


def declared_methods(callback) -> tuple[str, ...]:
    """The HTTP methods a view says it takes: DRF's handlers, or Django's ``require_http_methods`` list
    found in the decorator closures (``require_GET``/``require_POST`` are that decorator)."""
    cls = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    if cls is not None:
        names = [m.upper() for m in cls.http_method_names if m not in ("options", "head", "trace")]
        return tuple(m for m in HTTP_METHODS if m in names and hasattr(cls, m.lower()))
    func = callback
    while func is not None:
        code, cells = func.__code__, func.__closure__ or ()
        for var, cell in zip(code.co_freevars, cells, strict=False):
            if var == "request_method_list":
                return tuple(m for m in HTTP_METHODS if m in cell.cell_contents)
        func = getattr(func, "__wrapped__", None)
    return ()


def all_routes() -> list[Route]:
    routes = []
    for path, name, pattern in _walk(get_resolver()):
        callback = pattern.callback
        view = f"{callback.__module__}.{getattr(callback, '__qualname__', callback.__class__.__name__)}"
        params = tuple(re.findall(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>", path) and
                       [a or b for a, b in re.findall(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>", path)])
        routes.append(Route(name=name or path, path=path, view=view, methods=declared_methods(callback),
                            params=params))
    return routes
