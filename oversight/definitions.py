"""The written definitions under the dashboard's tables, with the settings they quote filled in.

Each KPI's definition is written next to its computation (`kpis.KPIS`); where it names a number
that is a setting (a referral's expected closure, when it counts as stalled, the interview rules'
deadline, the response policy's windows), the text holds a placeholder and `Terms` supplies the
value in force: the institution's own on its dashboard, the defaults in the province view. So a
school that expects referrals closed within 60 days reads "sent + 60 days" above figures computed
with 60, never a fixed "90" the computation no longer uses.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext
from flask_babel import ngettext
from flask_babel import pgettext
from sqlalchemy import select
from sqlalchemy.orm import Session

from campus.models import Institution
from campus.staffing import MINIMUM_TEACHERS
from campus.staffing import STUDENTS_PER_TEACHER
from casework import interview_rules
from casework.interviews import institution_rules
from oversight.kpis import Kpi
from oversight.tables import LEVEL_LABELS
from referrals.services import ReferralSettings
from warning.policy_words import window_words
from warning.response_policy import DEADLINE_NAMES
from warning.response_policy import LEVELS
from warning.response_policy import ResponsePolicies
from warning.response_policy import ResponsePolicy
from warning.response_policy import active_response_policy


@dataclass(frozen=True)
class Terms:
    """The settings the definitions quote. `interview_days` is how many days after a campaign
    closes each institution's interview rules give (one number on an institution's dashboard,
    each university's in the province). `response` is the institution's response policy in
    force, or None where the figures span institutions that each keep their own (the province,
    `across_universities`)."""

    referrals: ReferralSettings
    interview_days: tuple[int, ...]
    response: ResponsePolicy | None = None
    across_universities: bool = False

    def quoted(self) -> dict[str, object]:
        """Each placeholder of the definitions and its value, in the reader's language."""
        return {
            "expected_closure_days": self.referrals.expected_closure_days,
            "stalled_days": self.referrals.stalled_days,
            "interview_deadline": interview_deadline(self.interview_days, self.across_universities),
            "students_per_teacher": STUDENTS_PER_TEACHER,
            "minimum_teachers": MINIMUM_TEACHERS,
            "response_windows": response_windows(self.response),
        }


def institution_terms(
    session: Session, institution: Institution, referrals: ReferralSettings
) -> Terms:
    """What the institution's dashboard quotes: its interview rules and response policy in force,
    and the referral settings the figures were computed with."""
    return Terms(
        referrals,
        (institution_rules(institution).deadline_days,),
        active_response_policy(session, institution.id),
    )


def province_terms(
    session: Session, institution_ids: tuple[int, ...], referrals: ReferralSettings
) -> Terms:
    """What the province view quotes: each university's interview rules (the days they give, or
    their range), each university's response policy its own."""
    institutions = session.scalars(select(Institution).where(Institution.id.in_(institution_ids)))
    days = tuple(sorted({institution_rules(i).deadline_days for i in institutions}))
    days = days or (interview_rules.default_rules().deadline_days,)
    return Terms(referrals, days, across_universities=True)


def interview_deadline(days: tuple[int, ...], several: bool) -> str:
    """When an interview picked by a campaign's rules is due, as the interview definition says
    it: the days after the campaign closed that the institution's rules give, or across several
    universities each one's own, as one number when all agree and as their range when not."""
    low, high = min(days), max(days)
    if not several:
        return ngettext(
            "%(num)s day after the campaign closed, as the interview rules set",
            "%(num)s days after the campaign closed, as the interview rules set",
            high,
        )
    if low == high:
        return ngettext(
            "%(num)s day after the campaign closed, as each university's interview rules set",
            "%(num)s days after the campaign closed, as each university's interview rules set",
            high,
        )
    return gettext(
        "%(low)s to %(high)s days after the campaign closed, as each university's interview "
        "rules set",
        low=low,
        high=high,
    )


def written(kpi: Kpi, terms: Terms) -> str:
    """The KPI's definition in the reader's language, quoting `terms`."""
    if "%(" not in kpi.definition:
        return gettext(kpi.definition)
    return gettext(kpi.definition, **terms.quoted())


def all_written(kpis: tuple[Kpi, ...], terms: Terms) -> dict[str, str]:
    """Every definition the page shows, by KPI key."""
    return {kpi.key: written(kpi, terms) for kpi in kpis}


def response_windows(policy: ResponsePolicy | None) -> str:
    """The first-response windows and follow-up cadence of each level under `policy`, as one
    sentence of the response-deadline definition."""
    if policy is None:
        return gettext("Each university's own response policy sets the windows.")
    levels = []
    for level in LEVELS:
        response = policy.for_level(level)
        steps = [
            gettext(
                "%(step)s within %(window)s",
                step=gettext(DEADLINE_NAMES.get(rule.kind, rule.kind)),
                window=window_words(rule.within),
            )
            for rule in response.deadlines
        ]
        name, every = str(LEVEL_LABELS[level.code]), window_words(response.follow_up_every)
        if not steps:  # a campus may owe no first response at a level, only follow-ups
            levels.append(
                gettext("%(level)s: a follow-up every %(every)s", level=name, every=every)
            )
            continue
        levels.append(
            gettext(
                "%(level)s: %(steps)s, then a follow-up every %(every)s",
                level=name,
                steps=pgettext("list separator", ", ").join(steps),
                every=every,
            )
        )
    listed = pgettext("list separator", "; ").join(levels)
    if policy.version in ResponsePolicies.default_versions():
        # The shipped default's version is a name for the system, not for a reader.
        return gettext(
            "Each deadline keeps the window of the response policy that set it; the system's "
            "default policy, in force now, gives %(levels)s.",
            levels=listed,
        )
    return gettext(
        "Each deadline keeps the window of the response policy that set it; the policy in force "
        "now (version %(version)s) gives %(levels)s.",
        version=policy.version,
        levels=listed,
    )
