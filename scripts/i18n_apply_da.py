"""Apply Danish translations from JSON files to the Danish catalogue.

Usage: python scripts/i18n_apply_da.py FILE.json [FILE.json ...]

Each file is a JSON list of {"msgid": ..., "da": ...} or, for plurals,
{"msgid": ..., "msgid_plural": ..., "da": [singular, plural]}. Entries missing from the
catalogue (run ``./dev.sh i18n`` first) are reported; existing translations are replaced
and their fuzzy flag cleared. Prints how many Danish entries still need a translation.
"""

import json
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
PO = ROOT / "translations" / "da" / "LC_MESSAGES" / "messages.po"


def main(paths: list[str]) -> int:
    with open(PO, "rb") as f:
        catalog = read_po(f)
    applied = missing = 0
    for path in paths:
        for entry in json.loads(Path(path).read_text(encoding="utf-8")):
            key = entry["msgid"]
            if entry.get("msgid_plural"):
                key = (entry["msgid"], entry["msgid_plural"])
            msg = catalog.get(key if isinstance(key, str) else key[0])
            if msg is None:
                missing += 1
                print(f"not in catalogue: {entry['msgid'][:70]!r}")
                continue
            da = entry["da"]
            if isinstance(msg.id, tuple):
                msg.string = tuple(da) if isinstance(da, list) else (da, da)
            else:
                msg.string = da[0] if isinstance(da, list) else da
            msg.flags.discard("fuzzy")
            applied += 1
    with open(PO, "wb") as f:
        write_po(f, catalog, width=100, omit_header=False)
    todo = [
        m.id
        for m in catalog
        if m.id and (m.fuzzy or not all(m.string if isinstance(m.string, tuple) else (m.string,)))
    ]
    print(f"applied {applied}, not in catalogue {missing}; Danish still to translate: {len(todo)}")
    for mid in todo[:50]:
        print("  todo:", (mid if isinstance(mid, str) else mid[0])[:80])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
