"""GET /api/v1/me/notifications/ and POST /api/v1/me/notifications/{id}/read/ (API.md)."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from kjzx import notifications
from kjzx.workflow_api import ERROR_PAGE_404, errors


class NotificationOutput(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    body = serializers.CharField()
    created_at = serializers.DateTimeField()
    read = serializers.BooleanField()
    link = serializers.CharField()


class NotificationPage(PageNumberPagination):
    page_size = 20

    def get_paginated_response(self, data):
        return Response({"unread": notifications.unread_count(user=self.request.user),
                         "count": self.page.paginator.count, "next": self.get_next_link(),
                         "previous": self.get_previous_link(), "results": data})


class NotificationListView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(summary="我的消息", responses={200: inline_serializer("NotificationList", {
        "unread": serializers.IntegerField(), "count": serializers.IntegerField(),
        "next": serializers.CharField(allow_null=True), "previous": serializers.CharField(allow_null=True),
        "results": NotificationOutput(many=True)}), 404: ERROR_PAGE_404})
    def get(self, request):
        paginator = NotificationPage()
        page = paginator.paginate_queryset(notifications.notification_list(user=request.user), request, view=self)
        return paginator.get_paginated_response(NotificationOutput(page, many=True).data)


class NotificationReadView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(summary="标记消息已读", request=None, responses={200: NotificationOutput, **errors(401, 404)})
    def post(self, request, pk: int):
        notification = notifications.notification_mark_read(user=request.user, notification_id=pk)
        return Response(NotificationOutput(notification).data)
