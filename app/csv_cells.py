"""Cells a spreadsheet program would run as a formula (OWASP "CSV injection"), made plain text."""

#: a cell starting with one of these is a formula (or becomes one) to Excel, LibreOffice and Google Sheets
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(cell):
    """A text cell a spreadsheet would run as a formula gets a leading single quote (shown as text)."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell
