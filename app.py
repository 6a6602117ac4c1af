"""PDAC liver-metastasis outcomes explorer: entry point, navigation and shared sidebar."""

import streamlit as st

from core import isolation
from ui import auth, controls, downloads, faults, hardening, idle, layout, linked, memory, run_slots, sidebar, state

hardening.keep_uploads_in_memory()  # before any upload can arrive: uploads never spool to disk
hardening.ignore_clear_cache()  # no session can empty the process-wide caches (ui/hardening.py)
memory.start()  # once per process: return memory freed by ended sessions to the operating system
memory.note_activity()  # the release after a quiet period waits until no session has run for a while

st.set_page_config(
    page_title="PDAC liver-metastasis outcomes explorer",
    page_icon=":material/monitoring:",
    layout="wide",
    initial_sidebar_state="expanded",
)
# Security first, before the run takes a shared run slot: expire an idle session, then nothing below runs
# (no data, no upload) before login. The login form, and the delay after a wrong password, make nobody wait.
hardening.require_security_layer()
idle.check()
auth.require_login()

# Sessions take turns, in arrival order, a few at a time (ui/run_slots.py): fair update times under load.
# After a run, when nobody waits: a full garbage collection (instead of Streamlit's after every run).
with run_slots.GATE.slot(), memory.collect_after_run(lambda: run_slots.GATE.waiting == 0):
    with st.sidebar:
        idle.watch()
    faults.maybe_raise()  # tests only: off unless PDAC_FAULT_INJECTION=1

    PAGES = {
        "Results": [
            st.Page("views/overview.py", title="Overview", icon=":material/dashboard:", url_path="overview", default=True),
            st.Page("views/survival.py", title="Survival", icon=":material/show_chart:", url_path="survival"),
            st.Page("views/target_trial.py", title="Target trial", icon=":material/call_split:",
                    url_path="target-trial"),
            st.Page("views/subgroups.py", title="Subgroups", icon=":material/account_tree:", url_path="subgroups"),
            st.Page("views/robustness.py", title="Robustness", icon=":material/alt_route:", url_path="robustness"),
            st.Page("views/surgical.py", title="Surgical outcomes", icon=":material/content_cut:", url_path="surgical"),
        ],
        "Comparability": [
            st.Page("views/cohort.py", title="Cohort (Table 1)", icon=":material/table_chart:", url_path="cohort"),
            st.Page("views/matching.py", title="Matching", icon=":material/join_inner:", url_path="matching"),
            st.Page("views/method_check.py", title="Method check", icon=":material/verified:", url_path="method-check"),
        ],
        "Data": [
            st.Page("views/data.py", title="Data & upload", icon=":material/upload_file:", url_path="data"),
            st.Page("views/dictionary.py", title="Data dictionary", icon=":material/menu_book:", url_path="dictionary"),
        ],
    }

    isolation.warm_up()  # start the upload-parsing fork server once per process, not on the first upload
    navigation = st.navigation(PAGES)
    auth.resume_wanted_view(PAGES)  # after login: the page and view of the link the user opened
    layout.apply_style()
    linked.require()  # a shared link of an uploaded cohort: its file first, never other data in its place
    spec = controls.render(state.active_cohort().data)  # the study's filters first, seen without scrolling
    sidebar.render()
    downloads.suppression_controls()
    downloads.report_buttons(spec)
    navigation.run()
