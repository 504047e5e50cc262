"""The jurisdiction tree and the one place that scopes what a user sees (R-ACL-1, R-ACL-2)."""

import pytest
from django.db import connection

from accounts.models import Region, Role, User
from accounts.scoping import can_act_in, get_scoped_or_404, regions_visible_to, scope_queryset

pytestmark = pytest.mark.django_db


def test_the_whole_shanxi_tree_is_shipped():
    """Province 14, its 11 cities and 117 county-level divisions (GB/T 2260)."""
    assert Region.objects.get(code="140000").name == "山西省"
    cities = Region.objects.filter(level="city")
    assert sorted(cities.values_list("code", flat=True)) == [f"14{n:02d}00" for n in range(1, 12)]
    assert Region.objects.filter(level="county").count() == 117
    jincheng = {r.code: r.name for r in Region.objects.get(code="140500").children.all()}
    assert jincheng == {"140502": "城区", "140521": "沁水县", "140522": "阳城县", "140524": "陵川县",
                        "140525": "泽州县", "140581": "高平市"}
    assert Region.objects.get(code="140581").full_name == "晋城市高平市"


def test_province_and_city_codes_are_also_the_jurisdictions_of_their_own_units():
    """省直 belongs to the province itself; 市直 to the city (SPEC, people and their rooms)."""
    assert Region.objects.get(code="140000").jurisdiction_label == "省直（山西省）"
    assert Region.objects.get(code="140500").jurisdiction_label == "晋城市市直"


def test_is_inside_is_one_indexed_prefix_query(django_assert_num_queries):
    """A subtree is one query on the path index, not a walk up and down the tree."""
    jincheng = Region.objects.get(code="140500")
    with django_assert_num_queries(1):
        codes = set(jincheng.subtree().values_list("code", flat=True))
    assert codes == {"140500", "140502", "140521", "140522", "140524", "140525", "140581"}
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        cursor.execute("EXPLAIN SELECT code FROM accounts_region WHERE path LIKE '140000/140500/%%'")
        plan = " ".join(row[0] for row in cursor.fetchall())
        cursor.execute("SET enable_seqscan = on")
    assert "Index" in plan and "accounts_region_path" in plan and "_like" in plan


def test_reviewers_see_exactly_their_subtree(county_reviewer, city_reviewer, other_county_reviewer, province_staff,
                                             other_city_reviewer):
    """A county reviewer sees its county; a city reviewer its city and counties; the province all (R-ACL-1)."""
    assert set(regions_visible_to(county_reviewer).values_list("code", flat=True)) == {"140502"}
    assert "140521" in regions_visible_to(city_reviewer).values_list("code", flat=True)
    assert "140105" not in regions_visible_to(city_reviewer).values_list("code", flat=True)
    assert regions_visible_to(province_staff).count() == 129
    chengqu = Region.objects.get(code="140502")
    assert can_act_in(county_reviewer, chengqu) and can_act_in(city_reviewer, chengqu)
    assert not can_act_in(other_county_reviewer, chengqu) and not can_act_in(other_city_reviewer, chengqu)


def test_scope_queryset_by_region_and_by_owner(accountant, other_accountant, county_reviewer, city_reviewer,
                                               other_county_reviewer, province_staff):
    """Staff are scoped through their region field; accountants only to what they own (R-ACL-1, R-ACL-2)."""
    staff = User.objects.exclude(role=Role.ACCOUNTANT)
    visible = {u: set(scope_queryset(staff, u, region_field="region").values_list("username", flat=True))
               for u in (county_reviewer, city_reviewer, other_county_reviewer, province_staff)}
    assert visible[county_reviewer] == {"chengqu_a"}
    assert visible[city_reviewer] == {"chengqu_a", "jincheng_a", "qinshui_a"}
    assert visible[other_county_reviewer] == {"qinshui_a"}
    assert visible[province_staff] == set(staff.values_list("username", flat=True))
    people = User.objects.all()
    assert list(scope_queryset(people, accountant, owner_field="pk")) == [accountant]
    assert not scope_queryset(people, accountant).exists()  # no owner field: nothing
    from django.http import Http404

    with pytest.raises(Http404):
        get_scoped_or_404(staff, other_county_reviewer, region_field="region", pk=county_reviewer.pk)


def test_inactive_or_anonymous_users_see_nothing(county_reviewer):
    from django.contrib.auth.models import AnonymousUser

    county_reviewer.is_active = False
    assert not scope_queryset(User.objects.all(), county_reviewer, region_field="region").exists()
    assert not scope_queryset(User.objects.all(), AnonymousUser(), region_field="region").exists()
