"""django-axes under its Chinese name in the admin site.

django-axes names its admin section "Axes" (AppConfig.verbose_name, not translatable); its models' and
fields' names are marked for translation and come from ``locale/zh_Hans``. Listed in INSTALLED_APPS in
place of ``"axes"``; the app label stays, so its migrations and tables are untouched. (knox, which marks
nothing for translation, is named where its admin is registered: ``accounts/admin.py``.)
"""

from axes.apps import AppConfig as AxesAppConfig


class AxesConfig(AxesAppConfig):
    verbose_name = "登录失败与锁定"
