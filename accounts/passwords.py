"""Passwords an attacker would try first, in the Chinese context (docs/security.md, item 13).

Django's validators know English words and the length and classes rules know nothing of us: they let
``Kjzx@2026``, ``Caizheng@2026``, ``Zhangwei@1990`` for 张伟 born in 1990, ``Qwer1234!`` and the demo's
published password through. :class:`GuessablePasswordValidator` refuses

- the demo password (printed by ``load_demo`` and the README) and the common passwords of Chinese
  users (``accounts/data/common_passwords_zh.txt``), whole or with symbols added;
- any password holding the person's ID number, its last six, the birth date (YYYYMMDD, YYMMDD, MMDD)
  or the mobile number (whole or its last six);
- a password whose letters are only guessable words — the portal's and the bureau's names and their
  pinyin (kjzx, kuaiji, caizheng, shanxi, the cities of Shanxi), the person's name in pinyin and its
  initials, common pinyin and English password words, keyboard walks (qwer, asdf, 1qaz, zxcv),
  alphabet runs — and whose digits are only guessable too: at most four, a year, a date, a run
  (1234, 8888), or a common number (5201314).

It needs the user (Django passes it): registration builds an unsaved ``User`` with the name, ID and
birth date typed, so the page, the API, a password change and a reset apply the same rule.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from functools import cache
from pathlib import Path

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from pypinyin import Style, pinyin

from accounts.demo import DEMO_PASSWORD

COMMON_LIST = Path(__file__).resolve().parent / "data" / "common_passwords_zh.txt"

# The portal, the bureau, the province and its cities, as people abbreviate them.
SITE_WORDS = """
kjzx kj zx kuaiji kuaijizhixing zhixing xing kuaijiren kuaijirenyuan kjry kjgl kuaijiguanli guanli
caizheng caizhengting caizhengju czt czj cz sxcz sxczt shengcaizhengting caizhengbu
shanxi shanxisheng sx jin sheng zhengfu gov jixujiaoyu jxjy xuefen kaoshi
taiyuan datong yangquan changzhi jincheng shuozhou jinzhong yuncheng xinzhou linfen lvliang luliang
chengqu qinshui
""".split()
# Common password words: English, pinyin, and the most frequent surnames (name + birthday is the
# commonest Chinese password pattern).
COMMON_WORDS = """
password passwd pass pwd admin administrator root user test demo guest login welcome hello love iloveyou
qwerty letmein monkey dragon master sunshine princess football baseball super superman batman shadow
whatever freedom google china apple happy lucky angel baby key ok abc
woaini aini wohenaini woxihuanni laopo laogong baobei baobao qinaide xiaobao tiantian jiajia huanhuan
beibei yuanyuan dandan lili tingting yangyang feifei mingming xiaoming xiaohong xiaoqiang xiaolong
tianshi xingfu kuaile pingan shengri mima zhongguo beijing shanghai nihao aishang yongyuan yiqi qq
wang li zhang liu chen yang huang zhao wu zhou xu sun ma zhu hu guo he lin gao luo zheng liang xie song
tang han feng deng cao peng zeng xiao tian dong pan yuan cai jiang yu du ye cheng wei su lu ding ren
shen yao jin jia fu fan fang shi tan liao zou xiong qin
""".split()
KEYBOARD_ROWS = ("1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm")
KEYBOARD_COLUMNS = ("1qaz", "2wsx", "3edc", "4rfv", "5tgb", "6yhn", "7ujm", "8ik", "9ol", "0p")
ALPHABET = "abcdefghijklmnopqrstuvwxyz"
LEET = str.maketrans("@$013", "asoie")  # p@ssw0rd is password


def _runs(sequence: str, shortest: int) -> set[str]:
    """Every stretch of ``sequence`` (and of it reversed) at least ``shortest`` long."""
    found = set()
    for text in (sequence, sequence[::-1]):
        for start in range(len(text)):
            for end in range(start + shortest, len(text) + 1):
                found.add(text[start:end])
    return found


@cache
def _common() -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """(whole entries, their letter parts, their digit parts) of the committed common list."""
    lines = COMMON_LIST.read_text(encoding="utf-8").splitlines()
    entries = frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))
    letters = {part for entry in entries for part in re.findall(r"[a-z]+", entry) if len(part) >= 2}
    digits = {part for entry in entries for part in re.findall(r"\d+", entry) if len(part) >= 3}
    return entries, frozenset(letters), frozenset(digits)


@cache
def _weak_letter_words() -> frozenset[str]:
    walks = set()
    for row in KEYBOARD_ROWS + KEYBOARD_COLUMNS:
        walks |= _runs(re.sub(r"\d", "", row), 3)
    return frozenset(set(SITE_WORDS) | set(COMMON_WORDS) | _common()[1] | walks | _runs(ALPHABET, 3))


def _segments(text: str, is_piece) -> bool:
    """Whether ``text`` splits wholly into pieces ``is_piece`` accepts (word break, O(n²))."""
    reachable = [True] + [False] * len(text)
    for end in range(1, len(text) + 1):
        reachable[end] = any(reachable[start] and is_piece(text[start:end]) for start in range(end))
    return reachable[-1]


def _name_words(user) -> set[str]:
    """The person's name in pinyin (every reading of each character), its initials, latin name parts."""
    name = (getattr(user, "name", "") or "").strip()
    words = set(re.findall(r"[a-z]{2,}", name.lower()))
    hanzi = re.sub(r"[^\u3400-\u9fff]", "", name)
    if hanzi:
        readings = pinyin(hanzi, style=Style.NORMAL, heteronym=True, errors="ignore")
        readings = [options for options in readings if options][:6]
        words |= {reading for options in readings for reading in options}
        initials = [sorted({reading[0] for reading in options}) for options in readings]
        words |= {"".join(letters) for letters in itertools.product(*initials)}  # 曾单: cd, cs, zd, zs …
    username = getattr(user, "username", "") or ""
    words |= {part for part in re.findall(r"[a-z]+", username.lower()) if len(part) >= 2}
    return words


def _birth_date(user) -> dt.date | None:
    number = getattr(user, "id_number", "") or ""
    if re.fullmatch(r"\d{17}[\dX]", number):
        try:
            return dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
        except ValueError:
            pass
    born = getattr(user, "birth_date", None)
    return born if isinstance(born, dt.date) else None


def personal_fragments(user) -> set[str]:
    """Digit strings of the person a password must not contain."""
    fragments = set()
    number = (getattr(user, "id_number", "") or "").upper()
    if len(number) >= 6:
        fragments |= {number.lower(), number[-6:].lower()}
    born = _birth_date(user)
    if born:
        fragments |= {born.strftime("%Y%m%d"), born.strftime("%y%m%d"), born.strftime("%m%d")}
    mobile = getattr(user, "mobile", "") or ""
    if len(mobile) == 11:
        fragments |= {mobile, mobile[-6:]}
    return fragments


def _is_date(digits: str) -> bool:
    """YYYYMMDD (1900–2099), YYMMDD or MMDD naming a real day."""
    padded = {8: digits, 6: "20" + digits, 4: "2000" + digits}.get(len(digits))
    if padded is None or (len(digits) == 8 and digits[:2] not in {"19", "20"}):
        return False
    try:
        dt.datetime.strptime(padded, "%Y%m%d")
    except ValueError:
        return False
    return True


def _weak_digit_piece(piece: str, personal: set[str]) -> bool:
    if len(piece) >= 2 and len(set(piece)) == 1:
        return True  # 88, 0000
    if len(piece) >= 3 and (piece in _runs("0123456789", 3) or piece in _runs("1234567890", 3)):
        return True  # 123, 9876, 7890
    if len(piece) == 4 and piece[:2] in {"19", "20"}:
        return True  # a year
    return _is_date(piece) or piece in _common()[2] or piece in personal


def weak_digits(digits: str, personal: set[str] = frozenset()) -> bool:
    """At most four digits, or only years, dates, runs, repeats and common numbers."""
    return len(digits) <= 4 or _segments(digits, lambda piece: _weak_digit_piece(piece, personal))


def weak_letters(letters: str, extra_words: set[str] = frozenset()) -> bool:
    """At most one letter, or only guessable words (site, names, common words, walks, runs, repeats)."""
    words = _weak_letter_words() | extra_words
    return len(letters) <= 1 or _segments(
        letters, lambda piece: piece in words or (len(piece) >= 2 and len(set(piece)) == 1))


class GuessablePasswordValidator:
    """Refuses the passwords listed in this module's docstring (Chinese messages)."""

    def validate(self, password, user=None):
        lowered = (password or "").lower()
        unleet = lowered.translate(LEET)
        if lowered == DEMO_PASSWORD.lower():
            raise ValidationError(_("不能使用公开的演示密码。"), code="password_demo")
        if {lowered, re.sub(r"[^a-z0-9]", "", lowered), re.sub(r"[^a-z0-9]", "", unleet)} & _common()[0]:
            raise ValidationError(_("该密码是常见密码，很容易被猜中。"), code="password_common_zh")
        personal = personal_fragments(user)
        if any(fragment in lowered for fragment in personal):
            raise ValidationError(_("密码不能包含证件号码、出生日期或手机号码中的数字。"), code="password_personal")
        names = _name_words(user)
        letters_weak = any(weak_letters(re.sub(r"[^a-z]", "", text), names) for text in (lowered, unleet))
        if letters_weak and weak_digits(re.sub(r"\D", "", lowered), personal):
            raise ValidationError(
                _("密码由网站或单位名称、姓名拼音、常见单词、键盘序列加简单数字组成，很容易被猜中；"
                  "请加入无规律的字母和数字。"), code="password_guessable")

    def get_help_text(self):
        return _("不能使用网站或单位名称、姓名拼音、出生日期、证件号码片段、键盘序列或常见密码。")
