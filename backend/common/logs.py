"""No library may log client text. WeasyPrint logs each character its fonts lack, one per line,
which spells out the client's words; fontTools and pydyf log glyph and string details too.

Their loggers run at ERROR (settings.LOGGING), so nothing below is ever formatted; this filter,
on every handler, drops what still arrives below ERROR and withholds the arguments and traceback
of what they log at ERROR and above, keeping the message's shape but not the text."""

import logging

LIBRARIES = frozenset({"weasyprint", "fontTools", "pydyf", "cssselect2", "tinycss2", "PIL"})


class RedactLibraryText(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.split(".", 1)[0] not in LIBRARIES:
            return True
        if record.levelno < logging.ERROR:
            return False
        if record.args or record.exc_info:
            record.msg = f"{record.msg} [details withheld: they may hold client text]"
            record.args = None
            record.exc_info = None
            record.exc_text = None
        return True
