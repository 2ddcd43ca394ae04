"""`flask campus …`: create an institution and an administrator, set the go-live day, import a
roster, seed and list the demo, make and rotate the field-encryption keys."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from campus import audit
from campus import auth
from campus import clock
from campus import demo
from campus import encryption
from campus import roster
from campus.centre_phone import PhoneError
from campus.centre_phone import normal_phone
from campus.extensions import db
from campus.models import Institution
from campus.models import Role
from campus.models import RoleAssignment
from campus.models import User
from campus.spreadsheets import ImportFileError

campus_cli = AppGroup("campus", help="Campus structure, people and demo data.")


@campus_cli.command("create-institution")
@click.argument("code")
@click.argument("name")
@click.option("--name-en", default=None, help="The English name, for readers of the English UI.")
@click.option(
    "--on-duty-phone",
    default=None,
    help="The counselling centre's on-duty phone, given to a student in crisis (e.g. "
    "0731-88880000); its administrator can set or change it under Institution settings.",
)
def create_institution(
    code: str, name: str, name_en: str | None, on_duty_phone: str | None
) -> None:
    """Create an institution named NAME (its Chinese name) that signs in with CODE."""
    code = auth.normal_institution_code(code)
    try:
        phone = normal_phone(on_duty_phone)
    except PhoneError as refusal:
        raise click.BadParameter(str(refusal.message), param_hint="--on-duty-phone") from refusal
    db.session.add(Institution(code=code, name=name, name_en=name_en, on_duty_phone=phone))
    db.session.commit()
    click.echo(f"institution {code} created")
    if phone is None and not current_app.config.get("CENTRE_ON_DUTY_PHONE"):
        click.echo(
            "No on-duty phone: until its administrator sets one (Institution settings, "
            "/admin/settings), students in crisis are given the 24-hour hotline and 120/110 only."
        )


def _institution(institution_code: str) -> Institution:
    """The institution that signs in with `institution_code`, spelt as sign-in reads it; a
    command-line error naming the code as typed when there is none."""
    code = auth.normal_institution_code(institution_code)
    institution = db.session.scalar(select(Institution).where(Institution.code == code))
    if institution is None:
        raise click.ClickException(f"no institution {institution_code}")
    return institution


def _audit_setting(institution: Institution, action: str, detail: str) -> None:
    """Commit a change to one of `institution`'s settings with its audit row, filed under the
    institution itself: a command has no acting account to take it from."""
    audit.record_on(
        db.session, institution, actor=None, action=action, record_type="institution", detail=detail
    )
    db.session.commit()


@campus_cli.command("go-live")
@click.argument("institution_code")
@click.argument("day", type=click.DateTime(formats=["%Y-%m-%d"]))
def go_live(institution_code: str, day: datetime) -> None:
    """Set the day the institution went (or goes) live, e.g. when it moves from another system.

    Weekly reports are owed from the first week whose Monday is on or after it; the default is
    the moment the institution was created.
    """
    institution = _institution(institution_code)
    institution.live_since = clock.to_utc(day, clock.institution_zone(institution))
    _audit_setting(institution, "institution.go_live", day.date().isoformat())
    click.echo(f"{institution.code} live since {day.date().isoformat()} ({institution.timezone})")


@campus_cli.command("local-passwords")
@click.argument("institution_code")
@click.argument("state", type=click.Choice(["on", "off"]))
def local_passwords(institution_code: str, state: str) -> None:
    """Allow (on) or refuse (off) Xinqiao passwords at the institution: the way back in for its
    administrator when its campus sign-on is off or misconfigured and passwords were switched
    off on the sign-on page."""
    institution = _institution(institution_code)
    institution.local_passwords = state == "on"
    _audit_setting(institution, "institution.local_passwords", state)
    click.echo(f"{institution.code}: local passwords {state}")


@campus_cli.command("create-admin")
@click.argument("institution_code")
@click.argument("login")
@click.option("--name", default="Administrator")
@click.password_option()
def create_admin(institution_code: str, login: str, name: str, password: str) -> None:
    """Create an administrator who must change the password at first sign-in."""
    institution = _institution(institution_code)
    _, login = auth.account_key(institution.code, login)
    user = User(
        institution_id=institution.id,
        login=login,
        name=name,
        password_hash=auth.hash_password(password),
        must_change_password=True,
    )
    user.roles.append(RoleAssignment(role=Role.ADMIN, institution_id=institution.id))
    db.session.add(user)
    db.session.commit()
    click.echo(f"administrator {login} created for {institution.code}")


@campus_cli.command("import-roster")
@click.argument("institution_code")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--create-units", is_flag=True, help="Create departments, classes and dorms.")
@click.option("--clean-rows-only", is_flag=True, help="Import the clean rows even if some are bad.")
@click.option(
    "--grade",
    type=click.IntRange(1990, 2100),
    help="Year of entry for rows whose grade neither the file nor its class names show.",
)
def import_roster(
    institution_code: str, path: Path, create_units: bool, clean_rows_only: bool, grade: int | None
) -> None:
    institution = _institution(institution_code)
    try:
        report = roster.import_file(
            db.session,
            institution,
            None,
            path.name,
            path.read_bytes(),
            create_units=create_units,
            clean_rows_only=clean_rows_only,
            grade=grade,
            joining=roster.joining(current_app),
        )
    except ImportFileError as exc:
        raise click.ClickException(str(exc)) from exc
    for note in report.unused:
        click.echo(note, err=True)
    for error in report.errors:
        click.echo(f"{error.where()}: {roster.on_the_command_line(error.reason)}", err=True)
    if report.grade_missing:
        rows = ", ".join(map(str, report.grade_missing))
        click.echo(f"rows {rows} have no grade and none can be derived; give --grade.", err=True)
    if not report.imported:
        click.echo(f"{len(report.errors)} problem(s) found; nothing imported.", err=True)
        sys.exit(2)
    click.echo(
        f"imported: {report.created} created, {report.updated} updated, "
        f"{report.peers_appointed} committee member(s) and informant(s) appointed, "
        f"{report.peers_ended} such role(s) ended (the student left the unit or school), "
        f"{len(report.errors)} row problem(s) skipped"
    )
    if report.guardians_kept:
        click.echo(
            f"{len(report.guardians_kept)} guardian(s) kept as a counsellor corrected them "
            f"(the file gives another): {', '.join(report.guardians_kept)}"
        )
    for joined in report.joined:
        name = joined.named.name_in("en")
        click.echo(f"{joined.students} student(s) joined the {joined.what} {name}")


@campus_cli.command("seed-demo")
@click.option("--students", default=2000, show_default=True)
def seed_demo(students: int) -> None:
    """Create the demo university (skipped if it exists) and print the demo logins."""
    logins = demo.seed(db.session, students=students, today=clock.now().date())
    _print_logins(logins)


@campus_cli.command("demo-logins")
def demo_logins() -> None:
    _print_logins(demo.demo_logins(db.session))


def _print_logins(logins: list[demo.DemoLogin]) -> None:
    click.echo(f"Demo logins (password for all: {demo.DEMO_PASSWORD}):")
    for entry in logins:
        click.echo(f"  {entry.role:<36} institution {entry.institution:<6} login {entry.login}")
    click.echo(
        "Two-factor sign-in is off for the demo institutions; an administrator turns it on "
        "under Two-factor sign-in (/admin/two-factor)."
    )


@campus_cli.command("new-encryption-key")
def new_encryption_key() -> None:
    """Print a new field-encryption key, for the key file (docs/deploy.md, "Keys")."""
    click.echo(encryption.new_key())


def rotation_summary(counts: dict[str, int]) -> str:
    """The audit row's account of a rotation: the total, then each field that held values.

    Fields with nothing to re-encrypt are left out, so the figures that matter fit the audit
    column however many encrypted fields the schema grows; the command's output lists them all.
    """
    total = sum(counts.values())
    held = " ".join(f"{name}={n}" for name, n in counts.items() if n)
    return f"total={total} fields={len(counts)} {held}".rstrip()[:500]


@campus_cli.command("rotate-keys")
@click.option("--batch", default=500, show_default=True, help="Rows re-encrypted per commit.")
def rotate_keys(batch: int) -> None:
    """Re-encrypt every clinical field with the newest key (the first in the key file).

    Run it after putting the new key in front of the old one on every host; the app keeps serving
    meanwhile. Interrupted, it is simply run again. Only then remove the old key.
    """
    counts = encryption.rotate_all(db.session, batch=batch)
    audit.record(
        db.session,
        actor=None,
        action="rotate_keys",
        record_type="encryption",
        detail=rotation_summary(counts),
    )
    db.session.commit()
    for name, n in counts.items():
        click.echo(f"{name:<40} {n:>8} re-encrypted")
