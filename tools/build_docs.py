#!/usr/bin/env python3
"""Render the workbook's notebooks, as committed (executed, with their outputs), to a static HTML site in `_docs/`.

nbdev's own site builder needs Quarto, which cannot be installed here, so this uses nbconvert: one page per
notebook (its prose, code, outputs, charts and saved widget state; `#| hide` cells and `#|` directive lines left
out, as nbdev's docs do) and `index.html` from `nbs/index.ipynb` with the course map's notebooks linked.
Every page carries its CSS inline, so it reads offline; only MathJax, require.js and the widget renderer come
from a CDN (offline, maths shows as TeX and widgets as their text form).

    python tools/build_docs.py            # nbs/*.ipynb -> _docs/
    python tools/build_docs.py --out site
"""
import argparse, copy, html, re, shutil, sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DIRECTIVE = re.compile(r'^\s*#\|')
MAP_ROW = re.compile(r'^\|\s*`(?P<nb>[0-9][0-9a-z]*_[\w]+)`\s*\|', re.M)


def is_hidden(cell):
    "A cell nbdev keeps out of the docs: `#| hide`, or the `nbdev_export()` cell every notebook ends with."
    lines = ''.join(cell.get('source', '')).splitlines()
    flags = {l.replace(' ', '') for l in lines if DIRECTIVE.match(l)}
    return bool(flags & {'#|hide', '#|exporti'}) or (cell['cell_type'] == 'code' and 'nbdev_export' + '(' in ''.join(lines))


def course_map(index_nb):
    "Notebook names in the order the course map in `index_nb` lists them (its table rows `| `00_core` | ...`)."
    import nbformat
    nb = nbformat.read(index_nb, as_version=4)
    text = '\n'.join(c.source for c in nb.cells if c.cell_type == 'markdown')
    return list(dict.fromkeys(m['nb'] for m in MAP_ROW.finditer(text)))


def link_notebooks(md, names):
    "Point markdown at the pages: `[x](05_data.ipynb)` -> `05_data.html`; a course-map row's `` `05_data` `` -> a link."
    md = re.sub(r'\]\((?!https?:)([^)#\s]+)\.ipynb(#[^)]*)?\)', lambda m: f'](%s.html%s)' % (m[1], m[2] or ''), md)
    def row(m): return m[0].replace(f"`{m['nb']}`", f"[`{m['nb']}`]({m['nb']}.html)") if m['nb'] in names else m[0]
    return MAP_ROW.sub(row, md)


def prepare(nb, names, nav):
    "A copy of `nb` as a reader should see it: hidden cells out, directives out, links to pages, a nav line on top."
    import nbformat
    nb = copy.deepcopy(nb)
    cells = []
    for c in nb.cells:
        if is_hidden(c): continue
        if c.cell_type == 'code':
            c.source = '\n'.join(l for l in c.source.splitlines() if not DIRECTIVE.match(l)).strip('\n')
            if not c.source.strip() and not c.outputs: continue
        elif c.cell_type == 'markdown': c.source = link_notebooks(c.source, names)
        cells.append(c)
    if nav: cells.insert(0, nbformat.v4.new_markdown_cell(nav))
    nb.cells = cells
    return nb


def title_of(nb, fallback):
    "The notebook's H1 title (its first `# ` line), or `fallback`."
    for c in nb.cells:
        if c.cell_type == 'markdown':
            m = re.search(r'^#\s+(.+)$', c.source, re.M)
            if m: return m[1].strip()
    return fallback


def build(nbs=REPO/'nbs', out=REPO/'_docs'):
    "Render every notebook in `nbs` into `out` (replaced); return the pages written."
    import nbformat
    from nbconvert import HTMLExporter
    index_nb = nbs/'index.ipynb'
    if not index_nb.is_file(): sys.exit(f'build_docs: {index_nb} is missing: the site starts from the course map there')
    mapped = course_map(index_nb)
    found = sorted(p.stem for p in nbs.glob('*.ipynb') if p.stem != 'index' and not p.name.startswith(('_', '.')))
    order = [n for n in mapped if n in found] + [n for n in found if n not in mapped]
    missing = [n for n in mapped if n not in found]
    if missing: print(f"build_docs: the course map names notebooks that are not in {nbs}: {', '.join(missing)}")
    exporter = HTMLExporter(template_name='lab')
    if out.exists(): shutil.rmtree(out)
    out.mkdir(parents=True)
    pages = []
    for i, name in enumerate(['index'] + order):
        nb = nbformat.read(nbs/f'{name}.ipynb', as_version=4)
        if name == 'index':
            nav = ''
            extra = [n for n in order if n not in mapped]
            if extra:  # a notebook the course map does not list yet still gets a way in
                nb.cells.append(nbformat.v4.new_markdown_cell(
                    'Also in the workbook: ' + ', '.join(f'[`{n}`]({n}.html)' for n in extra)))
        else:
            prev = order[i - 2] if i >= 2 else None
            nxt = order[i] if i < len(order) else None
            parts = ['[Course map](index.html)']
            if prev: parts.append(f'previous: [{prev}]({prev}.html)')
            if nxt: parts.append(f'next: [{nxt}]({nxt}.html)')
            nav = ' · '.join(parts)
        page, _ = exporter.from_notebook_node(prepare(nb, set(order), nav),
                                              resources={'metadata': {'name': html.escape(title_of(nb, name))}})
        dest = out/f'{name}.html'
        dest.write_text(page, encoding='utf-8')
        pages.append(dest)
    unmapped = [n for n in order if n not in mapped]
    print(f'build_docs: {len(pages)} pages in {out} (index.html + {len(order)} notebooks'
          + (f"; not in the course map: {', '.join(unmapped)}" if unmapped else '') + ')')
    return pages


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--nbs', default=str(REPO/'nbs'))
    ap.add_argument('--out', default=str(REPO/'_docs'))
    a = ap.parse_args()
    build(Path(a.nbs), Path(a.out))
