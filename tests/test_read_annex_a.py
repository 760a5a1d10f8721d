"""Ofsted Annex A, one CSV per list and one xlsx workbook: events worked out by hand.

Rules (SPEC §2.1, §2.2): L1 Date of Contact -> Contact; L3 Date of referral -> Referral; L4
start / authorisation -> Assessment start / authorised; L5 strategy discussion -> S47
enquiry, ICPC date -> ICPC; L6 CIN Closure Date -> Case closed; L7 plan start / latest review
/ end -> CP plan start / CP review / CP plan end; L8 Date Started to be Looked After -> Looked
after start, legal status and most recent placement dates only when later than the start of
care, an adoption placement -> Placed for adoption, latest statutory review -> CLA review,
ceased -> ``Left care: <outcome>`` from the reason label; L10 entered care -> Looked after
start, decision -> Adoption decision, placement order, matching, placed -> Placed for
adoption, adoption order -> ``Left care: adopted`` (merging with L8 where L8 holds the same).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from cscmining.columns import ACTIVITY, CASE

from reading_support import (
    FIXTURES,
    acc,
    account,
    activity_counts,
    build_annex_a_xlsx,
    build_xlsx,
    events,
    ingest,
    ingest_fixture,
    write_csv,
)

CSV_LISTS = FIXTURES / "annex_a_csv"

CSV_EXPECTED = [
    ("A1", "Contact", "2024-01-02"),
    ("A1", "Referral", "2024-01-10"),
    ("A1", "Assessment start", "2024-01-11"),
    ("A1", "S47 enquiry", "2024-01-12"),
    ("A1", "ICPC", "2024-01-30"),                 # L5 ICPC and L7 plan start the same day:
    ("A1", "CP plan start", "2024-01-30"),        # 70 before 130
    ("A1", "Assessment authorised", "2024-02-20"),
    ("A1", "CP review", "2024-04-25"),            # plan end blank: no CP plan end
    # A2: contact, referral and assessment start on one day, in stage order 10, 40, 50
    ("A2", "Contact", "2024-01-05"),
    ("A2", "Referral", "2024-01-05"),
    ("A2", "Assessment start", "2024-01-05"),     # not authorised yet: start only
    ("A2", "Case closed", "2024-02-28"),          # L6 closure (L6 CIN start is not an event)
    # A3 (L8): legal status date = start of care: no Legal status change; placement
    # 15/06/2023 later than 01/03/2023 with a foster placement: Placement change
    ("A3", "Looked after start", "2023-03-01"),
    ("A3", "Placement change", "2023-06-15"),
    ("A3", "CLA review", "2023-09-01"),
    # A4 in L8 and L10: entered care, placed for adoption and adopted are in both (merged)
    ("A4", "Looked after start", "2022-05-10"),   # L8 + L10
    ("A4", "Adoption decision", "2022-08-01"),    # L10
    ("A4", "Placement order", "2022-11-01"),      # L10
    ("A4", "Legal status change", "2022-12-01"),  # L8: 01/12/2022 later than 10/05/2022
    ("A4", "Matched with adopters", "2023-01-10"),  # L10
    ("A4", "Placed for adoption", "2023-02-01"),  # L8 (b) Placed for adoption) + L10
    ("A4", "CLA review", "2024-01-15"),           # L8
    ("A4", "Left care: adopted", "2024-03-20"),   # L8 (a) Adopted) + L10 adoption order
    # A5 (L8): legal status and placement both on the start date: no events for them
    ("A5", "Looked after start", "2024-01-01"),
    ("A5", "Left care: special guardianship", "2024-03-01"),  # g) Special Guardianship Orders
]


def test_csv_lists_events() -> None:
    log, _ = ingest_fixture(CSV_LISTS)
    assert events(log) == CSV_EXPECTED
    assert (log.events, log.cases, log.same_day_ties, log.merged) == (25, 5, 3, 3)


def test_csv_lists_accounting_and_notes() -> None:
    log, read = ingest_fixture(CSV_LISTS)
    assert account(log, "list_1") == acc(2, 2, events=2)
    assert account(log, "list_3") == acc(2, 2, events=2)
    assert account(log, "list_4") == acc(2, 2, events=3)
    assert account(log, "list_5") == acc(1, 1, events=2)
    assert account(log, "list_6") == acc(1, 1, events=1)
    assert account(log, "list_7") == acc(1, 1, events=2)
    # A3: 3, A4: start, legal status, placed for adoption, review, left care = 5, A5: 2
    assert account(log, "list_8") == acc(3, 3, events=10)
    assert account(log, "list_10") == acc(1, 1, events=6)
    # extra columns are ignored and listed by name (never their values)
    note = next(n for n in read.notes if "list_3_referrals.csv" in n)
    assert note.endswith("3 column(s) not used: Age of Child (Years), "
                         "Number of Referrals in Last 12 Months, Allocated Worker")
    assert "W001" not in " ".join(read.notes)


def test_csv_lists_attributes() -> None:
    log, _ = ingest_fixture(CSV_LISTS)
    f = log.frame
    ref = f[(f[CASE] == "A1") & (f[ACTIVITY] == "Referral")].iloc[0]
    assert (ref["referral_source"], ref["team"]) == ("a) 1A: Individual", "Team East")
    # lettered labels: `a) Male` / `b) Female`
    assert f.groupby(CASE)["case:sex"].first().to_dict() == {
        "A1": "Male", "A2": "Female", "A3": "Male", "A4": "Female", "A5": "Female"}
    # the merged Left care event keeps the L8 reason (first source in sort order: list_10 <
    # list_8 as text, completed from list_8)
    left = f[(f[CASE] == "A4") & (f[ACTIVITY] == "Left care: adopted")].iloc[0]
    assert left["reason"] == "a) Adopted"
    assert "Allocated Worker" not in f.columns and "W001" not in f.to_string()


XLSX_EXPECTED = [
    ("12345", "Referral", "2024-01-09"),        # numeric id 12345(.0); Excel serial 45300
    ("X1", "Contact", "2024-01-05"),            # list 1 below a title row
    ("X1", "Referral", "2024-01-08"),           # real date cell
    ("X2", "Referral", "2024-01-09"),           # text 09/01/2024 is 9 January
    # Y1 in L8 and L10
    ("Y1", "Looked after start", "2023-05-01"),   # L8 + L10
    ("Y1", "Adoption decision", "2023-06-01"),
    ("Y1", "Placement order", "2023-08-01"),
    ("Y1", "Matched with adopters", "2023-08-20"),
    ("Y1", "Placed for adoption", "2023-09-01"),  # L8 b) Placed for adoption + L10
    ("Y1", "CLA review", "2023-11-01"),
    ("Y1", "Left care: adopted", "2024-02-01"),   # L8 `a) Adopted` + L10 adoption order
    ("Y2", "Looked after start", "2023-06-02"),
    ("Y2", "Legal status change", "2023-08-15"),  # later than the start of care
    ("Y2", "Left care: adopted", "2024-02-03"),   # bare code E11
    ("Y3", "Looked after start", "2023-06-10"),   # text date
    ("Y3", "Placement change", "2023-07-20"),     # text date, foster placement
    ("Y3", "Left care: adopted", "2024-02-05"),   # free text `Adopted`
    ("Y4", "Looked after start", "2023-07-03"),   # serial 45110
    ("Y4", "Left care: special guardianship", "2024-02-06"),  # g) Special Guardianship Orders
]


@pytest.fixture(scope="module")
def workbook(tmp_path_factory) -> Path:
    return build_annex_a_xlsx(tmp_path_factory.mktemp("annex_a") / "annex_a.xlsx")


def test_xlsx_workbook_events(workbook) -> None:
    log, read = ingest_fixture(workbook)
    assert events(log) == XLSX_EXPECTED
    assert (log.events, log.cases, log.same_day_ties, log.merged) == (19, 7, 0, 3)
    assert activity_counts(log)["Left care: adopted"] == 3
    assert read.errors == []


def test_xlsx_workbook_accounting(workbook) -> None:
    path = workbook
    log, read = ingest_fixture(path)
    by_sheet = {a.sheet: a for a in log.accounts}
    assert set(by_sheet) == {"Contacts", "Sheet3", "CLA", "Adoption (L10)"}
    assert {s: a.table for s, a in by_sheet.items()} == {
        "Contacts": "list_1", "Sheet3": "list_3", "CLA": "list_8", "Adoption (L10)": "list_10"}
    # the six formatted empty rows under each list are not rows; the blank row between
    # data rows of list 3 is
    assert account(log, "list_1") == acc(1, 1, events=1)
    assert account(log, "list_3") == acc(
        4, 3, blank=1, events=3, flags={"DATE_FROM_SERIAL": 1, "ID_FROM_NUMBER": 1})
    assert account(log, "list_8") == acc(4, 4, events=12, flags={"DATE_FROM_SERIAL": 1})
    assert account(log, "list_10") == acc(1, 1, events=6)
    assert f"{path}: sheet(s) not recognised and skipped: Cover" in read.notes
    assert f"{path} [CLA]: 1 column(s) not used: Allocated Worker" in read.notes


def test_xlsx_case_attributes(workbook) -> None:
    log, _ = ingest_fixture(workbook)
    sexes = log.frame.groupby(CASE)["case:sex"].first().to_dict()
    # `b) Female`, `F`; `a) Male`, `M`
    assert sexes == {"12345": "Male", "X1": "Female", "X2": "Female", "Y1": "Female",
                     "Y2": "Female", "Y3": "Male", "Y4": "Male"}


L8_HEADER = ("Child Unique ID,Date Started to be Looked After,Start date of current legal status,"
             "Date Ceased to be Looked After,Reason Ceased to be Looked After,"
             "Start Date of Most Recent Placement,Placement Type")


REASONS = [
    ("a) Adopted", "Left care: adopted"),
    ("Adopted", "Left care: adopted"),
    ("adopted - application unopposed", "Left care: adopted"),
    ("E11", "Left care: adopted"),
    ("E12: Adopted - consent dispensed with", "Left care: adopted"),
    ("g) Special Guardianship Orders", "Left care: special guardianship"),
    ("E45: SGO made to former foster carers", "Left care: special guardianship"),
    ("Special guardianship order", "Left care: special guardianship"),
    ("f) Residence order or child arrangements order", "Left care: child arrangements order"),
    ("E41", "Left care: child arrangements order"),
    ("d) Returned home to live with parents as part of care planning", "Left care: returned home"),
    ("e) Returned home not as part of care planning", "Left care: returned home"),
    ("E4A", "Left care: returned home"),
    ("E13", "Left care: returned home"),
    ("h) Moved into independent living", "Left care: independent living"),
    ("E17", "Left care: independent living"),
    ("b) Died", "Left care: other"),
    ("n) Care ceased for any other reason", "Left care: other"),
    ("E3", "Left care: other"),
    ("", "Left care: other"),   # a ceased date without a reason still ends care
]


@pytest.fixture(scope="module")
def reasons_log(tmp_path_factory):
    """One list 8 row per reason label, child ``K<n>`` for the n-th: one file, one ingest."""
    path = write_csv(tmp_path_factory.mktemp("l8") / "l8.csv", [
        L8_HEADER,
        *[f'K{n},01/04/2023,01/04/2023,01/02/2024,"{reason}",01/04/2023,U4' for n, (reason, _) in enumerate(REASONS)],
    ])
    return ingest(path)[0]


@pytest.mark.parametrize(("n", "reason", "activity"), [(n, *pair) for n, pair in enumerate(REASONS)])
def test_reason_ceased_labels(reasons_log, n: int, reason: str, activity: str) -> None:
    mine = [e for e in events(reasons_log) if e[0] == f"K{n}"]
    assert mine == [(f"K{n}", "Looked after start", "2023-04-01"), (f"K{n}", activity, "2024-02-01")]


def test_list_8_dates_only_when_later_than_start_of_care(tmp_path) -> None:
    path = write_csv(tmp_path / "l8.csv", [
        L8_HEADER,
        # legal status before the start of care (a previous period): no event; placement same day
        "P1,01/06/2023,01/02/2023,,,01/06/2023,U4",
        # both later: Legal status change and Placement change
        "P2,01/06/2023,02/06/2023,,,03/06/2023,K2",
        # adoption placement by code A5 and by label: Placed for adoption
        "P3,01/06/2023,,,,10/09/2023,A5",
        "P4,01/06/2023,,,,11/09/2023,b) Placed for adoption",
        # a fostering-for-adoption placement is not a placement for adoption
        "P5,01/06/2023,,,,12/09/2023,U5 Fostering for adoption",
    ])
    log, _ = ingest(path)
    assert events(log) == [
        ("P1", "Looked after start", "2023-06-01"),
        ("P2", "Looked after start", "2023-06-01"),
        ("P2", "Legal status change", "2023-06-02"),
        ("P2", "Placement change", "2023-06-03"),
        ("P3", "Looked after start", "2023-06-01"),
        ("P3", "Placed for adoption", "2023-09-10"),
        ("P4", "Looked after start", "2023-06-01"),
        ("P4", "Placed for adoption", "2023-09-11"),
        ("P5", "Looked after start", "2023-06-01"),
        ("P5", "Placement change", "2023-09-12"),
    ]
    assert account(log, "list_8") == acc(5, 5, events=10)


def test_header_variants_in_csv(tmp_path) -> None:
    """Case, spacing, punctuation and wording of Annex A headers do not matter."""
    path = write_csv(tmp_path / "refs.csv", [
        " child unique id ,GENDER,Referral_Date,Referral source",
        "R1,F,02/02/2024,a) 1A: Individual",
    ])
    log, _ = ingest(path)
    assert events(log) == [("R1", "Referral", "2024-02-02")]
    assert log.frame["case:sex"].tolist() == ["Female"]


def test_xlsx_sheet_with_only_a_header_and_a_cover(tmp_path) -> None:
    path = build_xlsx(tmp_path / "a.xlsx", {
        "Cover": [["Annex A"], ["Local authority", "Anytown"]],
        "List 3": [["Child Unique ID", "Date of referral"]],
    })
    log, _read = ingest(path)
    assert (log.events, log.cases) == (0, 0)
    assert account(log, "list_3") == acc(0, 0, events=0)


def test_list_10_alone_gives_looked_after_start_and_adoption(tmp_path) -> None:
    path = build_xlsx(tmp_path / "l10.xlsx", {"L10": [
        ["Child Unique ID", "Date the Child Entered Care",
         "Date of Decision that Child Should be Placed for Adoption", "Date of Placement Order",
         "Date of Matching Child and Prospective Adopters", "Date Placed for Adoption",
         "Date of Adoption Order"],
        ["Z1", "01/02/2022", "01/05/2022", None, None, None, None],
        # adoption order before entering care: impossible, flagged, not emitted
        ["Z2", "01/02/2022", None, "01/06/2022", "01/07/2022", "01/08/2022", "01/01/2022"],
    ]})
    log, _ = ingest(path, as_at=date(2024, 3, 31))
    assert events(log) == [
        ("Z1", "Looked after start", "2022-02-01"),
        ("Z1", "Adoption decision", "2022-05-01"),
        ("Z2", "Looked after start", "2022-02-01"),
        ("Z2", "Placement order", "2022-06-01"),
        ("Z2", "Matched with adopters", "2022-07-01"),
        ("Z2", "Placed for adoption", "2022-08-01"),
    ]
    assert account(log, "list_10") == acc(2, 2, events=6, flags={"END_BEFORE_START": 1})


@pytest.mark.parametrize("header", ["Child Unique ID", "CHILD ID", "LA Child ID", "Unique Child Identifier",
                                    "child_unique_id", "Child ID No", "Child reference"])
def test_child_id_header_spellings(tmp_path, header: str) -> None:
    """LAs name the id column many ways (liiatools matches `child ... id|identifier`)."""
    path = write_csv(tmp_path / "l3.csv", [f"{header},Date of referral", "R7,02/02/2024"])
    log, _ = ingest(path)
    assert events(log) == [("R7", "Referral", "2024-02-02")]
