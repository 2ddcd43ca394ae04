"""A throwaway Django project serving django-mama-cas: the CAS server of the sign-on tests.

It is started by `tests.idp.fixtures.cas_server` in a subprocess (gunicorn, loopback only) with
its settings in environment variables; nothing in the application imports it.
"""
