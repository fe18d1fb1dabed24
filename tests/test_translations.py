from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from .conftest import ROOT

METHODS = [("app/**.py", "python"), ("templates/**.html", "jinja2")]


def test_every_message_has_a_chinese_translation():
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}
    found = {msg[2] if isinstance(msg[2], str) else msg[2][0]
             for msg in extract_from_dir(str(ROOT), METHODS, keywords=keywords)}
    with open(ROOT / "app/translations/zh_Hans_CN/LC_MESSAGES/messages.po", "rb") as f:
        catalog = read_po(f)
    translated = {m.id for m in catalog if m.id and m.string and not m.fuzzy}
    assert sorted(found - translated) == []


def test_each_message_is_translated_once():
    """Branches append their entries at the end of messages.po and git unions them: two translations of one
    msgid would leave the words a page shows to the order of the file (babel keeps the first)."""
    import collections
    import re

    text = (ROOT / "app/translations/zh_Hans_CN/LC_MESSAGES/messages.po").read_text(encoding="utf-8")
    ids = collections.Counter(re.findall(r'^msgid "(.+)"$', text, re.M))
    assert [msgid for msgid, n in ids.items() if n > 1] == []
