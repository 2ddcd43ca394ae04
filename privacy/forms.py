"""Forms of the privacy pages: withdrawing a consent and giving it again."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms import HiddenField
from wtforms import SubmitField
from wtforms.validators import DataRequired


class WithdrawForm(FlaskForm):
    """The ticked confirmation under the explanation; `digest` names the explanation read, so a
    change between reading and confirming is noticed instead of storing words never shown."""

    digest = HiddenField()
    confirm = BooleanField(
        _l("I have read what withdrawing means and I want to withdraw this consent."),
        validators=[DataRequired(_l("Tick the box to confirm that you want to withdraw."))],
    )
    submit = SubmitField(_l("Withdraw my consent"))


class ReconsentForm(FlaskForm):
    """Giving a withdrawn consent again: a fresh, ticked agreement to the text shown."""

    digest = HiddenField()
    agree = BooleanField(
        _l("I have read the information above and give this consent again."),
        validators=[DataRequired(_l("Tick the box to give your consent again."))],
    )
    submit = SubmitField(_l("Give my consent again"))
