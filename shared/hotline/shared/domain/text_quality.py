"""The provincial text rules every service applies to what people wrote (Attachment 4).

T08: the resolution repeats the request; T09: mojibake, control characters or runs of
punctuation; T10: a resolution that only says "已告知" or is too short to say what was done.
"""

import re

# Phrases the province names as saying nothing about what was done.
EMPTY_PHRASES = ("已告知", "咨询后答复", "在线办结", "转办办结", "已处理", "已回复", "已办结")
MIN_RESOLUTION_CHARS = 10
_MOJIBAKE = re.compile(r"\ufffd|锟斤拷|烫烫烫|屯屯屯|Ã.|â€")
_PUNCTUATION_RUN = re.compile(r"[!！?？。，,.、;；:：~～\-—]{4,}")
_NOT_WORD = re.compile(r"[\W_]+")
# Control characters (Unicode category Cc) but the tab and the line feed.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def garbled(text: str) -> bool:
    """T09: replacement characters, classic mojibake, control characters, punctuation runs."""
    return bool(_MOJIBAKE.search(text) or _PUNCTUATION_RUN.search(text) or _CONTROL.search(text))


def too_simple(resolution: str) -> bool:
    """T10: only a stock phrase, or too short to say what was done."""
    compact = _NOT_WORD.sub("", resolution)
    if len(compact) < MIN_RESOLUTION_CHARS:
        return True
    remainder = compact
    for phrase in EMPTY_PHRASES:
        remainder = remainder.replace(phrase, "")
    return len(remainder) < MIN_RESOLUTION_CHARS // 2


def copies_request(request: str, resolution: str) -> bool:
    """T08: the resolution is the request itself."""
    return _NOT_WORD.sub("", request) == _NOT_WORD.sub("", resolution)


def resolution_findings(request: str, resolution: str) -> list[tuple[str, str]]:
    """The rule codes a resolution breaks, each with a message a person can act on."""
    findings = []
    if copies_request(request, resolution):
        findings.append(("T08", "办结内容与受理内容一致 (the resolution repeats the request)"))
    if garbled(resolution):
        findings.append(("T09", "办结内容含乱码或不规范符号 (garbled text or symbol runs)"))
    if too_simple(resolution):
        findings.append(("T10", "办结内容过于简单 (say what was done and found)"))
    return findings
