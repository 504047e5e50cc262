"""Operations commands of API.md §3: create_staff, create_exchange_token, load_demo."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from knox.models import AuthToken

from accounts.models import Role, User
from kjzx.models import Notice

pytestmark = pytest.mark.django_db


def run(*args):
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_create_staff_makes_a_reviewer_scoped_to_a_county():
    out = run("create_staff", "--role", "county_reviewer", "--region", "140521", "--username", "qs01",
              "--password", "Strong@pass1")
    user = User.objects.get(username="qs01")
    assert (user.role, user.region_id) == (Role.COUNTY_REVIEWER, "140521")
    assert user.check_password("Strong@pass1")
    assert "140521" in out and "沁水县" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "county_reviewer", "--region", "149999"], "属地代码 149999 不存在"),
        (["--role", "county_reviewer", "--region", "140500"], "县级财政部门审核人员的属地应为县（市、区）级"),
        (["--role", "city_reviewer", "--region", "140502"], "的属地应为市级"),
        (["--role", "province_staff", "--region", "140500"], "的属地应为省级"),
    ],
)
def test_create_staff_refuses_a_region_that_does_not_fit(args, message):
    with pytest.raises(CommandError, match=message):
        run("create_staff", *args, "--username", "x1", "--password", "Strong@pass1")
    assert not User.objects.filter(username="x1").exists()


def test_create_staff_refuses_a_weak_password_and_a_taken_name(county_reviewer):
    with pytest.raises(CommandError, match="至少3类"):
        run("create_staff", "--role", "city_reviewer", "--region", "140500", "--username", "y1",
            "--password", "weakpassword")
    with pytest.raises(CommandError, match="已被使用"):
        run("create_staff", "--role", "county_reviewer", "--region", "140502", "--username",
            county_reviewer.username, "--password", "Strong@pass1")


def test_create_staff_refuses_an_unknown_role():
    with pytest.raises(CommandError):
        run("create_staff", "--role", "king", "--region", "140000", "--username", "z", "--password", "Strong@pass1")


def test_exchange_token_is_printed_once_and_authenticates(api_client):
    """The platform's token is long-lived but stored only as a digest (security issue, "API tokens")."""
    out = run("create_exchange_token", "national-platform")
    token = out.strip().splitlines()[-1]
    assert len(token) == 64
    client = User.objects.get(username="national-platform")
    assert client.role == Role.EXCHANGE_CLIENT and not client.has_usable_password()
    stored = AuthToken.objects.get(user=client)
    assert stored.expiry is None and token not in (stored.digest, stored.token_key)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert api_client.get("/api/v1/me/").json()["role"] == "exchange_client"
    with pytest.raises(CommandError, match="已被使用"):
        run("create_exchange_token", "national-platform")


def test_load_demo_builds_a_province_and_can_run_twice(client):
    out = run("load_demo")
    assert "sheng" in out and "chengqu1" in out and "演示数据已就绪" in out
    counts = (User.objects.count(), Notice.objects.count())
    run("load_demo")
    assert (User.objects.count(), Notice.objects.count()) == counts
    regions = set(User.objects.filter(role=Role.COUNTY_REVIEWER).values_list("region_id", flat=True))
    assert len(regions) >= 3
    response = client.post("/accounts/login/", {"username": "chengqu1", "password": "Kjzx@2026demo"})
    assert response.status_code == 302
