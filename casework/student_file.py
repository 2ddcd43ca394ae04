"""The student file (一生一档): one page per student, made of sections other domains plug in.

A section declares the capability it needs (`campus.scope.Capability`), a loader that reads its
data for one student and the template fragment that shows it (on the page and in the printed
file). The page shows exactly the sections the viewer's capability over the student allows, and
its one audit row names them. Casework registers its own sections (warnings, family contacts,
screening, referrals) the same way the interviews and crisis records will, from
`casework/registration.py`:

    student_file.register_section(app, Section("crisis", lambda: _("Crisis records"), 60,
                                               Capability.CLINICAL, load_crisis, "casework/…"))

Loaders are plain functions `(session, viewer, student, capability) -> dict` that read only
what their section shows; they run after the page has authorised the viewer, and must keep
their query count independent of how much history the student has (no per-row queries).
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import Flask
from sqlalchemy.orm import Session

from campus.models import Student
from campus.models import User
from campus.scope import Capability

Loader = Callable[[Session, User, Student, Capability], Mapping[str, Any]]
EXTENSION = "xinqiao_student_file_sections"


@dataclass(frozen=True)
class Section:
    """One section of the file: shown to viewers holding at least `capability`."""

    name: str  # a stable key: the page anchor and the audit row's list of sections shown
    title: Callable[[], str]  # in the reader's language, at request time
    order: int
    capability: Capability
    loader: Loader
    template: str  # a fragment; receives `data` (the loader's dict), `student`, `printing`
    # Who else the section is for, beyond the capability: a section only some roles holding
    # it may read (counselling attendance is the centre's, not the department's).
    audience: Callable[[User, Student], bool] | None = None
    # Who reads the section short of the capability, by a rule of the section's own domain
    # (crisis records are the department counsellor's too: 辅导员 are on the scene).
    also_for: Callable[[User, Student], bool] | None = None

    def is_for(self, viewer: User, student: Student) -> bool:
        return self.audience is None or self.audience(viewer, student)

    def shown_at(self, capability: Capability, viewer: User, student: Student) -> bool:
        return capability >= self.capability or (
            self.also_for is not None and self.also_for(viewer, student)
        )


@dataclass(frozen=True)
class Shown:
    """A section as the page renders it."""

    section: Section
    data: Mapping[str, Any]

    @property
    def name(self) -> str:
        return self.section.name

    @property
    def title(self) -> str:
        return self.section.title()


def register_section(app: Flask, section: Section) -> None:
    """Declare a section of the student file (call from a domain's `registration.py`)."""
    sections: list[Section] = app.extensions.setdefault(EXTENSION, [])
    if any(s.name == section.name for s in sections):
        raise ValueError(f"student file section {section.name!r} is registered twice")
    sections.append(section)


def sections_for(
    app: Flask, capability: Capability, viewer: User, student: Student
) -> list[Section]:
    """The sections a viewer at `capability` may see, in page order."""
    return [s for s in _for(app, viewer, student) if s.shown_at(capability, viewer, student)]


def hidden_for(app: Flask, capability: Capability, viewer: User, student: Student) -> list[Section]:
    """The sections a viewer at `capability` does not see (the page says they exist); one not
    meant for the viewer's role at all is not named."""
    return [s for s in _for(app, viewer, student) if not s.shown_at(capability, viewer, student)]


def _for(app: Flask, viewer: User, student: Student) -> list[Section]:
    sections: list[Section] = app.extensions.get(EXTENSION, [])
    return sorted((s for s in sections if s.is_for(viewer, student)), key=lambda s: s.order)


def load(
    app: Flask, session: Session, viewer: User, student: Student, capability: Capability
) -> list[Shown]:
    """Every section the viewer may see, with its data."""
    return [
        Shown(s, s.loader(session, viewer, student, capability))
        for s in sections_for(app, capability, viewer, student)
    ]


def audit_detail(shown: list[Shown], capability: Capability) -> str:
    """What the audit row keeps of a page view: the capability and the sections shown."""
    return f"capability={capability.name} sections=" + ",".join(s.name for s in shown)
