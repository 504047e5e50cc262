"""Test data builders shared by every app's tests (personas are fixtures in the root conftest)."""

from __future__ import annotations

from datetime import date

from accounts.models import Role, User
from accounts.validators import gb11643_check_char

PASSWORD = "Test@Pass123"


def make_id_number(address: str = "140502", born: date = date(1990, 1, 1), sequence: int = 101) -> str:
    """A valid resident ID number (GB 11643 check digit) for tests."""
    first17 = f"{address}{born:%Y%m%d}{sequence:03d}"
    return first17 + gb11643_check_char(first17)


def make_accountant(*, address="140502", born=date(1990, 1, 1), sequence=101, name="张三",
                    mobile="13800000000"):
    number = make_id_number(address, born, sequence)
    return User.objects.create_user(
        username=number, password=PASSWORD, role=Role.ACCOUNTANT, name=name, id_type="resident_id",
        id_number=number, sex="M" if sequence % 2 else "F", birth_date=born, mobile=mobile)


def make_staff(username: str, role: str, region: str) -> User:
    return User.objects.create_user(username=username, password=PASSWORD, role=role, region_id=region,
                                    name=username)
