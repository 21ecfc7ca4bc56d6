"""The certificate as a PDF (fpdf2), rendered from what the certificate row keeps.

Names like "São Paulo" or "Łódź" need a Unicode TrueType font: the first of
`CERTIFICATE_FONTS` (config) that exists is used, with the others as fallbacks for glyphs it
lacks (e.g. a CJK font for 김민수). Without any, the built-in Helvetica is used and characters
outside Latin-1 are replaced with "?"; the verification page always shows the exact name.
"""

from __future__ import annotations

from pathlib import Path

from fpdf import FPDF

from ..timefmt import format_date
from .models import Certificate

#: Fonts found on common Linux installs (Debian/Ubuntu fonts-dejavu; for Chinese, Japanese and
#: Korean names fonts-wqy-microhei, fonts-noto-cjk or fonts-nanum).
DEFAULT_FONTS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/nanum/NanumGothic.ttf",
)


def _set_up_fonts(pdf: FPDF, candidates: tuple[str, ...]) -> str:
    """Register the usable fonts; return the main family ("helvetica" without any)."""
    families = []
    for index, path in enumerate(p for p in candidates if Path(p).is_file()):
        family = f"cert{index}"
        try:
            pdf.add_font(family, "", path)
        except Exception:  # a broken or unsupported font file: try the next one
            continue
        families.append(family)
    if not families:
        return "helvetica"
    if len(families) > 1:
        pdf.set_fallback_fonts(families[1:])
    return families[0]


def _printable(pdf: FPDF, family: str, value: str) -> str:
    """The text with each character no registered font can draw replaced by "?"."""
    if family == "helvetica":
        return value.encode("latin-1", "replace").decode("latin-1")
    cmaps = [font.cmap for font in pdf.fonts.values() if hasattr(font, "cmap")]
    return "".join(
        ch if ch.isspace() or any(ord(ch) in cmap for cmap in cmaps) else "?" for ch in value
    )


def certificate_pdf(
    certificate: Certificate, verify_url: str, fonts: tuple[str, ...] = DEFAULT_FONTS
) -> bytes:
    pdf = FPDF(orientation="landscape", format="A4")
    pdf.set_title(f"Certificate of completion: {certificate.programme_title}")
    pdf.set_author(certificate.hosts or "LearnHub")
    pdf.set_subject(certificate.holder_name)
    pdf.set_auto_page_break(False)
    pdf.add_page()
    family = _set_up_fonts(pdf, fonts)
    width = pdf.w - 40

    def line(text: str, size: int, gap: float = 4) -> None:
        pdf.set_font(family, size=size)
        pdf.set_x(20)
        pdf.multi_cell(width, size * 0.5, _printable(pdf, family, text), align="C")
        pdf.ln(gap)

    pdf.set_draw_color(40, 80, 120)
    pdf.set_line_width(1.2)
    pdf.rect(10, 10, pdf.w - 20, pdf.h - 20)
    pdf.set_y(30)
    line("Certificate of completion", 28, 10)
    line("This certifies that", 14)
    line(certificate.holder_name, 26, 2)
    if _printable(pdf, family, certificate.holder_name) != certificate.holder_name:
        line("(the verification page shows the name in full)", 10, 4)
    pdf.ln(6)
    line("has completed", 14)
    title = certificate.programme_title
    if certificate.edition:
        title = f"{title} ({certificate.edition})"
    line(title, 20, 6)
    line(f"{certificate.hours:g} hours of live sessions attended", 13)
    if certificate.hosts:
        line(f"Hosted by {certificate.hosts}", 13)
    line(f"Issued on {format_date(certificate.issued_at, certificate.timezone)}", 13, 10)
    line(f"Verification code: {certificate.code}", 12, 2)
    line(f"Check it at {verify_url}", 10)
    return bytes(pdf.output())
