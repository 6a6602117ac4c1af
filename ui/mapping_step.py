"""The column-mapping step of an upload on the Data page (logic in ``core.mapping`` / ``core.upload``).

An export in the dictionary's own layout loads at once, as before. One with other column names or
codes waits here: the page shows the proposed mapping (one dropdown per export column, per REDCap
checkbox field, per code that needs a decision, and the day/month order of the dates), a preview of
the first rows after mapping, and loads the export through it when the user confirms. The mapping
can be downloaded as a small JSON file; uploaded with the next export, it applies at once.

Parsing stays in the limited child process (``core.isolation``): the page only holds the uploaded
bytes and the export's profile, in this session's state (dropped with the upload, ``state.use_demo``).
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import streamlit as st

from core import isolation, upload
from core import mapping as mapping_mod
from core.dictionary import COLUMNS_BY_NAME, DICTIONARY_VERSION, IMPORTED, IMPORTED_NAMES, REQUIRED_NAMES, label
from core.export_profile import Profile
from core.mapping import CheckboxRule, ExportMapping, MappingFileError
from core.readers import CohortValidationError
from core.template import template_xlsx
from ui import layout, state

_SEEN = "upload_mapping_seen"  # (export file id, mapping file id) pairs already handled (ids only, no data)
_NOT_USED = ""
_UNDECIDED = "?"
_EMPTY = "(empty)"
_DATE_TEXT = {
    mapping_mod.DAY_FIRST: "Day first: 03/11/2021 is 3 November 2021 (day/month/year)",
    mapping_mod.MONTH_FIRST: "Month first: 03/11/2021 is 11 March 2021 (month/day/year)",
}
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass
class _Step:
    """An export waiting for its mapping (this session only)."""

    filename: str
    data: bytes
    prepared: upload.Prepared
    token: str


def _box() -> dict:
    return st.session_state.setdefault(state.MAPPING, {})


def _step() -> _Step | None:
    return _box().get("step")


def pending() -> bool:
    """Whether an export waits for its mapping."""
    return _step() is not None


def notices() -> tuple[str, ...]:
    """Messages about the last mapping file (it could not be read, or does not fit the export)."""
    return tuple(_box().get("notices", ()))


def used() -> tuple[str, bytes] | None:
    """``(file name, JSON)`` of the mapping the active cohort was loaded with, if any."""
    return _box().get("used")


@st.cache_resource(show_spinner=False)
def template_bytes() -> bytes:
    """The data-collection template (the same for everyone; no patient data)."""
    return template_xlsx()


def template_button() -> None:
    """Download button of the data-collection template."""
    from ui import downloads  # the one caller of st.download_button (names unique per session and content)

    downloads.button("Data-collection template (.xlsx)", template_bytes(),
                     file_name=f"pdac_lm_template_v{DICTIONARY_VERSION}.xlsx", mime=XLSX_MIME,
                     key="dl_template", icon=":material/download:",
                     help="One sheet per section of the study form, dropdown lists for every category, a sheet "
                          "explaining each column and two example patients. Filled in, it uploads as it is.")


# ------------------------------------------------------------------------------------------
# upload handling


def _mapping_stem(filename: str) -> str:
    return (Path(filename).stem or "export")[:60] + "-mapping.json"


def _finish(filename: str, prepared: upload.Prepared) -> None:
    """A cohort came back: make it active and keep the mapping it was loaded with."""
    assert prepared.cohort is not None
    state.accept(filename, prepared.cohort)
    box = _box()
    box.pop("step", None)
    box["used"] = (_mapping_stem(filename), mapping_mod.to_json(prepared.mapping)) if prepared.mapped else None


def handle(uploaded, mapping_file) -> bool:
    """Process a new export (and mapping file) once: load it, or open the mapping step.

    Parameters
    ----------
    uploaded, mapping_file : UploadedFile or None
        What the export and the mapping-file uploaders returned.

    Returns
    -------
    bool
        True when something was processed (the caller reruns so every widget sees the new state).
    """
    step = _step()
    if uploaded is None and (mapping_file is None or step is None):
        return False
    key = (uploaded.file_id if uploaded is not None else f"step:{step.token}",
           mapping_file.file_id if mapping_file is not None else None)
    seen = st.session_state.setdefault(_SEEN, set())
    if key in seen:
        return False
    seen.add(key)
    filename, data = (uploaded.name, uploaded.getvalue()) if uploaded is not None else (step.filename, step.data)
    box = _box()
    box["notices"] = ()
    saved = None
    if mapping_file is not None:
        try:
            saved = mapping_mod.from_json(mapping_file.getvalue())
        except MappingFileError as exc:
            box["notices"] = (f"The mapping file {mapping_file.name} cannot be used: " + " ".join(exc.messages),)
    try:
        run = isolation.run_isolated(data, filename, task=functools.partial(upload.prepare, saved=saved))
    except Exception:  # noqa: BLE001 - never a traceback; the active cohort stays
        state.refuse(filename, None)
        return True
    if run.error is not None:
        box.pop("step", None)
        state.refuse(filename, run.error)
        return True
    prepared = run.cohort
    if not isinstance(prepared, upload.Prepared):
        state.refuse(filename, None)
        return True
    if prepared.cohort is not None:
        _finish(filename, prepared)
        return True
    box["step"] = _Step(filename, data, prepared, secrets.token_hex(4))
    if prepared.unfit:
        box["notices"] = (*box["notices"], f"The mapping file {mapping_file.name} does not fit this export, so it "
                          "was not applied at once: " + " ".join(prepared.unfit)
                          + " Its choices are filled in below where they apply.")
    if prepared.problems:
        state.refuse(filename, CohortValidationError(list(prepared.problems)))
    else:
        state.mark_pending(filename)
    return True


def cancel() -> None:
    """Drop the export waiting for its mapping (the active cohort stays)."""
    _box().pop("step", None)
    _box()["notices"] = ()
    state.clear_report()


# ------------------------------------------------------------------------------------------
# the step


def _target_text(name: str) -> str:
    return "(not used)" if name == _NOT_USED else name


def _code_text(target: str, value: str) -> str:
    if value == _UNDECIDED:
        return "? (not decided)"
    if value == _EMPTY:
        return "(empty cell)"
    if COLUMNS_BY_NAME[target].kind == "boolean":
        return "yes" if value == mapping_mod.TRUE_TEXT else "no"
    return value


def _box_text(value: str) -> str:
    return {_UNDECIDED: "? (not decided)", _NOT_USED: "(ignore this box)"}.get(value, value)


def _grid(n: int, width: int = 3):
    cols = st.columns(width)
    return [cols[i % width] for i in range(n)]


def _columns_section(step: _Step) -> dict[str, str | None]:
    prof, start, how = step.prepared.profile, step.prepared.mapping, step.prepared.how
    plain = [c for c in prof.columns if not c.checkbox]
    options = [_NOT_USED, *IMPORTED_NAMES]
    chosen: dict[str, str | None] = {}
    for slot, (i, col) in zip(_grid(len(plain), 2), enumerate(plain), strict=True):
        target = start.columns.get(col.name) or _NOT_USED
        why = how.get(col.name) or "no match: choose the dictionary column, or leave it not used"
        examples = ", ".join(col.examples) if col.examples else "all empty"
        key = f"map_{step.token}_c{i}"
        now = st.session_state.get(key, target)
        meaning = f" {now}: {label(now)}, {COLUMNS_BY_NAME[now].meaning.lower()}." if now in COLUMNS_BY_NAME else ""
        with slot:
            value = st.selectbox(layout.escape_md(col.name), options, index=options.index(target),
                                 format_func=_target_text, key=key,
                                 help=layout.escape_md(f"Proposed by: {why}.{meaning} Filled in {col.filled} of "
                                                       f"{prof.n_rows} rows, e.g. {examples}."))
        chosen[col.name] = value or None
    return chosen


def _checkbox_section(step: _Step) -> dict[str, CheckboxRule]:
    prof, start = step.prepared.profile, step.prepared.mapping
    groups = prof.groups()
    if not groups:
        return {}
    st.markdown("**REDCap checkbox fields**: each field fills one category column; say which label each box stands "
                "for, and which label several checked boxes make.")
    categories = [c.name for c in IMPORTED if c.kind == "category"]
    rules: dict[str, CheckboxRule] = {}
    for j, (base, members) in enumerate(groups.items()):
        rule = start.checkboxes.get(base, CheckboxRule(None))
        with st.container(border=True):
            options = [_NOT_USED, *categories]
            target = st.selectbox(layout.escape_md(f"{base} ({len(members)} boxes: "
                                                   + ", ".join(col for _, col in members) + ")"),
                                  options, index=options.index(rule.target or _NOT_USED), format_func=_target_text,
                                  key=f"map_{step.token}_g{j}")
            if not target:
                rules[base] = CheckboxRule(None, {opt: None for opt, _ in members})
                continue
            cats = list(COLUMNS_BY_NAME[target].categories or ())
            labels = [_UNDECIDED, _NOT_USED, *cats]
            opts: dict[str, str | None] = {}
            slots = _grid(len(members) + 1)
            for k, (opt, col) in enumerate(members):
                known = rule.target == target and opt in rule.options
                start_label = (rule.options[opt] or _NOT_USED) if known else _UNDECIDED
                with slots[k]:
                    value = st.selectbox(layout.escape_md(f"Box {opt} ({col})"), labels,
                                         index=labels.index(start_label) if start_label in labels else 0,
                                         format_func=_box_text, key=f"map_{step.token}_g{j}_{target}_o{k}")
                if value != _UNDECIDED:
                    opts[opt] = value or None
            labels = [_NOT_USED, *cats]
            several_start = rule.several if rule.target == target else None
            with slots[len(members)]:
                several = st.selectbox("Several boxes checked", labels,
                                       index=labels.index(several_start) if several_start in labels else 0,
                                       format_func=lambda v: "(report a problem)" if not v else v,
                                       key=f"map_{step.token}_g{j}_{target}_s")
            rules[base] = CheckboxRule(target, opts, several or None)
    return rules


def _codes_section(step: _Step, draft: ExportMapping) -> dict[str, dict[str, str]]:
    rows = mapping_mod.codes_to_review(step.prepared.profile, draft)
    values: dict[str, dict[str, str]] = {}
    if not rows:
        return values
    names = step.prepared.profile.names
    open_rows = [r for r in rows if r.label is None]
    known_rows = [r for r in rows if r.label is not None]
    if open_rows:
        st.markdown(f"**Codes to decide**: {len(open_rows)} code{'s' if len(open_rows) != 1 else ''} of the export "
                    "that the dictionary does not know. Choose the label each one stands for (left at ?, it is "
                    "reported as a problem).")
        _code_widgets(step, open_rows, names, values)
    if known_rows:
        shown = ", ".join(f"{r.code} → {r.label or '(empty)'}" for r in known_rows[:4])
        with st.expander(layout.escape_md(f"{len(known_rows)} code{'s' if len(known_rows) != 1 else ''} recognised "
                                          f"from other spellings ({shown}{', ...' if len(known_rows) > 4 else ''}): "
                                          "check them"), expanded=not open_rows):
            _code_widgets(step, known_rows, names, values)
    return values


def _code_widgets(step: _Step, rows: list[mapping_mod.CodeRow], names: tuple[str, ...],
                  values: dict[str, dict[str, str]]) -> None:
    by_target: dict[tuple[str, str], list[mapping_mod.CodeRow]] = {}
    for r in rows:
        by_target.setdefault((r.target, r.source), []).append(r)
    for (target, source), items in by_target.items():
        col = COLUMNS_BY_NAME[target]
        labels = [_UNDECIDED, _EMPTY, *((mapping_mod.TRUE_TEXT, mapping_mod.FALSE_TEXT) if col.kind == "boolean"
                                        else (col.categories or ()))]
        st.markdown(layout.escape_md(f"{label(target)} ({target}), from the export column '{source}'"))
        for slot, r in zip(_grid(len(items)), items, strict=True):
            start = _EMPTY if r.label == "" else r.label if r.label in labels else _UNDECIDED
            with slot:
                value = st.selectbox(layout.escape_md(f"'{r.code}' ({r.count} row{'s' if r.count != 1 else ''})"),
                                     labels, index=labels.index(start),
                                     format_func=functools.partial(_code_text, target),
                                     key=f"map_{step.token}_v_{target}_{names.index(source)}_{_code_id(r.code)}")
            if value != _UNDECIDED:
                values.setdefault(target, {})[r.code] = "" if value == _EMPTY else value


def _code_id(code: str) -> str:
    return hashlib.sha256(mapping_mod.code_key(code).encode("utf-8")).hexdigest()[:12]


def _dates_section(step: _Step, draft: ExportMapping) -> str | None:
    q = mapping_mod.date_question(step.prepared.profile, draft)
    if not q.needed:
        return None
    st.markdown("**Dates**")
    if q.conflict:
        st.warning(layout.escape_md(f"The export has dates that only read day first, such as {q.day_first_example}, "
                                    f"and dates that only read month first, such as {q.month_first_example}. Choose "
                                    "the order of most dates; the others are reported row by row."))
    elif q.detected:
        example = q.day_first_example or q.month_first_example
        st.caption(layout.escape_md(f"Detected from {example}, which can only be read one way. "
                                    f"{q.ambiguous} date(s) such as {q.either_example or example} read either way."))
    else:
        st.warning(layout.escape_md(f"The export has {q.ambiguous} date(s) such as {q.either_example} that read "
                                    "either way and none that shows the order: say how they are written."),
                   icon=":material/help:")
    start = step.prepared.mapping.date_order or q.detected
    order = st.radio("Dates such as 03/11/2021 are written", list(_DATE_TEXT), format_func=_DATE_TEXT.get,
                     index=list(_DATE_TEXT).index(start) if start in _DATE_TEXT else None,
                     key=f"map_{step.token}_dates")
    return order


def _preview(step: _Step, current: ExportMapping) -> None:
    prof: Profile = step.prepared.profile
    applied = mapping_mod.apply(prof.preview_table(), current)
    frame = applied.raw.frame
    ordered = [c for c in IMPORTED_NAMES if c in frame.columns]
    table = frame[ordered].copy()
    table.insert(0, "row", list(prof.preview_rows))
    st.markdown(f"**Preview**: the first {len(table)} rows after mapping (row numbers as in the file).")
    st.dataframe(table, width="stretch", hide_index=True)
    with st.expander("The export as uploaded (first rows)"):
        raw = pd.DataFrame(list(prof.preview), columns=list(prof.names))
        raw.insert(0, "row", list(prof.preview_rows))
        st.dataframe(raw, width="stretch", hide_index=True)


def render() -> None:
    """The mapping step, when an export waits for its mapping."""
    step = _step()
    if step is None:
        return
    prof = step.prepared.profile
    with st.container(border=True):
        st.markdown("#### Map the export to the data dictionary")
        st.caption(layout.escape_md(
            f"{step.filename}: {prof.n_rows} rows, {len(prof.columns)} columns. Each column and code below has a "
            "proposal (by name, by the dictionary's other names in English and Italian, or by a similar name): "
            "check each one and change what is wrong. Nothing is loaded until you press 'Load with this mapping'."))
        st.markdown("**Columns**: the dictionary column each export column holds.")
        columns = _columns_section(step)
        boxes = _checkbox_section(step)
        draft = ExportMapping(columns, boxes, step.prepared.mapping.values, step.prepared.mapping.date_order)
        values = _codes_section(step, draft)
        order = _dates_section(step, draft)
        current = ExportMapping(columns, boxes, values, order)
        targets = current.targets()
        unused = [src for src, t in columns.items() if not t]
        if unused:
            st.caption(layout.escape_md("Not used (kept as extra text columns): " + ", ".join(unused) + "."))
        missing = [n for n in REQUIRED_NAMES if n not in targets]
        if missing:
            st.warning(layout.escape_md("Required dictionary columns that no export column fills: "
                                        + ", ".join(missing) + "."), icon=":material/warning:")
        _preview(step, current)
        blocking = mapping_mod.check(current, prof)
        for message in blocking:
            st.error(layout.escape_md(message))
        left, middle, right = st.columns([2, 2, 1])
        go = left.button("Load with this mapping", type="primary", disabled=bool(blocking),
                         key=f"map_{step.token}_load", icon=":material/upload:")
        from ui import downloads

        downloads.button("Download this mapping (JSON)", mapping_mod.to_json(current),
                         file_name=_mapping_stem(step.filename), mime="application/json",
                         key=f"map_{step.token}_dl", where=middle, icon=":material/download:",
                         help="Upload it together with the next export of the same form: it applies at once.")
        if right.button("Cancel", key=f"map_{step.token}_cancel"):
            cancel()
            st.rerun()
    if go:
        _load(step, current)
        st.rerun()


def _load(step: _Step, current: ExportMapping) -> None:
    try:
        run = isolation.run_isolated(step.data, step.filename,
                                     task=functools.partial(upload.load_mapped, mapping=current))
    except Exception:  # noqa: BLE001 - never a traceback; the active cohort stays
        state.refuse(step.filename, None)
        return
    if run.error is not None:
        state.refuse(step.filename, run.error)
        return
    prepared = run.cohort
    if isinstance(prepared, upload.Prepared) and prepared.cohort is not None:
        _finish(step.filename, prepared)
        _box()["notices"] = ()
    elif isinstance(prepared, upload.Prepared):
        state.refuse(step.filename, CohortValidationError(list(prepared.problems)))
    else:
        state.refuse(step.filename, None)
