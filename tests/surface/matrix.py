"""The access matrix's cells and how one is sent and judged (the tests are in ``test_matrix``)."""

from __future__ import annotations

import copy
import dataclasses
import io
import itertools

from django.db import transaction
from django.test import Client
from django.urls import reverse

from tests.surface import doors
from tests.surface.routes import HTTP_METHODS, Route
from tests.surface.world import YEAR, World

SPECIAL_KWARGS = {"year": YEAR, "number": 1, "app_label": "records"}


@dataclasses.dataclass(frozen=True)
class Cell:
    route: Route
    method: str
    actor: str
    target: doors.Target | None

    def label(self) -> str:
        what = f" {self.target.kind}:{self.target.label}" if self.target else ""
        return f"{self.method} {self.route.name}{what} as {self.actor}"


def targets(world: World) -> dict[str, list[doors.Target]]:
    """Every object a path may name, with its owner, region and institution."""
    found: dict[str, list[doors.Target]] = {}

    def add(kind, label, ref, **facts):
        found.setdefault(kind, []).append(doors.Target(kind, label, ref, **facts))

    for key, person in world.people.items():
        for kind, obj in person.objects.items():
            if kind in ("collection", "change", "transfer", "claim"):
                submitted = obj.submitted_at is not None
                region = obj.jurisdiction_id or person.county
                add(kind, key, obj.pk, owner=key if person.user else "", region=region, submitted=submitted)
                if kind == "transfer" and obj.transfer_no:
                    add("transfer_no", key, obj.transfer_no, owner=key, region=region)
            elif kind == "attachment":
                add(kind, key, obj.pk, owner=key, region=person.county, submitted=key != "D")
            elif kind == "notification" and obj is not None:
                add(kind, key, obj.pk, owner=key)
        if person.archive is not None and person.archive.status == "active":
            add("archive", key, person.archive.pk, owner=key, region=person.county)
    t = world.things
    add("code", "A", t["certificate"].code, owner="A")
    add("notice", "notice", t["notice"].pk)
    for side, region in (("a", "140502"), ("b", "140105")):
        inst = f"institution_{side}"
        add("filing", f"filing_{side}", t[f"filing_{side}"].pk, region=region, institution=inst,
            submitted=t[f"filing_{side}"].submitted_at is not None)
        add("institution", inst, t[inst].pk, region=region, institution=inst)
        add("teacher", f"teacher_{side}", t[f"teacher_{side}"].pk, institution=inst)
    for kind in ("course", "lesson", "question", "training", "attendance"):
        add(kind, kind, t[kind].pk, region="140502", institution="institution_a")
    add("exam_import", "exam_import", t["exam_import"].pk, region="140000")
    add("employer_account", "employer", t["employer"].pk, region="140502")
    return found


def cells(routes: list[Route], world: World) -> list[Cell]:
    """The cross product: every route × its methods (and GET and POST where it declares none of them) ×
    every actor × every object of the kind its path names."""
    by_kind = targets(world)
    out = []
    for route in routes:
        if route.admin:
            if not (route.name.endswith("_changelist") or route.name in ("admin:index", "admin:app_list")):
                continue
            methods = ("GET",)
            objects = [None]
        else:
            kind = doors.DOORS[route.name][1]
            methods = tuple(m for m in HTTP_METHODS if m in route.methods or m in ("GET", "POST"))
            objects = by_kind[kind] if kind else [None]
            if route.name in doors.ONLY:
                objects = [t for t in objects if t.label in doors.ONLY[route.name]]
        for method, actor, target in itertools.product(methods, world.actors, objects):
            out.append(Cell(route, method, actor, target))
    return out


def path_of(cell: Cell) -> str:
    route = cell.route
    kwargs = {}
    kind = None if route.admin else doors.DOORS[route.name][1]
    for param in route.params:
        if param in SPECIAL_KWARGS:
            kwargs[param] = SPECIAL_KWARGS[param]
        elif param == "name":
            table = doors.PERSON_TRANSITION if route.name.startswith("person_") else doors.TRANSITION
            kwargs[param] = table[kind]
        else:  # pk, course_pk, code, transfer_no
            kwargs[param] = cell.target.ref
    return reverse(route.name, kwargs=kwargs)


class Sender:
    """One session client and one token per actor; each request inside a savepoint rolled back after it,
    so that no cell changes what the next one sees."""

    def __init__(self, world: World):
        from tests.factories import login_staff

        self.world = world
        self.pages: dict[str, Client] = {}
        for key, actor in world.actors.items():
            client = Client(raise_request_exception=False)
            if actor.family == "password_only":
                client.force_login(actor.user)  # the password step only
            elif actor.user is not None:
                login_staff(client, actor.user)
            self.pages[key] = client
        self.api = Client(raise_request_exception=False)
        self.sent = 0

    def send(self, cell: Cell):
        actor = self.world.actors[cell.actor]
        path = path_of(cell)
        self.sent += 1
        extra = {"REMOTE_ADDR": f"10.{self.sent // 65536 % 256}.{self.sent // 256 % 256}.{self.sent % 256}"}
        if cell.route.api and actor.family != "password_only":  # that one has its session, never a token
            client = self.api
            if actor.token:
                extra["HTTP_AUTHORIZATION"] = f"Bearer {actor.token}"
            kwargs = {"content_type": "application/json", "data": "{}"} if cell.method != "GET" else {}
        else:
            client = self.pages[cell.actor]
            kwargs = {"data": {}} if cell.method == "POST" else {}
            if cell.route.api and cell.method != "GET":
                kwargs = {"content_type": "application/json", "data": "{}"}
        cookies = client.cookies
        client.cookies = copy.deepcopy(cookies)
        with transaction.atomic():
            response = getattr(client, cell.method.lower())(path, **kwargs, **extra)
            if cell.route.admin and response.status_code == 302 and response["Location"].startswith("/manage/login/"):
                response = client.get(response["Location"], **extra)  # the admin's login says who may not
            body = read_body(response)
            transaction.set_rollback(True)
        client.cookies = cookies  # a logout or a new login rolled back with the rest
        return path, response, body


def read_body(response) -> str:
    """The text a person would read in the answer: HTML or JSON, the cells of a spreadsheet."""
    if getattr(response, "streaming", False):
        content = b"".join(response.streaming_content)
    else:
        content = response.content
    kind = response.get("Content-Type", "")
    if "spreadsheetml" in kind:
        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(content), read_only=True)
        return "\n".join(str(value) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)
                         for value in row if value is not None)
    if kind.startswith(("text/", "application/json")):
        return content.decode("utf-8", "replace")
    return ""  # images, PDFs: their own tests check what they show


def classify(response) -> str:
    status = response.status_code
    location = response.get("Location", "")
    if status == 401 or (status == 302 and "login" in location):
        return doors.LOGIN
    return {403: doors.DENIED, 404: doors.HIDDEN, 405: doors.METHOD}.get(status, doors.OK)
