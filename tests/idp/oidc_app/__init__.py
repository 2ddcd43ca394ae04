"""A small OpenID Connect provider built on Authlib's authorization server: the OIDC test IdP.

Started by `tests.idp.fixtures.oidc_provider` in a subprocess (gunicorn, loopback only); nothing
in the application imports it. Authlib does the protocol (authorization code grant, PKCE,
nonce, id_token signing, userinfo, RP-initiated logout); this package only stores clients, users
and codes (SQLite, with Authlib's SQLAlchemy mixins) and shows the login form.
"""
