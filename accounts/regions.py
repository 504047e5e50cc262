"""The Shanxi jurisdiction tree, shipped as data (data/regions_shanxi.csv) and loaded by a migration."""

import csv
from pathlib import Path

DATA_FILE = Path(__file__).parent / "data" / "regions_shanxi.csv"
PROVINCE_CODE = "140000"


def read_regions() -> list[dict]:
    """Rows of the shipped table with their level, parent and path derived from the code."""
    rows = []
    with DATA_FILE.open(encoding="utf-8") as fh:
        for code, name in csv.reader(line for line in fh if line.strip() and not line.startswith("#")):
            if code.endswith("0000"):
                level, parent, path = "province", None, f"{code}/"
            elif code.endswith("00"):
                level, parent, path = "city", PROVINCE_CODE, f"{PROVINCE_CODE}/{code}/"
            else:
                city = code[:4] + "00"
                level, parent, path = "county", city, f"{PROVINCE_CODE}/{city}/{code}/"
            rows.append({"code": code, "name": name, "level": level, "parent_id": parent, "path": path})
    return rows


def load_regions(region_model) -> int:
    """Create or update every region of the table; works on the historical model in migrations."""
    rows = read_regions()
    for row in rows:  # parents come first in the file
        region_model.objects.update_or_create(code=row["code"], defaults=row)
    return len(rows)
