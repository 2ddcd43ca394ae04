"""mama-cas attribute callback: what add_user stored for the user, released to every service."""

from .models import ReleasedAttributes


def released(user, service):
    stored = ReleasedAttributes.objects.filter(user=user).first()
    return dict(stored.values) if stored else {}
