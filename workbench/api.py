"""GET /api/v1/stats/reviews/ and GET /api/v1/stats/cpe/{year}/ (API.md "Notifications and figures"), R-ACL-1.

Reviewers only (county, city, provincial staff; anyone else 403); the figures of the caller's own scope,
one row per region directly below it — the same rows as the dashboard and its Excel exports
(:mod:`workbench.stats`). ``?region=`` (additive) looks at a region inside the caller's scope, as the
dashboard's drill-down does; a region outside it is a 404, as is a CE year without a policy.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsReviewer
from cpe.ledger.selectors import ce_year_get
from cpe.models import CreditForm
from kjzx.workflow_api import choices_help, errors
from workbench import stats


class ReviewStatsRow(serializers.Serializer):
    region = serializers.CharField(help_text="区划代码：调用者的本级代码（市直/省直）或直接下级")
    kind = serializers.CharField(help_text="申请类别：collection、change、transfer、claim、filing…")
    open = serializers.IntegerField(help_text="待办件数")
    due_today = serializers.IntegerField(help_text="今日到期件数")
    overdue = serializers.IntegerField(help_text="逾期件数")
    on_time_rate = serializers.FloatField(allow_null=True,
                                          help_text="近12个月（含本月）办结件的按期办结率（0–1）；无办结件为null")
    p90_working_days = serializers.IntegerField(allow_null=True,
                                                help_text="近12个月（含本月）办结件办理用时的90分位（工作日）")


class CpeStatsRow(serializers.Serializer):
    region = serializers.CharField(help_text="区划代码：调用者的本级代码（市直/省直）或直接下级")
    obliged = serializers.IntegerField(help_text="应参加继续教育人数")
    completed = serializers.IntegerField(help_text="已完成人数")
    rate = serializers.FloatField(allow_null=True, help_text="完成率（0–1）；无应参加人员为null")
    credits_by_form = serializers.DictField(
        child=serializers.DecimalField(max_digits=12, decimal_places=1, coerce_to_string=True),
        help_text=choices_help("学习形式 → 学分", CreditForm))


REGION = OpenApiParameter("region", str, required=False,
                          description="区划代码：只看调用者辖区内的该属地及其下级（逐级下钻）；默认为调用者本级")


def _region(request) -> str | None:
    return (request.query_params.get("region") or "").strip() or None


class ReviewStatsView(APIView):
    permission_classes = [IsReviewer]

    @extend_schema(summary="审核办理统计", parameters=[REGION],
                   responses={200: ReviewStatsRow(many=True), **errors(401, 403, 404)})
    def get(self, request):
        rows = stats.review_stats(request.user, _region(request))
        return Response(ReviewStatsRow([row.as_dict() for row in rows], many=True).data)


class CpeStatsView(APIView):
    permission_classes = [IsReviewer]

    @extend_schema(summary="继续教育完成情况统计", parameters=[REGION],
                   responses={200: CpeStatsRow(many=True), **errors(401, 403, 404)})
    def get(self, request, year: int):
        rows = stats.cpe_stats(request.user, ce_year_get(year), _region(request))
        return Response(CpeStatsRow([row.as_dict() for row in rows], many=True).data)
