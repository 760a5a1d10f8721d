"""The synthetic returns: reproducible, in the returns' real formats, consistent, believable."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import defusedxml.ElementTree as SafeET
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from cscmining.cli.context import AppContext
from cscmining.cli.samples import samples as samples_command
from cscmining.samples import write_samples

REFERENCE = pd.Timestamp("2025-03-31")
YEAR_START = pd.Timestamp("2024-04-01")
SIX_MONTHS = pd.Timestamp("2024-10-01")
DMY = re.compile(r"^(\d{2}/\d{2}/\d{4})?$")
ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")

#: research/domain.md §2.1, exact and in order
HEADERS_903 = {
    "header": ["CHILD", "SEX", "DOB", "ETHNIC", "UPN", "MOTHER", "MC_DOB"],
    "episodes": [
        "CHILD",
        "DECOM",
        "RNE",
        "LS",
        "CIN",
        "PLACE",
        "PLACE_PROVIDER",
        "DEC",
        "REC",
        "REASON_PLACE_CHANGE",
        "HOME_POST",
        "PL_POST",
        "URN",
    ],
    "reviews": ["CHILD", "DOB", "REVIEW", "REVIEW_CODE"],
    "missing": ["CHILD", "DOB", "MISSING", "MIS_START", "MIS_END"],
    "ad1": [
        "CHILD",
        "DOB",
        "DATE_INT",
        "DATE_MATCH",
        "FOSTER_CARE",
        "NB_ADOPTR",
        "SEX_ADOPTR",
        "LS_ADOPTR",
    ],
    "placed_adoption": [
        "CHILD",
        "DOB",
        "DATE_PLACED",
        "DATE_PLACED_CEASED",
        "REASON_PLACED_CEASED",
    ],
    "uasc": ["CHILD", "SEX", "DOB", "DUC"],
}
DATES_903 = {
    "header": ["DOB", "MC_DOB"],
    "episodes": ["DECOM", "DEC"],
    "reviews": ["DOB", "REVIEW"],
    "missing": ["DOB", "MIS_START", "MIS_END"],
    "ad1": ["DOB", "DATE_INT", "DATE_MATCH"],
    "placed_adoption": ["DOB", "DATE_PLACED", "DATE_PLACED_CEASED"],
    "uasc": ["DOB", "DUC"],
}
COMMON = ["Child Unique ID", "Gender", "Ethnicity", "Date of Birth", "Age of Child (Years)"]
#: research/domain.md §2.3: the date columns each list must carry
ANNEX_DATES = {
    1: ["Date of Contact"],
    2: ["Assessment start date", "Assessment completion date"],
    3: ["Date of referral"],
    4: ["Continuous Assessment Start Date", "Continuous Assessment Date of Authorisation"],
    5: [
        "Strategy discussion initiating Section 47 Enquiry Start Date",
        "Date of Initial Child Protection Conference",
    ],
    6: ["CIN Start Date", "Date Child Was Last Seen", "CIN Closure Date"],
    7: [
        "Child Protection Plan Start Date",
        "Date of the Last Statutory Visit",
        "Date of latest review conference",
        "Child Protection Plan End Date",
    ],
    8: [
        "Date Started to be Looked After",
        "Start date of current legal status",
        "Date of Latest Statutory Review",
        "Date Ceased to be Looked After",
        "Start Date of Most Recent Placement",
    ],
    9: ["Latest Pathway Plan Review Date", "Latest Date of Contact"],
    10: [
        "Date the Child Entered Care",
        "Date of Decision that Child Should be Placed for Adoption",
        "Date of Placement Order",
        "Date of Matching Child and Prospective Adopters",
        "Date Placed for Adoption",
        "Date of Adoption Order",
    ],
}


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("small")
    write_samples(folder, children=120, seed=11)
    return folder


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("big")
    write_samples(folder, children=2000, seed=2025)
    return folder


def read_903(folder: Path, table: str) -> pd.DataFrame:
    return pd.read_csv(
        folder / "ssda903_2025" / f"{table}.csv",
        dtype=str,
        keep_default_na=False,
        encoding="utf-8-sig",
    )


def read_list(folder: Path, number: int) -> pd.DataFrame:
    frame = pd.read_csv(
        folder / "alternative_formats" / "annex_a_2025_csv" / f"list_{number}.csv",
        dtype=str,
        keep_default_na=False,
    )
    return frame[frame["Child Unique ID"] != ""]


def dmy(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values.replace("", None), format="%d/%m/%Y")


def cin_tables(folder: Path) -> dict[str, pd.DataFrame]:
    """The CIN census flattened: one frame per record element, with the child's id."""
    root = SafeET.parse(folder / "cin_census_2025.xml").getroot()
    rows: dict[str, list[dict[str, str | None]]] = {
        "child": [],
        "details": [],
        "assessments": [],
        "s47": [],
        "cpp": [],
        "cin_plans": [],
    }
    for child in root.find("Children"):
        cid = child.findtext("ChildIdentifiers/LAchildID")
        rows["child"].append({"child": cid, "sex": child.findtext("ChildIdentifiers/Sex")})
        for n, details in enumerate(child.findall("CINdetails")):
            key = f"{cid}/{n}"
            leaves = {e.tag: e.text for e in details if len(e) == 0}
            rows["details"].append({"child": cid, "key": key, **leaves})
            for tag, table in (
                ("Assessments", "assessments"),
                ("Section47", "s47"),
                ("ChildProtectionPlans", "cpp"),
                ("CINPlanDates", "cin_plans"),
            ):
                for block in details.findall(tag):
                    leaves = {e.tag: e.text for e in block if len(e) == 0}
                    reviews = [e.text for e in block.iter("CPPreviewDate")]
                    rows[table].append({"child": cid, "key": key, **leaves, "reviews": reviews})
    return {name: pd.DataFrame(r) for name, r in rows.items()}


def all_files(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


# --- reproducibility -------------------------------------------------------------------


def test_same_seed_gives_the_same_bytes_in_every_file(small: Path, tmp_path: Path) -> None:
    write_samples(tmp_path, children=120, seed=11)
    first, again = all_files(small), all_files(tmp_path)
    assert sorted(first) == sorted(again)
    assert len(first) == 21
    changed = [name for name in first if first[name] != again[name]]
    assert changed == []


def test_another_seed_gives_other_data(small: Path, tmp_path: Path) -> None:
    write_samples(tmp_path, children=120, seed=12)
    first, other = all_files(small), all_files(tmp_path)
    for name in (
        "cin_census_2025.xml",
        "ssda903_2025/episodes.csv",
        "annex_a_2025.xlsx",
        "alternative_formats/ssda903_2025.xml",
        "alternative_formats/annex_a_2025_csv/list_1.csv",
    ):
        assert first[name] != other[name], name


def test_a_tiny_pool_still_writes_every_file(tmp_path: Path) -> None:
    paths = write_samples(tmp_path, children=2, seed=5)
    assert all(p.exists() for p in paths)
    assert [p.name for p in paths][:2] == ["cin_census_2025.xml", "header.csv"]
    with pytest.raises(ValueError):
        write_samples(tmp_path, children=0)


def test_the_command_writes_the_files_and_says_so(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        samples_command,
        [
            "-o",
            str(tmp_path / "out"),
            "--children",
            "25",
            "--seed",
            "3",
            "--reference-date",
            "2024-03-31",
        ],
        obj=AppContext(),
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "cin_census_2024.xml").exists()
    assert (tmp_path / "out" / "ssda903_2024" / "episodes.csv").exists()
    assert result.stderr.count("wrote ") == 21
    root = SafeET.parse(tmp_path / "out" / "cin_census_2024.xml").getroot()
    assert root.findtext("Header/CollectionDetails/ReferenceDate") == "2024-03-31"


# --- formats ---------------------------------------------------------------------------


def test_903_csv_headers_are_exactly_the_returns(small: Path) -> None:
    for table, header in HEADERS_903.items():
        assert list(read_903(small, table).columns) == header, table
    raw = {t: (small / "ssda903_2025" / f"{t}.csv").read_bytes() for t in HEADERS_903}
    assert raw["episodes"].startswith(b"\xef\xbb\xbfCHILD,")  # the one file with a BOM
    assert all(raw[t].startswith(b"CHILD,") for t in HEADERS_903 if t != "episodes")


def test_903_dates_are_day_month_year(small: Path) -> None:
    for table, columns in DATES_903.items():
        frame = read_903(small, table)
        for column in columns:
            assert frame[column].str.match(DMY).all(), (table, column)
            assert (dmy(frame[column]).dropna() <= REFERENCE + pd.Timedelta(days=366 * 18)).all()


def test_cin_census_is_the_2025_shape_with_iso_dates(small: Path) -> None:
    root = SafeET.parse(small / "cin_census_2025.xml").getroot()
    assert root.tag == "Message"
    assert root.findtext("Header/CollectionDetails/Collection") == "CIN"
    assert root.findtext("Header/CollectionDetails/ReferenceDate") == "2025-03-31"
    dates = [
        e.text
        for e in root.iter()
        if e.tag.endswith("Date")
        or e.tag in ("CINreferralDate", "InitialCPCtarget", "DateOfInitialCPC")
    ]
    assert dates and all(ISO.match(d) for d in dates)
    assert {e.text for e in root.iter("Sex")} <= {"M", "F", "U"}
    assert not list(root.iter("GenderCurrent"))
    booleans = [e.text for e in root.iter() if e.tag in ("ReferralNFA", "ICPCnotRequired")]
    assert set(booleans) == {"true", "false"}
    # element order inside CINdetails follows the XSD: ReferralNFA after Section47
    for details in root.iter("CINdetails"):
        tags = [e.tag for e in details]
        assert tags[0] == "CINreferralDate" and "ReferralNFA" in tags
        after = tags[tags.index("ReferralNFA") + 1 :]
        assert set(after) <= {"ChildProtectionPlans"}


def test_903_xml_holds_the_same_data_with_xml_tag_names(small: Path) -> None:
    root = SafeET.parse(small / "alternative_formats" / "ssda903_2025.xml").getroot()
    assert root.tag == "EXPSSDA903"
    children = root.findall("CHILD")
    header = read_903(small, "header")
    assert [c.findtext("HEADER/CHILDID") for c in children] == header["CHILD"].tolist()
    episodes = [e for c in children for e in c.findall("EPISODE")]
    csv_episodes = read_903(small, "episodes")
    assert len(episodes) == len(csv_episodes)
    assert [e.findtext("PL") for e in episodes] == csv_episodes["PLACE"].tolist()
    assert not list(root.iter("PLACE")) and not list(root.iter("CHILD_ID"))
    assert len(list(root.iter("AREVIEW"))) == len(read_903(small, "reviews"))
    assert len(list(root.iter("AMISSING"))) == len(read_903(small, "missing"))
    assert len(list(root.iter("AD_PLACED"))) == len(read_903(small, "placed_adoption"))


def test_annex_a_lists_have_the_returns_columns_in_csv_and_xlsx(small: Path) -> None:
    book = load_workbook(small / "annex_a_2025.xlsx")
    assert len(book.sheetnames) == 10
    for number, sheet in zip(range(1, 11), book.worksheets):
        frame = read_list(small, number)
        columns = list(frame.columns)
        expected = COMMON if number != 10 else ["Child Unique ID", "Family identifier", *COMMON[1:]]
        assert columns[: len(expected)] == expected, number
        assert set(ANNEX_DATES[number]) <= set(columns), number
        if 4 <= number <= 10:
            assert "Does the Child have a Disability" in columns
        header = [c.value for c in next(sheet.iter_rows(max_row=1))]
        loose = ["Child unique ID "] if number == 3 else ["Child Unique ID"]
        assert header == loose + columns[1:], number
        for column in ANNEX_DATES[number]:
            assert frame[column].str.match(DMY).all(), (number, column)


def test_xlsx_dates_are_mostly_real_dates_and_the_sheet_mess_is_there(small: Path) -> None:
    book = load_workbook(small / "annex_a_2025.xlsx")
    kinds = {"date": 0, "text": 0}
    for number, sheet in zip(range(1, 11), book.worksheets):
        header = [c.value for c in next(sheet.iter_rows(max_row=1))]
        at = [i for i, h in enumerate(header) if h in ANNEX_DATES[number] or h == "Date of Birth"]
        for row in sheet.iter_rows(min_row=2, values_only=True):
            for i in at:
                value = row[i]
                if isinstance(value, datetime):
                    kinds["date"] += 1
                elif value is not None:
                    assert DMY.match(value), (number, value)
                    kinds["text"] += 1
        ids = [r[0] for r in sheet.iter_rows(min_row=2, values_only=True) if r[0] is not None]
        assert all(isinstance(i, str) for i in ids)
    assert kinds["text"] > 0 and kinds["date"] > 10 * kinds["text"]
    contacts = book.worksheets[0]
    rows = len(read_list(small, 1))
    assert contacts.max_row == rows + 1 + 6  # six empty formatted rows after the data
    tail = list(contacts.iter_rows(min_row=rows + 2))
    assert all(c.value is None and c.border.top.style == "thin" for r in tail for c in r)
    props = book.properties
    assert props.created == props.modified == datetime(2025, 3, 31)


def test_one_annex_a_csv_has_an_empty_row_between_data_rows(small: Path) -> None:
    lines = (
        (small / "alternative_formats" / "annex_a_2025_csv" / "list_6.csv")
        .read_bytes()
        .decode()
        .split("\r\n")
    )
    empty = [i for i, line in enumerate(lines) if line and set(line) == {","}]
    assert len(empty) == 1 and 1 < empty[0] < len(lines) - 2


def test_identifiers_are_strings_shared_across_the_returns(big: Path) -> None:
    header = read_903(big, "header")
    cin = cin_tables(big)
    ids = set(header["CHILD"]) | set(cin["child"]["child"])
    for number in range(1, 11):
        ids |= set(read_list(big, number)["Child Unique ID"])
    assert all(re.fullmatch(r"\d{6}", i) for i in ids)
    assert sum(i.startswith("0") for i in ids) > 100
    assert len(ids) >= 1980  # almost every child of the pool shows in some return
    assert header["CHILD"].is_unique and cin["child"]["child"].is_unique
    assert header["UPN"].str.fullmatch(r"A\d{12}|UN1").all()
    shared = (
        set(header["CHILD"])
        & set(cin["child"]["child"])
        & set(read_list(big, 8)["Child Unique ID"])
    )
    assert len(shared) > 50


# --- consistency -----------------------------------------------------------------------


def test_every_903_episode_chain_is_consistent(big: Path) -> None:
    episodes = read_903(big, "episodes")
    episodes["start"], episodes["end"] = dmy(episodes["DECOM"]), dmy(episodes["DEC"])
    assert (episodes["start"] <= REFERENCE).all() and (episodes["end"].dropna() <= REFERENCE).all()
    assert (episodes["start"] < episodes["end"]).all() | episodes["end"].isna().any()
    assert (episodes["start"][episodes["end"].notna()] < episodes["end"].dropna()).all()
    assert ((episodes["DEC"] == "") == (episodes["REC"] == "")).all()
    for _child, rows in episodes.groupby("CHILD"):
        rows = rows.sort_values("start")
        assert rows["RNE"].iloc[0] == "S"
        assert rows["start"].is_unique
        assert rows["DEC"].iloc[:-1].ne("").all()  # only the last episode may be open
        for (_, row), (_, nxt) in zip(rows.iloc[:-1].iterrows(), rows.iloc[1:].iterrows()):
            if row["REC"] == "X1":
                assert nxt["start"] == row["end"] and nxt["RNE"] in "LPTBU"
                changed_place = nxt["RNE"] in "PTBU"
                assert (row["REASON_PLACE_CHANGE"] != "") == changed_place
            else:
                assert nxt["RNE"] == "S" and nxt["start"] > row["end"]
                assert row["REASON_PLACE_CHANGE"] == ""
        assert rows["REC"].iloc[-1] != "X1"
    adoption = episodes[episodes["PLACE"].isin(["A3", "A4", "A5", "A6"])]
    assert len(adoption) and adoption["RNE"].isin(["P", "T"]).all()


def test_reviews_and_missing_fall_inside_a_period_of_care(big: Path) -> None:
    episodes = read_903(big, "episodes")
    episodes["start"] = dmy(episodes["DECOM"])
    episodes["end"] = dmy(episodes["DEC"]).fillna(REFERENCE)
    periods = (
        episodes.groupby(["CHILD", (episodes["RNE"] == "S").cumsum()])
        .agg(start=("start", "min"), end=("end", "max"))
        .reset_index()
    )
    for table, column in (("reviews", "REVIEW"), ("missing", "MIS_START")):
        frame = read_903(big, table)
        frame["on"] = dmy(frame[column])
        inside = frame.merge(periods, on="CHILD")
        inside = inside[(inside["on"] > inside["start"]) & (inside["on"] <= inside["end"])]
        assert (
            inside.drop_duplicates(subset=["CHILD", column]).shape[0]
            == frame.drop_duplicates(subset=["CHILD", column]).shape[0]
        ), table


def test_the_same_fact_has_the_same_date_in_every_return(big: Path) -> None:
    cin = cin_tables(big)
    details = cin["details"]
    referrals = set(zip(details["child"], details["CINreferralDate"]))
    l3 = read_list(big, 3)
    in_year = l3[dmy(l3["Date of referral"]) >= YEAR_START]
    pairs = set(
        zip(in_year["Child Unique ID"], dmy(in_year["Date of referral"]).dt.strftime("%Y-%m-%d"))
    )
    assert pairs and pairs <= referrals
    s47 = set(zip(cin["s47"]["child"], cin["s47"]["S47ActualStartDate"]))
    l5 = read_list(big, 5)
    assert (
        set(
            zip(
                l5["Child Unique ID"],
                dmy(l5["Strategy discussion initiating Section 47 Enquiry Start Date"]).dt.strftime(
                    "%Y-%m-%d"
                ),
            )
        )
        <= s47
    )
    episodes = read_903(big, "episodes")
    starts = set(
        zip(episodes["CHILD"][episodes["RNE"] == "S"], episodes["DECOM"][episodes["RNE"] == "S"])
    )
    l8 = read_list(big, 8)
    assert set(zip(l8["Child Unique ID"], l8["Date Started to be Looked After"])) <= starts
    decisions = read_903(big, "placed_adoption")
    l10 = read_list(big, 10)
    recent = l10[l10["Date of Decision that Child Should be Placed for Adoption"] != ""]
    l10_in_903 = recent[recent["Child Unique ID"].isin(decisions["CHILD"])]
    assert set(
        zip(
            l10_in_903["Child Unique ID"],
            l10_in_903["Date of Decision that Child Should be Placed for Adoption"],
        )
    ) <= set(zip(decisions["CHILD"], decisions["DATE_PLACED"]))


# --- believable proportions (loose bounds, 2,000 children) -----------------------------


def test_front_door_proportions(big: Path) -> None:
    contacts, referrals = read_list(big, 1), read_list(big, 3)
    contacts["on"], referrals["on"] = (
        dmy(contacts["Date of Contact"]),
        dmy(referrals["Date of referral"]),
    )
    pairs = contacts.merge(referrals, on="Child Unique ID", suffixes=("", "_ref"))
    gap = (pairs["on_ref"] - pairs["on"]).dt.days
    converted = pairs[(gap >= 0) & (gap <= 3)].drop_duplicates(["Child Unique ID", "on_ref"])
    assert 0.14 <= len(converted) / len(contacts) <= 0.30
    again = referrals["Number of Referrals in Last 12 Months"].astype(int) > 1
    assert 0.12 <= again.mean() <= 0.35
    assert set(referrals["Referral NFA?"]) == {"Yes", "No"}


def test_assessment_and_child_protection_proportions(big: Path) -> None:
    cin = cin_tables(big)
    details = cin["details"]
    in_year = details[pd.to_datetime(details["CINreferralDate"]) >= YEAR_START]
    a = cin["assessments"]
    start, auth = (
        pd.to_datetime(a["AssessmentActualStartDate"]),
        pd.to_datetime(a["AssessmentAuthorisationDate"]),
    )
    done = a[auth.notna() & (start >= YEAR_START)]
    days = (
        pd.to_datetime(done["AssessmentAuthorisationDate"])
        - pd.to_datetime(done["AssessmentActualStartDate"])
    ).dt.days
    assert 20 <= days.median() <= 40
    working = np.busday_count(
        pd.to_datetime(done["AssessmentActualStartDate"]).to_numpy().astype("datetime64[D]"),
        pd.to_datetime(done["AssessmentAuthorisationDate"]).to_numpy().astype("datetime64[D]"),
    )
    assert 0.02 <= (working > 45).mean() <= 0.2
    stuck = auth.isna() & (
        np.busday_count(start.to_numpy().astype("datetime64[D]"), np.datetime64("2025-03-31")) > 45
    )
    assert 1 <= stuck.sum() <= 0.1 * len(a)

    s47 = cin["s47"]
    s47_start = pd.to_datetime(s47["S47ActualStartDate"])
    assert 0.09 <= (s47_start >= YEAR_START).sum() / len(in_year) <= 0.25
    settled = s47[(s47_start >= YEAR_START) & (s47_start < REFERENCE - pd.Timedelta(days=60))]
    icpc = settled["DateOfInitialCPC"].notna()
    assert 0.25 <= icpc.mean() <= 0.6
    assert (settled["ICPCnotRequired"] == "true").sum() > 0
    assert not ((settled["ICPCnotRequired"] == "true") & icpc).any()
    held = settled[icpc]
    working = np.busday_count(
        pd.to_datetime(held["S47ActualStartDate"]).to_numpy().astype("datetime64[D]"),
        pd.to_datetime(held["DateOfInitialCPC"]).to_numpy().astype("datetime64[D]"),
    )
    assert 0.5 <= (working <= 15).mean() < 1
    plans = cin["cpp"]
    made = set(zip(plans["child"], plans["CPPstartDate"]))
    assert (
        0.7
        <= np.mean([(c, d) in made for c, d in zip(held["child"], held["DateOfInitialCPC"])])
        <= 0.97
    )
    first_review = [
        (pd.Timestamp(r[0]) - pd.Timestamp(s)).days
        for s, r in zip(plans["CPPstartDate"], plans["reviews"])
        if r
    ]
    assert 0.75 <= np.mean(np.array(first_review) <= 92) < 1
    assert len(cin["cin_plans"]) > len(plans)


def test_care_proportions_and_outcomes(big: Path) -> None:
    header, episodes = read_903(big, "header"), read_903(big, "episodes")
    cin = cin_tables(big)
    assert 0.05 <= len(header) / 2000 <= 0.2
    assert 0.3 <= len(cin["child"]) / 2000 <= 0.7
    last = episodes.groupby("CHILD").last()
    assert 0.4 <= (last["DEC"] == "").mean() <= 0.9  # many children still looked after
    recs = set(episodes["REC"])
    for group in (
        {"E4A", "E4B", "E13"},
        {"E45", "E46", "E47", "E48"},
        {"E11", "E12"},
        {"E5", "E6", "E17"},
    ):
        assert recs & group, group
    assert {"S", "P", "L", "T"} <= set(episodes["RNE"])
    assert {"U4", "U6", "K2"} <= set(episodes["PLACE"])
    assert len(read_903(big, "ad1")) >= 1 and len(read_903(big, "missing")) > 20
    reviews = read_903(big, "reviews")
    starts = episodes[episodes["RNE"] == "S"][["CHILD", "DECOM"]]
    first = reviews.assign(on=dmy(reviews["REVIEW"])).merge(
        starts.assign(start=dmy(starts["DECOM"])), on="CHILD"
    )
    first = (
        first[first["on"] > first["start"]].groupby(["CHILD", "start"])["on"].min().reset_index()
    )
    working = np.busday_count(
        first["start"].to_numpy().astype("datetime64[D]"),
        first["on"].to_numpy().astype("datetime64[D]"),
    )
    assert 0.7 <= (working <= 20).mean() < 1


def test_annex_a_labels_come_in_several_styles(big: Path) -> None:
    reasons = set(read_list(big, 8)["Reason Ceased to be Looked After"]) - {""}
    assert any(r.startswith(("a)", "d)", "g)", "h)")) for r in reasons)
    assert any(re.fullmatch(r"E\d+[AB]?", r) for r in reasons)
    assert any(
        r[:2] not in ("a)", "b)", "c)", "d)", "e)", "f)", "g)", "h)", "n)")
        and not r.startswith("E")
        for r in reasons
    )
    genders = {n: set(read_list(big, n)["Gender"]) for n in (1, 2, 3)}
    assert "b) Female" in genders[1] and "Female" in genders[2] and "F" in genders[3]
    placements = set(read_list(big, 8)["Placement Type"])
    assert "a) Foster placement" in placements and placements & {"U4", "U6", "U3", "U1"}
