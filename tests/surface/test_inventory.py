"""The route inventory: every route of every urls.py is classified for the access matrix (R-ACL-1).

A new page, endpoint, download or admin model fails here until it has a line in
:data:`tests.surface.doors.DOORS` (who may pass its door, which object its path names) or, in the
admin, in :data:`tests.surface.doors.ADMIN_MODELS` — and from then on the matrix sends it every role
and object. (tests/test_security.py checks, separately, that every named route refuses the anonymous.)
"""

from tests.surface import doors
from tests.surface.matrix import SPECIAL_KWARGS
from tests.surface.routes import all_routes

KNOWN_PARAMS = {"pk", "course_pk", "code", "transfer_no", "name", *SPECIAL_KWARGS}


def test_every_route_is_classified():
    unclassified = []
    for route in all_routes():
        if route.admin:
            if route.name in doors.ADMIN_SITE:
                continue
            try:
                doors.admin_model(route) in doors.ADMIN_MODELS or unclassified.append(f"admin model of {route.path}")
            except (IndexError, ValueError):
                unclassified.append(route.path)
        elif route.name not in doors.DOORS:
            unclassified.append(f"{route.name} ({route.path})")
    assert not unclassified, "classify these in tests/surface/doors.py:\n" + "\n".join(unclassified)


def test_the_table_names_no_route_that_is_gone():
    names = {route.name for route in all_routes()}
    assert sorted(set(doors.DOORS) - names) == []


def test_every_object_door_names_a_kind_the_matrix_can_fill():
    """A path parameter the matrix could not fill would silently drop the route's object cells."""
    odd = [f"{r.name}: {p}" for r in all_routes() if not r.admin for p in r.params if p not in KNOWN_PARAMS]
    assert odd == []
    missing_kind = [r.name for r in all_routes() if not r.admin and {"pk", "code", "transfer_no", "course_pk"} & set(
        r.params) and doors.DOORS[r.name][1] is None]
    assert missing_kind == []


def test_every_admin_model_page_is_refused_to_those_the_table_does_not_name():
    """三权分立 (docs/security.md): the table here is the document's, not the code's (accounts.backends)."""
    from accounts.backends import ADMIN_PERMISSIONS

    granted = {label: {role for role, table in ADMIN_PERMISSIONS.items() if label in table}
               for label in doors.ADMIN_MODELS}
    assert granted == doors.ADMIN_MODELS
