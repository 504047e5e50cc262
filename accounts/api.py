"""REST endpoints of accounts (API.md §1): register, token, logout, and who am I.

Tokens are django-rest-knox's: hashed, 10 hours, revoked by ``auth/logout/`` and by a password change
(kjzx/authentication.py). The doors open before one has credentials are throttled per client address
as kjzx.http.client_ip reads it, never as a client-sent X-Forwarded-For says. Staff (and accountants
who bound a device) send the current TOTP code as ``otp`` with the password (accounts.otp).
"""

from django.contrib.auth import authenticate
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import otp, services
from accounts.lockout import login_failure_count
from accounts.models import IdType, Sex
from accounts.validators import normalise_login_name
from kjzx.authentication import BearerTokenAuthentication
from kjzx.http import RegistrationThrottle, ScopedClientAddressThrottle, client_ip

# Field → messages, any field (and "detail" for a refusal that is no one field's), as kjzx.api writes them.
ERRORS = {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}},
          "example": {"id_number": ["请填写此项。"]}}


class RegisterInput(serializers.Serializer):
    id_type = serializers.ChoiceField(choices=IdType.choices)
    id_number = serializers.CharField(max_length=30)
    name = serializers.CharField(max_length=50)
    # Optional for a resident ID, whose number carries both (R-COL-3); given, they must agree with it (400).
    sex = serializers.ChoiceField(choices=Sex.choices, required=False, allow_blank=True,
                                  help_text="性别；居民身份证可不填（按证件号码识别），其他证件必填")
    birth_date = serializers.DateField(required=False, allow_null=True,
                                       help_text="出生日期；居民身份证可不填（按证件号码识别），其他证件必填")
    mobile = serializers.CharField(max_length=11)
    password = serializers.CharField(max_length=128, write_only=True, trim_whitespace=False)


class UserOutput(serializers.Serializer):
    username = serializers.CharField(source="login_name", help_text="登录名：会计人员为本人证件号码")
    name = serializers.CharField()
    role = serializers.CharField()
    role_display = serializers.CharField(source="get_role_display")
    region = serializers.CharField(source="region_id", allow_null=True)
    id_type = serializers.CharField()
    id_number = serializers.CharField(source="masked_id_number", help_text="证件号码（脱敏）")
    sex = serializers.CharField()
    birth_date = serializers.DateField(allow_null=True)


class PublicAuthView(APIView):
    """The doors used before one has credentials: open to anyone, throttled per client address."""

    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = [ScopedClientAddressThrottle]
    throttle_scope = "auth"


THROTTLED = OpenApiResponse(description="请求过于频繁，请稍后再试")


class RegisterView(PublicAuthView):
    """POST /api/v1/auth/register/: create an accountant's account (R-COL-2, R-COL-3).

    Tighter than the token call: its answer says whether an ID number is registered (docs/security.md).
    """

    throttle_classes = [RegistrationThrottle]

    @extend_schema(request=RegisterInput, responses={201: UserOutput, 400: OpenApiResponse(ERRORS), 429: THROTTLED},
                   summary="实名注册")
    def post(self, request):
        data = RegisterInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.account_register(**data.validated_data, ip=client_ip(request))
        return Response(UserOutput(user).data, status=status.HTTP_201_CREATED)


class TokenInput(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(trim_whitespace=False)
    otp = serializers.CharField(required=False, allow_blank=True, max_length=16,
                                help_text="动态口令：身份验证器App上当前的6位数字（工作人员必填；已绑定动态口令的会计人员必填）")


OTP_REQUIRED = "请提供动态口令（otp）：身份验证器App上当前的6位数字。"
OTP_NOT_BOUND = "该账号尚未绑定动态口令：请先在网页上登录并按提示绑定身份验证器App，再获取接口令牌。"
OTP_INVALID = "动态口令不正确或已使用过，请使用App上最新的6位数字。连续错误5次，账号将被锁定30分钟。"
OTP_ERROR = inline_serializer("OtpError", {
    "detail": serializers.CharField(),
    "code": serializers.ChoiceField(choices=["otp_required", "otp_invalid"]),
})


class TokenView(PublicAuthView):
    """POST /api/v1/auth/token/: a Bearer token for a user name and password (same lockout as the page)."""

    @extend_schema(request=TokenInput, summary="获取接口令牌",
                   description="令牌有效期10小时；退出登录（auth/logout/）或修改、重置密码后立即失效。",
                   responses={200: inline_serializer("TokenOutput", {
                       "token": serializers.CharField(help_text="Authorization: Bearer <token>"),
                       "expiry": serializers.DateTimeField(help_text="失效时间")}),
                              400: OpenApiResponse(ERRORS),
                              401: OpenApiResponse(OTP_ERROR, description="工作人员（及已绑定动态口令的会计人员）"
                                                   "缺少动态口令（otp_required）或动态口令错误（otp_invalid，计入登录失败次数）"),
                              429: OpenApiResponse(description="登录失败次数过多已锁定，或请求过于频繁")})
    def post(self, request):
        data = TokenInput(data=request.data)
        data.is_valid(raise_exception=True)
        username = normalise_login_name(data.validated_data["username"])
        user = authenticate(request, username=username, password=data.validated_data["password"])
        if getattr(request, "axes_locked_out", False):
            return Response({"detail": ["登录失败次数过多，账号已锁定30分钟。"]},
                            status=status.HTTP_429_TOO_MANY_REQUESTS)
        if user is None:
            return Response({"detail": ["用户名或密码不正确。"]}, status=status.HTTP_400_BAD_REQUEST)
        refused = self._second_factor(request, user, data.validated_data.get("otp") or "")
        if refused is not None:
            return refused
        token, instance = services.api_token_issue(user=user, ip=client_ip(request))
        return Response({"token": token, "expiry": serializers.DateTimeField().to_representation(instance.expiry)})


    @staticmethod
    def _second_factor(request, user, code: str) -> Response | None:
        """Staff second factor (API.md §1): a TOTP code with the password, before any token exists."""
        if not otp.otp_required(user):
            return None
        if not code.strip():
            detail = OTP_REQUIRED if otp.otp_enrolled(user) else OTP_NOT_BOUND
            return Response({"detail": detail, "code": "otp_required"}, status=status.HTTP_401_UNAUTHORIZED)
        if otp.second_factor_verify(user=user, code=code, ip=client_ip(request), allow_recovery=False,
                                    door="api") is None:
            login_failure_count(request, user.username)  # counts towards the lockout, like a wrong password
            return Response({"detail": OTP_INVALID, "code": "otp_invalid"}, status=status.HTTP_401_UNAUTHORIZED)
        return None


class LogoutView(APIView):
    """POST /api/v1/auth/logout/: the token of this request stops working (退出登录)."""

    authentication_classes = [BearerTokenAuthentication]
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, summary="退出登录（注销本令牌）",
                   responses={204: OpenApiResponse(description="令牌已注销"),
                              401: OpenApiResponse(description="未提供令牌，或令牌无效、已过期")})
    def post(self, request):
        services.api_token_revoke(token=request.auth, ip=client_ip(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    """GET /api/v1/me/: the caller's account."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: UserOutput}, summary="当前用户")
    def get(self, request):
        return Response(UserOutput(request.user).data)
