"""Learning time the server believes (学习计时), R-CE-8: sessions, heartbeats, refusals, completion.

The browser reports; the server judges, on its own clock::

    session_start ──▶ heartbeat (seq 1, 2, …, each with the nonce the previous answer issued) ──▶ …
                       └─ credited time ≥ the lesson's required time: the lesson is learned (学完本节)

- **One lesson at a time.** A person has one active session: starting another (another lesson, the same
  one in a second tab, another device) ends the previous one, whose heartbeats are then refused
  (``two_lessons``). Progress lives on the server (``LessonProgress``): a closed tab loses nothing and
  the lesson resumes where it was left on any device.
- **A chain of heartbeats.** Each accepted beat moves ``seq`` on by one and issues a fresh nonce that
  only the next beat may carry: an old ``seq`` is a replay (``replayed``), a later one is out of order
  (``out_of_order``), the right one with another nonce — or a session that is not the caller's — is
  forged (``forged``).
- **Plausible time only.** The interval since the last accepted beat earns time only if that beat said
  the media was playing (a text: the page was visible), and never more than the elapsed wall-clock
  seconds × the capped playback rate (``LearningPolicy.max_playback_rate``). A video earns only new
  ground, beyond the furthest point already watched; going back is free, going forward past what was
  watched (+ what could have played since, + a small tolerance) is refused (``seek_ahead``); a rate
  above the cap is refused (``too_fast``). A text or PDF earns at most two heartbeat intervals per beat
  (a sleeping laptop is not reading).
- **Completion.** The beat that takes the credited time to the required time
  (:func:`cpe.learning.selectors.required_seconds`: duration × completion ratio) completes the lesson;
  学完本节 before that is refused with the time still needed (``too_early``).

Every refusal is a :class:`LearningRefused` (409, its reason in Chinese) and one ``LearningRefusal`` row,
committed although the request fails. Session starts and completions are audited; accepted beats
update the progress row only (a beat every 15 seconds is not history).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from cpe.learning.selectors import (
    clock,
    in_words,
    learner_archive,
    learning_policy,
    plain,
    required_seconds,
)
from cpe.learning.services.courses import _check_learnable, _collected_archive, _enrolment
from cpe.models import (
    LearningPolicy,
    LearningRefusal,
    LearningSession,
    Lesson,
    LessonKind,
    LessonProgress,
    RefusalKind,
)
from kjzx.api import DomainError
from kjzx.audit import record_event, register_event_labels

register_event_labels({
    "cpe.learning_session_started": "开始学习课程章节",
    "cpe.lesson_completed": "学完课程章节",
})

CENTS = Decimal("0.01")
RATE_SLACK = Decimal("0.01")  # a player reporting 1.2500001 is at 1.25


class LearningRefused(DomainError):
    """The server did not believe a heartbeat or a 学完本节 (409): ``kind`` (RefusalKind) and the reason."""

    def __init__(self, kind: str, message: str, *, standing: Standing | None = None):
        super().__init__({"detail": [message]}, status_code=409)
        self.kind = kind
        self.standing = standing


@dataclasses.dataclass(frozen=True)
class Standing:
    """Where a person stands in a lesson after a start or a beat: what the page shows and sends next."""

    progress: LessonProgress
    required: int
    session: LearningSession | None = None

    @property
    def credited(self) -> int:
        return int(self.progress.credited_seconds)

    @property
    def remaining(self) -> int:
        return max(self.required - self.credited, 0)

    @property
    def completed(self) -> bool:
        return self.progress.completed_at is not None


def _key() -> str:
    return secrets.token_urlsafe(24)


def _seconds(value) -> Decimal:
    return Decimal(value).quantize(CENTS)


def _progress(person, lesson: Lesson, *, create: bool) -> tuple[LessonProgress | None, object]:
    archive = _collected_archive(person, lock=True)  # lock: one person's learning writes, one at a time
    enrolment = _enrolment(archive, lesson.course)
    _check_learnable(enrolment.course)
    if create:
        progress, _created = LessonProgress.objects.get_or_create(enrolment=enrolment, lesson=lesson)
    else:
        progress = LessonProgress.objects.filter(enrolment=enrolment, lesson=lesson).first()
    return progress, archive


@transaction.atomic
def session_start(*, person, lesson: Lesson, playing: bool = False, ip: str | None = None, user_agent: str = "",
                  now: dt.datetime | None = None) -> Standing:
    """Begin learning ``lesson`` here (开始学习): this becomes the person's one active session (R-CE-8).

    Any other active session of the person ends (``superseded``). ``playing`` says whether the time from
    now counts (the video plays, the text page is visible). ``now`` is the server's clock; only the demo,
    replaying a learner's recorded sitting, passes another.
    """
    now = now or timezone.now()
    progress, archive = _progress(person, lesson, create=True)
    active = list(LearningSession.objects.select_for_update().filter(archive=archive, ended_at__isnull=True)
                  .values_list("pk", flat=True))
    LearningSession.objects.filter(pk__in=active).update(ended_at=now, end_reason=LearningSession.End.SUPERSEDED)
    session = LearningSession.objects.create(
        archive=archive, progress=progress, key=_key(), nonce=_key(), playing=bool(playing), started_at=now,
        last_beat_at=now, ip_address=ip, user_agent=(user_agent or "")[:200])
    record_event(progress.enrolment, "cpe.learning_session_started", by=person, ip=ip, extra={
        "lesson": lesson.pk, "session": session.pk, "superseded": active,
        "credited_seconds": str(progress.credited_seconds), "position": str(progress.position)})
    return Standing(progress, required_seconds(lesson), session)


@dataclasses.dataclass(frozen=True)
class Beat:
    """One heartbeat as the browser sent it (the API parsed the types)."""

    key: str
    seq: int
    nonce: str
    position: Decimal  # seconds into the media (0 for a text)
    rate: Decimal  # playback rate (1 for a text)
    playing: bool  # the media plays (a text: the page is visible) from now on


def _chain_refusal(session: LearningSession | None, lesson: Lesson, beat: Beat) -> tuple[str, str] | None:
    """Whether ``beat`` belongs to the session's chain: (kind, reason) if not."""
    if session is None or session.progress.lesson_id != lesson.pk:
        return RefusalKind.FORGED, "进度记录无效：学习会话不存在或不属于本节课程，不予接受。请刷新页面后继续学习。"
    if session.ended_at is not None:
        return RefusalKind.TWO_LESSONS, ("您已在其他页面或设备上开始学习（同一时间只能学习一节课程），"
                                         "本页面已停止计时。如需在本页面继续学习，请刷新页面。")
    if beat.seq <= session.seq:
        return RefusalKind.REPLAYED, f"第{beat.seq}条进度记录已经提交过（重复或过期的记录），不予接受。"
    if beat.seq > session.seq + 1:
        return RefusalKind.OUT_OF_ORDER, (f"进度记录顺序错乱：应为第{session.seq + 1}条，收到第{beat.seq}条，"
                                          "不予接受。")
    if not secrets.compare_digest(str(beat.nonce).encode(), session.nonce.encode()):
        return RefusalKind.FORGED, "进度记录校验失败（校验码不符），不予接受。"
    return None


def _credit(session: LearningSession, beat: Beat, now: dt.datetime,
            policy: LearningPolicy) -> tuple[str, str] | None:
    """Credit the interval since the last accepted beat to the progress (in memory), or say why not."""
    progress, lesson = session.progress, session.progress.lesson
    elapsed = _seconds(max((now - session.last_beat_at).total_seconds(), 0))
    if lesson.kind != LessonKind.VIDEO:  # a text or a PDF: visible time, two intervals at most
        earned = min(elapsed, Decimal(2 * policy.heartbeat_seconds)) if session.playing else Decimal(0)
        progress.credited_seconds += earned
        return None
    cap = policy.max_playback_rate
    if beat.rate > cap + RATE_SLACK:
        return RefusalKind.TOO_FAST, (f"播放速度{plain(beat.rate)}倍超过上限{plain(cap)}倍，"
                                      f"本段不计学习时长：请调回{plain(cap)}倍速及以下后继续。")
    length = lesson.media_seconds or Decimal(lesson.duration_seconds)
    budget = _seconds(elapsed * cap) if session.playing else Decimal(0)
    tolerance = Decimal(policy.seek_tolerance_seconds)
    if beat.position > length + tolerance:
        return RefusalKind.FORGED, f"播放位置{clock(beat.position)}超出视频时长{clock(length)}，不予接受。"
    if beat.position > progress.furthest + budget + tolerance:
        return RefusalKind.SEEK_AHEAD, (f"不能跳过未观看的内容：您已观看到{clock(progress.furthest)}，"
                                        f"请从该处继续播放。")
    earned = min(max(beat.position - progress.furthest, Decimal(0)), budget)
    progress.furthest += earned
    progress.credited_seconds += earned
    progress.position = min(beat.position, length)
    return None


def _refuse(*, archive, lesson: Lesson, session: LearningSession | None, kind: str, reason: str, detail: dict,
            ip: str | None) -> None:
    LearningRefusal.objects.create(archive=archive, lesson=lesson, session=session, kind=kind, reason=reason,
                                   detail=detail, ip_address=ip)


def _complete(progress: LessonProgress, required: int, now: dt.datetime, *, by, via: str) -> None:
    if progress.completed_at is None and progress.credited_seconds >= required:
        progress.completed_at = now
        record_event(progress.enrolment, "cpe.lesson_completed", by=by, extra={
            "lesson": progress.lesson_id, "credited_seconds": str(progress.credited_seconds),
            "required_seconds": required, "via": via})


def heartbeat(*, person, lesson: Lesson, beat: Beat, ip: str | None = None,
              now: dt.datetime | None = None) -> Standing:
    """Accept one heartbeat of the person's active session, or refuse it with its reason (R-CE-8)."""
    now = now or timezone.now()
    with transaction.atomic():
        archive = learner_archive(person)
        session = (LearningSession.objects.select_for_update(of=("self",))
                   .select_related("progress__lesson", "progress__enrolment__course__year",
                                   "progress__enrolment__course__institution")
                   .filter(key=str(beat.key)[:40], archive=archive).first()) if archive else None
        refusal = _chain_refusal(session, lesson, beat)
        if refusal is None:
            _check_learnable(session.progress.enrolment.course)
            policy = learning_policy()
            refusal = _credit(session, beat, now, policy)
        if refusal is None:
            return _accept(session, beat, now, policy, person)
        kind, reason = refusal
        if archive is not None:
            _refuse(archive=archive, lesson=lesson, session=session, kind=kind, reason=reason, ip=ip, detail={
                "seq": beat.seq, "expected_seq": session.seq + 1 if session else None,
                "position": str(beat.position), "rate": str(beat.rate), "playing": beat.playing,
                "furthest": str(session.progress.furthest) if session else None,
                "elapsed": round((now - session.last_beat_at).total_seconds(), 2) if session else None})
    standing = Standing(session.progress, required_seconds(lesson), session) if session else None
    raise LearningRefused(kind, reason, standing=standing)


def _accept(session: LearningSession, beat: Beat, now: dt.datetime, policy: LearningPolicy, person) -> Standing:
    progress = session.progress
    required = required_seconds(progress.lesson, policy)
    progress.updated_at = now
    _complete(progress, required, now, by=person, via="heartbeat")
    progress.save(update_fields=["credited_seconds", "furthest", "position", "updated_at", "completed_at"])
    session.seq, session.nonce, session.last_beat_at, session.playing = beat.seq, _key(), now, bool(beat.playing)
    session.save(update_fields=["seq", "nonce", "last_beat_at", "playing"])
    return Standing(progress, required, session)


def lesson_complete(*, person, lesson: Lesson, ip: str | None = None,
                    now: dt.datetime | None = None) -> LessonProgress:
    """学完本节: the lesson is learned once its credited time reaches the required time; before that, refused
    with the time still needed (R-CE-8). Doing it again changes nothing."""
    now = now or timezone.now()
    with transaction.atomic():
        progress, archive = _progress(person, lesson, create=False)
        if progress is not None and progress.completed_at is not None:
            return progress
        required = required_seconds(lesson)
        learned = progress.credited_seconds if progress else Decimal(0)
        if progress is not None and learned >= required:  # e.g. the completion ratio was lowered since
            _complete(progress, required, now, by=person, via="button")
            progress.save(update_fields=["completed_at"])
            return progress
        reason = (f"本节需学满{in_words(required)}，您已学习{in_words(learned)}，还需学习"
                  f"{in_words(required - learned)}，暂不能完成。")
        _refuse(archive=archive, lesson=lesson, session=None, kind=RefusalKind.TOO_EARLY, reason=reason, ip=ip,
                detail={"credited_seconds": str(learned), "required_seconds": required})
    raise LearningRefused(RefusalKind.TOO_EARLY, reason,
                          standing=Standing(progress, required) if progress is not None else None)
