from django.urls import include
from django.urls import path

from . import admin_views

urlpatterns = [
    path("cas/", include("mama_cas.urls")),
    path("_admin/users", admin_views.add_user),
    path("_admin/ready", admin_views.ready),
]
