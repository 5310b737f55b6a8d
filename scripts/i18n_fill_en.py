"""Fill the English catalogue from the English message ids (they are the English text).

Keeps existing English translations; clears fuzzy flags only on entries it fills.
Prints how many Danish entries still need a translation.
"""

from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    path = ROOT / "translations" / "en" / "LC_MESSAGES" / "messages.po"
    with open(path, "rb") as f:
        catalog = read_po(f)
    for msg in catalog:
        if not msg.id:
            continue
        if isinstance(msg.id, tuple):
            if not all(msg.string) or msg.fuzzy:
                msg.string = (msg.id[0], msg.id[1])
                msg.flags.discard("fuzzy")
        elif not msg.string or msg.fuzzy:
            msg.string = msg.id
            msg.flags.discard("fuzzy")
    with open(path, "wb") as f:
        write_po(f, catalog, width=100, omit_header=False)
    with open(ROOT / "translations" / "da" / "LC_MESSAGES" / "messages.po", "rb") as f:
        da = read_po(f)
    todo = [
        m.id
        for m in da
        if m.id and (m.fuzzy or not all(m.string if isinstance(m.string, tuple) else (m.string,)))
    ]
    print(f"Danish: {len(todo)} messages need a translation (empty or fuzzy).")


if __name__ == "__main__":
    main()
