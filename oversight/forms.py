"""The dashboard filter: read from the query string, so a filtered view is a link one can share."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import BooleanField
from wtforms import SelectField
from wtforms import StringField
from wtforms.validators import Length
from wtforms.validators import Optional
from wtforms.validators import Regexp
from wtforms.validators import ValidationError
from wtforms.widgets import Select
from wtforms.widgets import html_params

from campus.fields import DayField
from oversight import periods
from oversight.kpis import month_of

MONTH = Regexp(r"^\d{4}-(0[1-9]|1[0-2])$", message=_l("Use the form YYYY-MM, e.g. 2026-09."))


class FilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET filter changes nothing

    institution = SelectField(_l("Institution"), coerce=int, validators=[Optional()])
    department = SelectField(_l("Department"), coerce=int, validators=[Optional()])
    # A month, a term or a school year (see `oversight.periods`); choices are set by the view.
    period = SelectField(_l("Period"), validators=[Optional()], validate_choice=False)
    # Typed months: links made before the period picker keep working, as do the drill-downs.
    month_from = StringField(_l("From month"), validators=[Optional(), MONTH])
    month_to = StringField(_l("To month"), validators=[Optional(), MONTH])
    by = SelectField(
        _l("Group by"),
        choices=[
            ("department", _l("Department")),
            ("month", _l("Month")),
            ("institution", _l("Institution")),
        ],
        default="department",
    )

    def validate_period(self, field) -> None:
        if field.data:
            try:
                periods.parse(field.data)
            except ValueError as error:
                raise ValidationError(
                    _l("Choose a month, term or school year from the list.")
                ) from error

    def validate_month_to(self, field) -> None:
        if field.data and self.month_from.data and not self.month_from.errors:
            if month_of(field.data) < month_of(self.month_from.data):
                raise ValidationError(_l("The last month cannot be before the first."))
            if _months_between(self.month_from.data, field.data) > 36:
                raise ValidationError(_l("Choose at most 36 months."))


class ProvinceFilterForm(FilterForm):
    """Institutions side by side: no institution or department choice, no department rows."""

    # WTForms' way to drop an inherited field; its stubs type the field, not the removal.
    institution = None  # type: ignore[assignment]
    department = None  # type: ignore[assignment]
    by = SelectField(
        _l("Group by"),
        choices=[("institution", _l("Institution")), ("month", _l("Month"))],
        default="institution",
    )


def _months_between(first: str, last: str) -> int:
    a, b = month_of(first), month_of(last)
    return (b.year - a.year) * 12 + b.month - a.month + 1


class LeadingGroupSelect(Select):
    """A select of <optgroup>s whose group labelled "" is no group: its options ("All actions")
    come first, outside any heading. WTForms' own select puts every option of grouped choices
    under one."""

    def __call__(self, field, **kwargs) -> Markup:
        kwargs.setdefault("id", field.id)
        html = [f"<select {html_params(name=field.name, **kwargs)}>"]
        for group, choices in field.iter_groups():
            options = [self.render_option(v, label, sel, **kw) for v, label, sel, kw in choices]
            if group:
                html += [f"<optgroup {html_params(label=group)}>", *options, "</optgroup>"]
            else:
                html += options
        html.append("</select>")
        return Markup("".join(html))  # noqa: S704  # each part escaped as WTForms does


class AuditTrailForm(FlaskForm):
    """The audit trail's filter: a GET form, so a narrowed trail is a link one can share."""

    class Meta:
        csrf = False  # a GET filter changes nothing

    student_number = StringField(_l("Student number"), validators=[Optional(), Length(max=32)])
    login = StringField(
        _l("Login of the person who acted"), validators=[Optional(), Length(max=64)]
    )
    denied = BooleanField(_l("Refused reads only"))
    # Choices are the worded actions by domain (`audit_trail.action_choices`); a code from a
    # shared link that has no words yet still filters.
    action = SelectField(
        _l("Action"),
        validators=[Optional(), Length(max=50)],
        validate_choice=False,
        widget=LeadingGroupSelect(),
    )
    day_from = DayField(_l("From"), validators=[Optional()])
    day_to = DayField(_l("To"), validators=[Optional()])

    def validate_day_to(self, field) -> None:
        if field.data and self.day_from.data and field.data < self.day_from.data:
            raise ValidationError(_l("The last day cannot be before the first."))
