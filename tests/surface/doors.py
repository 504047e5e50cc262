"""Every route classified: who may pass its door at all, and which object its path names (R-ACL-1, R-ACL-2).

:data:`DOORS` is the table a new route must join (``test_inventory`` fails otherwise): route name →
(:class:`Door` family, object kind or None). :func:`expect` says, from the table alone, what an actor
must get on an object: the class of the answer (``ok``, ``login``, ``denied``, ``hidden``, ``method``).

Families (who passes the door; anybody else is ``login`` when anonymous, ``denied`` when logged in):

=============  ==============================================================================
public         anyone, logged in or not
session        any logged-in person (their own messages, security, password)
accountant     accountants (会计人员): their own objects; anything else is hidden (404)
apps           accountants (own objects) and reviewers (objects in their region): the API's applications
inst_bureau    institutions (their own filing or list) and reviewers (those in their region)
reviewer       county, city and provincial reviewers: objects in their region (R-ACL-1)
province       provincial staff (省财政厅): exam lists, employer accounts
institution    training institutions: their own institution's objects
employer       employer administrators: the people of their units
exchange       the national platform's token (API.md §3)
token          any authenticated API caller (the token's owner)
=============  ==============================================================================

The admin site (``/manage/``) is classified per model from the 三权分立 table in docs/security.md
(:data:`ADMIN_MODELS`): a model with no line there fails the inventory.
"""

from __future__ import annotations

import dataclasses

from accounts.models import REVIEWER_ROLES, Role

OK, LOGIN, DENIED, HIDDEN, METHOD = "ok", "login", "denied", "hidden", "method"

FAMILY_ROLES = {
    "session": None,  # any logged-in user
    "token": None,
    "accountant": {Role.ACCOUNTANT},
    "apps": {Role.ACCOUNTANT, *REVIEWER_ROLES},
    "reviewer": set(REVIEWER_ROLES),
    "inst_bureau": {Role.INSTITUTION, *REVIEWER_ROLES},
    "province": {Role.PROVINCE_STAFF},
    "institution": {Role.INSTITUTION},
    "employer": {Role.EMPLOYER},
    "exchange": {Role.EXCHANGE_CLIENT},
}

# route name → (family, the kind of object its path names, or None)
DOORS: dict[str, tuple[str, str | None]] = {
    # front door, login, registration, reset, health, docs, certificate check (R-CE-15)
    "home": ("public", None), "health": ("public", None), "notice_detail": ("public", "notice"),
    "accounts:register": ("public", None), "accounts:agreement": ("public", None),
    "accounts:privacy": ("public", None), "accounts:login": ("public", None), "accounts:logout": ("public", None),
    "accounts:otp_verify": ("public", None), "accounts:otp_setup": ("public", None),
    "accounts:password_reset": ("public", None), "accounts:password_reset_confirm": ("public", None),
    "cpe_verify_form": ("public", None), "cpe_verify": ("public", "code"), "public_institutions": ("public", None),
    "api-register": ("public", None), "api-token": ("public", None), "api-schema": ("public", None),
    "api-docs": ("public", None), "api-verify": ("public", "code"), "api-cpe-institutions": ("public", None),
    # one's own messages and account
    "notifications": ("session", None), "notification_open": ("session", "notification"),
    "notification_read_all": ("session", None), "notification_settings": ("session", None),
    "accounts:security": ("session", None), "accounts:security_enrol": ("session", None),
    "accounts:security_recovery_codes": ("session", None), "accounts:security_remove": ("session", None),
    "accounts:home": ("session", None), "accounts:password_change": ("session", None),
    "api-logout": ("token", None), "api-me": ("token", None), "api-notifications": ("token", None),
    "api-notification-read": ("token", "notification"),
    # the accountant's pages and API
    "person_collection": ("accountant", None), "person_archive": ("accountant", None),
    "person_change_list": ("accountant", None), "person_change_new": ("accountant", None),
    "person_change_detail": ("accountant", "change"), "person_change_edit": ("accountant", "change"),
    "person_change_submit": ("accountant", "change"), "person_change_withdraw": ("accountant", "change"),
    "person_transfer_list": ("accountant", None), "person_transfer_new": ("accountant", None),
    "person_transfer_detail": ("accountant", "transfer"), "person_transfer_transition": ("accountant", "transfer"),
    "person_cpe": ("accountant", None), "person_cpe_year": ("accountant", None),
    "person_cpe_certificate": ("accountant", None),
    "cpe_course_list": ("accountant", None), "cpe_course_detail": ("accountant", "course"),
    "cpe_course_enrol": ("accountant", "course"), "cpe_course_test": ("accountant", "course"),
    "cpe_lesson_detail": ("accountant", "lesson"), "cpe_lesson_media": ("accountant", "lesson"),
    "cpe_lesson_complete": ("accountant", "lesson"),
    "person_claim_list": ("accountant", None), "person_claim_detail": ("accountant", "claim"),
    "person_claim_transition": ("accountant", "claim"),
    "api-archive": ("accountant", None), "api-archive-history": ("accountant", None),
    "api-attachments": ("accountant", None),
    "api-me-cpe-year": ("accountant", None), "api-me-cpe-entries": ("accountant", None),
    "api-me-cpe-certificate": ("accountant", None),
    "api-cpe-courses": ("accountant", None), "api-cpe-course": ("accountant", "course"),
    "api-cpe-course-enrol": ("accountant", "course"), "api-cpe-course-test": ("accountant", "course"),
    "api-cpe-lesson-session": ("accountant", "lesson"), "api-cpe-lesson-heartbeat": ("accountant", "lesson"),
    "api-cpe-lesson-complete": ("accountant", "lesson"),
    # applications: the applicant's own, the bureau's region
    "attachment_file": ("apps", "attachment"), "attachment_page": ("apps", "attachment"),
    "api-attachment": ("apps", "attachment"), "api-attachment-file": ("apps", "attachment"),
    "api-collections": ("apps", None), "api-collection": ("apps", "collection"),
    "api-collection-transition": ("apps", "collection"), "api-collection-reveal": ("apps", "collection"),
    "api-changes": ("apps", None), "api-change": ("apps", "change"), "api-change-transition": ("apps", "change"),
    "api-change-reveal": ("apps", "change"),
    "api-transfers": ("apps", None), "api-transfer": ("apps", "transfer"),
    "api-transfer-transition": ("apps", "transfer"),
    "api-cpe-claims": ("apps", None), "api-cpe-claim": ("apps", "claim"),
    "api-cpe-claim-transition": ("apps", "claim"),
    # the bureaus' workbench, dashboards and exports
    "accounts:workbench": ("reviewer", None), "accounts:dashboard": ("reviewer", None),
    "accounts:dashboard_reviews_xlsx": ("reviewer", None), "accounts:dashboard_cpe_xlsx": ("reviewer", None),
    "workbench_collection": ("reviewer", "collection"), "workbench_collection_transition": ("reviewer", "collection"),
    "workbench_collection_reveal": ("reviewer", "collection"),
    "workbench_change": ("reviewer", "change"), "workbench_change_transition": ("reviewer", "change"),
    "workbench_change_reveal": ("reviewer", "change"),
    "workbench_transfer": ("reviewer", "transfer"), "workbench_transfer_transition": ("reviewer", "transfer"),
    "workbench_exchange": ("province", None), "workbench_export": ("reviewer", None),
    "workbench_attendance_list": ("reviewer", None), "workbench_attendance": ("reviewer", "attendance"),
    "workbench_attendance_register": ("reviewer", "attendance"),
    "workbench_claim": ("reviewer", "claim"), "workbench_claim_transition": ("reviewer", "claim"),
    "workbench_filing": ("reviewer", "filing"), "workbench_filing_transition": ("reviewer", "filing"),
    "workbench_institutions": ("reviewer", None), "workbench_institution_evaluate": ("reviewer", "institution"),
    "api-cpe-filing": ("inst_bureau", "filing"), "api-cpe-filing-transition": ("inst_bureau", "filing"),
    "api-cpe-attendance": ("inst_bureau", "attendance"), "api-cpe-attendance-register": ("reviewer", "attendance"),
    "api-stats-reviews": ("reviewer", None), "api-stats-cpe": ("reviewer", None),
    # the province's own lists
    "workbench_exam_imports": ("province", None), "workbench_exam_import_new": ("province", None),
    "workbench_exam_import": ("province", "exam_import"), "workbench_exam_import_register": ("province", "exam_import"),
    "api-cpe-exam-imports": ("province", None), "api-cpe-exam-import": ("province", "exam_import"),
    "api-cpe-exam-import-register": ("province", "exam_import"),
    "employers_manage": ("province", None), "employers_manage_new": ("province", None),
    "employers_manage_units": ("province", "employer_account"),
    # training institutions
    "institution_courses": ("institution", None), "institution_course_new": ("institution", None),
    "institution_course": ("institution", "course"), "institution_lesson_new": ("institution", "course"),
    "institution_lesson": ("institution", "lesson"), "institution_question_add": ("institution", "course"),
    "institution_question_retire": ("institution", "question"),
    "institution_attendance_upload": ("institution", "training"),
    "institution_attendance": ("institution", "attendance"),
    "institution_home": ("institution", None), "institution_filing": ("institution", None),
    "institution_teachers": ("institution", None), "institution_teacher_edit": ("institution", "teacher"),
    "institution_teacher_delete": ("institution", "teacher"), "institution_report_new": ("institution", None),
    "institution_training_new": ("institution", None),
    "api-cpe-filings": ("institution", None),
    "api-cpe-institution-teachers": ("institution", "institution"),
    "api-cpe-institution-trainings": ("institution", "institution"),
    "api-cpe-training-attendance": ("institution", "training"),
    # employers
    "employer_people": ("employer", None), "employer_people_export": ("employer", None),
    "employer_person": ("employer", "archive"), "employer_person_remind": ("employer", "archive"),
    "employer_remind_behind": ("employer", None),
    "api-employer-people": ("employer", None), "api-employer-person": ("employer", "archive"),
    "api-employer-person-remind": ("employer", "archive"),
    # the national platform (API.md §3)
    "exchange-outbound": ("exchange", None), "exchange-outbound-ack": ("exchange", "transfer_no"),
    "exchange-outbound-result": ("exchange", "transfer_no"), "exchange-inbound": ("exchange", None),
    "exchange-inbound-status": ("exchange", "transfer_no"),
}

# The admin (/manage/): model → the administrators who may open it (docs/security.md, 三权分立). Nobody
# else passes /manage/ at all (403; anonymous to the admin's login).
SYS, SEC, AUD = Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN
ADMIN_MODELS: dict[str, set] = {
    "kjzx.calendarday": {SYS}, "kjzx.calendaryear": {SYS}, "kjzx.notice": {SYS}, "kjzx.stepdeadline": {SYS},
    "kjzx.examregistrationperiod": {SYS}, "kjzx.auditevent": {AUD},
    "accounts.region": {SYS, SEC}, "accounts.staffaccount": {SEC}, "accounts.accountantaccount": {SEC},
    "axes.accesslog": set(), "axes.accessfailurelog": {AUD}, "axes.accessattempt": {SEC, AUD},
    "knox.authtoken": {SEC},
    "records.archive": {SYS}, "records.collectionapplication": {SYS}, "records.changerequest": {SYS},
    "records.attachment": {SYS},
    "transfers.province": {SYS}, "transfers.exchangepolicy": {SYS}, "transfers.transfer": {SYS},
    "cpe.ceyear": {SYS}, "cpe.creditstandard": {SYS}, "cpe.creditentry": {SYS}, "cpe.integrityrecord": {SYS},
    "cpe.certificate": {SYS}, "cpe.certificateseal": {SYS}, "cpe.traininginstitution": {SYS},
    "cpe.course": {SYS}, "cpe.learningpolicy": {SYS}, "cpe.learningrefusal": {SYS}, "cpe.enrolment": {SYS},
}
ADMIN_ROLES = {SYS, SEC, AUD}
# The admin routes that are not one model's pages: who may open them.
ADMIN_SITE = {"admin:index": ADMIN_ROLES, "admin:login": None, "admin:logout": None,
              "admin:password_change": ADMIN_ROLES, "admin:password_change_done": ADMIN_ROLES,
              "admin:autocomplete": ADMIN_ROLES, "admin:jsi18n": ADMIN_ROLES, "admin:app_list": ADMIN_ROLES,
              "manage/(?P<url>.*)$": None, "admin:view_on_site": ADMIN_ROLES,
              "admin:auth_user_password_change": {SEC}}  # a staff account's password: the security administrator

# The transition a path names, per kind, for the transition routes (a real one, so the door is asked).
TRANSITION = {"collection": "approve_first", "change": "approve", "transfer": "accept", "claim": "approve",
              "filing": "approve"}
PERSON_TRANSITION = {"transfer": "withdraw", "claim": "submit", "collection": "submit", "change": "withdraw"}


@dataclasses.dataclass(frozen=True)
class Target:
    """One object a path can name: its kind, a label for reports, and who it belongs to."""

    kind: str
    label: str  # "A", "B", "filing_b", …
    ref: object  # pk, code or transfer number put in the path
    owner: str = ""  # Person key of the applicant (accountant-owned objects)
    region: str = ""  # the region code whose bureaus act on it
    institution: str = ""  # "institution_a" / "institution_b" for an institution's objects
    submitted: bool = True  # a draft is its owner's alone


def relation(actor, target) -> str:
    """The object's place from the actor's point of view: own, inside one's region, same county, other county,
    other city (for the figures)."""
    if target is None:
        return "no object"
    if target.owner and target.owner == actor.person:
        return "own"
    home = actor.scope or {"A": "140502", "B": "140521"}.get(actor.person, "")
    if not home or not target.region:
        return "not regional"
    if actor.scope and target.region.startswith(_prefix(actor.scope)):
        return "inside one's region"
    if target.region == home:
        return "same county"
    return "other county" if target.region[:4] == home[:4] else "other city"


def may_see(family: str, actor, target) -> bool:
    """Whether ``actor``, past the door of ``family``, may see ``target`` (else: the same 404 as missing)."""
    if target is None:
        return True
    if target.kind in ("notice", "code"):
        return True
    if target.kind == "notification":
        return actor.person == target.owner
    role = role_of(actor)
    if role == Role.ACCOUNTANT:
        if target.kind in ("course", "lesson"):
            return True  # a published course is open to every accountant
        return target.owner == actor.person
    if role in REVIEWER_ROLES:
        if not target.submitted or not target.region:
            return False
        return target.region.startswith(_prefix(actor.scope))
    if role == Role.INSTITUTION:
        return target.institution == actor.key
    if role == Role.EMPLOYER:
        return target.kind == "archive" and target.owner in actor.sees
    if role == Role.EXCHANGE_CLIENT:
        return target.kind == "transfer_no"
    return False


def _prefix(code: str) -> str:
    if code.endswith("0000"):
        return code[:2]
    if code.endswith("00"):
        return code[:4]
    return code


# A door whose methods are not all for the same people: (route, method) → family.
METHOD_FAMILY = {
    ("api-collections", "POST"): "accountant", ("api-changes", "POST"): "accountant",
    ("api-transfers", "POST"): "accountant", ("api-cpe-claims", "POST"): "accountant",
    ("api-change", "PATCH"): "accountant", ("api-cpe-claim", "PATCH"): "accountant",
    ("api-collection-reveal", "POST"): "reviewer", ("api-change-reveal", "POST"): "reviewer",
    ("accounts:security_remove", "POST"): "accountant",  # staff cannot drop their second factor
}
# Doors the world's object has nothing behind: its lesson is a text lesson, without media; its scans are
# images, without the pages of a PDF.
NOTHING_BEHIND = {"cpe_lesson_media", "attachment_page"}
# One's credit certificate of the year (R-CE-15): only a person who completed the year has one (A).
CERTIFICATE_DOORS, CERTIFICATE_HOLDERS = {"person_cpe_certificate", "api-me-cpe-certificate"}, {"A"}
# Doors that name only some objects of their kind: the platform's outbound doors an outbound transfer, its
# inbound door an inbound one.
ONLY = {"exchange-outbound-ack": {"T"}, "exchange-outbound-result": {"T"}, "exchange-inbound-status": {"I"}}
# The one HTML door of the workflows (kjzx.workflow_views): the detail page is read, a transition is a POST;
# the routes declare both for the shared view.
WORKFLOW_PAGES = ("workbench_collection", "workbench_change", "workbench_transfer", "workbench_claim",
                  "workbench_filing")


def methods_of(route) -> tuple[str, ...]:
    if route.name in WORKFLOW_PAGES:
        return ("GET",)
    if route.name.endswith("_transition") and route.name.replace("_transition", "") in WORKFLOW_PAGES:
        return ("POST",)
    return route.methods


def role_of(actor) -> str:
    return Role.EXCHANGE_CLIENT if actor.family == "exchange" else actor.role


def expect(route, method: str, actor, target) -> set[str]:
    """The classes of answer allowed for ``actor`` sending ``method`` to ``route`` on ``target``."""
    if actor.family == "password_only":  # the code step first, whatever the door (security item 16)
        declared = route.admin or method in methods_of(route) or not route.methods
        if not route.admin and DOORS[route.name][0] == "public":
            return {OK, LOGIN} if declared else {METHOD, LOGIN}
        return {LOGIN} if declared else {LOGIN, METHOD}
    if route.admin:
        return _expect_admin(route, method, actor)
    family = METHOD_FAMILY.get((route.name, method), DOORS[route.name][0])
    declared = method in methods_of(route) or not route.methods
    if route.api:
        anonymous = not actor.token
    else:
        anonymous = actor.user is None
    if family == "public":
        return {OK, LOGIN} if declared else {METHOD}  # a login step one is not in sends one to the login
    if anonymous:
        return {LOGIN} if declared else {LOGIN, METHOD}
    roles = FAMILY_ROLES[family]
    if not declared:  # whatever the order of the checks, never served
        return {METHOD, DENIED, HIDDEN}
    if roles is not None and role_of(actor) not in roles:
        # The API's object doors ask the selector first: to a stranger the object is simply not there.
        return {DENIED, HIDDEN} if (route.api or family == "apps") and target is not None else {DENIED}
    if route.name in CERTIFICATE_DOORS and actor.person not in CERTIFICATE_HOLDERS:
        return {HIDDEN}
    if route.name in NOTHING_BEHIND or (target is not None and not may_see(family, actor, target)):
        return {HIDDEN}
    return {OK}


def _expect_admin(route, method: str, actor) -> set[str]:
    allowed = ADMIN_SITE.get(route.name, "model")
    if allowed == "model":
        allowed = ADMIN_MODELS[admin_model(route)]
    if route.name == "admin:app_list" and actor.role in ADMIN_ROLES:  # the matrix opens /manage/records/
        return {OK} if actor.role in {r for label, roles in ADMIN_MODELS.items() if label.startswith("records.")
                                      for r in roles} else {HIDDEN}
    if allowed is None:
        return {OK, LOGIN, DENIED, HIDDEN}  # the admin's own login and logout, its catch-all
    if actor.user is None:
        return {LOGIN}
    if actor.role not in allowed:
        return {DENIED}
    return {OK}


def admin_model(route) -> str:
    """``admin:records_archive_changelist`` or ``manage/records/archive/<path:object_id>/`` → ``records.archive``."""
    if route.name.startswith("admin:"):
        body = route.name.split(":", 1)[1]
        app, rest = body.split("_", 1)
        return f"{app}.{rest.rsplit('_', 1)[0]}"
    _manage, app, model, *_rest = route.path.split("/")
    return f"{app}.{model}"
