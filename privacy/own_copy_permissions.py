"""Who may hand out a student's own copy besides the student: one decision, asked by the route
guard, the student file's link and the tests."""

from __future__ import annotations

from campus.models import Role
from campus.models import User

# The director alone answers a request received on paper, for the whole school. A request for
# one's data is the institution's answer under PIPL, not one counsellor's: one accountable role,
# whose every copy is audited with the request's reference; a school counsellor who receives the
# paper passes it on.
PAPER_REQUEST_ROLES = (Role.DIRECTOR,)


def may_answer_paper_request(user: User) -> bool:
    """Whether `user` may produce a student's copy for a request received on paper."""
    return user.has_role(*PAPER_REQUEST_ROLES)
