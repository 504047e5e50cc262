"""The portal's front door (home, notices, health check) and each user's messages (我的消息, 消息设置)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.forms import LoginForm
from kjzx import notifications
from kjzx.forms import NotificationPreferenceForm
from kjzx.http import client_ip
from kjzx.models import Notice
from kjzx.sms import mask_mobile


@require_GET
def home(request):
    notices = Notice.objects.filter(is_published=True).only("id", "title", "issuer", "published_at")[:8]
    form = None if request.user.is_authenticated else LoginForm(request)
    return render(request, "home.html", {"notices": notices, "form": form})


@require_GET
def notice_detail(request, pk: int):
    notice = get_object_or_404(Notice, pk=pk, is_published=True)
    return render(request, "notice_detail.html", {"notice": notice})


@never_cache
@require_GET
def health(request):
    """Liveness for the load balancer and docker-compose: the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


@login_required
@require_GET
def notification_list_page(request):
    """我的消息: the caller's own notifications, newest first, 20 a page."""
    page = Paginator(notifications.notification_list(user=request.user), 20).get_page(request.GET.get("page"))
    return render(request, "kjzx/notifications.html", {"page": page})


@login_required
@require_POST
def notification_open(request, pk: int):
    """Mark one notification read and go where it points (only links inside the portal)."""
    notification = notifications.notification_mark_read(user=request.user, notification_id=pk)
    link = notification.link
    if not link or not url_has_allowed_host_and_scheme(link, allowed_hosts={request.get_host()}):
        link = reverse("notifications")
    return redirect(link)


@login_required
@require_POST
def notification_read_all(request):
    notifications.notification_mark_all_read(user=request.user)
    messages.success(request, _("全部消息已标为已读。"))
    return redirect("notifications")


@login_required
@require_http_methods(["GET", "POST"])
def notification_settings(request):
    """消息设置: 站内消息 always; e-mail and SMS on or off. The caller's own, nobody else's."""
    preference = notifications.preference_for(request.user)
    form = NotificationPreferenceForm(request.POST if request.method == "POST" else None,
                                      initial={"email": preference.email, "sms": preference.sms})
    if request.method == "POST" and form.is_valid():
        notifications.notification_preferences_save(user=request.user, ip=client_ip(request), **form.cleaned_data)
        messages.success(request, _("消息设置已保存。"))
        return redirect("notification_settings")
    return render(request, "kjzx/notification_settings.html", {
        "form": form, "email": request.user.email, "mobile": mask_mobile(request.user.mobile)})
