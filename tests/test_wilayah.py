"""Administrative areas and polling stations from CSV: the shipped national set, the
checks on every row, and the `jejak sites` commands."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from models.core import migrations
from models.core.db import Database
from models.core.errors import InvalidRequest
from models.log.tables import Log
from models.places.sites import Kerawanan, Site, SiteLevel
from models.places.wilayah import SHIPPED, import_areas, import_tps
from scripts.cli import main
from tests.helpers import fresh_database

TTU = "53.03"
AREAS = (SiteLevel.KPU, SiteLevel.PPK, SiteLevel.PPS)


@pytest.fixture
def fresh_db(database_url: str, tmp_path: Path) -> Iterator[Database]:
    with fresh_database(database_url, tmp_path) as url:
        db = Database(url)
        yield db
        db.dispose()


def write(path: Path, *lines: str) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def small_areas(directory: Path, regency: str) -> Path:
    """Wilayah CSVs of one invented regency: two districts, three villages."""
    directory.mkdir(exist_ok=True)
    write(directory / "regencies.csv", "code,province_code,name", f"{regency},{regency[:2]},Kabupaten Uji")
    write(
        directory / "districts.csv",
        "code,regency_code,name",
        f"{regency}.01,{regency},Satu",
        f'{regency}.02,{regency},"Dua, Selatan"',
    )
    write(
        directory / "villages.csv",
        "code,district_code,name",
        f"{regency}.01.2001,{regency}.01,Desa A",
        f"{regency}.01.2002,{regency}.01,Desa B",
        f"{regency}.02.1001,{regency}.02,Kelurahan C",
    )
    return directory


def levels(db: Database, regency: str | None = None) -> dict[SiteLevel, int]:
    query = select(Site.level, func.count()).group_by(Site.level)
    if regency is not None:
        query = query.where(Site.regency == regency)
    with db.reads() as session:
        return {level: n for level, n in session.execute(query)}


def test_ttu_from_the_shipped_data(fresh_db):
    with fresh_db.session(write=True) as session:
        counts = import_areas(session, SHIPPED, regencies={TTU})
    assert [counts.created[level] for level in AREAS] == [1, 24, 193]
    assert sum(counts.skipped.values()) == 0 and counts.regencies == {TTU}
    assert levels(fresh_db) == {SiteLevel.KPU: 1, SiteLevel.PPK: 24, SiteLevel.PPS: 193}
    with fresh_db.reads() as session:
        sites = {s.code: s for s in session.scalars(select(Site))}
    regency, insana, nansean = sites[TTU], sites["53.03.08"], sites["53.03.08.2005"]
    assert (regency.name, regency.parent_code) == ("Kabupaten Timor Tengah Utara", None)
    assert (insana.name, insana.parent_code, insana.level) == ("Insana", TTU, SiteLevel.PPK)
    assert (nansean.name, nansean.parent_code, nansean.level) == ("Nansean", "53.03.08", SiteLevel.PPS)
    for site in sites.values():
        assert site.regency == TTU and site.kerawanan is None
        assert site.lat is None and site.lon is None and not site.coords_synthetic
        if site.level is not SiteLevel.KPU:
            assert site.parent_code == site.code.rsplit(".", 1)[0] and site.parent_code in sites
    assert sum(s.parent_code == "53.03.08" for s in sites.values()) == 17  # Insana's villages

    with fresh_db.session(write=True) as session:
        again = import_areas(session, SHIPPED, regencies={TTU})
    assert sum(again.created.values()) == 0
    assert [again.skipped[level] for level in AREAS] == [1, 24, 193]


def test_the_whole_country(tmp_path):
    url = f"sqlite:///{tmp_path / 'national.db'}"
    migrations.upgrade(url)
    db = Database(url)
    with db.session(write=True) as session:
        counts = import_areas(session, SHIPPED)
    try:
        assert levels(db) == {SiteLevel.KPU: 514, SiteLevel.PPK: 7285, SiteLevel.PPS: 83762}
        assert len(counts.regencies) == 514
        with db.session(write=True) as session:
            again = import_areas(session, SHIPPED)
        assert sum(again.created.values()) == 0 and sum(again.skipped.values()) == 91561
    finally:
        db.dispose()


def test_a_filtered_import_leaves_other_regencies_out(runtime, new_log, tmp_path):
    directory = small_areas(tmp_path / "areas", new_log.id)
    with runtime.db.session(write=True) as session:
        counts = import_areas(session, directory, regencies={new_log.id})
    assert counts.summary() == (
        "regencies: 1 created, 0 already there; districts: 2 created, 0 already there; "
        "villages: 3 created, 0 already there"
    )
    with runtime.db.reads() as session:
        district = session.get_one(Site, f"{new_log.id}.02")
    assert district.name == "Dua, Selatan"  # quoted CSV field
    with pytest.raises(InvalidRequest, match="no such regency"), runtime.db.session(write=True) as session:
        import_areas(session, directory, regencies={"89.99"})


@pytest.mark.parametrize(
    ("filename", "row", "message"),
    [
        ("districts.csv", "{r}.3,{r},Pendek", r"districts\.csv line 4: '{r}\.3' is not a PPK code"),
        ("districts.csv", "{r}.03,{r9},Salah Induk", r"districts\.csv line 4: {r}\.03 lies under {r}, but"),
        ("districts.csv", "{r}.01,{r},Lagi", r"districts\.csv line 4: {r}\.01 appears a second time"),
        ("districts.csv", "{r}.03,{r}", r"districts\.csv line 4: expected 3 fields, found 2"),
        ("districts.csv", "{r}.03,{r},", r"districts\.csv line 4: {r}\.03 needs a name"),
        ("villages.csv", "{r}.07.2001,{r}.07,Yatim", r"villages\.csv line 5: {r}\.07\.2001 belongs to {r}\.07, which"),
        ("regencies.csv", "{r9},{p},Kota Lain", r"regencies\.csv line 3: {r9} lies under"),
    ],
)
def test_a_malformed_row_is_named_by_file_and_line(runtime, new_log, tmp_path, filename, row, message):
    r = new_log.id
    values = {"r": r, "r9": f"{int(r[:2]) - 1:02d}{r[2:]}", "p": r[:2]}
    directory = small_areas(tmp_path / "areas", r)
    with (directory / filename).open("a", encoding="utf-8") as handle:
        handle.write(row.format(**values) + "\n")
    with runtime.db.session(write=True) as session:
        with pytest.raises(InvalidRequest, match=message.format(**values)):
            import_areas(session, directory, regencies={r})
    with runtime.db.reads() as session:
        assert session.get(Site, r) is None  # every row is checked before anything is written


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"kode,kecamatan,nama\n", "villages.csv line 1: the header must be code,district_code,name"),
        (b"code,district_code,name\n\xff\xfe,1,2\n", "villages.csv line 2: the file is not UTF-8"),
        (None, "villages.csv: no such file"),
    ],
)
def test_a_wrong_header_a_bad_byte_or_no_file(runtime, new_log, tmp_path, content, message):
    directory = small_areas(tmp_path / "areas", new_log.id)
    if content is None:
        (directory / "villages.csv").unlink()
    else:
        (directory / "villages.csv").write_bytes(content)
    with pytest.raises(InvalidRequest, match=message), runtime.db.session() as session:
        import_areas(session, directory, regencies={new_log.id})


@pytest.fixture
def village_area(runtime, new_log, tmp_path) -> str:
    """An imported regency of three villages; returns its code."""
    with runtime.db.session(write=True) as session:
        import_areas(session, small_areas(tmp_path / "areas", new_log.id), regencies={new_log.id})
    return str(new_log.id)


def test_import_tps(runtime, village_area, tmp_path):
    r = village_area
    path = write(
        tmp_path / "tps.csv",
        "code,village,number,kerawanan,lat,lon",
        f"{r}.01.2001-001,{r}.01.2001,1,kurang_rawan,-9.4512,124.4801",
        f"{r}.01.2001-002,{r}.01.2001,2,sangat_rawan,,",
        f"{r}.02.1001-012,{r}.02.1001,12,rawan,-9.5,124.55",
    )
    with runtime.db.session(write=True) as session:
        counts = import_tps(session, path)
    assert (counts.created[SiteLevel.TPS], counts.skipped[SiteLevel.TPS], counts.regencies) == (3, 0, {r})
    with runtime.db.reads() as session:
        first, second, third = (session.get_one(Site, f"{r}.{c}") for c in ("01.2001-001", "01.2001-002", "02.1001-012"))
    assert (first.level, first.parent_code, first.regency) == (SiteLevel.TPS, f"{r}.01.2001", r)
    assert (first.name, first.kerawanan, first.special) == ("TPS 001", Kerawanan.KURANG_RAWAN, False)
    assert (first.lat, first.lon, first.coords_synthetic) == (-9.4512, 124.4801, False)  # surveyed
    assert (second.kerawanan, second.lat, second.lon) == (Kerawanan.SANGAT_RAWAN, None, None)
    assert (third.kerawanan, third.name) == (Kerawanan.RAWAN, "TPS 012")
    with runtime.db.session(write=True) as session:
        again = import_tps(session, path)
    assert (again.created[SiteLevel.TPS], again.skipped[SiteLevel.TPS]) == (0, 3)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("{r}.01.2001-002,{r}.01.2001,3,rawan,,", r"code '{r}\.01\.2001-002' should be {r}\.01\.2001-003"),
        ("{r}.01.2001-001,{r}.01.2001,0,rawan,,", r"number '0' is not a TPS number"),
        ("{r}.01.2001-001,{r}.01.2001,x,rawan,,", r"number 'x' is not a TPS number"),
        ("{r}.01.2001-001,{r}.01,1,rawan,,", r"village '{r}\.01' is not a village code"),
        ("{r}.01.2001-001,{r}.01.2001,1,aman,,", r"kerawanan 'aman' is not one of kurang_rawan, rawan, sa"),
        ("{r}.01.2001-001,{r}.01.2001,1,rawan,-9.45,", r"give both lat and lon, or neither"),
        ("{r}.01.2001-001,{r}.01.2001,1,rawan,-91,124", r"lat -91 is outside -90\.\.90"),
        ("{r}.01.2001-001,{r}.01.2001,1,rawan,-9.4,nan", r"lon nan is outside"),
        ("{r}.01.2001-001,{r}.01.2001,1,rawan,utara,124", r"lat 'utara' is not a number"),
        ("{r}.01.2009-001,{r}.01.2009,1,rawan,,", r"{r}\.01\.2009-001 belongs to {r}\.01\.2009, an unknown"),
        ("{r}.01.2002-001,{r}.01.2002,1,rawan,", r"expected 6 fields, found 5"),
    ],
)
def test_import_tps_refuses_a_bad_row(runtime, village_area, tmp_path, row, message):
    r = village_area
    path = write(
        tmp_path / "tps.csv",
        "code,village,number,kerawanan,lat,lon",
        f"{r}.02.1001-001,{r}.02.1001,1,rawan,,",
        row.format(r=r),
    )
    with runtime.db.session(write=True) as session:
        with pytest.raises(InvalidRequest, match="tps.csv line 3: " + message.format(r=r)):
            import_tps(session, path)
    with runtime.db.reads() as session:
        assert session.get(Site, f"{r}.02.1001-001") is None  # every row is checked first


def test_import_tps_refuses_a_repeated_code(runtime, village_area, tmp_path):
    r = village_area
    line = f"{r}.01.2001-001,{r}.01.2001,1,rawan,,"
    path = write(tmp_path / "tps.csv", "code,village,number,kerawanan,lat,lon", line, line)
    with pytest.raises(InvalidRequest, match="line 3: .* appears a second time"), runtime.db.session() as s:
        import_tps(s, path)


@pytest.fixture
def cli_db(own_cli_env) -> Iterator[Database]:
    """`jejak` on a database of its own, migrated; the database, to read what it did."""
    assert main(["migrate"]) == 0
    db = Database(f"sqlite:///{own_cli_env / 'cli.db'}")
    yield db
    db.dispose()


def test_cli_imports_regencies_and_creates_their_logs(cli_db, tmp_path, capsys):
    assert main(["sites", "import", "--regency", TTU]) == 0
    out = capsys.readouterr().out
    assert "villages.csv: 193 villages, 193 of them new" in out
    assert "logs: 1 created, 0 already there" in out
    # A province's regencies join the ones named; those imported before are skipped.
    assert main(["sites", "import", "--province", "53", "--regency", "52.01"]) == 0
    out = capsys.readouterr().out
    assert "regencies: 22 created, 1 already there" in out and "logs: 22 created, 1 already there" in out
    counts = levels(cli_db, TTU)
    assert counts == {SiteLevel.KPU: 1, SiteLevel.PPK: 24, SiteLevel.PPS: 193}
    with cli_db.reads() as session:
        logs = set(session.scalars(select(Log.id)))
    assert TTU in logs and "52.01" in logs and len(logs) == 23

    tps = write(
        tmp_path / "tps.csv",
        "code,village,number,kerawanan,lat,lon",
        "53.03.08.2005-001,53.03.08.2005,1,rawan,-9.45,124.5",
    )
    assert main(["sites", "import-tps", str(tps)]) == 0
    assert "polling stations: 1 created, 0 already there" in capsys.readouterr().out


def test_cli_reports_bad_input_without_a_traceback(cli_db, tmp_path, capsys):
    assert main(["sites", "import", "--regency", "53"]) == 1
    assert "not regency codes (like 53.03): 53" in capsys.readouterr().err
    assert main(["sites", "import", "--province", "99"]) == 1
    assert "99: no regencies of such a province" in capsys.readouterr().err
    assert main(["sites", "import", "--dir", str(tmp_path / "nowhere")]) == 1
    assert "no such file" in capsys.readouterr().err
    tps = write(tmp_path / "t.csv", "code,village,number,kerawanan,lat,lon", "53.03.08.2005-001,53.03.08.2005,1,rawan,,")
    assert main(["sites", "import-tps", str(tps)]) == 1
    assert "t.csv line 2: 53.03.08.2005-001 belongs to 53.03.08.2005, an unknown" in capsys.readouterr().err
