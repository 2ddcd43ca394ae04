"""The attributes the test CAS server releases for a user, kept beside Django's own user table."""

from django.conf import settings
from django.db import models


class ReleasedAttributes(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    values = models.JSONField(default=dict)

    class Meta:
        app_label = "cas_project"
