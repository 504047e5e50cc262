from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import TemplateView

from accounts import views, views_otp

app_name = "accounts"

urlpatterns = [
    path("accounts/register/", views.register, name="register"),
    # 《用户服务协议》 and 《个人信息保护声明》, named beside the consent box of the registration
    path("accounts/agreement/", TemplateView.as_view(template_name="accounts/agreement.html"), name="agreement"),
    path("accounts/privacy/", TemplateView.as_view(template_name="accounts/privacy.html"), name="privacy"),
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # The second factor: the code step of the login, first-time binding, 个人中心 → 账号安全 (accounts.otp).
    path("accounts/login/otp/", views_otp.otp_verify, name="otp_verify"),
    path("accounts/login/otp/setup/", views_otp.otp_setup, name="otp_setup"),
    path("me/security/", views_otp.security, name="security"),
    path("me/security/otp/enrol/", views_otp.security_enrol, name="security_enrol"),
    path("me/security/recovery-codes/", views_otp.security_recovery_codes, name="security_recovery_codes"),
    path("me/security/otp/remove/", views_otp.security_remove, name="security_remove"),
    path("me/", views.home, name="home"),
    path("accounts/password/", views.password_change, name="password_change"),
    path("accounts/password/reset/", views.password_reset, name="password_reset"),
    path("accounts/password/reset/confirm/", views.password_reset_confirm, name="password_reset_confirm"),
    # 审核工作台 and 统计看板 (the workbench app), keeping their names in this namespace: accounts:workbench, …
    path("", include("workbench.accounts_urls")),
]
