"""The expected allow/deny table for every route, and how to fill its URL parameters.

Every endpoint in the app must have an entry: a new route without one fails
`test_every_route_has_an_entry_in_the_access_table`, so access is decided on purpose.
"""

from __future__ import annotations

from werkzeug.routing import Rule

from campus.models import Role

ALL_SIGNED_IN = frozenset(Role)
PUBLIC = "public"  # anyone, signed in or not
WARNING_STAFF = frozenset(
    {Role.DEPT_COUNSELLOR, Role.DEPT_LEADER, Role.SCHOOL_COUNSELLOR, Role.DIRECTOR}
)
ADMIN = frozenset({Role.ADMIN})
SCHOOL_COUNSELLOR = frozenset({Role.SCHOOL_COUNSELLOR})
CLINICAL_READERS = frozenset({Role.SCHOOL_COUNSELLOR, Role.DIRECTOR})
DASHBOARD = frozenset({Role.ADMIN, Role.DIRECTOR})
# Crisis records: the clinical readers and the department counsellor on the scene.
CRISIS = frozenset({Role.SCHOOL_COUNSELLOR, Role.DIRECTOR, Role.DEPT_COUNSELLOR})
APPOINTERS = frozenset({Role.ADMIN, Role.DEPT_COUNSELLOR})
ROSTER_VIEWERS = ALL_SIGNED_IN - {Role.STUDENT, Role.HOSPITAL_LIAISON, Role.PROVINCE_AUDITOR}

ACCESS: dict[str, frozenset[Role] | str] = {
    "static": PUBLIC,
    "campus.login": PUBLIC,
    "campus.set_language": PUBLIC,
    "health.healthz": PUBLIC,
    # The campus sign-on's way out and back in, and the CAS server's single logout.
    "signon.start": PUBLIC,
    "signon.cas_callback": PUBLIC,
    "signon.cas_single_logout": PUBLIC,
    "signon.oidc_callback": PUBLIC,
    "signon_admin.settings": ADMIN,
    "signon_admin.test_connection": ADMIN,
    # A freshman's first sign-in with a code, and a forgotten password: before any sign-in.
    "first_sign_in.index": PUBLIC,
    "password_reset.index": PUBLIC,
    "password_reset.choose": PUBLIC,
    # Activation slips: the administrator, and the department counsellor for own classes.
    "activation.index": frozenset({Role.ADMIN, Role.DEPT_COUNSELLOR}),
    "activation.lost_slip": frozenset({Role.ADMIN, Role.DEPT_COUNSELLOR}),
    "campus.home": ALL_SIGNED_IN,
    "campus.logout": ALL_SIGNED_IN,
    "campus.change_password": ALL_SIGNED_IN,
    "account.index": ALL_SIGNED_IN,
    # Sign-in's second step: without a sign-in waiting for it, back to the sign-in page.
    "second_step.code": PUBLIC,
    "second_step.enrol": PUBLIC,
    "second_step.cancel": PUBLIC,
    "two_factor.index": ALL_SIGNED_IN,
    "two_factor.recovery_codes": ALL_SIGNED_IN,
    "two_factor.regenerate": ALL_SIGNED_IN,
    "two_factor_admin.settings": ADMIN,
    # The security world's users have no app set up: the administrator is sent back to the user.
    "two_factor_admin.reset": ADMIN,
    "campus.set_phone": ADMIN,
    # The institution's settings: the administrator; the director for the centre's phone.
    "institution_settings.index": DASHBOARD,
    "campus.students": ROSTER_VIEWERS,
    "campus.break_glass": frozenset({Role.SCHOOL_COUNSELLOR}),
    "campus.structure": ADMIN,
    "campus.structure_unit": ADMIN,
    "campus.remove_unit": ADMIN,
    "campus.users": ADMIN,
    "campus.user_detail": ADMIN,
    "campus.remove_role": ADMIN,
    "campus.role_until": ADMIN,
    # The security world has no access review: the administrator's review id is a 404.
    "access_review.index": ADMIN,
    "audit_trail.index": ADMIN,
    "access_review.open_review": ADMIN,
    "access_review.confirm": ADMIN,
    "access_review.end": ADMIN,
    "access_review.confirm_person": ADMIN,
    "campus.reset_password": ADMIN,
    "campus.roster_import": ADMIN,
    "campus.roster_template": ADMIN,
    # A student added by mistake or mistyped: removed while nothing names her, or corrected.
    "roster_corrections.remove": ADMIN,
    "roster_corrections.correct": ADMIN,
    "campus.choose_institution": ADMIN,
    # The security world has no channel: the administrator gets a 404, everyone else a 403.
    "channels.index": ADMIN,
    "channels.disable": ADMIN,
    "channels.enable": ADMIN,
    "channels.send_test": ADMIN,
    # The security world has no staffing entry: the administrator's end is a 404.
    "staffing.index": ADMIN,
    # The response network: the administrator's institution, a department counsellor's classes.
    **dict.fromkeys(("network.index", "network.unit", "network.end"), APPOINTERS),
    "staffing.end": ADMIN,
    # The inbox note belongs to the class committee member; anyone else's id is a 404.
    "inbox.index": ALL_SIGNED_IN,
    "inbox.read": frozenset({Role.CLASS_COMMITTEE}),
    "inbox.read_all": ALL_SIGNED_IN,
    # The world's warning is red, and acknowledging a red is the centre's (`actions.may_take`):
    # its form is refused to department staff as its sending is.
    "actions.act": frozenset({Role.SCHOOL_COUNSELLOR, Role.DIRECTOR}),
    "response.tasks": ALL_SIGNED_IN,
    # The task is addressed to the student's class.
    "response.task_done": frozenset({Role.CLASS_COMMITTEE}),
    "screening.mine": frozenset({Role.STUDENT}),
    "screening.resume": frozenset({Role.STUDENT}),
    "screening.consent": frozenset({Role.STUDENT}),
    "screening.take": frozenset({Role.STUDENT}),
    "screening.feedback": frozenset({Role.STUDENT}),
    "screening.support": frozenset({Role.STUDENT}),
    "screening.switch_language": frozenset({Role.STUDENT}),
    "screening.campaign_list": frozenset({Role.ADMIN, Role.SCHOOL_COUNSELLOR}),
    "screening.campaign_new": frozenset({Role.ADMIN, Role.SCHOOL_COUNSELLOR}),
    "screening.campaign_edit": frozenset({Role.ADMIN, Role.SCHOOL_COUNSELLOR}),
    "screening.campaign_detail": frozenset({Role.ADMIN, Role.SCHOOL_COUNSELLOR}),
    "screening.campaign_import": frozenset({Role.ADMIN, Role.SCHOOL_COUNSELLOR}),
    "screening.results_template": frozenset({Role.ADMIN, Role.SCHOOL_COUNSELLOR}),
    "screening.student_results": frozenset({Role.SCHOOL_COUNSELLOR, Role.DIRECTOR}),
    # A department's students yet to complete a campaign: its counsellor and leader.
    "screening.department_progress": frozenset({Role.DEPT_COUNSELLOR, Role.DEPT_LEADER}),
    # The campaign page's drill-down by class: counts only, for those who see the campaign.
    "screening.department_coverage": frozenset({Role.ADMIN, Role.SCHOOL_COUNSELLOR}),
    "warning.queue": WARNING_STAFF | ADMIN,
    "warning.student": WARNING_STAFF | ADMIN,
    "warning.override": WARNING_STAFF,
    "warning.judgement": WARNING_STAFF,
    "warning.life_event": WARNING_STAFF,
    "warning.share_out": CLINICAL_READERS,
    "help.index": frozenset({Role.STUDENT}),
    "warning.my_class": frozenset({Role.CLASS_COMMITTEE}),
    "warning.my_dorm": frozenset({Role.DORM_INFORMANT}),
    # Unit routes are filled with the student's class (kind=class).
    "warning.unit": frozenset({Role.CLASS_COMMITTEE}),
    "warning.zero_report": frozenset({Role.CLASS_COMMITTEE}),
    "warning.weekly_report": frozenset({Role.CLASS_COMMITTEE}),
    "warning.concern": frozenset({Role.CLASS_COMMITTEE}),
    # The class and dorm weekly reports, read by the department and the school centre.
    "warning.weekly_reports": WARNING_STAFF,
    "warning.unit_reports": WARNING_STAFF,
    "warning.academic_import": ADMIN,
    "warning.academic_template": ADMIN,
    "warning.policy": ADMIN,
    "warning.response_policy": ADMIN,
    "warning.policy_version": ADMIN,
    "warning.policy_simulate": ADMIN,
    "warning.policy_activate": ADMIN,
    "referrals.index": CLINICAL_READERS,
    "referrals.new": SCHOOL_COUNSELLOR,
    "referrals.detail": CLINICAL_READERS,
    "referrals.move": SCHOOL_COUNSELLOR,
    "referrals.edit": SCHOOL_COUNSELLOR,
    # The referral went to another hospital than the liaison's: the liaison may list, not open.
    "liaison.index": frozenset({Role.HOSPITAL_LIAISON}),
    "liaison.detail": frozenset(),
    "liaison.move": frozenset(),
    "hospitals.index": ADMIN,
    "closure.index": DASHBOARD,
    "closure.list": DASHBOARD,
    "closure.export": DASHBOARD,
    "leave.index": CLINICAL_READERS,
    "leave.detail": CLINICAL_READERS,
    "leave.statement": SCHOOL_COUNSELLOR,
    "leave.assessment": SCHOOL_COUNSELLOR,
    "leave.approve": SCHOOL_COUNSELLOR,
    "leave.plan_item": SCHOOL_COUNSELLOR,
    "leave.task_done": SCHOOL_COUNSELLOR,
    "leave.hand_over": SCHOOL_COUNSELLOR,
    "leave.withdraw_item": SCHOOL_COUNSELLOR,
    "leave.cancel_appointments": SCHOOL_COUNSELLOR,
    "leave.close": SCHOOL_COUNSELLOR,
    # The student file (casework): class and dorm tiers pass the guard and get the 404 of a
    # student out of their (WARNING) scope.
    "casework_file.page": WARNING_STAFF | ADMIN,
    "casework_file.pdf": WARNING_STAFF | ADMIN,
    "casework_file.new_family_contact": frozenset(
        {Role.DEPT_COUNSELLOR, Role.SCHOOL_COUNSELLOR, Role.DIRECTOR}
    ),
    # Who calls the family corrects the guardian's number: the family-contact form's writers.
    "casework_file.correct_guardian": frozenset(
        {Role.DEPT_COUNSELLOR, Role.SCHOOL_COUNSELLOR, Role.DIRECTOR}
    ),
    "casework_file.screening_report_pdf": CLINICAL_READERS,
    "family.this_month": frozenset({Role.DEPT_COUNSELLOR, Role.DEPT_LEADER, Role.DIRECTOR}),
    # The security world's campaign does not let students download the report: a 404.
    "my_reports.own_report": frozenset({Role.STUDENT}),
    "oversight.dashboard": DASHBOARD,
    "oversight.export": DASHBOARD,
    "oversight.drill": DASHBOARD,
    "oversight.drill_export": DASHBOARD,
    "oversight.province": frozenset({Role.PROVINCE_AUDITOR}),
    "oversight.province_export": frozenset({Role.PROVINCE_AUDITOR}),
    # Post-screening interviews (casework/interview_views.py). The security world has no entry:
    # an allowed role's entry pages are a 404.
    "interviews.index": CLINICAL_READERS | {Role.DEPT_COUNSELLOR},
    "interviews.assign": CLINICAL_READERS,
    "interviews.detail": CLINICAL_READERS | {Role.DEPT_COUNSELLOR},
    "interviews.schedule": CLINICAL_READERS | {Role.DEPT_COUNSELLOR},
    "interviews.outcome": CLINICAL_READERS | {Role.DEPT_COUNSELLOR},
    "interviews.mine": frozenset({Role.STUDENT}),
    # A student's own copy (privacy): only the student's own; a paper request, the director.
    "own_copy.my_copy": frozenset({Role.STUDENT}),
    "own_copy.my_copy_file": frozenset({Role.STUDENT}),
    "own_copy.paper_request": frozenset({Role.DIRECTOR}),
    "crisis.for_warning": CRISIS,
    "crisis.record": CRISIS,
    "crisis.add_entry": CRISIS,
    "crisis.generate": CRISIS,
    "crisis.document_pdf": CRISIS,
    "crisis.signature": CRISIS,
    "crisis.attach_scan": CRISIS,
    # The security world's notice has no scan: a 404 for its readers.
    "crisis.scan": CRISIS,
    "crisis.add_contagion": CRISIS,
    "crisis.follow_ups": CRISIS,
    "crisis.clear": CRISIS,
    "crisis.escalate": CRISIS,
    "crisis.settings": DASHBOARD,
    # Counselling appointments, booking (appointments/booking_views.py): the student's pages,
    # staff booking for a student, the counsellor's sessions and pre-checks. The security world
    # has no slot, appointment or pre-check: their pages are a 404 for the allowed roles.
    "booking.book_list": frozenset({Role.STUDENT}),
    "booking.book_first": frozenset({Role.STUDENT}),
    "booking.precheck": frozenset({Role.STUDENT}),
    "booking.confirmed": frozenset({Role.STUDENT}),
    "booking.mine": frozenset({Role.STUDENT}),
    "booking.book_for": frozenset({Role.SCHOOL_COUNSELLOR, Role.DIRECTOR, Role.DEPT_COUNSELLOR}),
    # Its confirm step for one time: the security world has no slot, a 404 for these roles.
    "booking.confirm_for": frozenset({Role.SCHOOL_COUNSELLOR, Role.DIRECTOR, Role.DEPT_COUNSELLOR}),
    "booking.booked": CLINICAL_READERS,
    "booking.precheck_detail": CLINICAL_READERS,
    # Printed documents (referrals/document_views.py, casework/report_views.py). The security
    # world's referral went to another hospital than the liaison's; its leave has no assessment
    # yet, so the opinion's readers are sent back to the leave with a message.
    "referral_documents.referral_form_pdf": CLINICAL_READERS,
    "liaison_documents.liaison_referral_form_pdf": frozenset(),
    "referral_documents.return_opinion_pdf": CLINICAL_READERS,
    # The whole campaign's report; a department counsellor may print only their department's.
    "batch_reports.batch_report_pdf": frozenset(
        {Role.ADMIN, Role.SCHOOL_COUNSELLOR, Role.DIRECTOR}
    ),
    # Counsellors' time and the duty roster (issue #18): a school counsellor their own, the
    # director every counsellor's (a director is sent on to the list from "my availability");
    # the academic calendar is the administrator's; every staff tier sees who is on duty.
    "availability.mine": CLINICAL_READERS,
    "availability.counsellor": CLINICAL_READERS,
    "availability.add_template": CLINICAL_READERS,
    "availability.remove_template": CLINICAL_READERS,
    "availability.add_exception": CLINICAL_READERS,
    "availability.remove_exception": CLINICAL_READERS,
    "availability.save_profile": frozenset({Role.DIRECTOR}),
    "availability.counsellors": frozenset({Role.DIRECTOR}),
    "availability.academic_calendar": ADMIN,
    "availability.remove_break": ADMIN,
    "duty.index": WARNING_STAFF,
    "duty.add_shift": frozenset({Role.DIRECTOR}),
    "duty.remove_shift": frozenset({Role.DIRECTOR}),
    # Retention (privacy/retention_views.py): the student's own erasure page; the director reviews
    # requests and places holds (the security world has none: the director's ids are a 404).
    "erasure.mine": frozenset({Role.STUDENT}),
    "erasure.index": frozenset({Role.DIRECTOR}),
    "erasure.review": frozenset({Role.DIRECTOR}),
    "holds.index": frozenset({Role.DIRECTOR}),
    "holds.lift": frozenset({Role.DIRECTOR}),
    # Consent withdrawal (privacy): the student's own pages; the security world's student has
    # withdrawn nothing, so a withdrawal id is nobody's. The records of processing: the director.
    "my_data.index": frozenset({Role.STUDENT}),
    "my_data.withdraw": frozenset({Role.STUDENT}),
    "my_data.reconsent": frozenset({Role.STUDENT}),
    "my_data.done": frozenset(),
    "privacy_records.index_records": frozenset({Role.DIRECTOR}),
    # Counselling sessions and notes: the centre only (the security world has no appointment, so
    # a session's readers get a 404); the figures are the dashboard's.
    "counselling_sessions.day": CLINICAL_READERS,
    "counselling_sessions.session": CLINICAL_READERS,
    "counselling_sessions.outcome": CLINICAL_READERS,
    "counselling_sessions.note": CLINICAL_READERS,
    "counselling_sessions.co_sign": CLINICAL_READERS,
    "counselling_sessions.addendum": CLINICAL_READERS,
    "counselling_sessions.co_sign_list": CLINICAL_READERS,
    "counselling_sessions.figures": DASHBOARD,
    # Appointment changes (appointments/change_views.py): a student's own, the centre's for its
    # institution; the security world has no appointment or waitlist entry, so those are a 404.
    "appointment_changes.mine": frozenset({Role.STUDENT}),
    "appointment_changes.to_rearrange": CLINICAL_READERS,
    "appointment_changes.show": CLINICAL_READERS | {Role.STUDENT},
    "appointment_changes.cancel": CLINICAL_READERS | {Role.STUDENT},
    "appointment_changes.reschedule": CLINICAL_READERS | {Role.STUDENT},
    "appointment_changes.join": frozenset({Role.STUDENT}),
    "appointment_changes.accept": frozenset({Role.STUDENT}),
    "appointment_changes.decline": frozenset({Role.STUDENT}),
    "appointment_changes.leave": frozenset({Role.STUDENT}),
    "appointment_changes.barred": frozenset({Role.DIRECTOR}),
    "appointment_changes.lift": frozenset({Role.DIRECTOR}),
}

# Parameters whose value depends on the endpoint; everything else comes from `World.ids`.
ENDPOINT_PARAMS: dict[str, dict[str, object]] = {
    "campus.remove_role": {"assignment_id": "role_assignment_id"},
    "campus.role_until": {"assignment_id": "role_assignment_id"},
    "access_review.confirm": {"review_id": 1, "assignment_id": "role_assignment_id"},
    "access_review.end": {"review_id": 1, "assignment_id": "role_assignment_id"},
    "access_review.confirm_person": {"review_id": 1},
    "campus.set_language": {"code": "en"},
    "static": {"filename": "app.css"},
    "screening.take": {"code": "phq9"},
    "screening.feedback": {"code": "phq9"},
    "screening.support": {"code": "phq9"},
    "screening.switch_language": {"code": "phq9", "lang": "en"},
    "actions.act": {"name": "acknowledge"},
    "oversight.drill": {"which": "red"},
    "oversight.drill_export": {"which": "red", "fmt": "csv"},
    "oversight.export": {"fmt": "csv"},
    "oversight.province_export": {"fmt": "csv"},
    "closure.export": {"fmt": "csv"},
    "own_copy.my_copy_file": {"fmt": "json"},
    "campus.roster_template": {"fmt": "csv"},
    "warning.academic_template": {"fmt": "csv"},
    "screening.results_template": {"fmt": "csv", "code": "phq9"},
    "channels.disable": {"channel_id": 1},
    "channels.enable": {"channel_id": 1},
    "channels.send_test": {"channel_id": 1},
    "staffing.end": {"entry_id": 1},
    "signon.start": {"code": "XJU"},
    "signon.cas_callback": {"code": "XJU"},
    "signon.cas_single_logout": {"code": "XJU"},
    "signon.oidc_callback": {"code": "XJU"},
    "password_reset.choose": {"token": "not-a-reset-token"},
    "interviews.detail": {"entry_id": 99999},
    "interviews.schedule": {"entry_id": 99999},
    "interviews.outcome": {"entry_id": 99999},
    "availability.counsellor": {"counsellor_id": 99999},
    "availability.add_template": {"counsellor_id": 99999},
    "availability.remove_template": {"template_id": 99999},
    "availability.add_exception": {"counsellor_id": 99999},
    "availability.remove_exception": {"exception_id": 99999},
    "availability.save_profile": {"counsellor_id": 99999},
    "availability.remove_break": {"break_id": 99999},
    "duty.remove_shift": {"shift_id": 99999},
    "erasure.review": {"request_id": 99999},
    "holds.lift": {"hold_id": 99999},
    "my_data.withdraw": {"scope_name": "screening"},
    "my_data.reconsent": {"scope_name": "screening"},
    "my_data.done": {"withdrawal_id": 99999},
    **{
        f"counselling_sessions.{name}": {"appointment_id": 99999}
        for name in ("session", "outcome", "note", "co_sign", "addendum")
    },
    "appointment_changes.show": {"appointment_id": 99999},
    "appointment_changes.cancel": {"appointment_id": 99999},
    "appointment_changes.reschedule": {"appointment_id": 99999},
    "appointment_changes.accept": {"entry_id": 99999},
    "appointment_changes.decline": {"entry_id": 99999},
    "appointment_changes.leave": {"entry_id": 99999},
    "appointment_changes.lift": {"student_id": 99999},
    "booking.precheck": {"slot_id": 99999},
    "booking.confirm_for": {"slot_id": 99999},
    "booking.confirmed": {"appointment_id": 99999},
    "booking.precheck_detail": {"precheck_id": 99999},
}
FIXED_PARAMS: dict[str, object] = {"kind": "class", "kpi_key": "screening"}
PARAM_IDS = {"assignment_id": "screening_assignment_id", "unit_id": "class_id"}


def url_for_rule(rule: Rule, ids: dict[str, int]) -> str:
    """The rule's URL with every parameter set to an existing object of the security world."""
    values: dict[str, object] = {}
    overrides = ENDPOINT_PARAMS.get(rule.endpoint, {})
    for name in rule.arguments:
        if name in overrides:
            value = overrides[name]
            values[name] = ids[value] if isinstance(value, str) and value in ids else value
        elif name in FIXED_PARAMS:
            values[name] = FIXED_PARAMS[name]
        else:
            key = PARAM_IDS.get(name, name)
            assert key in ids, f"{rule.endpoint}: no fixture value for URL parameter {name!r}"
            values[name] = ids[key]
    return rule.build(values, append_unknown=False)[1]


def method_for(rule: Rule) -> str:
    return "GET" if "GET" in rule.methods else "POST"
