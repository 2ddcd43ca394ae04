"""Printed documents: an A4 PDF whose text a reader (pdftotext) finds in Chinese, with the
institution on it, that fetches nothing from outside and leaves an audit row."""

from __future__ import annotations

import contextlib
import socket
import threading

from sqlalchemy import select

from campus import clock
from campus.audit import AuditEvent
from campus.documents import pdf_download
from campus.documents import render_pdf
from campus.extensions import db
from campus.models import Role
from tests.pdf import needs_poppler
from tests.pdf import pdf_info
from tests.pdf import pdf_text

pytestmark = needs_poppler

NOTICE = """{% extends "documents/base.html" %}
{% block title %}家长知情告知书{% endblock %}
{% block body %}<p>{{ line }}</p>{% endblock %}"""


def test_pdf_holds_the_chinese_text_and_the_institution_on_a4(app, campus):
    institution = campus.institution(name="新疆示范大学")
    admin = campus.staff(institution, Role.DIRECTOR)
    with app.test_request_context():
        pdf = render_pdf(
            app.jinja_env.from_string(NOTICE),
            line="学生需由监护人陪同就医。",
            institution=institution,
            generated_by=admin,
            generated_at=clock.now(),
        )
    assert pdf.startswith(b"%PDF-")
    text = pdf_text(pdf)
    assert "家长知情告知书" in text
    assert "学生需由监护人陪同就医。" in text
    assert "新疆示范大学" in text
    assert "(A4)" in pdf_info(pdf)


def test_a_url_in_a_document_is_never_fetched(app, campus):
    """A link typed into a record must not make the server call out (SSRF)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(3)
    port = listener.getsockname()[1]
    calls: list[object] = []

    def accept() -> None:
        with contextlib.suppress(TimeoutError):
            calls.append(listener.accept())

    watcher = threading.Thread(target=accept)
    watcher.start()
    institution = campus.institution()
    admin = campus.staff(institution, Role.DIRECTOR)
    page = NOTICE.replace("{{ line }}", f'<img src="http://127.0.0.1:{port}/x.png">')
    with app.test_request_context():
        pdf = render_pdf(
            app.jinja_env.from_string(page),
            institution=institution,
            generated_by=admin,
            generated_at=clock.now(),
        )
    watcher.join()
    listener.close()
    assert pdf.startswith(b"%PDF-")
    assert calls == []


def test_a_download_is_audited_before_it_is_sent(app, campus):
    institution = campus.institution()
    group = campus.class_group(campus.department(institution))
    student = campus.student(group, name="李华")
    director = campus.staff(institution, Role.DIRECTOR)
    campus.commit()
    with app.test_request_context():
        response = pdf_download(
            db.session,
            student,
            actor=director,
            document="guardian_notice",
            filename="家长知情告知书-李华.pdf",
            template=app.jinja_env.from_string(NOTICE),
            line=student.name,
            institution=institution,
            generated_by=director,
            generated_at=clock.now(),
        )
        response.direct_passthrough = False
        body = response.get_data()
    assert response.mimetype == "application/pdf"
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    assert "李华" in pdf_text(body)
    row = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "print")).one()
    assert (row.record_type, row.student_id, row.actor_id) == (
        "guardian_notice",
        student.id,
        director.id,
    )
