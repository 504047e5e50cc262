"""REST endpoints of accounts (API.md §1): register, token, and who am I."""

from django.contrib.auth import authenticate
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from accounts import services
from accounts.models import IdType, Sex
from accounts.validators import normalise_login_name
from kjzx.http import client_ip

ERRORS = inline_serializer("FieldErrors", {"field": serializers.ListField(child=serializers.CharField())})


class RegisterInput(serializers.Serializer):
    id_type = serializers.ChoiceField(choices=IdType.choices)
    id_number = serializers.CharField(max_length=30)
    name = serializers.CharField(max_length=50)
    sex = serializers.ChoiceField(choices=Sex.choices)
    birth_date = serializers.DateField()
    mobile = serializers.CharField(max_length=11)
    password = serializers.CharField(max_length=128, write_only=True, trim_whitespace=False)


class UserOutput(serializers.Serializer):
    username = serializers.CharField()
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
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"


class RegisterView(PublicAuthView):
    """POST /api/v1/auth/register/: create an accountant's account (R-COL-2, R-COL-3)."""

    @extend_schema(request=RegisterInput, responses={201: UserOutput, 400: OpenApiResponse(ERRORS)},
                   summary="实名注册")
    def post(self, request):
        data = RegisterInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.account_register(**data.validated_data, ip=client_ip(request))
        return Response(UserOutput(user).data, status=status.HTTP_201_CREATED)


class TokenInput(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(trim_whitespace=False)


class TokenView(PublicAuthView):
    """POST /api/v1/auth/token/: a Bearer token for a user name and password (same lockout as the page)."""

    @extend_schema(request=TokenInput, summary="获取接口令牌",
                   responses={200: inline_serializer("TokenOutput", {"token": serializers.CharField()}),
                              400: OpenApiResponse(ERRORS),
                              429: OpenApiResponse(description="登录失败次数过多，已锁定")})
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
        token, _ = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})


class MeView(APIView):
    """GET /api/v1/me/: the caller's account."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: UserOutput}, summary="当前用户")
    def get(self, request):
        return Response(UserOutput(request.user).data)
