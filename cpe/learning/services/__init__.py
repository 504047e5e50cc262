"""Writes of online learning (网络学习), R-CE-2, R-CE-6…8, R-CE-12, R-CE-14: one module per part.

- :mod:`.courses`: enrolling, the end-of-course test (papers drawn from the bank), automatic registration;
- :mod:`.progress`: learning time the server believes (sessions, heartbeats, refusals, 学完本节);
- :mod:`.content`: the institutions' courses, lessons (probed media) and question banks; the timing policy.

Everything is importable from here (``from cpe.learning import services``).
"""

from cpe.learning.services.content import (
    course_save,
    learning_policy_save,
    lesson_save,
    question_add,
    question_retire,
)
from cpe.learning.services.courses import (
    LESSONS_FIRST,
    NO_QUESTIONS,
    TestResult,
    course_enrol,
    online_credits_register,
    paper_questions,
    register_pending_before_close,
    score_of,
    test_paper,
    test_submit,
)
from cpe.learning.services.progress import (
    Beat,
    LearningRefused,
    Standing,
    heartbeat,
    lesson_complete,
    session_start,
)

__all__ = [
    "LESSONS_FIRST", "NO_QUESTIONS", "Beat", "LearningRefused", "Standing", "TestResult", "course_enrol",
    "course_save", "heartbeat", "learning_policy_save", "lesson_complete", "lesson_save", "online_credits_register",
    "paper_questions", "question_add", "question_retire", "register_pending_before_close", "score_of",
    "session_start", "test_paper", "test_submit",
]
