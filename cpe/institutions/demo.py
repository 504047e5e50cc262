"""Demo of training institutions (演示数据：培训机构): one filed with its teacher pool, one waiting (R-CE-14).

- 晋城市会计继续教育培训中心 (login ``jigou1``, 城区) files, is approved by 城区 and keeps a teacher pool;
- 沁水县财会培训学校 (login ``jigou2``) has its filing waiting in 沁水's queue.

Everything goes through the real services, so histories and audit rows exist. Safe to load twice:
skipped when the first institution is there.
"""

from __future__ import annotations

from accounts.models import User
from accounts.validators import uscc_check_char
from cpe.institutions import services
from cpe.models import TrainingInstitution
from kjzx.workflow import workflow_transition


def _code(first17: str) -> str:
    return first17 + uscc_check_char(first17)


def load() -> str:
    users = {user.username: user for user in User.objects.filter(username__in=("jigou1", "jigou2", "chengqu1"))}
    owner, other, bureau = users.get("jigou1"), users.get("jigou2"), users.get("chengqu1")
    if owner is None or bureau is None or TrainingInstitution.objects.filter(owner=owner).exists():
        return ""
    filing = services.filing_apply(user=owner, data={
        "name": "晋城市会计继续教育培训中心", "credit_code": _code("52140502MJY0A1B2C"), "kind": "face_to_face",
        "address": "晋城市城区泽州路88号", "contact": "0356-2020888"})
    workflow_transition(filing, "approve", by=bureau)
    institution = TrainingInstitution.objects.get(owner=owner)
    teachers = (("赵明", "高级会计师", "财务会计与收入准则"), ("钱红", "注册会计师", "内部控制与风险管理"))
    for name, title, field in teachers:
        cv = f"{name}，{title}，从事{field}教学十余年。"
        services.teacher_save(user=owner, institution=institution,
                                  data={"name": name, "title": title, "field": field, "cv": cv})
    if other is not None:
        services.filing_apply(user=other, data={
            "name": "沁水县财会培训学校", "credit_code": _code("52140521MJY0C3D4E"), "kind": "face_to_face",
            "address": "沁水县龙港镇新建街12号", "contact": "0356-7020123"})
    return "jigou1：晋城市会计继续教育培训中心已备案（城区准予）；jigou2：沁水县财会培训学校备案待沁水审核"
