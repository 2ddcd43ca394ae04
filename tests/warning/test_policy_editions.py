"""The shipped policies come in one edition per interface language: the same policy, its notes
written for an administrator who reads that language. A new draft on the shipped default starts
from the reader's edition; a campus's own text is never rewritten."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from campus.extensions import db
from campus.models import Role
from warning import retriage
from warning.models import PolicyKind
from warning.models import PolicyVersion
from warning.policy import DEFAULT_POLICY_PATH
from warning.policy import default_policy
from warning.policy import load_policy
from warning.policy import shipped_edition
from warning.response_policy import DEFAULT_RESPONSE_POLICY_PATH
from warning.response_policy import default_response_policy
from warning.response_policy import response_policy_from_yaml_text

SHIPPED = {
    DEFAULT_POLICY_PATH: lambda path: load_policy(path) == default_policy(),
    DEFAULT_RESPONSE_POLICY_PATH: lambda path: (
        response_policy_from_yaml_text(path.read_text(encoding="utf-8"))
        == default_response_policy()
    ),
}
CJK = re.compile(r"[\u4e00-\u9fff]")


def _editions(path: Path) -> list[Path]:
    """Every other-language edition shipped beside `path` (default.zh_CN.yaml, ...)."""
    return sorted(path.parent.glob(f"{path.stem}.*{path.suffix}"))


def _data(path: Path) -> object:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("shipped", list(SHIPPED), ids=lambda p: p.name)
def test_every_edition_is_the_shipped_policy_word_for_word_in_its_data(shipped: Path):
    """A value changed in one edition and not the others fails here: the editions cannot drift."""
    editions = _editions(shipped)
    assert shipped.with_name(f"{shipped.stem}.zh_CN{shipped.suffix}") in editions
    for edition in editions:
        assert SHIPPED[shipped](edition), f"{edition.name} parses to another policy"
        # Same keys, values and version, even where the engine would read two spellings alike.
        assert _data(edition) == _data(shipped), edition.name


@pytest.mark.parametrize("shipped", list(SHIPPED), ids=lambda p: p.name)
def test_every_interface_language_has_its_edition(app, shipped: Path):
    for language in app.config["LANGUAGES"]:
        if language != "en":
            assert shipped_edition(shipped, language) != shipped, language
    assert shipped_edition(shipped, "en") == shipped


@pytest.mark.parametrize("shipped", list(SHIPPED), ids=lambda p: p.name)
def test_the_chinese_editions_notes_are_written_in_chinese(shipped: Path):
    text = shipped_edition(shipped, "zh_CN").read_text(encoding="utf-8")
    notes = [line for line in text.splitlines() if re.match(r"\s*#.*[A-Za-z]{3}", line)]
    # A line of dashes or a setting's name may stand alone; a sentence is in Chinese.
    english = [line for line in notes if not CJK.search(line)]
    assert english == []


def _draft_text(client, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    found = re.search(r"<textarea[^>]*>(.*?)</textarea>", page, re.S)
    assert found is not None
    return html.unescape(found.group(1)).strip()


def _admin(campus, unit, locale: str):
    admin = campus.staff(unit.institution, Role.ADMIN)
    admin.locale = locale
    campus.commit()
    return admin


@pytest.mark.parametrize(
    ("path", "kind", "chinese_title", "english_title"),
    [
        ("/warnings/policy", PolicyKind.TRIAGE, "# 预警分级策略", "# Triage policy"),
        ("/warnings/response-policy", PolicyKind.RESPONSE, "# 预警响应策略", "# Response policy"),
    ],
)
def test_a_new_draft_on_the_shipped_default_starts_in_the_readers_language(
    campus, unit, login, path, kind, chinese_title, english_title
):
    client = login(_admin(campus, unit, "zh_CN"))
    chinese = _draft_text(client, path)
    assert chinese.startswith(chinese_title)
    assert chinese == retriage.default_yaml(kind, "zh_CN").strip()
    client.post("/language/en")
    english = _draft_text(client, path)
    assert english.startswith(english_title)
    assert english == retriage.default_yaml(kind, "en").strip()


def test_a_campus_policy_in_force_is_the_draft_text_in_every_language(campus, unit, login):
    """Its own text, notes and all, as the campus stored it: no edition replaces it."""
    client = login(_admin(campus, unit, "zh_CN"))
    own = (
        retriage.default_yaml(PolicyKind.TRIAGE, "en")
        .replace('version: "default-2026.1"', 'version: "xju-2026.2"')
        .replace("# Triage policy:", "# Our campus, since the spring term. Triage policy:")
    )
    assert client.post("/warnings/policy", data={"yaml_text": own}).status_code == 302
    draft = db.session.scalar(select(PolicyVersion))
    assert client.post(f"/warnings/policy/{draft.id}/activate").status_code == 302

    assert _draft_text(client, "/warnings/policy") == own.strip()
    client.post("/language/en")
    assert _draft_text(client, "/warnings/policy") == own.strip()
