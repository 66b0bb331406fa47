"""A small Word (.docx, Office Open XML) writer: headings, paragraphs, tables, page breaks and a table of contents.

Written with the standard library (zipfile + XML text), so the compendium needs no extra package and nothing is
downloaded at run time. The table of contents is a real TOC field (Word and WPS fill in the page numbers when
the document is opened: settings.xml asks them to update fields), pre-filled with every heading as a link, so it
reads correctly even before that. Text is escaped for XML and stripped of characters XML cannot hold.
A4 pages, 宋体 text and 黑体 headings, as government documents are set.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
R = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'


def _text(value: str) -> str:
    return escape(_NOT_XML.sub("", str(value)))


def _run(text: str, *, bold: bool = False, size: int | None = None) -> str:
    props = ("<w:b/>" if bold else "") + (f'<w:sz w:val="{size}"/><w:szCs w:val="{size}"/>' if size else "")
    rpr = f"<w:rPr>{props}</w:rPr>" if props else ""
    parts = str(text).split("\n")
    body = "<w:br/>".join(f'<w:t xml:space="preserve">{_text(p)}</w:t>' for p in parts)
    return f"<w:r>{rpr}{body}</w:r>"


@dataclass
class _Heading:
    text: str
    level: int
    anchor: str


@dataclass
class Document:
    title: str
    blocks: list = field(default_factory=list)
    _headings: list[_Heading] = field(default_factory=list)

    def heading(self, text: str, level: int = 1) -> None:
        anchor = f"_Toc{len(self._headings) + 1:06d}"
        heading = _Heading(text, level, anchor)
        self._headings.append(heading)
        self.blocks.append(heading)

    def paragraph(
        self, text: str, *, style: str = "", bold: bool = False, align: str = "", size: int | None = None
    ) -> None:
        self.blocks.append(("p", text, style, bold, align, size))

    def page_break(self) -> None:
        self.blocks.append(("break",))

    def toc(self, levels: int = 2) -> None:
        self.blocks.append(("toc", levels))

    def table(self, headers: list[str], rows: list[list[str]], widths: list[int] | None = None) -> None:
        self.blocks.append(("table", headers, rows, widths))

    # --- rendering ---------------------------------------------------------------------------------------

    def _paragraph(self, text, style, bold, align, size) -> str:
        ppr = ""
        if style or align:
            ppr = (
                "<w:pPr>"
                + (f'<w:pStyle w:val="{style}"/>' if style else "")
                + (f'<w:jc w:val="{align}"/>' if align else "")
                + "</w:pPr>"
            )
        return f"<w:p>{ppr}{_run(text, bold=bold, size=size)}</w:p>"

    def _heading(self, heading: _Heading, number: int) -> str:
        return (
            f'<w:p><w:pPr><w:pStyle w:val="Heading{heading.level}"/></w:pPr>'
            f'<w:bookmarkStart w:id="{number}" w:name="{heading.anchor}"/>{_run(heading.text)}'
            f'<w:bookmarkEnd w:id="{number}"/></w:p>'
        )

    def _toc(self, levels: int) -> str:
        entries = []
        for index, heading in enumerate(h for h in self._headings if h.level <= levels):
            begin = (
                '<w:r><w:fldChar w:fldCharType="begin"/></w:r>'
                f'<w:r><w:instrText xml:space="preserve"> TOC \\o "1-{levels}" \\h \\z \\u </w:instrText></w:r>'
                '<w:r><w:fldChar w:fldCharType="separate"/></w:r>'
                if index == 0
                else ""
            )
            entries.append(
                f'<w:p><w:pPr><w:pStyle w:val="TOC{heading.level}"/>'
                '<w:tabs><w:tab w:val="right" w:leader="dot" w:pos="8300"/></w:tabs></w:pPr>'
                f'{begin}<w:hyperlink w:anchor="{heading.anchor}" w:history="1">{_run(heading.text)}</w:hyperlink></w:p>'
            )
        if not entries:
            return ""
        entries.append('<w:p><w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>')
        title = self._paragraph("目  录", "TOCHeading", True, "center", None)
        return title + "".join(entries)

    def _table(self, headers, rows, widths) -> str:
        widths = widths or [int(8300 / max(1, len(headers)))] * len(headers)
        grid = "".join(f'<w:gridCol w:w="{w}"/>' for w in widths)

        def cell(text, width, header=False):
            shade = '<w:shd w:val="clear" w:color="auto" w:fill="D9E2F3"/>' if header else ""
            return (
                f'<w:tc><w:tcPr><w:tcW w:w="{width}" w:type="dxa"/>{shade}</w:tcPr>'
                f'<w:p><w:pPr><w:pStyle w:val="TableText"/></w:pPr>{_run(text, bold=header)}</w:p></w:tc>'
            )

        head = (
            "<w:tr><w:trPr><w:tblHeader/></w:trPr>"
            + "".join(cell(h, w, True) for h, w in zip(headers, widths, strict=True))
            + "</w:tr>"
        )
        body = "".join(
            "<w:tr>"
            + "".join(cell("" if v is None else v, w) for v, w in zip(row, widths, strict=True))
            + "</w:tr>"
            for row in rows
        )
        borders = "".join(
            f'<w:{side} w:val="single" w:sz="4" w:space="0" w:color="808080"/>'
            for side in ("top", "left", "bottom", "right", "insideH", "insideV")
        )
        return (
            f'<w:tbl><w:tblPr><w:tblW w:w="{sum(widths)}" w:type="dxa"/><w:tblBorders>{borders}</w:tblBorders></w:tblPr>'
            f"<w:tblGrid>{grid}</w:tblGrid>{head}{body}</w:tbl><w:p/>"
        )

    def _body(self) -> str:
        out = []
        number = 0
        for block in self.blocks:
            if isinstance(block, _Heading):
                number += 1
                out.append(self._heading(block, number))
            elif block[0] == "p":
                out.append(self._paragraph(*block[1:]))
            elif block[0] == "break":
                out.append('<w:p><w:r><w:br w:type="page"/></w:r></w:p>')
            elif block[0] == "toc":
                out.append(self._toc(block[1]))
            elif block[0] == "table":
                out.append(self._table(*block[1:]))
        section = (
            '<w:sectPr><w:footerReference w:type="default" r:id="rIdFooter"/>'
            '<w:pgSz w:w="11906" w:h="16838"/>'
            '<w:pgMar w:top="1440" w:right="1588" w:bottom="1440" w:left="1588" w:header="851" w:footer="992" w:gutter="0"/>'
            "</w:sectPr>"
        )
        return f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document {W} {R}><w:body>{"".join(out)}{section}</w:body></w:document>'

    def render(self) -> bytes:
        now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("[Content_Types].xml", CONTENT_TYPES)
            archive.writestr("_rels/.rels", ROOT_RELS)
            archive.writestr("word/_rels/document.xml.rels", DOCUMENT_RELS)
            archive.writestr("word/document.xml", self._body())
            archive.writestr("word/styles.xml", STYLES)
            archive.writestr("word/settings.xml", SETTINGS)
            archive.writestr("word/footer1.xml", FOOTER)
            archive.writestr(
                "docProps/core.xml",
                CORE.format(title=_text(self.title), now=now),
            )
            archive.writestr("docProps/app.xml", APP)
        return buffer.getvalue()


CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>
<Override PartName="/word/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml"/>
<Override PartName="/word/settings.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.settings+xml"/>
<Override PartName="/word/footer1.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.footer+xml"/>
<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>
<Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/>
</Types>"""

ROOT_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>
<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/>
<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties" Target="docProps/app.xml"/>
</Relationships>"""

DOCUMENT_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rIdStyles" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>
<Relationship Id="rIdSettings" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/settings" Target="settings.xml"/>
<Relationship Id="rIdFooter" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/footer" Target="footer1.xml"/>
</Relationships>"""

SETTINGS = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:settings {W}><w:updateFields w:val="true"/><w:defaultTabStop w:val="420"/><w:compat/></w:settings>"""

FOOTER = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:ftr {W}><w:p><w:pPr><w:jc w:val="center"/></w:pPr>
<w:r><w:t xml:space="preserve">— </w:t></w:r><w:r><w:fldChar w:fldCharType="begin"/></w:r>
<w:r><w:instrText xml:space="preserve"> PAGE </w:instrText></w:r><w:r><w:fldChar w:fldCharType="separate"/></w:r>
<w:r><w:t>1</w:t></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r><w:r><w:t xml:space="preserve"> —</w:t></w:r></w:p></w:ftr>"""


def _style(
    style_id: str,
    name: str,
    *,
    size: int,
    bold: bool = False,
    font: str = "宋体",
    before: int = 0,
    after: int = 120,
    outline: int | None = None,
    center: bool = False,
    indent: int = 0,
    based: str = "Normal",
) -> str:
    ppr = f'<w:spacing w:before="{before}" w:after="{after}" w:line="360" w:lineRule="auto"/>'
    if outline is not None:
        ppr += f'<w:keepNext/><w:outlineLvl w:val="{outline}"/>'
    if center:
        ppr += '<w:jc w:val="center"/>'
    if indent:
        ppr += f'<w:ind w:left="{indent}"/>'
    rpr = (
        f'<w:rFonts w:ascii="Times New Roman" w:hAnsi="Times New Roman" w:eastAsia="{font}"/>'
        + ("<w:b/>" if bold else "")
        + f'<w:sz w:val="{size}"/><w:szCs w:val="{size}"/>'
    )
    return (
        f'<w:style w:type="paragraph" w:styleId="{style_id}"><w:name w:val="{name}"/>'
        + (f'<w:basedOn w:val="{based}"/>' if style_id != "Normal" else "")
        + f"<w:qFormat/><w:pPr>{ppr}</w:pPr><w:rPr>{rpr}</w:rPr></w:style>"
    )


STYLES = (
    f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:styles {W}>'
    '<w:docDefaults><w:rPrDefault><w:rPr><w:rFonts w:ascii="Times New Roman" w:hAnsi="Times New Roman" w:eastAsia="宋体"/>'
    '<w:sz w:val="24"/><w:lang w:val="en-US" w:eastAsia="zh-CN"/></w:rPr></w:rPrDefault></w:docDefaults>'
    + _style("Normal", "Normal", size=24)
    + _style("Title", "Title", size=44, bold=True, font="黑体", before=480, after=360, center=True)
    + _style("Subtitle", "Subtitle", size=28, font="楷体", after=240, center=True)
    + _style("Heading1", "heading 1", size=32, bold=True, font="黑体", before=360, after=200, outline=0)
    + _style("Heading2", "heading 2", size=28, bold=True, font="黑体", before=240, after=120, outline=1)
    + _style("TOCHeading", "TOC Heading", size=32, bold=True, font="黑体", after=240, center=True)
    + _style("TOC1", "toc 1", size=24, after=60)
    + _style("TOC2", "toc 2", size=22, after=40, indent=420)
    + _style("Meta", "Meta", size=21, font="楷体", after=60)
    + _style("TableText", "Table Text", size=20, after=0)
    + "</w:styles>"
)

CORE = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<dc:title>{title}</dc:title><dc:creator>科创平台</dc:creator>
<dcterms:created xsi:type="dcterms:W3CDTF">{now}</dcterms:created><dcterms:modified xsi:type="dcterms:W3CDTF">{now}</dcterms:modified>
</cp:coreProperties>"""

APP = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"><Application>kechuang</Application></Properties>"""
