"""The portal's front door: home page with notices and entry points, notice pages, health check."""

from django.db import connection
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.forms import LoginForm
from kjzx.models import Notice


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
