"""The test-only admin endpoint: the fixture adds users (with attributes) over HTTP.

Guarded by the per-run token the fixture generated; the server listens on loopback only.
"""

import hmac
import json

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.http import HttpResponse
from django.http import HttpResponseForbidden
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .models import ReleasedAttributes


@csrf_exempt
@require_POST
def add_user(request):
    token = request.headers.get("X-Idp-Admin-Token", "")
    if not hmac.compare_digest(token, settings.ADMIN_TOKEN):
        return HttpResponseForbidden("bad admin token")
    body = json.loads(request.body)
    with transaction.atomic():
        user, _ = get_user_model().objects.get_or_create(username=body["username"])
        user.set_password(body["password"])
        user.is_active = body.get("active", True)
        user.save()
        ReleasedAttributes.objects.update_or_create(
            user=user, defaults={"values": body.get("attributes", {})}
        )
    return JsonResponse({"username": user.username})


def ready(request):
    return HttpResponse("ok")
