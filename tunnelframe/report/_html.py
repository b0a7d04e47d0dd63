"""Render a report :class:`~tunnelframe.report._doc.Document` as one self-contained HTML page.

Everything the page needs is inside it: the CSS inline, the figures as base64 PNG data URIs, a
one-line script that opens collapsed sections for printing. A Content-Security-Policy forbids
loading anything else, so even a mistake elsewhere cannot make the page call out. Every string
from the document goes through :func:`_e` (HTML escaping): tunnel names are user-chosen text and
must never become markup. This module must not fetch, compute findings, or touch frames.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import json
import struct
import warnings
import zlib
from collections.abc import Sequence

from tunnelframe.report._doc import (
    Block,
    Cell,
    Column,
    Document,
    Fields,
    Figure,
    Finding,
    Group,
    Section,
    Stats,
    Table,
    Text,
)

__all__: list[str] = []

#: Resolution of embedded figures: sharp on a laptop, small enough to keep the file light.
FIGURE_DPI = 110

#: The badge colour of every status word the report shows; colours follow the plots
#: (current green, behind blue, unsupported vermillion). Unknown words get a neutral badge.
_STATUS_CLASSES = {
    **dict.fromkeys(("healthy", "ok", "current", "active"), "ok"),
    **dict.fromkeys(("degraded", "warn", "single_colo", "single_connector", "no_standby"), "warn"),
    **dict.fromkeys(("down", "high", "unsupported", "multiple_active", "offline"), "high"),
    **dict.fromkeys(("info", "behind"), "info"),
}

# The page's one script, allowed by its hash in the CSP; the page reads fully without it (a
# capped table says how many rows it shows and carries all of them as CSV; past
# _DEFLATE_OVER characters that CSV is deflated, and only the script shows it).
# - Inflates a deflated CSV into its textarea (DecompressionStream) before the table's
#   filter and sorting start.
# - Opens every <details> before printing (a printed report shows all it holds).
# - A table of more than 10 rows gets a filter box searching ALL its rows: a capped table's
#   rows come from its embedded CSV (the rows shown are reused, with their links; the others
#   are built as text only), and it still shows at most as many rows as it was capped at,
#   saying "3 matches, 1 shown".
# - Every column heading sorts all the rows on click (numbers as numbers; again: reversed).
_SCRIPT = (
    "(function(){var S=" + json.dumps(_STATUS_CLASSES, separators=(",", ":")) + ";"
    "window.addEventListener('beforeprint',function(){"
    "document.querySelectorAll('details').forEach(function(d){d.open=true;});});"
    "function csv(s){var out=[],row=[],f='',q=false,i,c;for(i=0;i<s.length;i++){c=s[i];"
    "if(q){if(c==='\"'){if(s[i+1]==='\"'){f+=c;i++;}else q=false;}else f+=c;}"
    "else if(c==='\"')q=true;else if(c===','){row.push(f);f='';}"
    "else if(c==='\\n'){row.push(f);out.push(row);row=[];f='';}else if(c!=='\\r')f+=c;}"
    "if(f!==''||row.length){row.push(f);out.push(row);}return out;}"
    "function plural(n,w){return n.toLocaleString('en')+' '+w+(n===1?'':(w==='match'?'es':'s'));}"
    "function init(w,ta){"
    "var t=w.querySelector('table'),b=t&&t.tBodies[0];if(!b)return;"
    "var heads=t.tHead?Array.prototype.slice.call(t.tHead.rows[0].cells):[];"
    "var trs=Array.prototype.slice.call(b.rows),cap=trs.length,"
    "note=w.querySelector('p.more'),said=note?note.textContent:'',recs;"
    "var text=function(tr){return Array.prototype.map.call(tr.cells,function(x){"
    "return x.textContent.trim();});};"
    "if(ta){recs=csv(ta.value).slice(1).map(function(c,i){return {c:c,tr:trs[i]||null};});}"
    "else{recs=trs.map(function(tr){return {c:text(tr),tr:tr};});}"
    "var order=recs.slice(),q='';"
    "var build=function(r){var tr=document.createElement('tr');"
    "heads.forEach(function(h,k){var td=document.createElement('td'),v=r.c[k]||'';"
    "td.className=h.className.replace(/ ?sortable/,'');td.setAttribute('data-label',"
    "h.textContent);if(/\\bstatus\\b/.test(td.className)&&v){var sp=document.createElement"
    "('span');sp.className='badge '+(S[v]||'other');sp.textContent=v;td.appendChild(sp);}"
    "else td.textContent=v;tr.appendChild(td);});return tr;};"
    "var show=function(){var m=q===''?order:order.filter(function(r){"
    "return r.c.join('\\t').toLowerCase().indexOf(q)>=0;});var n=Math.min(m.length,cap);"
    "b.textContent='';for(var i=0;i<n;i++){if(!m[i].tr)m[i].tr=build(m[i]);"
    "b.appendChild(m[i].tr);}"
    "if(note)note.textContent=q===''?said:plural(m.length,'match')+(m.length>n?', '+"
    "n.toLocaleString('en')+' shown':'')+'.';};"
    "if(recs.length>10){var i=document.createElement('input');i.type='search';"
    "i.className='filter';i.placeholder='Filter all '+recs.length.toLocaleString('en')+' rows';"
    "i.setAttribute('aria-label','Filter rows');"
    "i.addEventListener('input',function(){q=i.value.trim().toLowerCase();show();});"
    "w.insertBefore(i,w.firstChild);"
    "if(!note){note=document.createElement('p');note.className='note more';"
    "note.setAttribute('aria-live','polite');w.insertBefore(note,i.nextSibling);}}"
    "heads.forEach(function(h,c){"
    "h.classList.add('sortable');h.tabIndex=0;h.addEventListener('click',function(){"
    "var up=h.getAttribute('aria-sort')!=='ascending';"
    "heads.forEach(function(x){x.removeAttribute('aria-sort');});"
    "h.setAttribute('aria-sort',up?'ascending':'descending');"
    "var key=function(r){var s=(r.c[c]||'').trim();"
    "var n=parseFloat(s.replace(/,/g,''));return isNaN(n)||!/^[-\\d.,]+%?$/.test(s)?s:n;};"
    "order.sort(function(a,z){var x=key(a),y=key(z);"
    "var d=(typeof x===typeof y)?(x<y?-1:x>y?1:0):(typeof x==='number'?-1:1);"
    "return up?d:-d;});show();});});}"
    # a deflated CSV is inflated first (the table works on its shown rows where it cannot be)
    "document.querySelectorAll('.tbl').forEach(function(w){"
    "var ta=w.querySelector('textarea'),z=ta&&ta.getAttribute('data-deflated');"
    "if(!z){init(w,ta);return;}"
    "if(!window.DecompressionStream){init(w,null);return;}"
    "var raw=atob(z),u=new Uint8Array(raw.length);"
    "for(var k=0;k<raw.length;k++)u[k]=raw.charCodeAt(k);"
    "new Response(new Blob([u]).stream().pipeThrough(new DecompressionStream('deflate-raw')))"
    ".text().then(function(s){ta.value=s;ta.removeAttribute('data-deflated');init(w,ta);},"
    "function(){init(w,null);});});})();"
)

#: A capped table's CSV longer than this (characters) is embedded deflated (see _table).
_DEFLATE_OVER = 64_000

_CSS = """
:root{--fg:#1d2433;--muted:#5b6475;--line:#d9dee7;--bg:#fff;--soft:#f4f6f9;--accent:#2857a4;
--ok:#1f7a3f;--ok-bg:#e3f4e8;--warn:#8a5a00;--warn-bg:#fff1d0;--bad:#a32020;--bad-bg:#fde4e1;
--info:#2f5597;--info-bg:#e6eefb;--off:#5b6475;--off-bg:#eceff3;color-scheme:light}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--fg);line-height:1.45;
font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Liberation Sans",
Arial,sans-serif}
.page{max-width:76rem;margin:0 auto;padding:1.25rem 1.25rem 3rem}
h1{font-size:1.6rem;line-height:1.2;margin:0 0 .5rem;overflow-wrap:anywhere}
h2{font-size:1.3rem;margin:2.2rem 0 .8rem;padding-bottom:.3rem;border-bottom:2px solid var(--line)}
h3{font-size:1.05rem;margin:1.4rem 0 .5rem}
a{color:var(--accent)}
code,td.mono{font-family:ui-monospace,"SFMono-Regular",Menlo,Consolas,"DejaVu Sans Mono",
"Liberation Mono",monospace;font-size:.86em}
header.top{border-bottom:1px solid var(--line);padding-bottom:.8rem}
dl.meta{display:flex;flex-wrap:wrap;gap:.2rem 1.6rem;margin:.2rem 0 0;color:var(--muted);
font-size:.9rem}
dl.meta div{display:flex;gap:.4rem;min-width:0}
dl.meta dt{font-weight:600}
dl.meta dd{margin:0;overflow-wrap:anywhere}
.notes{margin:.6rem 0 0;padding:.5rem .8rem;background:var(--info-bg);border-radius:6px;
font-size:.9rem}
.notes p{margin:.2rem 0}
nav.toc{margin:1rem 0;padding:.6rem 1rem;background:var(--soft);border-radius:8px}
nav.toc h2{font-size:1rem;margin:0 0 .3rem;border:0;padding:0}
nav.toc ol{margin:0;padding-left:1.3rem;columns:2 16rem;column-gap:2rem}
nav.toc li{break-inside:avoid;padding:.1rem 0}
nav.toc .tocnote{color:var(--muted);font-size:.85rem}
p{margin:.5rem 0}
p.note{color:var(--muted);font-size:.88rem}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(11rem,1fr));gap:.7rem;
margin:.6rem 0}
.card{border:1px solid var(--line);border-radius:8px;padding:.6rem .8rem;background:var(--bg);
min-width:0}
.card .label{color:var(--muted);font-size:.8rem;text-transform:uppercase;letter-spacing:.04em}
.card .value{font-size:1.6rem;font-weight:650;line-height:1.2;overflow-wrap:anywhere}
.card .detail{color:var(--muted);font-size:.85rem;overflow-wrap:anywhere}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch;margin:.5rem 0 1rem;
border:1px solid var(--line);border-radius:6px}
table{border-collapse:collapse;width:100%;font-size:.88rem}
input.filter{display:block;width:100%;max-width:24rem;margin:.5rem 0 .2rem;padding:.35rem .5rem;
font:inherit;border:1px solid var(--line);border-radius:.3rem}
th.sortable{cursor:pointer}th[aria-sort=ascending]::after{content:" ▲"}
th[aria-sort=descending]::after{content:" ▼"}
details.csv textarea{width:100%;font:12px/1.3 ui-monospace,Menlo,Consolas,monospace}
caption{caption-side:top;text-align:left;padding:.4rem .6rem;color:var(--muted);
font-size:.85rem}
th,td{padding:.32rem .6rem;text-align:left;vertical-align:top;border-bottom:1px solid var(--line)}
th{background:var(--soft);font-weight:600;white-space:nowrap;position:sticky;top:0}
tbody tr:nth-child(even) td{background:#fafbfc}
tbody tr:last-child td{border-bottom:0}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.mono{white-space:nowrap}
td.text{min-width:7rem;overflow-wrap:anywhere}
td.wide{min-width:18rem;overflow-wrap:anywhere}
.badge{display:inline-block;padding:0 .45rem;border-radius:999px;font-size:.78rem;
font-weight:600;line-height:1.5;white-space:nowrap;background:var(--off-bg);color:var(--off)}
.badge.ok{background:var(--ok-bg);color:var(--ok)}
.badge.warn{background:var(--warn-bg);color:var(--warn)}
.badge.high{background:var(--bad-bg);color:var(--bad)}
.badge.info{background:var(--info-bg);color:var(--info)}
figure{margin:.8rem 0 1.4rem}
figure img{display:block;max-width:100%;height:auto;border:1px solid var(--line);border-radius:6px}
figcaption{color:var(--muted);font-size:.85rem;margin-top:.3rem}
details{margin:.4rem 0;border:1px solid var(--line);border-radius:8px;background:var(--bg)}
details>summary{cursor:pointer;padding:.45rem .8rem;list-style-position:inside;
overflow-wrap:anywhere}
details>summary .meta{color:var(--muted);font-size:.85rem;margin-left:.3rem}
details>.body{padding:0 .8rem .4rem}
details.finding{border-left:5px solid var(--line)}
details.finding.high{border-left-color:var(--bad)}
details.finding.warn{border-left-color:#d99a00}
details.finding.info{border-left-color:var(--info)}
details.finding>summary{font-weight:600}
details.finding .count{display:inline-block;min-width:2.2rem;text-align:center;margin-right:.3rem}
.clean{display:flex;flex-wrap:wrap;gap:.4rem;margin:.6rem 0;padding:0;list-style:none}
.clean .badge{white-space:normal}
dl.fields{display:grid;grid-template-columns:max-content 1fr;gap:.15rem 1rem;margin:.5rem 0;
font-size:.88rem}
dl.fields dt{color:var(--muted)}
dl.fields dd{margin:0;overflow-wrap:anywhere}
:target{scroll-margin-top:1rem}
details:target{outline:2px solid var(--accent)}
footer{margin-top:3rem;color:var(--muted);font-size:.8rem;border-top:1px solid var(--line);
padding-top:.6rem}
.chart{overflow-x:auto;-webkit-overflow-scrolling:touch}
.chart a.enlarge{display:block;cursor:zoom-in}
.chart a.close{display:none}
figure:target .chart{position:fixed;inset:0;z-index:10;margin:0;padding:2.6rem .8rem .8rem;
overflow:auto;background:#12151b}
figure:target .chart a.enlarge{cursor:default}
figure:target .chart img{max-width:none;margin:0 auto;background:#fff;
width:max(var(--w),min(calc(100vw - 1.6rem),calc((100vh - 3.4rem) * var(--ar))))}
@media (max-width:40rem) and (orientation:portrait){
figure.wide:target .chart img{position:absolute;top:calc(50% + 1rem);left:50%;
width:min(calc(100vh - 4.4rem),calc((100vw - 1.6rem) * var(--ar)));
transform:translate(-50%,-50%) rotate(90deg)}
}
figure:target .chart a.close{display:block;position:fixed;top:.5rem;right:.8rem;color:#fff;
font-weight:600;text-decoration:none;padding:.2rem .6rem;border:1px solid #fff;border-radius:6px}
@media (max-width:40rem){
.chart{overflow:visible}
.scroll:has(>table.stack){overflow:visible}
table.stack,table.stack tbody{display:block}
table.stack thead{position:absolute;width:1px;height:1px;overflow:hidden;clip-path:inset(50%)}
table.stack caption{display:block}
table.stack tr{display:flex;flex-wrap:wrap;align-items:baseline;gap:.1rem .5rem;
padding:.45rem .6rem;border-bottom:1px solid var(--line)}
tbody tr:nth-child(even) td{background:none}
table.stack tbody tr:nth-child(even){background:#fafbfc}
table.stack td{display:block;flex:1 1 100%;min-width:0;padding:0;border:0;order:3;
white-space:normal;overflow-wrap:anywhere}
table.stack td::before{content:attr(data-label) ": ";color:var(--muted);font-size:.8rem}
table.stack td:first-child{order:0;flex:0 1 auto;font-weight:600}
table.stack td.status{order:1;flex:0 1 auto}
table.stack td.lead{order:2}
table.stack td:first-child::before,table.stack td.status::before{content:none}
table.stack td.mono{white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
table.stack td.num{text-align:left}
body{font-size:14px}
.page{padding:.8rem .7rem 2rem}
h1{font-size:1.3rem}
h2{font-size:1.15rem}
.cards{grid-template-columns:repeat(2,minmax(0,1fr));gap:.5rem}
.card .value{font-size:1.3rem}
nav.toc ol{columns:1}
th,td{padding:.28rem .45rem}
}
@media print{
@page{margin:14mm}
body{font-size:10pt}
.page{max-width:none;padding:0}
a{color:inherit;text-decoration:none}
nav.toc{background:none;border:1px solid var(--line)}
.scroll{overflow:visible;border:0}
table{font-size:8pt}
th{position:static}
input.filter{display:none}
td.mono{white-space:normal;overflow-wrap:break-word}
td.text,td.wide{min-width:0}
tr,figure,.card,dl.fields{break-inside:avoid}
h2,h3{break-after:avoid}
details{border:0}
details>summary{list-style:none;padding-left:0;break-after:avoid}
details::details-content{content-visibility:visible}
figure img{max-height:120mm;width:auto}
}
"""


def _e(text: object) -> str:
    """HTML-escape ``text`` for element content and quoted attribute values."""
    return html.escape(str(text), quote=True)


def _csp() -> str:
    # No network at all: images only from data: URIs, style and the one script inline.
    digest = base64.b64encode(hashlib.sha256(_SCRIPT.encode()).digest()).decode()
    return (
        "default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
        f"script-src 'sha256-{digest}'; base-uri 'none'; form-action 'none'"
    )


def render_html(doc: Document) -> str:
    """Return the whole page for ``doc``."""
    parts = [
        "<!doctype html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta http-equiv="Content-Security-Policy" content="{_e(_csp())}">',
        '<meta name="referrer" content="no-referrer">',
        f"<title>{_e(doc.title)}</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        '<div class="page">',
        '<header class="top">',
        f"<h1>{_e(doc.title)}</h1>",
        '<dl class="meta">',
    ]
    parts += [f"<div><dt>{_e(k)}</dt><dd>{_e(v)}</dd></div>" for k, v in doc.header]
    parts.append("</dl>")
    if doc.notes:
        parts.append('<div class="notes">')
        parts += [f"<p>{_e(n)}</p>" for n in doc.notes]
        parts.append("</div>")
    parts.append("</header>")
    parts += _toc(doc.sections)
    parts.append("<main>")
    for section in doc.sections:
        parts += _section(section)
    parts.append("</main>")
    parts.append("<footer>Self-contained report: nothing in it loads from the network.</footer>")
    parts.append("</div>")
    parts.append(f"<script>{_SCRIPT}</script>")
    parts.append("</body>")
    parts.append("</html>")
    return "\n".join(parts) + "\n"


def _toc(sections: Sequence[Section]) -> list[str]:
    out = ['<nav class="toc" aria-label="Contents">', "<h2>Contents</h2>", "<ol>"]
    for s in sections:
        note = f' <span class="tocnote">{_e(s.toc_note)}</span>' if s.toc_note else ""
        out.append(f'<li><a href="#{_e(s.anchor)}">{_e(s.title)}</a>{note}</li>')
    out += ["</ol>", "</nav>"]
    return out


def _section(section: Section) -> list[str]:
    out = [f'<section id="{_e(section.anchor)}">', f"<h2>{_e(section.title)}</h2>"]
    out += _blocks(section.blocks)
    out.append("</section>")
    return out


def _blocks(blocks: Sequence[Block]) -> list[str]:
    out: list[str] = []
    clean: list[Finding] = []
    for block in blocks:
        # Findings without rows are gathered into one line of green badges.
        if isinstance(block, Finding) and block.passed:
            clean.append(block)
            continue
        if clean:
            out += _clean(clean)
            clean = []
        out += _block(block)
    if clean:
        out += _clean(clean)
    return out


def _block(block: Block) -> list[str]:
    if isinstance(block, Text):
        cls = ' class="note"' if block.note else ""
        return [f"<p{cls}>{_e(block.text)}</p>"]
    if isinstance(block, Stats):
        return _stats(block)
    if isinstance(block, Table):
        return _table(block)
    if isinstance(block, Figure):
        return _figure(block)
    if isinstance(block, Fields):
        return _fields(block)
    if isinstance(block, Group):
        return _group(block)
    if isinstance(block, Finding):
        return _finding(block)
    raise TypeError(f"cannot render a {type(block).__name__} block")


def _stats(block: Stats) -> list[str]:
    out = ['<div class="cards">']
    for s in block.items:
        detail = f'<div class="detail">{_e(s.detail)}</div>' if s.detail else ""
        out.append(
            f'<div class="card"><div class="label">{_e(s.label)}</div>'
            f'<div class="value">{_e(s.value)}</div>{detail}</div>'
        )
    out.append("</div>")
    return out


def _cell(cell: Cell, column: Column, label: str) -> str:
    kind = column.kind
    text = _e(cell.text)
    if kind == "status" and cell.text:
        text = f'<span class="badge {_e(_status_class(cell.text))}">{text}</span>'
    if cell.anchor:
        text = f'<a href="#{_e(cell.anchor)}">{text}</a>'
    cls = f"{kind} lead" if column.lead else kind
    return f'<td class="{cls}"{label}>{text}</td>'


def _status_class(status: str) -> str:
    # Only known words become CSS classes: data never reaches a class attribute.
    return _STATUS_CLASSES.get(status, "other")


def _table(block: Table) -> list[str]:
    if not block.rows:
        return [f'<p class="note">{_e(block.empty)}</p>']
    # Wide tables turn into one card per row on a phone; each value then says its column
    # (data-label), since the heading row is out of sight.
    cards = block.cards
    out = [
        '<div class="tbl">',
        '<div class="scroll">',
        '<table class="stack">' if cards else "<table>",
    ]
    if block.caption:
        out.append(f"<caption>{_e(block.caption)}</caption>")
    heads = "".join(
        f'<th scope="col" class="{c.kind}{" lead" if c.lead else ""}">{_e(c.title)}</th>'
        for c in block.columns
    )
    out += [f"<thead><tr>{heads}</tr></thead>", "<tbody>"]
    # (the first column and status badges speak for themselves)
    labels = [
        f' data-label="{_e(c.title)}"' if cards and i and c.kind != "status" else ""
        for i, c in enumerate(block.columns)
    ]
    for row in block.rows:
        cells = "".join(
            _cell(cell, col, label)
            for cell, col, label in zip(row, block.columns, labels, strict=True)
        )
        out.append(f"<tr>{cells}</tr>")
    out += ["</tbody>", "</table>", "</div>"]
    total = len(block.rows) + block.more
    if block.more:
        order = f", {block.order}" if block.order else ""
        out.append(
            f'<p class="note more" aria-live="polite">{len(block.rows):,} of {total:,} rows '
            f"shown{_e(order)}; all {total:,} are in the CSV below.</p>"
        )
    elif block.order and len(block.rows) > 1:
        out.append(f'<p class="note">{_e(block.order[:1].upper() + block.order[1:])}.</p>')
    if block.csv is not None and len(block.csv) > _DEFLATE_OVER:
        # Deflated (a quarter of the size, in base64): the page's script inflates it into the
        # textarea; without the script the table's shown rows and its note still read.
        packer = zlib.compressobj(9, zlib.DEFLATED, -15)
        packed = base64.b64encode(packer.compress(block.csv.encode()) + packer.flush()).decode()
        out += [
            '<details class="csv">',
            f"<summary>All {total:,} rows as CSV</summary>",
            f'<textarea readonly rows="8" spellcheck="false" data-deflated="{packed}">'
            f"The {total:,} rows appear here when the page's script runs (they are compressed "
            "to keep the report small).</textarea>",
            "</details>",
        ]
    elif block.csv is not None:
        # Inside a textarea only & and < need escaping; quotes (frequent in CSV) stay as is.
        out += [
            '<details class="csv">',
            f"<summary>All {total:,} rows as CSV</summary>",
            '<textarea readonly rows="8" spellcheck="false">'
            f"{html.escape(block.csv, quote=False)}</textarea>",
            "</details>",
        ]
    out.append("</div>")
    return out


def png_bytes(block: Figure, *, dpi: int = FIGURE_DPI) -> bytes:
    """Draw ``block`` on a fresh figure (no pyplot state) and return it as PNG bytes."""
    from matplotlib.figure import Figure as MplFigure

    fig = MplFigure(figsize=block.size, layout="constrained")
    ax = fig.subplots()
    block.draw(ax)
    buf = io.BytesIO()
    # No metadata: the same data gives byte-identical reports.
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    return _palette_png(buf.getvalue())


def _palette_png(png: bytes) -> bytes:
    """``png`` with at most 256 colours: a chart has few, and the page gets 3-4x lighter.

    Pillow comes with matplotlib; quantizing is deterministic, so reports stay reproducible.
    """
    from PIL import Image

    with Image.open(io.BytesIO(png)) as image:
        small = image.convert("RGB").quantize(256, method=Image.Quantize.FASTOCTREE)
    out = io.BytesIO()
    small.save(out, format="PNG", optimize=True)
    return out.getvalue() if out.tell() < len(png) else png


def _figure(block: Figure) -> list[str]:
    try:
        png = png_bytes(block)
    except Exception as exc:  # a report with one figure missing beats no report
        warnings.warn(f"figure {block.alt!r} could not be drawn: {exc}", RuntimeWarning, 2)
        return [f'<p class="note">Figure unavailable ({_e(block.alt)}): {_e(exc)}</p>']
    data = base64.b64encode(png).decode("ascii")
    # On a phone the chart keeps a readable size inside its own sideways-scrolling box
    # (labels at ~8 px and up, not 4), instead of shrinking to the screen. A tap opens it full
    # screen without script: the link targets the figure and ``figure:target`` lays the same
    # image over the page (never narrower than drawn, as wide as the screen allows); "Close"
    # targets an anchor at the figure's top, which ends the overlay and returns there.
    width, height = struct.unpack(">II", png[16:24])  # the PNG's IHDR
    fid = "fig-" + hashlib.sha256(block.alt.encode() + png).hexdigest()[:12]
    # A wide chart on a phone held upright is turned to lie along the screen's long side: whole
    # at about its drawn size (turn the phone to read it) instead of panned.
    wide = ' class="wide"' if width / height >= 1.3 else ""
    out = [
        f'<figure id="{fid}"{wide}><span id="{fid}-at"></span><div class="chart">',
        f'<a class="enlarge" href="#{fid}" title="Enlarge the chart">'
        f'<img src="data:image/png;base64,{data}" alt="{_e(block.alt)}" loading="eager" '
        f'style="--w:{width}px;--ar:{width / height:.4f}"></a>',
        f'<a class="close" href="#{fid}-at">Close ✕</a>',
        "</div>",
    ]
    if block.caption:
        out.append(f"<figcaption>{_e(block.caption)}</figcaption>")
    out.append("</figure>")
    return out


def _fields(block: Fields) -> list[str]:
    out = ['<dl class="fields">']
    out += [f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in block.items]
    out.append("</dl>")
    return out


def _group(block: Group) -> list[str]:
    anchor = f' id="{_e(block.anchor)}"' if block.anchor else ""
    opened = " open" if block.open else ""
    badge = (
        f' <span class="badge {_e(_status_class(block.status))}">{_e(block.status)}</span>'
        if block.status
        else ""
    )
    meta = f' <span class="meta">{_e(block.meta)}</span>' if block.meta else ""
    out = [
        f"<details{anchor}{opened}>",
        f"<summary>{_e(block.summary)}{badge}{meta}</summary>",
        '<div class="body">',
    ]
    out += _blocks(block.blocks)
    out += ["</div>", "</details>"]
    return out


#: Warnings with at most this many rows are shown open; longer lists start collapsed.
OPEN_FINDING_ROWS = 12


def _finding(block: Finding) -> list[str]:
    # Sections open by severity, not size: high always, warnings when short, info never.
    rows = len(block.table.rows) if block.table is not None else 0
    shown = block.table is not None and (
        block.severity == "high" or (block.severity == "warn" and rows <= OPEN_FINDING_ROWS)
    )
    opened = " open" if shown else ""
    count = "?" if block.unavailable is not None else str(block.count)
    out = [
        f'<details class="finding {_e(block.severity)}" id="finding-{_e(block.rule)}"{opened}>',
        f'<summary><span class="badge count {_e(block.severity)}">{_e(count)}</span>'
        f"{_e(block.title)}</summary>",
        '<div class="body">',
        f"<p>{_e(block.description)}</p>",
    ]
    if block.unavailable is not None:
        out.append(f'<p class="note">{_e(block.unavailable)}</p>')
    elif block.table is not None:
        out += _table(block.table)
    out += ["</div>", "</details>"]
    return out


def _clean(findings: list[Finding]) -> list[str]:
    items = "".join(
        f'<li><span class="badge ok">✓ {_e(f.title)}: none</span></li>' for f in findings
    )
    return [f'<ul class="clean" aria-label="Rules with nothing to report">{items}</ul>']
