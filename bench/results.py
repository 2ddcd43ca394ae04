"""One measured figure against its target and its same-run baseline, rendered as Markdown."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    name: str
    value: float
    unit: str
    target: str
    met: bool | None  # None: informational, no target
    baseline: float | None = None
    baseline_name: str = ""

    @property
    def ratio(self) -> str:
        if not self.baseline:
            return "—"
        return f"{self.value / self.baseline:.2f}× {self.baseline_name}"


def markdown(title: str, figures: list[Figure], notes: list[str]) -> str:
    lines = [
        f"### {title}",
        "",
        "| figure | value | baseline (same run) | ratio | target | met |",
        "|---|---|---|---|---|---|",
    ]
    for f in figures:
        base = "—" if f.baseline is None else f"{f.baseline:,.3f} {f.unit}"
        met = "—" if f.met is None else ("yes" if f.met else "**no**")
        lines.append(
            f"| {f.name} | {f.value:,.3f} {f.unit} | {base} | {f.ratio} | {f.target} | {met} |"
        )
    lines += [""] + [f"- {n}" for n in notes] + [""]
    return "\n".join(lines)
