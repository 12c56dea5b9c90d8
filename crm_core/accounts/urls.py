from django.urls import path

from crm_core.accounts import admin_views, views

app_name = "accounts"

urlpatterns = [
    path("login/", views.SignInView.as_view(), name="login"),
    path("logout/", views.SignOutView.as_view(), name="logout"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("language/", views.language_switch, name="language"),
    path("notifications/", views.notification_list, name="notifications"),
    path("notifications/badge/", views.notification_badge, name="notification_badge"),
    path("notifications/<int:pk>/read/", views.notification_read, name="notification_read"),
    path("notifications/read-all/", views.notification_read_all, name="notifications_read_all"),
    # Administration
    path("users/", admin_views.user_list, name="users"),
    path("users/new/", admin_views.user_create, name="user_create"),
    path("users/<int:pk>/", admin_views.user_edit, name="user_edit"),
    path("users/<int:pk>/active/", admin_views.user_set_active, name="user_set_active"),
    path("users/<int:pk>/password/", admin_views.user_password, name="user_password"),
    path("branches/", admin_views.branch_list, name="branches"),
    path("branches/new/", admin_views.branch_create, name="branch_create"),
    path("branches/<int:pk>/", admin_views.branch_edit, name="branch_edit"),
    path("branches/<int:pk>/active/", admin_views.branch_set_active, name="branch_set_active"),
    path("departments/", admin_views.department_list, name="departments"),
    path("departments/new/", admin_views.department_create, name="department_create"),
    path("departments/<int:pk>/", admin_views.department_edit, name="department_edit"),
    path("departments/<int:pk>/active/", admin_views.department_set_active, name="department_set_active"),
    path("activity/", admin_views.activity, name="activity"),
]
