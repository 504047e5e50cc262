"""Demo data of accounts: staff in several bureaus, accountants, notices. Safe to load twice.

:func:`logins` prints the demo logins as one aligned table: ``load_demo`` prints it last, and
``scripts/run.sh`` prints it again (``load_demo --logins``) just before it starts serving.
"""

import unicodedata
from datetime import date

from accounts import otp
from accounts.models import ADMIN_ROLES, AuthenticatorDevice, Role, User, accountant_username
from accounts.validators import gb11643_check_char
from kjzx.models import Notice

DEMO_PASSWORD = "Kjzx@2026demo"  # noqa: S105 (printed by load_demo; demo accounts only)

STAFF = [
    # (username, role, region, name)
    ("sheng", Role.PROVINCE_STAFF, "140000", "省财政厅会计处"),
    ("sheng2", Role.PROVINCE_STAFF, "140000", "省财政厅会计处 复核"),
    ("jincheng", Role.CITY_REVIEWER, "140500", "晋城市财政局"),
    ("jincheng2", Role.CITY_REVIEWER, "140500", "晋城市财政局 周复核"),
    ("chengqu1", Role.COUNTY_REVIEWER, "140502", "城区财政局 王审核"),
    ("chengqu2", Role.COUNTY_REVIEWER, "140502", "城区财政局 李复核"),
    ("qinshui1", Role.COUNTY_REVIEWER, "140521", "沁水县财政局 赵审核"),
    ("qinshui2", Role.COUNTY_REVIEWER, "140521", "沁水县财政局 钱复核"),
    ("xiaodian1", Role.COUNTY_REVIEWER, "140105", "太原市小店区财政局 孙审核"),
    ("xiaodian2", Role.COUNTY_REVIEWER, "140105", "太原市小店区财政局 吴复核"),
    ("taiyuan", Role.CITY_REVIEWER, "140100", "太原市财政局"),
    ("jigou1", Role.INSTITUTION, "140502", "晋城市会计继续教育培训中心"),
    ("jigou2", Role.INSTITUTION, "140521", "沁水县财会培训学校"),
    # 用人单位管理员: its unit (晋城市城区人民医院) is bound by employers.demo, after the archives exist.
    ("yiyuan", Role.EMPLOYER, "140502", "晋城市城区人民医院 财务科"),
    # 三权分立: the admin site's three administrators, one role each (docs/security.md).
    ("xitong", Role.SYSTEM_ADMIN, "140000", "省财政厅 系统管理员"),
    ("anquan", Role.SECURITY_ADMIN, "140000", "省财政厅 安全管理员"),
    ("shenji", Role.AUDIT_ADMIN, "140000", "省财政厅 审计管理员"),
]

# (address code, birth date, sequence, name, mobile)
ACCOUNTANTS = [
    ("140502", date(1990, 3, 15), 101, "张伟", "13800000001"),
    ("140502", date(1988, 7, 2), 202, "王芳", "13800000002"),
    ("140521", date(1992, 11, 20), 303, "李强", "13800000003"),
    ("140581", date(1985, 12, 31), 2, "刘敏", "13800000004"),
    ("140105", date(1995, 5, 8), 405, "陈杰", "13800000005"),
    ("140105", date(1993, 9, 9), 506, "杨丽", "13800000006"),
]

NOTICES = [
    ("关于做好2026年度全省会计专业技术人员继续教育工作的通知",
     "各市财政局，省直各单位：\n会计专业技术人员每年参加继续教育取得的学分不少于90学分，其中专业科目一般不少于60学分。"
     "学分登记前，应确保已在“会计之星”完成个人信息采集。\n请按规定完成当年度继续教育学习。"),
    ("山西省会计人员信息采集、变更、调转操作规程",
     "各级财政部门应在5个工作日内完成信息采集审核，在10个工作日内完成信息变更、调转审核。"
     "会计专业技术资格考试报名期间，各级财政部门应当加强审核力量，不拖拉不遗留。"),
    ("关于会计人员跨省调转业务办理的提示",
     "跨省调出前，请确认调入地已开通跨省调转业务；已在我省报名参加继续教育的，待继续教育登记确认后再申请调转。"),
]


def demo_id_number(address: str, born: date, sequence: int) -> str:
    first17 = f"{address}{born:%Y%m%d}{sequence:03d}"
    return first17 + gb11643_check_char(first17)


def load(out) -> None:
    for username, role, region, name in STAFF:
        user, created = User.objects.get_or_create(username=username, defaults={
            "role": role, "region_id": region, "name": name, "is_staff": role in ADMIN_ROLES})
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        if otp.totp_device(user) is None:  # every staff account logs in with a second factor
            otp.totp_create(user, confirmed=True)
    for address, born, sequence, name, mobile in ACCOUNTANTS:
        number = demo_id_number(address, born, sequence)
        user, created = User.objects.get_or_create(username=accountant_username(number), defaults={
            "role": Role.ACCOUNTANT, "name": name, "id_type": "resident_id", "id_number": number,
            "sex": "M" if sequence % 2 else "F", "birth_date": born, "mobile": mobile})
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
    for title, body in NOTICES:
        Notice.objects.get_or_create(title=title, defaults={"body": body})


def loaded() -> bool:
    """Whether the demo accounts are in this database (``load_demo`` ran)."""
    return User.objects.filter(username=STAFF[0][0]).exists()


def logins(out) -> None:
    """The demo logins, one aligned row each: role, login, jurisdiction, name."""
    staff = User.objects.filter(username__in=[row[0] for row in STAFF]).select_related("region__parent")
    by_username = {user.username: user for user in staff}
    rows = [("角色", "登录名", "属地", "名称")]
    for username, role, _region, name in STAFF:
        user = by_username.get(username)
        where = user.region.jurisdiction_label if user and user.region_id else ""
        admin = "（管理后台 /manage/）" if role in ADMIN_ROLES else ""
        rows.append((Role(role).label, username, where, name + admin))
    for address, born, sequence, name, _mobile in ACCOUNTANTS:
        rows.append((Role.ACCOUNTANT.label, demo_id_number(address, born, sequence), "", name))
    widths = [max(_width(row[i]) for row in rows) for i in range(3)]
    out.write(f"演示账号（密码均为 {DEMO_PASSWORD}；会计人员用身份证号登录）：")
    for row in rows:
        padded = [_pad(cell, width) for cell, width in zip(row[:3], widths, strict=True)]
        out.write("  " + "  ".join([*padded, row[3]]))
    totp_secrets(out, by_username)


def totp_secrets(out, by_username: dict) -> None:
    """Each demo staff account's TOTP secret, last, one line each: ``TOTP <username> <base32 secret>``.

    Staff log in with password and a code (accounts.otp): add the secret to an authenticator app, or,
    in the development setup, print the current code with ``bash scripts/manage.sh otp_code <username>``.
    """
    devices = {device.user_id: device for device in AuthenticatorDevice.objects.filter(
        user__in=list(by_username.values()), confirmed=True).order_by("pk")}
    order = {row[0]: index for index, row in enumerate(STAFF)}
    lines = sorted(((username, otp.totp_secret(devices[user.pk])) for username, user in by_username.items()
                    if user.pk in devices), key=lambda line: order[line[0]])
    if not lines:
        return
    out.write("工作人员登录须输入动态口令：把下列密钥（TOTP，SHA-1，30秒，6位）录入身份验证器App；"
              "开发环境下也可运行 bash scripts/manage.sh otp_code <登录名> 取得当前口令。")
    width = max(len(username) for username, _secret in lines)
    for username, secret in lines:
        out.write(f"TOTP {username:<{width}} {secret}")


def _width(text: str) -> int:
    """Columns ``text`` takes in a terminal: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))
