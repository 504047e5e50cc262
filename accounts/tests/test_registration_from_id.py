"""Registration reads sex and birth date from a resident ID number; the agreement is a real page
(R-COL-2, R-COL-3)."""

from datetime import date

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import User

pytestmark = pytest.mark.django_db

WOMAN = "140581198512310022"  # born 1985-12-31, 17th digit even
MAN = "11010519491231029X"  # born 1949-12-31, 17th digit odd; an X check character


def page_data(**overrides):
    data = {"name": "刘敏", "id_type": "resident_id", "id_number": WOMAN, "mobile": "13812345678",
            "password": "Hq7#vTz2mK", "password2": "Hq7#vTz2mK", "agree": "on"}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def api_data(**overrides):
    data = page_data(**overrides)
    data.pop("password2")
    data.pop("agree")
    return data


def test_the_page_registers_a_resident_id_without_sex_or_birth_date(client):
    """Neither is asked for a resident ID: both come from the number (R-COL-3)."""
    response = client.post(reverse("accounts:register"), page_data(), follow=True)
    assert response.redirect_chain[-1][0] == reverse("accounts:home")
    user = User.objects.get(id_number=WOMAN)
    assert (user.sex, user.birth_date) == ("F", date(1985, 12, 31))


def test_given_values_must_still_agree_with_the_number(client):
    """Sex and birth date typed anyway are checked against the number, as before (R-COL-3)."""
    response = client.post(reverse("accounts:register"), page_data(sex="M"))
    assert response.context["form"].errors["sex"] == ["性别与身份证号码（第17位）不一致。"]
    response = client.post(reverse("accounts:register"), page_data(sex="F", birth_date="1985-12-31"), follow=True)
    assert User.objects.get(id_number=WOMAN).birth_date == date(1985, 12, 31)


def test_a_wrong_number_is_the_only_message_for_a_resident_id(client):
    """A bad check digit is named; sex and birth date, which the person was not asked for, are not."""
    response = client.post(reverse("accounts:register"), page_data(id_number="140581198512310023"))
    errors = response.context["form"].errors
    assert errors["id_number"] == ["身份证号码校验位不正确，请核对后重新输入。"]
    assert "sex" not in errors and "birth_date" not in errors
    assert not User.objects.exists()


def test_other_documents_still_need_sex_and_birth_date(client):
    """A passport carries neither: both are asked for (R-COL-3)."""
    response = client.post(reverse("accounts:register"), page_data(id_type="passport", id_number="E12345678"))
    errors = response.context["form"].errors
    assert errors["sex"] == ["请选择性别。"] and errors["birth_date"] == ["请输入出生日期。"]
    client.post(reverse("accounts:register"), page_data(id_type="passport", id_number="E12345678", sex="M",
                                                        birth_date="1980-05-06"))
    assert User.objects.get(id_number="E12345678").birth_date == date(1980, 5, 6)


def test_the_register_page_says_it_reads_them_and_links_the_agreement(client):
    """The two fields say a resident ID needs neither; the consent box links both texts."""
    html = client.get(reverse("accounts:register")).content.decode()
    assert html.count("居民身份证（含港澳台居民居住证）可不填，按证件号码自动识别。") == 2
    assert f'href="{reverse("accounts:agreement")}" target="_blank" rel="noopener">《用户服务协议》</a>' in html
    assert f'href="{reverse("accounts:privacy")}" target="_blank" rel="noopener">《个人信息保护声明》</a>' in html
    assert "敏感个人信息" in html and '<script src="/static/js/register.js" defer>' in html


def test_the_api_reads_them_from_a_resident_id_and_still_refuses_a_disagreement():
    """POST /auth/register/ keeps accepting sex and birth_date (API.md), optional for a resident ID (R-COL-3)."""
    client = APIClient()
    response = client.post("/api/v1/auth/register/", api_data(id_number=MAN, name="王强"), format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["sex"] == "M" and response.json()["birth_date"] == "1949-12-31"
    response = client.post("/api/v1/auth/register/", api_data(sex="M", birth_date="1985-12-31"), format="json")
    assert response.status_code == 400 and response.json()["sex"] == ["性别与身份证号码（第17位）不一致。"]
    response = client.post("/api/v1/auth/register/", api_data(birth_date="1985-12-30"), format="json")
    assert response.status_code == 400 and "birth_date" in response.json()
    response = client.post("/api/v1/auth/register/", api_data(id_type="passport", id_number="E7654321"),
                           format="json")
    assert response.status_code == 400 and {"sex", "birth_date"} <= set(response.json())


@pytest.mark.parametrize("name, words", [
    ("accounts:agreement", ("用户服务协议", "实名注册", "如实填报", "敏感个人信息", "第二十九条", "联系我们",
                            "行政复议")),
    ("accounts:privacy", ("个人信息保护声明", "第十三条第一款第三项", "敏感个人信息", "保存期限", "撤回同意",
                          "不含证件号码和上传的文件")),
])
def test_the_agreement_and_the_privacy_statement_are_real_pages(client, name, words):
    """《用户服务协议》 and 《个人信息保护声明》 named beside the consent box are pages anyone can read
    (PIPL art. 13, 28–30)."""
    response = client.get(reverse(name))
    assert response.status_code == 200
    html = response.content.decode()
    for word in words:
        assert word in html, word
