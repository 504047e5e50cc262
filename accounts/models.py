"""Jurisdictions (属地), users and roles (R-ACL-1, R-ACL-2, R-COL-3)."""

from binascii import unhexlify

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp.models import Device, ThrottlingMixin, TimestampMixin
from django_otp.plugins.otp_totp.models import TOTPDevice, default_key

from kjzx import crypto
from kjzx.fields import EncryptedTextField, KeyedHashField


class Region(models.Model):
    """A node of Shanxi's jurisdiction tree (GB/T 2260): the province, its 11 cities, their counties.

    The province's own code (140000) is also the jurisdiction of province-level units (省直), and a
    city's own code (e.g. 140500) that of its city-level units (市直). ``path`` lists the codes from
    the root ("140000/140500/140502/"), so "is inside" is one indexed prefix match, not a loop.
    """

    class Level(models.TextChoices):
        PROVINCE = "province", _("省")
        CITY = "city", _("市")
        COUNTY = "county", _("县（市、区）")

    code = models.CharField(_("区划代码"), max_length=6, primary_key=True)
    name = models.CharField(_("名称"), max_length=50)
    level = models.CharField(_("层级"), max_length=10, choices=Level.choices)
    parent = models.ForeignKey("self", verbose_name=_("上级"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="children")
    path = models.CharField(_("路径"), max_length=40, unique=True)

    class Meta:
        verbose_name = _("属地")
        verbose_name_plural = _("属地")
        ordering = ["code"]
        # "inside" is LIKE 'prefix%' on path: as a unique CharField it gets PostgreSQL's
        # varchar_pattern_ops "_like" index from Django, so the prefix match is an index scan.

    def __str__(self):
        return self.full_name

    @property
    def full_name(self) -> str:
        if self.level == self.Level.COUNTY and self.parent_id:
            return f"{self.parent.name}{self.name}"
        return self.name

    @property
    def jurisdiction_label(self) -> str:
        """How a bureau names this region as a place where archives are managed."""
        if self.level == self.Level.PROVINCE:
            return _("省直（%(name)s）") % {"name": self.name}
        if self.level == self.Level.CITY:
            return _("%(name)s市直") % {"name": self.name}
        return self.full_name

    def contains(self, other: "Region | None") -> bool:
        return other is not None and other.path.startswith(self.path)

    def subtree(self):
        """This region and everything below it, as one indexed prefix query."""
        return Region.objects.filter(path__startswith=self.path)


class Role(models.TextChoices):
    ACCOUNTANT = "accountant", _("会计人员")
    COUNTY_REVIEWER = "county_reviewer", _("县级财政部门审核人员")
    CITY_REVIEWER = "city_reviewer", _("市级财政部门审核人员")
    PROVINCE_STAFF = "province_staff", _("省财政厅工作人员")
    INSTITUTION = "institution", _("继续教育培训机构")
    EMPLOYER = "employer", _("用人单位管理员")
    EXCHANGE_CLIENT = "exchange_client", _("全国平台接口客户端")
    # 三权分立 (等保 8.1.4.2 d, 8.1.5): three administrators, one role each, none of them a reviewer.
    SYSTEM_ADMIN = "system_admin", _("系统管理员")
    SECURITY_ADMIN = "security_admin", _("安全管理员")
    AUDIT_ADMIN = "audit_admin", _("审计管理员")


REVIEWER_ROLES = {Role.COUNTY_REVIEWER, Role.CITY_REVIEWER, Role.PROVINCE_STAFF}
REGION_SCOPED_ROLES = REVIEWER_ROLES | {Role.INSTITUTION, Role.EMPLOYER}
ADMIN_ROLES = {Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN}
# Every account a person at a bureau, an institution, an employer or the admin site uses: a password
# alone opens none of them (the second factor, accounts.otp; docs/security.md item 16).
STAFF_ROLES = REGION_SCOPED_ROLES | ADMIN_ROLES
# The level of region each staff role must be scoped to.
ROLE_REGION_LEVEL = {
    Role.COUNTY_REVIEWER: {Region.Level.COUNTY},
    Role.CITY_REVIEWER: {Region.Level.CITY},
    Role.PROVINCE_STAFF: {Region.Level.PROVINCE},
    Role.INSTITUTION: {Region.Level.PROVINCE, Region.Level.CITY, Region.Level.COUNTY},
    Role.EMPLOYER: {Region.Level.PROVINCE, Region.Level.CITY, Region.Level.COUNTY},
    Role.SYSTEM_ADMIN: {Region.Level.PROVINCE},
    Role.SECURITY_ADMIN: {Region.Level.PROVINCE},
    Role.AUDIT_ADMIN: {Region.Level.PROVINCE},
}


class IdType(models.TextChoices):
    RESIDENT_ID = "resident_id", _("居民身份证（含港澳台居民居住证）")
    HK_MO_PERMIT = "hk_mo_permit", _("港澳居民来往内地通行证")
    TW_PERMIT = "tw_permit", _("台湾居民来往大陆通行证")
    PASSPORT = "passport", _("护照")


class Sex(models.TextChoices):
    MALE = "M", _("男")
    FEMALE = "F", _("女")


def accountant_username(id_number: str) -> str:
    """An accountant's stored user name: the blind index of the ID number (never the number itself).

    The person logs in by typing the number; :meth:`UserManager.get_by_natural_key` maps it to this.
    """
    return crypto.id_number_hash(id_number)


def login_names(typed: str) -> list[str]:
    """The stored user names a typed login name may be: a staff name as typed, or an ID number's index."""
    from accounts.validators import normalise_login_name

    name = normalise_login_name(typed)
    return [name, accountant_username(name)] if name else []


class UserManager(BaseUserManager):
    use_in_migrations = True

    def get_by_natural_key(self, username):
        """The user a typed login name names: staff by their user name, accountants by their ID number."""
        return self.get(username__in=login_names(username or ""))

    def create_user(self, username, password=None, **fields):
        if not username:
            raise ValueError("username is required")
        user = self.model(username=username, **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, username, password=None, **fields):
        """``createsuperuser`` makes the first security administrator, never an all-powerful account.

        Under 三权分立 no account holds every right (``is_superuser`` is always false, a constraint):
        the security administrator then creates the system and audit administrators (create_staff).
        """
        fields.pop("is_superuser", None)
        fields.setdefault("is_staff", True)
        fields.setdefault("role", Role.SECURITY_ADMIN)
        fields.setdefault("region_id", "140000")
        return self.create_user(username, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who logs in: an accountant (by the ID number; username = its blind index) or staff.

    The ID and mobile numbers are stored sealed (SM4-GCM, :mod:`kjzx.fields`); filters on them go through
    their keyed hashes, and the accountant's ``username`` is :func:`accountant_username` of the number.
    """

    username = models.CharField(_("用户名"), max_length=64, unique=True)
    role = models.CharField(_("角色"), max_length=20, choices=Role.choices, default=Role.ACCOUNTANT, db_index=True)
    name = models.CharField(_("姓名"), max_length=50)
    id_type = models.CharField(_("证件类型"), max_length=20, choices=IdType.choices, blank=True)
    id_number = EncryptedTextField(_("证件号码"), blank=True, hash_field="id_number_hash")
    id_number_hash = KeyedHashField(source="id_number", purpose="id_number")
    sex = models.CharField(_("性别"), max_length=1, choices=Sex.choices, blank=True)
    birth_date = models.DateField(_("出生日期"), null=True, blank=True)
    mobile = EncryptedTextField(_("手机号码"), blank=True, hash_field="mobile_hash")
    mobile_hash = KeyedHashField(source="mobile", purpose="mobile", db_index=True)
    email = models.EmailField(_("电子邮箱"), blank=True)
    region = models.ForeignKey(Region, verbose_name=_("所属属地"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="staff")
    organisation = models.CharField(_("单位名称"), max_length=200, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)
    is_staff = models.BooleanField(_("可登录管理后台"), default=False)
    date_joined = models.DateTimeField(_("注册时间"), default=timezone.now)
    # Logout and a password change end the user's other sessions at their next request, whatever the
    # session backend (kjzx.middleware.SessionLimitsMiddleware compares each session's start with this).
    sessions_valid_after = models.DateTimeField(_("会话失效时间"), null=True, blank=True, editable=False)

    objects = UserManager()

    USERNAME_FIELD = "username"
    REQUIRED_FIELDS = ["name"]

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")
        constraints = [
            # One person, one archive (R-COL-3): an ID type and number register once.
            # (through the keyed hash: the number itself is sealed, and its format is checked on input)
            models.UniqueConstraint(fields=["id_type", "id_number_hash"], condition=~Q(id_number_hash=""),
                                    name="user_unique_id_document"),
            models.CheckConstraint(condition=Q(role="accountant") | Q(role="exchange_client")
                                   | Q(region__isnull=False), name="user_staff_has_region"),
            # 三权分立: rights come from the one role (accounts.backends.RoleBackend), never from a superuser
            # flag that would hold them all.
            models.CheckConstraint(condition=Q(is_superuser=False), name="user_no_superuser"),
        ]

    def __str__(self):
        # An accountant logs in with the ID number: shown masked wherever a user is named (admin, lists).
        return f"{self.name}（{self.display_username}）" if self.name else self.display_username

    @property
    def display_username(self) -> str:
        """The login name as pages and the admin show it: an accountant's (their ID number) masked."""
        return mask_id_number(self.id_number) if self.role == Role.ACCOUNTANT else self.username

    @property
    def login_name(self) -> str:
        """What the person types to log in: an accountant's ID number, anyone else's user name."""
        return self.id_number if self.role == Role.ACCOUNTANT else self.username

    @property
    def is_admin(self) -> bool:
        """One of the three administrators of the admin site (三权分立)."""
        return self.role in ADMIN_ROLES

    @property
    def is_staff_role(self) -> bool:
        """Staff of any kind: the second factor is mandatory (accounts.otp)."""
        return self.role in STAFF_ROLES

    @property
    def is_accountant(self) -> bool:
        return self.role == Role.ACCOUNTANT

    @property
    def is_reviewer(self) -> bool:
        """County, city and provincial bureau staff: the people who work the review queues."""
        return self.role in REVIEWER_ROLES

    @property
    def is_province_staff(self) -> bool:
        return self.role == Role.PROVINCE_STAFF

    @property
    def masked_id_number(self) -> str:
        return mask_id_number(self.id_number)


def mask_id_number(number: str) -> str:
    """Show the first 3 and last 4 characters of an ID number (e.g. 140************22X)."""
    if len(number) <= 7:
        return "*" * len(number)
    return f"{number[:3]}{'*' * (len(number) - 7)}{number[-4:]}"


class SmsCode(models.Model):
    """A one-time code sent to a registered mobile (password reset). Stored hashed, short-lived."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    purpose = models.CharField(max_length=20, default="password_reset")
    code_hash = models.CharField(max_length=128)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("短信验证码")
        verbose_name_plural = _("短信验证码")
        indexes = [models.Index(fields=["user", "purpose", "-created_at"], name="smscode_user_idx")]

    def __str__(self):
        return f"{self.purpose} {self.created_at:%Y-%m-%d %H:%M}"


class StaffAccount(User):
    """Staff accounts in the admin (工作人员账号): everyone who is not an accountant (security admin)."""

    class Meta:
        proxy = True
        verbose_name = _("工作人员账号")
        verbose_name_plural = _("工作人员账号")


class AccountantAccount(User):
    """Accountants' accounts in the admin (会计人员账号), listed apart and masked: their user name is the ID."""

    class Meta:
        proxy = True
        verbose_name = _("会计人员账号")
        verbose_name_plural = _("会计人员账号")


class AuthenticatorDevice(TimestampMixin, ThrottlingMixin, Device):
    """A person's authenticator app (动态口令, TOTP as RFC 6238): django-otp's ``TOTPDevice`` with its
    secret sealed (SM4-GCM, ``kjzx.fields.EncryptedTextField``) like every personal number, so that a
    copy of the database does not carry the second factor with it; ``manage.py rotate_data_keys``
    reseals it with the rest.

    The checking is django-otp's own, borrowed rather than copied: ``verify_token`` (a code verifies
    once, its step is remembered; failures throttle), ``config_url`` (the otpauth:// URI) read the
    secret through :attr:`bin_key` only.
    """

    key = EncryptedTextField(_("密钥"), default=default_key, help_text=_("认证器应用的共享密钥，加密存储。"))
    step = models.PositiveSmallIntegerField(_("步长（秒）"), default=30)
    t0 = models.BigIntegerField(_("起始时间"), default=0)
    digits = models.PositiveSmallIntegerField(_("位数"), choices=[(6, 6), (8, 8)], default=6)
    tolerance = models.PositiveSmallIntegerField(_("容许偏差（步）"), default=1)
    drift = models.SmallIntegerField(_("时钟漂移（步）"), default=0)
    last_t = models.BigIntegerField(_("最近一次通过的步"), default=-1)

    class Meta(Device.Meta):
        verbose_name = _("动态口令设备")
        verbose_name_plural = _("动态口令设备")

    @property
    def bin_key(self) -> bytes:
        return unhexlify(self.key.encode())

    verify_token = TOTPDevice.verify_token
    get_throttle_factor = TOTPDevice.get_throttle_factor
    config_url = TOTPDevice.config_url
    _read_str_from_settings = TOTPDevice._read_str_from_settings
