"""Sign-in, language, home and the administrator's structure, user and roster pages."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from flask import Blueprint
from flask import Response
from flask import abort
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_babel import pgettext
from flask_login import current_user
from flask_login import login_required
from flask_login import login_user
from flask_login import logout_user
from sqlalchemy import and_
from sqlalchemy import func
from sqlalchemy import select

from campus import acting_for
from campus import admin
from campus import auth
from campus import clock
from campus import first_week
from campus import holdings
from campus import mfa
from campus import nav
from campus import profile
from campus import roster
from campus import signon
from campus import staffing
from campus import structure as structure_rules
from campus import workbench
from campus.centre_phone import on_duty_phone
from campus.extensions import db
from campus.extensions import limiter
from campus.extensions import login_manager
from campus.forms import SCOPE_HINTS
from campus.forms import SCOPE_MISSING
from campus.forms import SCOPE_WORDS
from campus.forms import BreakGlassForm
from campus.forms import ChangePasswordForm
from campus.forms import ClassForm
from campus.forms import DepartmentForm
from campus.forms import DormRoomsForm
from campus.forms import FirstPasswordForm
from campus.forms import LoginForm
from campus.forms import PhoneForm
from campus.forms import RenameForm
from campus.forms import RoleAssignmentForm
from campus.forms import RoleUntilForm
from campus.forms import RosterImportForm
from campus.forms import StaffForm
from campus.forms import add_error
from campus.forms import filled
from campus.forms import role_choices
from campus.i18n import N_
from campus.i18n import choose_language
from campus.i18n import refusal_text
from campus.models import ROLE_SCOPE
from campus.models import Caseload
from campus.models import Department
from campus.models import DormBuilding
from campus.models import DormRoom
from campus.models import EnrolmentStatus
from campus.models import Institution
from campus.models import Role
from campus.models import RoleAssignment
from campus.models import Student
from campus.models import User
from campus.outcomes import Refused
from campus.outcomes import flash_outcome
from campus.outcomes import made_or_refused_under
from campus.permissions import require_roles
from campus.redirects import safe_next
from campus.scope import Capability
from campus.scope import get_student
from campus.scope import grant_break_glass
from campus.scope import student_filter
from campus.sign_in_steps import await_second_step
from campus.sign_in_steps import browser_signed_in
from campus.sign_in_steps import landing_page
from campus.sign_in_steps import remember_return_to
from campus.sign_in_steps import session_replaced
from campus.sign_in_steps import takes_guesses
from campus.spreadsheets import ImportFileError
from campus.spreadsheets import send_template

bp = Blueprint("campus", __name__)


@login_manager.user_loader
def _load_user(token: str) -> User | None:
    return auth.load_session_user(db.session, token, current_app.config["SESSION_IDLE_MINUTES"])


@bp.before_app_request
def _force_password_change() -> ResponseReturnValue | None:
    allowed = {
        "campus.change_password",
        "campus.logout",
        "campus.set_language",
        "static",
        "two_factor.recovery_codes",  # shown once, right after setting an app up: first
    }
    if (
        current_user.is_authenticated
        and current_user.must_change_password
        and request.endpoint not in allowed
    ):
        return redirect(url_for("campus.change_password"))
    return None


@bp.after_app_request
def _no_store(response: Response) -> Response:
    """Pages show answers, scores, notes, referrals, one-time passwords and exports: none may be
    kept by a browser or proxy cache for the next person at a shared computer. Static assets
    hold nothing personal and stay cacheable."""
    if request.endpoint != "static":
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/login", methods=["GET", "POST"])
@takes_guesses
def login() -> ResponseReturnValue:
    form = LoginForm()
    institution = _login_institution()
    if not form.is_submitted():
        remember_return_to(request.args.get("next"))
        if institution is not None:
            form.institution.data = institution.code
    if form.validate_on_submit():
        user = auth.authenticate(
            db.session, filled(form.institution), filled(form.login), filled(form.password)
        )
        if user is None:
            flash(_("Institution, number or password is wrong."), "error")
            return _login_page(form, institution), 401
        # Campus sign-on passes whether its identity provider enforces MFA; a password does not.
        step = mfa.second_step(db.session, user, idp_enforces_mfa=False)
        if step is not None:
            return await_second_step(user, step, filled(form.institution))
        auth.start_session(
            db.session,
            user,
            request.remote_addr,
            replacing=session_replaced(),
        )
        browser_signed_in(user)
        return redirect(landing_page())
    return _login_page(form, institution)


def _login_institution() -> Institution | None:
    """The institution the sign-in page is for: named in the link (`?institution=XJU`, the
    address a campus puts on its portal), else the only university this server serves."""
    code = request.args.get("institution", "").strip()[:32]
    if code:
        return signon.institution_by_code(db.session, code)
    return signon.only_university(db.session)


def _login_page(form: LoginForm, institution: Institution | None) -> str:
    """The password form where the institution allows passwords, and the campus sign-on's link
    where it has one switched on."""
    sign_on_link = None
    if institution is not None and signon.enabled_sign_on(db.session, institution):
        sign_on_link = url_for("signon.start", code=institution.code)
    return render_template(
        "campus/login.html",
        form=form,
        sign_on_link=sign_on_link,
        passwords=institution is None or institution.local_passwords,
    )


@bp.route("/logout", methods=["POST"])
@login_required
def logout() -> ResponseReturnValue:
    protocol = session.get("signed_in_with")
    id_token = session.get("id_token")
    institution = current_user.institution
    auth.end_session(db.session, current_user.session_token)
    logout_user()
    session.clear()
    flash(_("You have signed out."), "info")
    leave_through = _campus_logout(institution, protocol, id_token)
    if leave_through is None:
        return redirect(url_for("campus.login"))
    # A page, not a redirect: the browser follows a redirect after a form only to our own
    # origin (CSP form-action 'self'); a refresh from a page is an ordinary navigation.
    return render_template("campus/signing_out.html", leave_through=leave_through)


def _campus_logout(institution: Institution, protocol: object, id_token: object) -> str | None:
    """Where the browser ends its campus sign-on too, for a session the campus sign-on started
    (None otherwise, or when the campus service cannot be reached)."""
    config = signon.enabled_sign_on(db.session, institution)
    if config is None or protocol != config.protocol.value:
        return None
    return_to = url_for("campus.login", institution=institution.code, _external=True)
    try:
        return signon.logout_url(
            config,
            id_token if isinstance(id_token, str) else None,
            return_to,
            float(current_app.config["SIGN_ON_TIMEOUT_SECONDS"]),
        )
    except signon.SignOnFailed:
        flash(_("The campus sign-on could not be reached: you may still be signed in there."))
        return None


def _password_key() -> str:
    """Throttle guesses at the current password by account, like sign-in: a borrowed or stolen
    session must not become a way to find the password out and keep the account."""
    return f"password:{getattr(current_user, 'id', None)}"


@bp.route("/password", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_RATE_LIMIT"], key_func=_password_key, methods=["POST"]
)
@login_required
def change_password() -> ResponseReturnValue:
    user = current_user._get_current_object()
    # Signed in with an activation code: there is no password yet to confirm.
    first = user.password_hash is None
    form = FirstPasswordForm() if first else ChangePasswordForm()
    if form.validate_on_submit():
        if isinstance(form, ChangePasswordForm) and not auth.verify_password(
            user, filled(form.current)
        ):
            add_error(form.current, _("The current password is wrong."))
        else:
            auth.change_password(db.session, user, filled(form.new), request.remote_addr)
            login_user(user)  # the cookie now names the fresh session
            flash(
                _("Your password is set.") if first else _("Your password has been changed."),
                "success",
            )
            return redirect(url_for("campus.home"))
    return render_template("campus/change_password.html", form=form, first=first)


@bp.route("/language/<code>", methods=["POST"])
def set_language(code: str) -> ResponseReturnValue:
    if code not in current_app.config["LANGUAGES"]:
        abort(404)
    choose_language(code)
    return redirect(safe_next(request.form.get("next")) or url_for("campus.home"))


@bp.route("/")
def home() -> ResponseReturnValue:
    if not current_user.is_authenticated:
        return redirect(url_for("campus.login"))
    now = clock.now()
    items = workbench.items_for(current_app, db.session, current_user, now)
    held = current_user.assignments(Role.STUDENT)
    return render_template(
        "campus/home.html",
        items=items,
        overview=workbench.overview_for(current_app, db.session, current_user, now),
        student_help=bool(held),
        on_duty=_students_on_duty_phone(held[0].institution_id) if held else None,
        help_entries=nav.help_entries(current_app),
        first_week=first_week.checklists(current_app, db.session, current_user),
        title=home_title(),
    )


def _students_on_duty_phone(institution_id: int) -> str | None:
    """For a student, the centre's on-duty phone to show under "Where to get help" (None where
    the campus has none: the hotline and 120/110 are shown alone)."""
    return on_duty_phone(db.session.get(Institution, institution_id))


PEER_ROLES = nav.PEER_ROLES


def home_title() -> str:
    """A student's home page is their own page; "workbench" is a word for staff at work."""
    if _only_peer_roles():
        return pgettext("home page", "Home")
    return _("Workbench")


def _only_peer_roles() -> bool:
    return {a.role for a in current_user.roles} <= PEER_ROLES


def roster_title() -> str:
    """The roster page's name for the signed-in user. Peers are students themselves: the people on
    their list are their classmates and roommates, not "their students"."""
    if _only_peer_roles():
        return _("My classmates")
    if current_user.has_role(Role.ADMIN) and not current_user.has_role(*STUDENT_STAFF):
        return pgettext("student list", "Students")
    return _("My students")


# Roles that have students of their own (a caseload, a department): their list is "my students".
STUDENT_STAFF = frozenset(
    {Role.DEPT_COUNSELLOR, Role.DEPT_LEADER, Role.SCHOOL_COUNSELLOR, Role.DIRECTOR}
)


# What the roster list says of students in it who are not enrolled.
NOT_ENROLLED_WORDS = {
    EnrolmentStatus.ON_LEAVE: N_("%(num)s on leave"),
    EnrolmentStatus.GRADUATED: N_("%(num)s graduated"),
    EnrolmentStatus.WITHDRAWN: N_("%(num)s withdrawn"),
}


@bp.route("/students")
@require_roles(*(set(Role) - {Role.STUDENT, Role.HOSPITAL_LIAISON, Role.PROVINCE_AUDITOR}))
def students() -> ResponseReturnValue:
    """The roster in the viewer's scope. A school counsellor's caseload has its own tab, shown
    first while it holds anyone: a working day starts from the cases they took on, newest first,
    not from page 1 of the whole school by student number."""
    query = request.args.get("q", "").strip()[:50]
    page = min(max(request.args.get("page", 1, type=int), 1), 100_000)
    caseload = _caseload_size(current_user)
    show = request.args.get("show")
    if not caseload or show not in ("caseload", "all"):
        show = "caseload" if caseload else "all"
    stmt = select(Student, Caseload.since).where(student_filter(current_user, Capability.ROSTER))
    if query:
        # Part of a name or of a number: an administrator types the first digits she remembers.
        stmt = stmt.where(
            Student.name.contains(query, autoescape=True)
            | Student.student_number.contains(query, autoescape=True)
        )
    caseload_join = and_(
        Caseload.student_id == Student.id, Caseload.counsellor_id == current_user.id
    )
    if show == "caseload":
        stmt = stmt.join(Caseload, caseload_join).order_by(Caseload.since.desc())
    else:
        stmt = stmt.outerjoin(Caseload, caseload_join)
    listed = stmt.subquery()
    counted = select(listed.c.enrolment_status, func.count()).group_by(listed.c.enrolment_status)
    by_status: dict[EnrolmentStatus, int] = {
        EnrolmentStatus(status): count for status, count in db.session.execute(counted)
    }
    total = sum(by_status.values())
    size = current_app.config["PAGE_SIZE"]
    rows = db.session.execute(
        stmt.order_by(Student.student_number).limit(size).offset((page - 1) * size)
    ).all()
    return render_template(
        "campus/students.html",
        title=roster_title(),
        rows=rows,
        caseload=caseload,
        show=show,
        total=total,
        not_enrolled=_not_enrolled(by_status),
        page=page,
        size=size,
        q=query,
        accounts=current_user.has_role(Role.ADMIN),
    )


def _not_enrolled(by_status: dict[EnrolmentStatus, int]) -> list[str]:
    """How many of a list are not enrolled, by status ("1 on leave"): the list counts every
    student in scope, while the response network counts enrolled ones."""
    return [
        _(words, num=by_status[status])
        for status, words in NOT_ENROLLED_WORDS.items()
        if by_status.get(status)
    ]


def _caseload_size(user: User) -> int:
    """How many students are on `user`'s caseload (only school counsellors have one)."""
    if not user.has_role(Role.SCHOOL_COUNSELLOR):
        return 0
    counted = select(func.count()).select_from(Caseload).where(Caseload.counsellor_id == user.id)
    return db.session.scalar(counted) or 0


@bp.route("/students/<int:student_id>/break-glass", methods=["GET", "POST"])
@require_roles(Role.SCHOOL_COUNSELLOR)
def break_glass(student_id: int) -> ResponseReturnValue:
    student = get_student(
        db.session, current_user, student_id, Capability.WARNING, action="break_glass_form"
    )
    form = BreakGlassForm()
    if form.validate_on_submit():
        grant_break_glass(
            db.session,
            current_user,
            student,
            filled(form.reason),
            current_app.config["BREAK_GLASS_MINUTES"],
        )
        flash(
            _(
                "Access granted for %(minutes)s minutes and logged.",
                minutes=current_app.config["BREAK_GLASS_MINUTES"],
            ),
            "warning",
        )
        return redirect(safe_next(request.args.get("next")) or url_for("campus.students"))
    return render_template("campus/break_glass.html", form=form, student=student)


# --- administration -------------------------------------------------------------------------


@bp.route("/admin/institution")
@require_roles(Role.ADMIN)
def choose_institution() -> ResponseReturnValue:
    choices = admin.administered_institutions(db.session, current_user)
    return acting_for.institution_choice(choices, "campus.users", {})


@bp.route("/admin/structure", methods=["GET", "POST"])
@require_roles(Role.ADMIN)
def structure() -> ResponseReturnValue:
    institution = acting_for.admin_institution()
    departments = admin.departments(db.session, institution)
    dept_form = DepartmentForm(prefix="dept")
    class_form = ClassForm(prefix="cls")
    dorm_form = DormRoomsForm(prefix="dorm")
    class_form.department_id.choices = [(d.id, d.name) for d in departments]
    year = clock.now().year
    class_form.grade.choices = [(y, str(y)) for y in range(year, year - 8, -1)]
    if dept_form.submit.data and dept_form.validate_on_submit():
        _saved(admin.create_department, institution, dept_form.name.data)
        return redirect(url_for("campus.structure"))
    if class_form.submit.data and class_form.validate_on_submit():
        data = class_form.data
        _saved(admin.create_class, institution, data["department_id"], data["name"], data["grade"])
        return redirect(url_for("campus.structure"))
    if dorm_form.submit.data and dorm_form.validate_on_submit():
        added = made_or_refused_under(
            dorm_form.rooms,
            structure_rules.add_rooms,
            db.session,
            current_user,
            institution,
            filled(dorm_form.building),
            filled(dorm_form.rooms),
        )
        if added is not None:
            flash(_rooms_added(added), "success" if added.added else "warning")
            return redirect(url_for("campus.structure") + "#dorms")
    return render_template(
        "campus/structure.html",
        institution=institution,
        departments=departments,
        dept_form=dept_form,
        class_form=class_form,
        dorm_form=dorm_form,
        counts=admin.students_per_class(db.session, institution),
        buildings=structure_rules.buildings(db.session, institution),
    ), (422 if dorm_form.errors else 200)


def _rooms_added(added: structure_rules.RoomsAdded) -> str:
    said = []
    if added.added:
        said.append(
            ngettext(
                "%(num)s room added to %(building)s.",
                "%(num)s rooms added to %(building)s.",
                len(added.added),
                building=added.building.name,
            )
        )
    if added.existing:
        said.append(
            _(
                "%(building)s had these already: %(rooms)s.",
                building=added.building.name,
                rooms=pgettext("list separator", ", ").join(added.existing),
            )
        )
    return " ".join(said)


@bp.route("/admin/structure/<kind>/<int:unit_id>", methods=["GET", "POST"])
@require_roles(Role.ADMIN)
def structure_unit(kind: str, unit_id: int) -> ResponseReturnValue:
    """One department, class or dorm building: rename it, see what it holds, and remove it
    while nothing holds it (a room is shown on its building's page)."""
    institution = acting_for.admin_institution()
    unit = structure_rules.find_unit(db.session, institution, kind, unit_id) or abort(404)
    if isinstance(unit, DormRoom):
        return redirect(url_for("campus.structure_unit", kind="building", unit_id=unit.building_id))
    form = RenameForm(data={"name": unit.name} if request.method == "GET" else None)
    if form.validate_on_submit():
        renamed = flash_outcome(
            _("Renamed."),
            structure_rules.rename,
            db.session,
            current_user,
            institution,
            unit,
            filled(form.name),
        )
        if renamed:
            return redirect(url_for("campus.structure_unit", kind=kind, unit_id=unit_id))
        db.session.refresh(unit)
    also = structure_rules.uses(current_app)
    return render_template(
        "campus/structure_unit.html",
        kind=kind,
        unit=unit,
        form=form,
        students=structure_rules.students_in(db.session, unit),
        kept=structure_rules.removable(db.session, unit, also),
        classes=sorted(unit.classes, key=lambda c: c.name) if isinstance(unit, Department) else [],
        counts=admin.students_per_class(db.session, institution),
        # An empty room is offered for removal without asking every table about it first (a
        # building has hundreds); one that roles or reports still name is refused when asked.
        rooms=structure_rules.rooms_of(db.session, unit) if isinstance(unit, DormBuilding) else [],
    ), (422 if form.errors else 200)


@bp.route("/admin/structure/<kind>/<int:unit_id>/remove", methods=["POST"])
@require_roles(Role.ADMIN)
def remove_unit(kind: str, unit_id: int) -> ResponseReturnValue:
    institution = acting_for.admin_institution()
    unit = structure_rules.find_unit(db.session, institution, kind, unit_id) or abort(404)
    name = structure_rules.label(unit)
    building_id = unit.building_id if isinstance(unit, DormRoom) else None
    removed = flash_outcome(
        _("%(name)s removed.", name=name),
        structure_rules.remove,
        db.session,
        current_user,
        institution,
        unit,
        structure_rules.uses(current_app),
    )
    if building_id is not None:
        return redirect(url_for("campus.structure_unit", kind="building", unit_id=building_id))
    if removed:
        return redirect(url_for("campus.structure"))
    return redirect(url_for("campus.structure_unit", kind=kind, unit_id=unit_id))


def _saved(create: Callable[..., object], institution: Institution, *args: object) -> None:
    """Run an `admin.create_*` write and say how it went."""
    flash_outcome(_("Saved."), create, db.session, current_user, institution, *args)


@bp.route("/admin/users", methods=["GET", "POST"])
@require_roles(Role.ADMIN)
def users() -> ResponseReturnValue:
    institution = acting_for.admin_institution()
    form = StaffForm()
    if form.validate_on_submit():
        try:
            user = admin.create_staff(
                db.session,
                current_user,
                institution,
                filled(form.login),
                filled(form.name),
                form.email.data,
            )
        except Refused as refusal:
            flash(refusal.message.shown(), "error")
            return redirect(url_for("campus.users"))
        flash(_added_words(institution, user), "success")
        return redirect(url_for("campus.user_detail", user_id=user.id))
    number = request.args.get("student", "").strip()[:64]
    missing = None
    if number:
        found = admin.student_account(db.session, institution, number)
        if found is not None:
            return redirect(url_for("campus.user_detail", user_id=found.id))
        missing = _("No student of this institution has that student number.")
    staff = admin.staff_accounts(db.session, institution)
    return render_template(
        "campus/users.html", users=staff, form=form, number=number, missing=missing
    ), (404 if missing else 200)


def _added_words(institution: Institution, user: User) -> str:
    """What an administrator who has just added an account does next: an account without a
    role sees nothing, and one without a password cannot sign in (unless the campus sign-on
    lets them)."""
    if signon.enabled_sign_on(db.session, institution) is not None:
        return _(
            "%(name)s's account is added. Next: give them their role below; they sign in with "
            "the campus sign-on.",
            name=user.name,
        )
    return _(
        "%(name)s's account is added. Next: give them their role below, then issue a one-time "
        "password at the bottom of this page and hand it to them; they choose their own at the "
        "first sign-in.",
        name=user.name,
    )


@bp.route("/admin/users/<int:user_id>", methods=["GET", "POST"])
@require_roles(Role.ADMIN)
def user_detail(user_id: int) -> ResponseReturnValue:
    """An account: its roles, work phone, two-factor sign-in and password. A role is given in
    two steps, each a plain form: choose the role (`?role=`), then the scope that role is held
    over, from a list of that kind only (the departments, the student's own class or room, the
    hospitals) or none for a role of the whole institution."""
    institution = acting_for.admin_institution()
    user = admin.find_user(db.session, institution, user_id) or abort(404)
    form = RoleAssignmentForm()
    form.role.choices = role_choices(peers=user.student is not None)
    offered = {value for value, _label in form.role.choices}
    if form.validate_on_submit():
        flash_outcome(
            _("Role assigned."),
            admin.assign_role,
            db.session,
            current_user,
            institution,
            user,
            Role(form.role.data),
            form.scope_id(),
            form.until.data,
        )
        return redirect(url_for("campus.user_detail", user_id=user.id))
    asked = form.role.data if form.is_submitted() else request.args.get("role")
    chosen = Role(asked) if asked in offered else None
    if chosen is not None:
        form.role.data = chosen
    kind = ROLE_SCOPE[chosen] if chosen is not None else None
    now = clock.now()
    history = admin.role_history(db.session, user)
    return render_template(
        "campus/user_detail.html",
        user=user,
        unregistered=_unregistered_counsellor(institution, user, now),
        form=form,
        chosen=chosen,
        scope_kind=kind,
        scope_hints=SCOPE_HINTS,
        scope_missing=SCOPE_MISSING,
        scope_options=admin.scope_choices_for(db.session, institution, user, kind)
        if kind in SCOPE_WORDS
        else [],
        current=[a for a in history if a.live_at(now)],
        past=[a for a in history if not a.live_at(now)],
        today=admin.local_today(institution, now),
        phone_form=PhoneForm(formdata=None, data={"phone": user.phone}),
        has_work_phone=profile.has_work_phone(user),
        two_factor=mfa.enrolment_of(db.session, user),
        two_factor_required=mfa.required_for(db.session, user, idp_enforces_mfa=False),
    ), (422 if form.errors else 200)


def _unregistered_counsellor(
    institution: Institution, user: User, now: datetime
) -> staffing.Unregistered | None:
    """`user` as a school counsellor the staffing register does not count, if they are one: the
    page says so beside the role, with the way to add them."""
    if not user.has_role(Role.SCHOOL_COUNSELLOR):
        return None
    today = admin.local_today(institution, now)
    missing = staffing.unregistered_counsellors(db.session, institution, today)
    return next((u for u in missing if u.user.id == user.id), None)


@bp.route("/admin/users/<int:user_id>/roles/<int:assignment_id>/remove", methods=["GET", "POST"])
@require_roles(Role.ADMIN)
def remove_role(user_id: int, assignment_id: int) -> ResponseReturnValue:
    """GET: the confirm step, saying what the person still holds that ending the role lets go
    of; POST: end the role now."""
    institution = acting_for.admin_institution()
    assignment = _assignment_of(institution, user_id, assignment_id)
    if request.method == "GET":
        now = clock.now()
        if not assignment.live_at(now):
            flash(_("This role has already ended."), "error")
            return redirect(url_for("campus.user_detail", user_id=user_id))
        held = holdings.held(current_app, db.session, assignment, now)
        return render_template(
            "campus/remove_role.html",
            user=assignment.user,
            assignment=assignment,
            holdings=held,
            summary=holdings.summary(held),
        )
    flash_outcome(
        _("Role removed."), admin.remove_role, db.session, current_user, institution, assignment
    )
    return redirect(url_for("campus.user_detail", user_id=user_id))


@bp.route("/admin/users/<int:user_id>/roles/<int:assignment_id>/until", methods=["POST"])
@require_roles(Role.ADMIN)
def role_until(user_id: int, assignment_id: int) -> ResponseReturnValue:
    institution = acting_for.admin_institution()
    assignment = _assignment_of(institution, user_id, assignment_id)
    form = RoleUntilForm()
    if not form.validate_on_submit():
        flash(_("Enter the last day as a date, e.g. 2027-07-15."), "error")
        return redirect(url_for("campus.user_detail", user_id=user_id))
    flash_outcome(
        _("Last day saved."),
        admin.set_until,
        db.session,
        current_user,
        institution,
        assignment,
        form.until.data,
    )
    return redirect(url_for("campus.user_detail", user_id=user_id))


def _assignment_of(institution: Institution, user_id: int, assignment_id: int) -> RoleAssignment:
    """Assignment `assignment_id` of user `user_id` in the administrator's institution, working or
    ended; 404 for a forged id, another user's or another institution's."""
    assignment = admin.find_any_assignment(db.session, institution, assignment_id)
    if assignment is None or assignment.user_id != user_id:
        abort(404)
    return assignment


@bp.route("/admin/users/<int:user_id>/password", methods=["POST"])
@require_roles(Role.ADMIN)
def reset_password(user_id: int) -> ResponseReturnValue:
    institution = acting_for.admin_institution()
    user = admin.find_user(db.session, institution, user_id) or abort(404)
    password = auth.issue_one_time_password(db.session, current_user, user)
    return render_template("campus/one_time_password.html", user=user, password=password)


@bp.route("/admin/users/<int:user_id>/phone", methods=["POST"])
@require_roles(Role.ADMIN)
def set_phone(user_id: int) -> ResponseReturnValue:
    institution = acting_for.admin_institution()
    user = admin.find_user(db.session, institution, user_id) or abort(404)
    form = PhoneForm()
    if not form.validate_on_submit():
        flash(_("The phone number is too long."), "error")
        return redirect(url_for("campus.user_detail", user_id=user.id))
    flash_outcome(
        _("Work phone saved."), profile.set_phone, db.session, current_user, user, form.phone.data
    )
    return redirect(url_for("campus.user_detail", user_id=user.id))


@bp.route("/admin/roster", methods=["GET", "POST"])
@require_roles(Role.ADMIN)
def roster_import() -> ResponseReturnValue:
    institution = acting_for.admin_institution()
    form = RosterImportForm()
    report = None
    file_error = None
    if form.validate_on_submit():
        upload = form.file.data
        try:
            report = roster.import_file(
                db.session,
                institution,
                current_user,
                upload.filename,
                upload.read(),
                create_units=request.form.get("create_units") == "y",
                clean_rows_only=form.clean_rows_only.data,
                grade=form.grade.data,
                joining=roster.joining(current_app),
            )
        except ImportFileError as exc:
            file_error = refusal_text(exc)
    failed = file_error or form.errors or (report and not report.imported)
    return render_template(
        "campus/roster_import.html", form=form, report=report, file_error=file_error
    ), (422 if failed else 200)


@bp.route("/admin/roster/template.<fmt>")
@require_roles(Role.ADMIN)
def roster_template(fmt: str) -> ResponseReturnValue:
    """The roster to fill in, with Chinese headers and an example row (CSV or XLSX)."""
    return send_template(roster.TEMPLATE, fmt, _("roster template"), "xinqiao-roster-template")
