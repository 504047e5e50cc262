"""Reads of the ledger (学分台账): who owes a year, what a person has, the standards in force. R-CE-1…4, 11, 13, 15.

- :func:`year_status` is the one computation of a person's year (R-CE-3): the personal page, the API,
  the certificate, the outbound person record and the demo all read it; the year's close and the
  dashboards compute the same sums set-based, with :func:`is_complete` and :func:`obliged_archives_q`.
- :func:`standard_in_force` is the one way to read a credit standard (R-CE-11, the SPEC table): the
  row of a form and variant with the latest ``effective_from`` not after the year. Exam lists, face-
  to-face lists, claims and training plans take their numbers from it, never from a constant.
- :func:`cpe_history` is a person's CE history as the national exchange carries it (API.md §2).
- The person's own reads (R-ACL-2) take the caller, never an archive id from a client.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections import defaultdict
from decimal import Decimal

from django.db.models import CharField, Exists, OuterRef, Q, Sum, TextChoices
from django.db.models.functions import Cast
from django.http import Http404
from django.utils import timezone

from cpe.models import (
    Certificate,
    CEYear,
    CreditEntry,
    CreditForm,
    CreditStandard,
    Enrolment,
    IntegrityRecord,
    SourceType,
    SubjectKind,
)
from records.models import Archive, Qualification

ZERO = Decimal("0")
ONE_DECIMAL = Decimal("0.1")
FIRST_YEAR = 2018  # the national rules (财会〔2018〕10号) took effect in 2018; CEYear starts there too
CODE_PATTERN = re.compile(r"^[A-Z0-9]{16}$")


# --- policy as data ---------------------------------------------------------------------------

def ce_year_get(year: int) -> CEYear:
    """The year's policy, or a 404: a year without one has nothing to show."""
    try:
        return CEYear.objects.get(pk=year)
    except CEYear.DoesNotExist:
        raise Http404(f"没有{year}年度的继续教育安排。") from None


def standard_in_force(form: str, variant: str, year: int) -> CreditStandard | None:
    """The credit standard of ``form``/``variant`` for ``year``: the latest ``effective_from`` not after it."""
    return (CreditStandard.objects.filter(form=form, variant=variant, effective_from__lte=year)
            .order_by("-effective_from").first())


# --- who owes a year (R-CE-1) -----------------------------------------------------------------

def obligation_start_year(archive: Archive) -> int | None:
    """The first CE year a person owes: the year after the qualification or the start of accounting
    work, whichever came first (R-CE-1); None if neither is known."""
    dates = [q.obtained_on for q in archive.qualifications.all() if q.obtained_on]
    if archive.began_accounting_on:
        dates.append(archive.began_accounting_on)
    return min(dates).year + 1 if dates else None


def is_obliged(archive: Archive, year: int) -> bool:
    start = obligation_start_year(archive)
    return archive.status == Archive.Status.ACTIVE and start is not None and year >= start


def obliged_archives_q(year: int) -> Q:
    """Archives that owe ``year`` (R-CE-1), as one condition for set-based queries (the close, the dashboards):
    active, with accounting work or a qualification begun before 1 January of ``year``."""
    before = dt.date(year, 1, 1)
    qualified = Qualification.objects.filter(archive=OuterRef("pk"), obtained_on__lt=before)
    return Q(status=Archive.Status.ACTIVE) & (Q(began_accounting_on__lt=before) | Exists(qualified))


def obliged_archive_ids(year: int) -> set[int]:
    return set(Archive.objects.filter(obliged_archives_q(year)).values_list("pk", flat=True))


# --- a person's year --------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class YearStatus:
    """What a person has for one year (API.md ``GET /api/v1/me/cpe/{year}/``)."""

    year: int
    obliged: bool
    required_total: Decimal
    required_professional: Decimal
    total: Decimal
    professional: Decimal
    general: Decimal
    by_form: dict[str, Decimal]
    completed: bool
    deadline: dt.date
    frozen: bool
    pending_online: Decimal = ZERO  # 已学待登记: passed online courses not in the ledger yet (R-CE-8)
    pending_online_professional: Decimal = ZERO

    @property
    def missing_total(self) -> Decimal:
        return max(self.required_total - self.total, ZERO)

    @property
    def missing_professional(self) -> Decimal:
        return max(self.required_professional - self.professional, ZERO)

    @property
    def counted(self) -> Decimal:
        """The credits that count towards completing the year (R-CE-3): every professional credit, general
        ones only up to what the professional requirement leaves of the total (90 with 40 professional
        counts 70). Reaches the required total exactly when the year is complete."""
        room = max(self.required_total - self.required_professional, ZERO)
        return max(min(self.professional + min(self.general, room), self.required_total), ZERO)

    @property
    def progress_percent(self) -> int:
        """How far the year is towards complete, for a progress bar: never full while a requirement is missing."""
        if not self.required_total:
            return 100
        return int(self.counted * 100 / self.required_total)


def unregistered_online_passes(archive: Archive, policy: CEYear):
    """The person's passed online courses of the year not in the ledger yet (已学待登记, R-CE-8): the one
    definition, read by :func:`year_status` and by online learning. A course is in the ledger as a
    ``course`` entry whose source id is the course's id."""
    registered = CreditEntry.objects.filter(archive=archive, year=policy, source_type=SourceType.COURSE,
                                            source_id=Cast(OuterRef("course_id"), CharField()))
    return Enrolment.objects.filter(archive=archive, course__year=policy, passed_at__isnull=False).exclude(
        Exists(registered))


def credit_sums(entries) -> tuple[Decimal, Decimal, dict[str, Decimal]]:
    """(professional, general, by form) of ``(subject_kind, form, credits)`` rows."""
    professional = general = ZERO
    by_form: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for subject_kind, form, credits in entries:
        if subject_kind == SubjectKind.PROFESSIONAL:
            professional += credits
        else:
            general += credits
        by_form[form] += credits
    return professional, general, {form: by_form[form] for form in CreditForm.values if by_form[form]}


def is_complete(policy: CEYear, total: Decimal, professional: Decimal) -> bool:
    """R-CE-3: at least the required total, of which at least the required professional credits."""
    return total >= policy.required_total and professional >= policy.required_professional


def year_status(archive: Archive, year: int | CEYear) -> YearStatus:
    """The one computation of a person's year (R-CE-3), with its online credits waiting (已学待登记, R-CE-8):
    three queries, or one once the year is frozen."""
    policy = year if isinstance(year, CEYear) else CEYear.objects.get(pk=year)
    frozen = IntegrityRecord.objects.filter(archive=archive, year=policy).first() if policy.is_frozen else None
    obliged = is_obliged(archive, policy.year) or frozen is not None
    if frozen is not None:
        by_form = {form: Decimal(value) for form, value in frozen.by_form.items()}
        return YearStatus(policy.year, obliged, policy.required_total, policy.required_professional, frozen.total,
                          frozen.professional, frozen.general, by_form, frozen.completed, policy.deadline, True)
    rows = CreditEntry.objects.filter(archive=archive, year=policy).values_list("subject_kind", "form", "credits")
    professional, general, by_form = credit_sums(rows)
    total = professional + general
    pending = {} if policy.is_frozen else dict(
        unregistered_online_passes(archive, policy).values("course__subject_kind")
        .annotate(credits=Sum("course__credits")).values_list("course__subject_kind", "credits"))
    return YearStatus(policy.year, obliged, policy.required_total, policy.required_professional, total,
                      professional, general, by_form, is_complete(policy, total, professional), policy.deadline,
                      policy.is_frozen, sum(pending.values(), ZERO), pending.get(SubjectKind.PROFESSIONAL, ZERO))


def entries_of(archive: Archive, year: int):
    return CreditEntry.objects.filter(archive=archive, year_id=year).select_related("registered_by", "reverses")


def registered_sources(*, year: int, source_type: str, archive_ids, source_ids) -> set[tuple[int, str]]:
    """The (archive id, source id) pairs already in the ledger for ``year`` (one query, any batch size)."""
    return set(CreditEntry.objects.filter(year_id=year, source_type=source_type, archive_id__in=archive_ids,
                                          source_id__in=source_ids).values_list("archive_id", "source_id"))


def _credits(value: Decimal) -> str:
    return str(value.quantize(ONE_DECIMAL))


def cpe_history(archive: Archive, today: dt.date | None = None) -> list[dict]:
    """The person's CE result for every year they were obliged, oldest first (API.md §2 ``cpe``).

    Frozen years come from the credit-information file (``IntegrityRecord``, R-CE-13), open years from
    :func:`year_status`; credits as decimal strings: ``[{"year", "total", "professional", "completed"}]``.
    """
    this_year = (today or timezone.localdate()).year
    rows = {record.year_id: {"year": record.year_id, "total": _credits(record.total),
                             "professional": _credits(record.professional), "completed": record.completed}
            for record in IntegrityRecord.objects.filter(archive=archive)}
    start = obligation_start_year(archive)
    if start is not None:
        for policy in CEYear.objects.filter(frozen_at__isnull=True, year__gte=start, year__lte=this_year):
            status = year_status(archive, policy)
            if status.obliged:
                rows[policy.year] = {"year": policy.year, "total": _credits(status.total),
                                     "professional": _credits(status.professional), "completed": status.completed}
    return [rows[year] for year in sorted(rows)]


# --- the person's own pages (R-ACL-2) ---------------------------------------------------------

def person_archive(user) -> Archive | None:
    """The caller's own archive, or None: a read never opens one."""
    return Archive.objects.filter(person=user).prefetch_related("qualifications").first()


def person_year_status(archive: Archive | None, policy: CEYear) -> YearStatus:
    """:func:`year_status` for the person; someone without an archive yet owes nothing and has nothing."""
    if archive is not None:
        return year_status(archive, policy)
    return YearStatus(policy.year, False, policy.required_total, policy.required_professional, ZERO, ZERO, ZERO,
                      {}, False, policy.deadline, policy.is_frozen)


def person_years(archive: Archive | None, today: dt.date | None = None) -> list[YearStatus]:
    """Each year from the person's obligation start (2018 at the earliest) to this year, newest first."""
    start = obligation_start_year(archive) if archive is not None else None
    if start is None:
        return []
    this_year = (today or timezone.localdate()).year
    policies = CEYear.objects.filter(year__gte=max(start, FIRST_YEAR), year__lte=this_year).order_by("-year")
    return [year_status(archive, policy) for policy in policies]


def by_form_rows(status: YearStatus) -> list[tuple[str, str, object]]:
    """(form, Chinese label, credits) for every form that has credits, in the credit table's order."""
    return [(form, label, status.by_form[form]) for form, label in CreditForm.choices if status.by_form.get(form)]


# --- what a certificate states (R-CE-15) ------------------------------------------------------

ISSUER = "山西省财政厅"


class CertificateState(TextChoices):
    VALID = "valid", "有效"
    REVOKED = "revoked", "已作废"


@dataclasses.dataclass(frozen=True)
class CertificateStatement:
    """What a certificate states, as printed on it and shown by /verify/ (the ID number masked)."""

    certificate: Certificate
    name: str
    masked_id_number: str
    status: YearStatus
    issuer: str = ISSUER

    @property
    def valid(self) -> bool:
        """Issued here and not revoked (a correction that took the year below the requirement revokes it)."""
        return not self.certificate.is_revoked

    @property
    def state(self) -> CertificateState:
        return CertificateState.VALID if self.valid else CertificateState.REVOKED

    @property
    def state_display(self) -> str:
        return self.state.label

    @property
    def forms(self):
        return by_form_rows(self.status)


def statement_now(archive: Archive, policy: CEYear, *, certificate: Certificate, issuer: str = ISSUER
                  ) -> CertificateStatement:
    """What a certificate of ``archive``'s year would state now (its figures from :func:`year_status`)."""
    return CertificateStatement(certificate, archive.name, archive.masked_id_number, year_status(archive, policy),
                                issuer)


def statement_snapshot(statement: CertificateStatement) -> dict:
    """The statement as the certificate keeps it (``Certificate.stated``): decimals and dates as strings."""
    status = dataclasses.asdict(statement.status)
    status = {key: str(value) if isinstance(value, Decimal | dt.date) else value for key, value in status.items()}
    status["by_form"] = {form: str(credits) for form, credits in statement.status.by_form.items()}
    return {"name": statement.name, "masked_id_number": statement.masked_id_number, "issuer": statement.issuer,
            "status": status}


def _from_snapshot(certificate: Certificate) -> CertificateStatement:
    stated = certificate.stated
    status = dict(stated["status"])
    for key in ("required_total", "required_professional", "total", "professional", "general"):
        status[key] = Decimal(status[key])
    status["by_form"] = {form: Decimal(credits) for form, credits in status["by_form"].items()}
    status["deadline"] = dt.date.fromisoformat(status["deadline"])
    return CertificateStatement(certificate, stated["name"], stated["masked_id_number"], YearStatus(**status),
                                stated["issuer"])


def certificate_statement(certificate: Certificate) -> CertificateStatement:
    """What ``certificate`` states: as kept at issue; for one issued before certificates kept it, the year as
    it stands now (read by id: a year frozen since the certificate was loaded states its frozen figures)."""
    if certificate.stated:
        return _from_snapshot(certificate)
    archive = certificate.archive
    return CertificateStatement(certificate, archive.name, archive.masked_id_number,
                                year_status(archive, certificate.year_id))


def normalise_code(code: str) -> str:
    """What people type: spaces, dashes, other punctuation and lower case are forgiven."""
    return re.sub(r"[^A-Z0-9]", "", str(code or "")[:200].upper())[:32]


def certificate_verify(code: str) -> CertificateStatement | None:
    """What the certificate with ``code`` states, or None if there is none (anyone may ask)."""
    code = normalise_code(code)
    if not CODE_PATTERN.match(code):
        return None
    certificate = (Certificate.objects.filter(code=code).select_related("archive", "year")
                   .prefetch_related("archive__qualifications").first())
    return certificate_statement(certificate) if certificate is not None else None
