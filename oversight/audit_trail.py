"""The audit trail as an administrator reads it: who read or changed which record of their
institution, newest first, narrowed to one student, one person, refusals only or some days.

Every sensitive read writes an audit row (`campus.audit`); this is where those rows are read
back, to answer "who opened this student's file" or "who keeps being refused". Reading the trail
is itself a sensitive read (it says which students have warnings, referrals, notes) and is
audited in turn, with the filter asked.
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from datetime import datetime
from datetime import time
from datetime import timedelta

from flask_babel import lazy_pgettext as _lp
from flask_babel import pgettext
from sqlalchemy import Select
from sqlalchemy import select
from sqlalchemy.orm import Session

from campus import audit
from campus import clock
from campus.audit import AuditEvent
from campus.i18n import N_
from campus.i18n import Message
from campus.models import WITH_REMOVED_STUDENTS
from campus.models import EnrolmentStatus
from campus.models import Institution
from campus.models import Student
from campus.models import User
from oversight.drill import LIST_TITLES
from oversight.kpis import KPIS

PAGE_SIZE = 50

# Each action the trail records, as an administrator reads it: the rows keep the code (what the
# services write, what scripts and the audit detail match on); the page shows these words. An
# action missing here is shown as its code, never hidden.
ACTION_LABELS = {
    "academic_break_add": _lp("audit action", "Added a school break"),
    "academic_break_remove": _lp("audit action", "Removed a school break"),
    "access_review_confirmed": _lp("audit action", "Access review: access kept"),
    "access_review_ended": _lp("audit action", "Access review: access ended"),
    "act": _lp("audit action", "Recorded a response step"),
    "add_rooms": _lp("audit action", "Added dorm rooms"),
    "activate": _lp("audit action", "Activated an account"),
    "activate_policy": _lp("audit action", "Activated a triage policy"),
    "appointment.cancel": _lp("audit action", "Cancelled an appointment"),
    "appointment.reschedule": _lp("audit action", "Rescheduled an appointment"),
    "appointment_read": _lp("audit action", "Viewed an appointment"),
    "assign_role": _lp("audit action", "Gave a role"),
    "availability": _lp("audit action", "Viewed counselling availability"),
    "availability_exception_add": _lp("audit action", "Added an availability exception"),
    "availability_exception_remove": _lp("audit action", "Removed an availability exception"),
    "availability_template_add": _lp("audit action", "Added weekly availability"),
    "availability_template_remove": _lp("audit action", "Removed weekly availability"),
    "batch_report_names": _lp("audit action", "Viewed names in a batch report"),
    "book_for": _lp("audit action", "Booked an appointment for a student"),
    "booking_bar.lift": _lp("audit action", "Lifted a booking bar"),
    "booking_bars_read": _lp("audit action", "Viewed booking bars"),
    "break_glass": _lp("audit action", "Emergency access (break-glass)"),
    "break_glass_form": _lp("audit action", "Opened the emergency access form"),
    "campaign_coverage_drill_down": _lp(
        "audit action", "Viewed a department's screening coverage by class"
    ),
    "caseload_ended": _lp("audit action", "Caseload access ended: the counsellor's role ended"),
    "caseload_joined": _lp("audit action", "Took on a student's case"),
    "change_password": _lp("audit action", "Changed a password"),
    "channel_added": _lp("audit action", "Added a notification channel"),
    "channel_disabled": _lp("audit action", "Turned off a notification channel"),
    "channel_enabled": _lp("audit action", "Turned on a notification channel"),
    "closure_drill_down": _lp("audit action", "Viewed referrals behind a closure figure"),
    "closure_export_csv": _lp("audit action", "Exported referral closure rows (CSV)"),
    "closure_export_xlsx": _lp("audit action", "Exported referral closure rows (Excel)"),
    "configure_sign_on": _lp("audit action", "Configured single sign-on"),
    "contagion.add": _lp("audit action", "Added a contagion follow-up"),
    "contagion.cleared": _lp("audit action", "Contagion follow-up: cleared"),
    "contagion.close": _lp("audit action", "Closed a contagion follow-up"),
    "contagion.escalated": _lp("audit action", "Contagion follow-up: escalated"),
    "correct_guardian": _lp("audit action", "Corrected a guardian's name or phone"),
    "correct_guardian_form": _lp("audit action", "Opened the guardian correction form"),
    "correct_student": _lp("audit action", "Corrected a student's number or name"),
    "counsellor_profile_save": _lp("audit action", "Saved a counsellor profile"),
    "create": _lp("audit action", "Added a family contact"),
    "create_class_group": _lp("audit action", "Created a class"),
    "create_department": _lp("audit action", "Created a department"),
    "create_dorm_building": _lp("audit action", "Added a dorm building"),
    "create_hospital": _lp("audit action", "Added a hospital"),
    "create_user": _lp("audit action", "Created an account"),
    "crisis.entry": _lp("audit action", "Added to a crisis record"),
    "crisis.open": _lp("audit action", "Opened a crisis record"),
    "crisis.settings": _lp("audit action", "Changed crisis settings"),
    "download_own_copy": _lp("audit action", "Student downloaded their own records"),
    "drill_down": _lp("audit action", "Viewed students behind a KPI"),
    "duty_shift_add": _lp("audit action", "Added a duty shift"),
    "duty_shift_remove": _lp("audit action", "Removed a duty shift"),
    "erasure_decided": _lp("audit action", "Decided an erasure request"),
    "erasure_list": _lp("audit action", "Viewed erasure requests"),
    "erasure_purge": _lp("audit action", "Erased records on request"),
    "erasure_requested": _lp("audit action", "Requested erasure"),
    "erasure_review": _lp("audit action", "Reviewed an erasure request"),
    "export": _lp("audit action", "Exported data"),
    "family_follow_up_handed_over": _lp(
        "audit action", "Family follow-up handed on: its author no longer answers for the student"
    ),
    "family_contact_form": _lp("audit action", "Opened the family contact form"),
    "generate": _lp("audit action", "Generated a crisis document"),
    "green_channel_escalated": _lp("audit action", "Green-channel referral escalated"),
    "import_academic": _lp("audit action", "Imported academic data"),
    "import_results": _lp("audit action", "Imported screening results"),
    "import_roster": _lp("audit action", "Imported the roster"),
    "institution.go_live": _lp("audit action", "Took the institution live"),
    "institution.local_passwords": _lp("audit action", "Changed local password sign-in"),
    "institution.settings": _lp("audit action", "Changed the institution's settings"),
    "interview.assign": _lp("audit action", "Assigned an interview"),
    "interview.caseload_ended": _lp(
        "audit action", "Caseload access ended: the interview went to another counsellor"
    ),
    "interview.due_moved": _lp(
        "audit action", "Interview deadline moved with the screening's close"
    ),
    "interview.held_by_assessment": _lp(
        "audit action", "Interview held as the professional assessment"
    ),
    "interview.interviewer_gone": _lp(
        "audit action", "Interview back to the list: the interviewer's role ended"
    ),
    "interview.invite": _lp("audit action", "Invited to an interview"),
    "interview.no_show": _lp("audit action", "Interview: no-show"),
    "interview.outcome": _lp("audit action", "Recorded an interview outcome"),
    "interview.reschedule": _lp("audit action", "Rescheduled an interview"),
    "interview.unreachable": _lp("audit action", "Interview: student unreachable"),
    "interview_list_read": _lp("audit action", "Viewed the interview list"),
    "interview_read": _lp("audit action", "Viewed an interview"),
    "issue_activation_codes": _lp("audit action", "Issued activation codes"),
    "judgement": _lp("audit action", "Recorded a counsellor's judgement"),
    "leave_list": _lp("audit action", "Viewed leaves of absence"),
    "leave_appointments_cancelled": _lp(
        "audit action", "Cancelled the appointments of a student on leave"
    ),
    "leave_read": _lp("audit action", "Viewed a leave of absence"),
    "leave_started": _lp("audit action", "Started a leave of absence"),
    "legal_hold_lifted": _lp("audit action", "Lifted a legal hold"),
    "legal_hold_list": _lp("audit action", "Viewed legal holds"),
    "legal_hold_placed": _lp("audit action", "Placed a legal hold"),
    "life_event": _lp("audit action", "Recorded a life event"),
    "list": _lp("audit action", "Viewed a list of students"),
    "weekly_reports": _lp("audit action", "Viewed class and dorm weekly reports"),
    "list_booked": _lp("audit action", "Viewed booked appointments"),
    "list_to_rearrange": _lp("audit action", "Viewed appointments to rearrange"),
    "list_away_clashes": _lp("audit action", "Viewed booked sessions in time away"),
    "list_notes_to_co_sign": _lp("audit action", "Viewed notes to co-sign"),
    "list_sessions": _lp("audit action", "Viewed counselling sessions"),
    "mfa_enrol": _lp("audit action", "Set up two-step sign-in"),
    "mfa_policy": _lp("audit action", "Changed the two-step sign-in policy"),
    "mfa_recovery_codes": _lp("audit action", "Two-step sign-in recovery codes"),
    "mfa_reset": _lp("audit action", "Reset two-step sign-in"),
    "open_access_review": _lp("audit action", "Opened an access review"),
    "override": _lp("audit action", "Overrode a warning level"),
    "override_level": _lp("audit action", "Overrode a warning level"),
    "phone_changed": _lp("audit action", "Changed a phone number"),
    "print": _lp("audit action", "Printed a document"),
    "produce_own_copy": _lp("audit action", "Prepared a student's copy of their records"),
    "read": _lp("audit action", "Viewed a record"),
    "read_appointment_figures": _lp("audit action", "Viewed appointment figures"),
    "read_audit_trail": _lp("audit action", "Viewed the audit trail"),
    "read_file": _lp("audit action", "Viewed a student file"),
    "read_own_feedback": _lp("audit action", "Student viewed their screening feedback"),
    "read_scan": _lp("audit action", "Viewed a scanned document"),
    "read_screening_results": _lp("audit action", "Viewed screening results"),
    "read_session": _lp("audit action", "Viewed a counselling session"),
    "read_session_note": _lp("audit action", "Viewed a session note"),
    "read_warning": _lp("audit action", "Viewed a warning"),
    "record_life_event": _lp("audit action", "Recorded a life event"),
    "referral_create_form": _lp("audit action", "Opened the referral form"),
    "referral_created": _lp("audit action", "Created a referral"),
    "referral_disclosed": _lp("audit action", "Viewed a referral sent to a hospital"),
    "referral_disclosed_list": _lp("audit action", "Viewed referrals sent to a hospital"),
    "referral_draft_edited": _lp("audit action", "Edited a referral draft"),
    "referral_list": _lp("audit action", "Viewed referrals"),
    "referral_read": _lp("audit action", "Viewed a referral"),
    "referral_status_read": _lp("audit action", "Viewed a referral's status"),
    "referral_transition": _lp("audit action", "Changed a referral's status"),
    "reinstate_consent": _lp("audit action", "Consent given again"),
    "remove_role": _lp("audit action", "Removed a role"),
    "remove_student": _lp("audit action", "Removed a student added by mistake"),
    "remove_unit": _lp("audit action", "Removed a unit of the structure"),
    "rename_unit": _lp("audit action", "Renamed a unit of the structure"),
    "request_password_reset": _lp("audit action", "Asked to reset a password"),
    "reset_password": _lp("audit action", "Reset a password"),
    "retention_purge": _lp("audit action", "Deleted records past retention"),
    "return_approved": _lp("audit action", "Approved a return to school"),
    "return_assessed": _lp("audit action", "Assessed a return to school"),
    "return_case_closed": _lp("audit action", "Closed a return-to-school case"),
    "return_plan_item_added": _lp("audit action", "Added to a return plan"),
    "return_plan_item_handed_over": _lp("audit action", "Handed on a return-plan item"),
    "return_plan_item_withdrawn": _lp("audit action", "Withdrew a return-plan item"),
    "return_statement_recorded": _lp("audit action", "Recorded a return statement"),
    "return_task_done": _lp("audit action", "Completed a return task"),
    "rotate_keys": _lp("audit action", "Rotated encryption keys"),
    "safety_signal_recovered": _lp("audit action", "Recovered a safety signal"),
    "save_campaign": _lp("audit action", "Saved a screening campaign"),
    "scan": _lp("audit action", "Uploaded a scanned document"),
    "screening_progress_read": _lp(
        "audit action", "Viewed a department's students yet to complete a screening"
    ),
    "session_note_addendum": _lp("audit action", "Added to a session note"),
    "session_note_co_signed": _lp("audit action", "Co-signed a session note"),
    "session_note_draft": _lp("audit action", "Saved a session note draft"),
    "session_note_signed": _lp("audit action", "Signed a session note"),
    "session_outcome": _lp("audit action", "Recorded a session outcome"),
    "set_role_end": _lp("audit action", "Set when a role ends"),
    "sign_in": _lp("audit action", "Signed in"),
    "sign_in_code": _lp("audit action", "Signed in with a code"),
    "sign_on": _lp("audit action", "Signed in through single sign-on"),
    "signed": _lp("audit action", "Signed a crisis document"),
    "single_logout": _lp("audit action", "Signed out through single sign-on"),
    "staffing_added": _lp("audit action", "Added a full-time teacher"),
    "staffing_ended": _lp("audit action", "Ended a full-time teacher's post"),
    "task.check_in": _lp("audit action", "Checked in on a peer watch"),
    "task.done": _lp("audit action", "Completed a task"),
    "test_sign_on": _lp("audit action", "Tested single sign-on"),
    "use_password_reset": _lp("audit action", "Reset a password with a reset link"),
    "waitlist.accept": _lp("audit action", "Accepted a waiting-list offer"),
    "waitlist.decline": _lp("audit action", "Declined a waiting-list offer"),
    "waitlist.expire": _lp("audit action", "Waiting-list offer expired"),
    "waitlist.join": _lp("audit action", "Joined the waiting list"),
    "waitlist.leave": _lp("audit action", "Left the waiting list"),
    "waitlist.offer": _lp("audit action", "Offered a waiting-list place"),
    "waitlist_read": _lp("audit action", "Viewed the waiting list"),
    "warning.acknowledge": _lp("audit action", "Acknowledged a warning"),
    "warning.assessment": _lp("audit action", "Recorded an assessment"),
    "warning.case_returned": _lp(
        "audit action", "Case returned to the centre: its counsellor's role ended"
    ),
    "warning.close": _lp("audit action", "Closed a warning"),
    "warning.review_returned": _lp(
        "audit action", "Review handed to the centre: its counsellor's role ended"
    ),
    "warning.contact": _lp("audit action", "Recorded a contact"),
    "warning.counsellor": _lp("audit action", "Handed to a counsellor"),
    "warning.escalate": _lp("audit action", "Escalated a warning"),
    "warning.follow_up": _lp("audit action", "Recorded a follow-up"),
    "warning.guardian": _lp("audit action", "Informed the guardian"),
    "warning.level": _lp("audit action", "Changed a warning level"),
    "warning.peer_watch": _lp("audit action", "Asked a peer to keep watch"),
    "withdraw_consent": _lp("audit action", "Consent withdrawn"),
}


# The filter's actions by domain, in the order an administrator looks for them (`action_choices`
# shows each group as an <optgroup>): what was read of a student first, then each step of the
# work, then accounts, structure, settings and oversight. An action in no group is offered under
# "Other" (tests/oversight/test_audit_labels.py asks each labelled action to have its group).
def _codes(text: str) -> tuple[str, ...]:
    return tuple(text.split())


ACTION_GROUPS: tuple[tuple[object, tuple[str, ...]], ...] = (
    (
        _lp("audit action group", "Student files and records"),
        _codes(
            "read list read_file print create family_contact_form family_follow_up_handed_over "
            "scan read_scan "
            "caseload_joined caseload_ended life_event record_life_event break_glass "
            "break_glass_form correct_guardian correct_guardian_form"
        ),
    ),
    (
        _lp("audit action group", "Screening"),
        _codes(
            "save_campaign import_results read_screening_results screening_progress_read "
            "campaign_coverage_drill_down "
            "read_own_feedback safety_signal_recovered batch_report_names"
        ),
    ),
    (
        _lp("audit action group", "Warnings and response"),
        _codes(
            "read_warning act judgement override override_level task.done task.check_in "
            "warning.acknowledge warning.assessment warning.case_returned warning.close "
            "warning.contact warning.counsellor warning.escalate warning.follow_up "
            "warning.guardian warning.level warning.peer_watch warning.review_returned "
            "contagion.add "
            "contagion.cleared contagion.close contagion.escalated weekly_reports "
            "import_academic activate_policy"
        ),
    ),
    (
        _lp("audit action group", "Crisis"),
        _codes("crisis.open crisis.entry crisis.settings generate signed"),
    ),
    (
        _lp("audit action group", "Interviews"),
        _codes(
            "interview_list_read interview_read interview.assign interview.caseload_ended "
            "interview.due_moved "
            "interview.held_by_assessment interview.interviewer_gone interview.invite "
            "interview.no_show interview.outcome interview.reschedule interview.unreachable"
        ),
    ),
    (
        _lp("audit action group", "Counselling and appointments"),
        _codes(
            "appointment_read appointment.cancel appointment.reschedule book_for "
            "booking_bar.lift booking_bars_read list_booked list_to_rearrange "
            "list_away_clashes list_notes_to_co_sign list_sessions read_session "
            "read_session_note session_note_draft session_note_signed "
            "session_note_co_signed session_note_addendum session_outcome waitlist_read "
            "waitlist.join waitlist.leave waitlist.offer waitlist.accept waitlist.decline "
            "waitlist.expire availability availability_template_add "
            "availability_template_remove availability_exception_add "
            "availability_exception_remove academic_break_add academic_break_remove "
            "duty_shift_add duty_shift_remove counsellor_profile_save "
            "read_appointment_figures"
        ),
    ),
    (
        _lp("audit action group", "Referrals, leave and return"),
        _codes(
            "referral_list referral_read referral_create_form referral_created "
            "referral_draft_edited referral_transition referral_status_read "
            "referral_disclosed referral_disclosed_list green_channel_escalated "
            "closure_drill_down closure_export_csv closure_export_xlsx create_hospital "
            "leave_list leave_read leave_started leave_appointments_cancelled return_approved "
            "return_assessed "
            "return_case_closed return_plan_item_added return_plan_item_handed_over "
            "return_plan_item_withdrawn "
            "return_statement_recorded return_task_done"
        ),
    ),
    (
        _lp("audit action group", "Privacy and consent"),
        _codes(
            "withdraw_consent reinstate_consent produce_own_copy download_own_copy "
            "erasure_requested erasure_list erasure_review erasure_decided erasure_purge "
            "legal_hold_list legal_hold_placed legal_hold_lifted retention_purge"
        ),
    ),
    (
        _lp("audit action group", "Accounts and sign-in"),
        _codes(
            "sign_in sign_in_code sign_on single_logout change_password "
            "request_password_reset use_password_reset reset_password mfa_enrol "
            "mfa_recovery_codes mfa_reset phone_changed create_user activate "
            "issue_activation_codes assign_role set_role_end remove_role"
        ),
    ),
    (
        _lp("audit action group", "Structure and roster"),
        _codes(
            "import_roster correct_student remove_student create_department "
            "create_class_group create_dorm_building add_rooms rename_unit remove_unit"
        ),
    ),
    (
        _lp("audit action group", "Settings"),
        _codes(
            "institution.settings institution.go_live institution.local_passwords "
            "channel_added channel_enabled channel_disabled configure_sign_on test_sign_on "
            "mfa_policy staffing_added staffing_ended rotate_keys"
        ),
    ),
    (
        _lp("audit action group", "Oversight and audit"),
        _codes(
            "drill_down export read_audit_trail open_access_review access_review_confirmed "
            "access_review_ended"
        ),
    ),
)


def _worded(labels: Mapping[str, object], code: str) -> str:
    """`code` in the reader's language from `labels`; a code without words as itself, never
    hidden."""
    label = labels.get(code)
    return code if label is None else str(label)


def action_label(code: str) -> str:
    """An audit row's action in the reader's language."""
    return _worded(ACTION_LABELS, code)


def codes_worded_as(code: str) -> tuple[str, ...]:
    """Every action that reads as `code` does in the reader's language (the read of a student
    for an override and the override itself both say "调整预警级别"): the filter by those words
    finds them all. A code without words is only itself."""
    said = action_label(code)
    alike = tuple(sorted(c for c in ACTION_LABELS if action_label(c) == said))
    return alike or (code,)


# Each outcome an audit row records, as an administrator reads it: a sign-in waiting for its
# second step, a safety answer's signal raised late by the sweep, a sign-on test, an erasure
# decision. Like an action, an outcome missing here is shown as its code.
OUTCOME_LABELS = {
    "ok": _lp("audit outcome", "allowed"),
    "denied": _lp("audit outcome", "refused"),
    "pending": _lp("audit outcome", "waiting for the second step"),
    "failed": _lp("audit outcome", "failed"),
    "recovered": _lp("audit outcome", "recovered by the sweep"),
    "requested": _lp("audit outcome", "requested"),
    "under_review": _lp("audit outcome", "under review"),
    "approved": _lp("audit outcome", "approved"),
    "partly_approved": _lp("audit outcome", "partly approved"),
    "declined": _lp("audit outcome", "declined"),
    "carried_out": _lp("audit outcome", "carried out"),
}


def outcome_label(code: str) -> str:
    """An audit row's outcome in the reader's language."""
    return _worded(OUTCOME_LABELS, code)


# Each kind of record the trail names, as an administrator reads it; like an action, a kind
# missing here is shown as its code. The oversight figures (a drill-down list, a KPI table and its
# grouping) are worded from the dashboard's own titles by `record_label`.
RECORD_LABELS = {
    "academic_break": _lp("audit record", "School break"),
    "academic_calendar": _lp("audit record", "School calendar"),
    "academic_record": _lp("audit record", "Academic data"),
    "access_review": _lp("audit record", "Access review"),
    "activation_batch": _lp("audit record", "Activation codes"),
    "appointment": _lp("audit record", "Counselling appointment"),
    "appointment_precheck": _lp("audit record", "Appointment pre-check"),
    "audit_event": _lp("audit record", "Audit trail"),
    "availability": _lp("audit record", "Counselling availability"),
    "availability_exception": _lp("audit record", "Availability exception"),
    "availability_template": _lp("audit record", "Weekly availability"),
    "batch_report": _lp("audit record", "Department screening report"),
    "campaign": _lp("audit record", "Screening campaign"),
    "class_group": _lp("audit record", "Class"),
    "consent_withdrawal": _lp("audit record", "Consent withdrawal"),
    "contagion": _lp("audit record", "Contagion follow-up"),
    "counsellor": _lp("audit record", "Counsellor"),
    "crisis": _lp("audit record", "Crisis record"),
    "crisis_document": _lp("audit record", "Crisis document"),
    "crisis_entry": _lp("audit record", "Crisis record entry"),
    "crisis_guardian_notice": _lp("audit record", "Guardian informed notice"),
    "crisis_safety_pledge": _lp("audit record", "Safety pledge"),
    "crisis_settings": _lp("audit record", "Crisis settings"),
    "deadline": _lp("audit record", "Response deadline"),
    "department": _lp("audit record", "Department"),
    "dorm_building": _lp("audit record", "Dorm building"),
    "dorm_room": _lp("audit record", "Dorm room"),
    "duty_roster": _lp("audit record", "Duty roster"),
    "encryption": _lp("audit record", "Encryption keys"),
    "erasure": _lp("audit record", "Erasure request"),
    "family_contact": _lp("audit record", "Family contact"),
    "family_contact_month": _lp("audit record", "Family contacts of a month"),
    "hospital": _lp("audit record", "Hospital"),
    "institution": _lp("audit record", "Institution settings"),
    "instrument_response": _lp("audit record", "Screening answers"),
    "interview": _lp("audit record", "Post-screening interview"),
    "leave": _lp("audit record", "Leave of absence"),
    "leave_of_absence": _lp("audit record", "Leave of absence"),
    "legal_hold": _lp("audit record", "Legal hold"),
    "life_event": _lp("audit record", "Life event"),
    "notification_channel": _lp("audit record", "Notification channel"),
    "own_copy": _lp("audit record", "Student's copy of their records"),
    "policy_version": _lp("audit record", "Triage policy version"),
    "purge_run": _lp("audit record", "Retention purge"),
    "records_of_processing": _lp("audit record", "Records of processing"),
    "referral": _lp("audit record", "Referral"),
    "referral_closure": _lp("audit record", "Referral closure figures"),
    "referral_form": _lp("audit record", "Referral form"),
    "return_opinion": _lp("audit record", "Return-to-school assessment"),
    "roster": _lp("audit record", "Roster"),
    "screening_report": _lp("audit record", "Screening report"),
    "screening_result": _lp("audit record", "Screening result"),
    "screening_results": _lp("audit record", "Student's screening results"),
    "session_note": _lp("audit record", "Session note"),
    "sign_on": _lp("audit record", "Single sign-on"),
    "staffing_entry": _lp("audit record", "Full-time teacher post"),
    "student": _lp("audit record", "Student"),
    "student_file": _lp("audit record", "Student file"),
    "student_warnings": _lp("audit record", "Student's warning page"),
    "task": _lp("audit record", "Task"),
    "user": _lp("audit record", "Account"),
    "waitlist": _lp("audit record", "Waiting list"),
    "warning": _lp("audit record", "Warning"),
    "warning_queue": _lp("audit record", "Warning list"),
    "weekly_report": _lp("audit record", "Class or dorm weekly report"),
}
# The groupings of a KPI table, as an exported table's record names them (`<kpi>-<grouping>`).
GROUPING_LABELS = {
    "department": _lp("audit record", "by department"),
    "month": _lp("audit record", "by month"),
    "institution": _lp("audit record", "by institution"),
}
OVERSIGHT = "oversight."
PROVINCE = "province-"
DRILL = "drill-"


def record_label(code: str) -> str:
    """An audit row's kind of record in the reader's language; a code without words as itself.

    The oversight figures are `oversight.<list>` (a drill-down read), `oversight.drill-<list>`
    (its export), `oversight.<kpi>-<grouping>` and `oversight.province-<kpi>-<grouping>` (a
    table's export): worded with the list's or the KPI's title, as the dashboard shows it."""
    if code in RECORD_LABELS or not code.startswith(OVERSIGHT):
        return _worded(RECORD_LABELS, code)
    figure = code.removeprefix(OVERSIGHT)
    listed = LIST_TITLES.get(figure.removeprefix(DRILL))
    if listed is not None:
        return str(listed)
    province = figure.startswith(PROVINCE)
    key, _, grouping = figure.removeprefix(PROVINCE).rpartition("-")
    kpi = next((k for k in KPIS if k.key == key), None)
    if kpi is None or grouping not in GROUPING_LABELS:
        return code
    words = {"figure": kpi.title, "grouping": GROUPING_LABELS[grouping]}
    if province:
        return pgettext("audit record", "Province comparison: %(figure)s, %(grouping)s", **words)
    return pgettext("audit record", "%(figure)s, %(grouping)s", **words)


def action_choices(chosen: str | None, everything: str) -> dict[str, list[tuple[str, str]]]:
    """The filter's actions in the reader's words, grouped by domain (`ACTION_GROUPS`, each an
    <optgroup> in its order, sorted by words inside it), each wording once, after `everything`
    (no filter) under the group "" that the select shows outside any group; an action chosen by
    a link that has no words is offered there as its code. Before, a wording shared by several
    codes was offered once per code, and each of those options found only its own code's rows."""
    by_words: dict[str, str] = {}
    for code in sorted(ACTION_LABELS):
        by_words.setdefault(action_label(code), code)
    if chosen in ACTION_LABELS:  # a link naming another code of a shared wording keeps it
        by_words[action_label(chosen)] = chosen
    group_of = {code: str(label) for label, codes in ACTION_GROUPS for code in codes}
    other = pgettext("audit action group", "Other")
    grouped: dict[str, list[tuple[str, str]]] = {str(label): [] for label, _codes in ACTION_GROUPS}
    for said, code in sorted(by_words.items()):
        grouped.setdefault(group_of.get(code, other), []).append((code, said))
    unknown = [(chosen, chosen)] if chosen and chosen not in ACTION_LABELS else []
    return {"": [("", everything), *unknown], **{k: v for k, v in grouped.items() if v}}


class UnknownPerson(ValueError):
    """The student number or login asked for is nobody's at this institution: `field` names
    the filter (`student_number`, `login`), `message` says so."""

    def __init__(self, field: str, message: Message) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class TrailFilter:
    student_number: str | None = None
    login: str | None = None
    denied_only: bool = False
    action: str | None = None
    day_from: date | None = None  # the institution's calendar days, both included
    day_to: date | None = None
    page: int = 1

    def described(self) -> str:
        """The filter as the audit row of this read keeps it."""
        return (
            f"student={self.student_number or ''} login={self.login or ''} "
            f"denied={int(self.denied_only)} action={self.action or ''} "
            f"from={self.day_from or ''} to={self.day_to or ''} "
            f"page={self.page}"
        )


# Kinds of record whose rows are filed on the student themselves (a page about one student, read
# as a whole): their record id is the student's, which the trail's student column already names.
# Shown after the kind it read as another table's number: "预警 #4" for student 4's warning page
# beside "预警 #1" for the same student's warning 1.
ABOUT_THE_STUDENT = frozenset(
    {"student", "student_file", "student_warnings", "screening_results", "own_copy"}
)


@dataclass(frozen=True)
class TrailRow:
    event: AuditEvent
    actor: User | None  # None: the system (a sweep) or an account since erased
    student: Student | None

    @property
    def number(self) -> str | None:
        """The record's number as the trail shows it after its kind: none where the record is
        the student the row names (a refused read, naming nobody, keeps the number asked for)."""
        if self.student is not None and self.event.record_type in ABOUT_THE_STUDENT:
            return None
        return self.event.record_id

    @property
    def removed(self) -> bool:
        """Whether the student the row names was removed as entered in error since."""
        return self.student is not None and self.student.enrolment_status is EnrolmentStatus.REMOVED


@dataclass(frozen=True)
class TrailPage:
    rows: list[TrailRow]
    more: bool  # a next page exists


def read_trail(
    session: Session, reader: User, institution: Institution, flt: TrailFilter
) -> TrailPage:
    """One page of `institution`'s audit rows under `flt`, newest first; the read is audited
    and committed before the rows are returned. Raises `UnknownPerson` (and audits nothing)
    for a student number or login that is nobody's here."""
    query = _filtered(session, institution, flt)
    who = audit.Who(actor=reader, action="read_audit_trail", record_type="audit_event")
    audit.record_read(session, **who, institution_id=institution.id, detail=flt.described())
    found = session.execute(
        query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .offset((flt.page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE + 1)
    ).all()
    rows = [TrailRow(event, actor, student) for event, actor, student in found[:PAGE_SIZE]]
    return TrailPage(rows, len(found) > PAGE_SIZE)


def _filtered(
    session: Session, institution: Institution, flt: TrailFilter
) -> Select[tuple[AuditEvent, User, Student]]:
    """The institution's rows under `flt` (actor and student outer-joined: None where absent;
    a student removed as entered in error is still named)."""
    query = (
        select(AuditEvent, User, Student)
        .outerjoin(User, User.id == AuditEvent.actor_id)
        .outerjoin(Student, Student.id == AuditEvent.student_id)
        .where(AuditEvent.institution_id == institution.id)
        .execution_options(**{WITH_REMOVED_STUDENTS: True})
    )
    if flt.student_number:
        query = query.where(AuditEvent.student_id.in_(_student_ids(session, institution, flt)))
    if flt.login:
        query = query.where(AuditEvent.actor_id == _user_id(session, institution, flt))
    if flt.denied_only:
        query = query.where(AuditEvent.outcome == "denied")
    if flt.action:
        query = query.where(AuditEvent.action.in_(codes_worded_as(flt.action)))
    zone = clock.institution_zone(institution)
    if flt.day_from:
        query = query.where(
            AuditEvent.at >= clock.to_utc(datetime.combine(flt.day_from, time()), zone)
        )
    if flt.day_to:
        after = datetime.combine(flt.day_to + timedelta(days=1), time())
        query = query.where(AuditEvent.at < clock.to_utc(after, zone))
    return query


def _student_ids(session: Session, institution: Institution, flt: TrailFilter) -> Sequence[int]:
    """The students with the number asked for: one, and any removed as entered in error who
    had it before."""
    found = session.scalars(
        select(Student.id)
        .where(
            Student.institution_id == institution.id,
            Student.student_number == (flt.student_number or "").strip(),
        )
        .execution_options(**{WITH_REMOVED_STUDENTS: True})
    ).all()
    if not found:
        message = N_("No student of this institution has that student number.")
        raise UnknownPerson("student_number", Message(message))
    return found


def _user_id(session: Session, institution: Institution, flt: TrailFilter) -> int:
    found = session.scalar(
        select(User.id).where(
            User.institution_id == institution.id, User.login == (flt.login or "").strip()
        )
    )
    if found is None:
        raise UnknownPerson("login", Message(N_("No account of this institution has that login.")))
    return found
