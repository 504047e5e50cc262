"""The portal's URLs plus two baselines for bench/http_bench.py, served by the same gunicorn in the same run.

- ``/bench/bare/``: a Django view returning a constant: the floor of a request through the portal's
  whole middleware stack (sessions, CSRF, second factor, audit, CSP …) on this machine.
- ``/bench/rows20/``: a 20-row table in the portal's own layout (``base.html``: navigation, notices banner,
  static files), its rows constants: what a page costs without its data.

Only ``bench.http_settings`` (``DJANGO_SETTINGS_MODULE``) routes here; production URLs never include it.
"""

from django.http import HttpResponse
from django.template import engines
from django.urls import include, path
from django.views.decorators.http import require_GET

from kjzx.urls import handler400, handler403, handler404, handler500  # noqa: F401  (the root URLconf's handlers)

ROWS20 = engines["django"].from_string("""{% extends "base.html" %}{% load i18n %}
{% block title %}基准：20行表格{% endblock %}
{% block content %}<section class="card"><h1>基准：20行表格</h1>
<table class="table"><thead><tr><th>序号</th><th>姓名</th><th>证件号码</th><th>类型</th><th>提交时间</th>
<th>状态</th></tr></thead>
<tbody>{% for row in rows %}<tr><td>{{ forloop.counter }}</td><td>{{ row.name }}</td><td>{{ row.id_number }}</td>
<td>{{ row.kind }}</td><td>{{ row.submitted_at|date:"Y-m-d H:i" }}</td>
<td><span class="status">{{ row.status }}</span></td></tr>
{% endfor %}</tbody></table></section>{% endblock %}""")


@require_GET
def bare(request):
    return HttpResponse(b"ok", content_type="text/plain")


@require_GET
def rows20(request):
    import datetime as dt

    moment = dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC)
    rows = [{"name": f"测试{n:02d}", "id_number": f"14050219900101{n:03d}X", "kind": "信息采集",
             "submitted_at": moment + dt.timedelta(hours=n), "status": "待初审"} for n in range(20)]
    return HttpResponse(ROWS20.render({"rows": rows}, request))


urlpatterns = [
    path("bench/bare/", bare),
    path("bench/rows20/", rows20),
    path("", include("kjzx.urls")),
]
