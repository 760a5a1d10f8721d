"""CIN census XML: events worked out by hand from the fixtures.

Rules (SPEC §2.1): CINreferralDate -> Referral; AssessmentActualStartDate -> Assessment start;
AssessmentAuthorisationDate -> Assessment authorised; S47ActualStartDate -> S47 enquiry;
DateOfInitialCPC (at CINdetails or Section47 level, once) -> ICPC; CINPlanStartDate/EndDate ->
CIN plan start/end; CPPstartDate/CPPendDate -> CP plan start/end; each CPPreviewDate -> CP
review; CINclosureDate -> Case closed. Accounting unit: one row per record element of each
table (Child, CINdetails, Assessments, CINPlanDates, Section47, ChildProtectionPlans, each
CPPreviewDate).
"""

from __future__ import annotations

from datetime import date

from cscmining.columns import ACTIVITY, CASE, SOURCE

from reading_support import FIXTURES, acc, account, activity_counts, events, ingest, ingest_fixture

SMALL = FIXTURES / "cin_small.xml"
MORE = FIXTURES / "cin_more.xml"

SMALL_EXPECTED = [
    # "0042" sorts before "C001" (ids are strings, zeros kept)
    ("0042", "Referral", "2024-06-01"),
    ("0042", "Assessment start", "2024-06-01"),   # same day: 40 before 50
    ("0042", "Case closed", "2024-06-03"),
    ("C001", "Referral", "2024-04-02"),
    ("C001", "Assessment start", "2024-04-03"),
    ("C001", "S47 enquiry", "2024-04-03"),        # same day: 50 before 60
    # DateOfInitialCPC 2024-04-20 at CINdetails *and* Section47 level: one ICPC
    ("C001", "ICPC", "2024-04-20"),
    ("C001", "CP plan start", "2024-04-20"),      # same day: 70 before 130
    ("C001", "Assessment authorised", "2024-05-10"),
    ("C001", "CP review", "2024-07-15"),
]


def test_cin_small_events() -> None:
    log, read = ingest_fixture(SMALL)
    assert events(log) == SMALL_EXPECTED
    assert (log.events, log.cases, log.same_day_ties, log.merged) == (10, 2, 3, 1)
    assert log.as_at == date(2025, 3, 31)  # the census ReferenceDate
    assert read.errors == [] and read.notes == []


def test_cin_small_accounting() -> None:
    log, _ = ingest_fixture(SMALL)
    assert account(log, "child") == acc(2, 2, events=0)
    # Referral x2, ICPC (C001, CINdetails level), Case closed (0042)
    assert account(log, "cindetails") == acc(2, 2, events=4)
    assert account(log, "assessments") == acc(2, 2, events=3)
    # S47 enquiry and its ICPC (merged into the CINdetails one)
    assert account(log, "section47") == acc(1, 1, events=2)
    assert account(log, "childprotectionplans") == acc(1, 1, events=1)
    assert account(log, "cppreviewdate") == acc(1, 1, events=1)
    # no table the file does not have (CINPlanDates)
    assert {a.table for a in log.accounts} == {
        "child", "cindetails", "assessments", "section47", "childprotectionplans", "cppreviewdate"}


def test_cin_small_attributes() -> None:
    log, _ = ingest_fixture(SMALL)
    f = log.frame
    ref = f[(f[CASE] == "0042") & (f[ACTIVITY] == "Referral")].iloc[0]
    # ReferralNFA `true` and `0` are both booleans
    assert (ref["referral_source"], ref["referral_nfa"], ref["primary_need"]) == ("6", "true", "N4")
    assert f[(f[CASE] == "C001") & (f[ACTIVITY] == "Referral")].iloc[0]["referral_nfa"] == "false"
    closed = f[f[ACTIVITY] == "Case closed"].iloc[0]
    assert closed["reason"] == "RC8"
    s47 = f[f[ACTIVITY] == "S47 enquiry"].iloc[0]
    assert (s47["icpc_not_required"], s47["icpc_target"]) == ("false", "2024-04-24")
    # GenderCurrent 1 (to 2024) and Sex F (2025 on) are one attribute
    assert f.groupby(CASE)["case:sex"].first().to_dict() == {"0042": "Female", "C001": "Male"}
    # the merged ICPC is kept once, from the first source table in sort order
    icpc = f[f[ACTIVITY] == "ICPC"]
    assert len(icpc) == 1 and icpc.iloc[0][SOURCE] == "cin_census/cindetails"


MORE_EXPECTED = [
    # C10, first CINdetails
    ("C10", "Referral", "2023-05-01"),
    ("C10", "Assessment start", "2023-05-02"),
    ("C10", "Assessment authorised", "2023-06-20"),
    ("C10", "CIN plan start", "2023-06-21"),
    ("C10", "S47 enquiry", "2023-07-01"),
    ("C10", "ICPC", "2023-07-20"),        # only at Section47 level: nothing to merge
    ("C10", "CP plan start", "2023-07-20"),
    ("C10", "CP review", "2023-10-10"),   # two CPPreviewDate in one plan: two reviews
    ("C10", "CP review", "2023-11-20"),
    ("C10", "CP plan end", "2023-11-30"),
    ("C10", "CIN plan end", "2023-12-01"),  # 90 before 220 on the same day
    ("C10", "Case closed", "2023-12-01"),
    # C10, second CINdetails (re-referral, still open at the census date)
    ("C10", "Referral", "2024-02-10"),
    ("C10", "Assessment start", "2024-02-10"),
    # the other assessment starts 2024-04-02, after ReferenceDate 2024-03-31: DATE_FUTURE
    # ICPCnotRequired true and no ICPC; InitialCPCtarget 2024-04-05 is a target, not checked
    ("C10", "S47 enquiry", "2024-02-12"),
    # C11: closed 2023-09-01 before its referral 2023-09-05: Referral only, flagged
    ("C11", "Referral", "2023-09-05"),
    # the child with a blank LAchildID gives nothing: ID_MISSING in each of its tables
]


def test_cin_more_events() -> None:
    log, _ = ingest_fixture(MORE)
    assert events(log) == MORE_EXPECTED
    assert (log.events, log.cases, log.same_day_ties, log.merged) == (16, 2, 3, 0)
    assert activity_counts(log) == {
        "Referral": 3, "Assessment start": 2, "Assessment authorised": 1, "CIN plan start": 1,
        "S47 enquiry": 2, "ICPC": 1, "CP plan start": 1, "CP review": 2, "CP plan end": 1,
        "CIN plan end": 1, "Case closed": 1,
    }


def test_cin_more_accounting() -> None:
    log, _ = ingest_fixture(MORE)
    assert account(log, "child") == acc(3, 2, events=0, rejected={"ID_MISSING": 1})
    assert account(log, "cindetails") == acc(
        4, 3, events=4, rejected={"ID_MISSING": 1}, flags={"END_BEFORE_START": 1})
    assert account(log, "assessments") == acc(3, 2, events=3, rejected={"DATE_FUTURE": 1})
    assert account(log, "cinplandates") == acc(1, 1, events=2)
    assert account(log, "section47") == acc(2, 2, events=3)
    assert account(log, "childprotectionplans") == acc(1, 1, events=2)
    assert account(log, "cppreviewdate") == acc(2, 2, events=2)


def test_cin_more_attributes() -> None:
    log, _ = ingest_fixture(MORE)
    f = log.frame
    s47 = f[f[ACTIVITY] == "S47 enquiry"]
    s47 = s47.set_index(s47["time:timestamp"].dt.strftime("%Y-%m-%d"))
    assert s47.loc["2024-02-12", "icpc_not_required"] == "true"
    assert s47.loc["2024-02-12", "icpc_target"] == "2024-04-05"
    assert s47.loc["2023-07-01", "icpc_not_required"] == "false"
    cpp = f[f[ACTIVITY] == "CP plan start"].iloc[0]
    assert (cpp["category_of_abuse"], cpp["previous_cp_plans"]) == ("EMO", "1")
    assert f.groupby(CASE)["case:sex"].first().to_dict() == {"C10": "Male", "C11": "Female"}


def test_as_at_replaces_the_reference_date_as_the_future_limit() -> None:
    """``--as-at`` is the date after which nothing has happened yet, for every source.

    Decision: given an as-at date, it is the limit for the CIN census too (not the file's
    ReferenceDate), so an analyst who says "as at 30 June" sees the April assessment.
    """
    log, _ = ingest(MORE, as_at=date(2024, 6, 30))
    assert account(log, "assessments") == acc(3, 3, events=4)
    assert ("C10", "Assessment start", "2024-04-02") in events(log)
    earlier, _ = ingest(MORE, as_at=date(2023, 12, 31))
    # everything dated 2024 is now in the future: the re-referral's CINdetails row is rejected
    # (its referral date is required), and so are the rows whose only event is in 2024
    assert account(earlier, "cindetails") == acc(
        4, 2, events=3, rejected={"ID_MISSING": 1, "DATE_FUTURE": 1}, flags={"END_BEFORE_START": 1})
    assert account(earlier, "assessments") == acc(3, 1, events=2, rejected={"DATE_FUTURE": 2})
    assert account(earlier, "section47") == acc(2, 1, events=2, rejected={"DATE_FUTURE": 1})


def test_namespaces_comments_and_cdata_change_nothing(tmp_path) -> None:
    """What XML allows anywhere in a census: a default namespace, comments and processing
    instructions between and inside records, CDATA text. The parser keeps only elements and
    their text, so the events and accounts are those of the plain fixture."""
    text = SMALL.read_text()
    text = text.replace("<Message>", '<Message xmlns="http://www.dfe.gov.uk/CoreTransferProtocol">', 1)
    text = text.replace("<Child>", "<!-- child --><?review later?><Child><!-- inside -->")
    text = text.replace("<Ethnicity>WBRI</Ethnicity>", "<Ethnicity><![CDATA[WBRI]]><!-- x --></Ethnicity>")
    text = text.replace("<CINreferralDate>2024-06-01", "<CINreferralDate><!-- keyed late -->2024-06-01")
    path = tmp_path / "cin.xml"
    path.write_text(text)
    log, read = ingest(path)
    plain, _ = ingest_fixture(SMALL)
    assert events(log) == SMALL_EXPECTED
    assert [a.to_dict() | {"path": ""} for a in log.accounts] == [
        a.to_dict() | {"path": ""} for a in plain.accounts]
    assert log.frame.groupby(CASE)["case:ethnicity"].first().to_dict() == {"0042": "MWBC", "C001": "WBRI"}
    assert read.errors == []
