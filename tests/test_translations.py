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
