#!/usr/bin/env python3
"""Write README.md from nbs/index.ipynb without Quarto (nbdev_readme needs Quarto, which this stack does not ship).

Markdown cells are copied as they are; code cells become ```python blocks (cells marked `#| hide` are left out,
nbdev directives are dropped); outputs are not copied, so the README does not change from run to run.

README.ru.md, beside it, is written by hand in Russian; `check_ru` fails (and so `make export`, `make test`) unless it
lists the same `make` commands of "Two commands" and the same notebooks as the course map (`06*` stands for every
notebook whose name starts with 06).
"""
import json, re, sys
from pathlib import Path

def nb2readme(src='nbs/index.ipynb', dest='README.md'):
    nb = json.loads(Path(src).read_text(encoding='utf-8'))
    parts = ['<!-- Generated from nbs/index.ipynb by tools/nb2readme.py (make export): edit the notebook, not this file. -->']
    for c in nb['cells']:
        src_ = ''.join(c['source']).strip()
        if not src_: continue
        if c['cell_type'] == 'markdown': parts.append(src_)
        elif c['cell_type'] == 'code':
            lines = src_.splitlines()
            if any(l.strip().replace(' ', '') in ('#|hide', '#|exporti') for l in lines): continue
            code = '\n'.join(l for l in lines if not l.lstrip().startswith('#|')).strip()
            if code: parts.append(f'```python\n{code}\n```')
    out = '\n\n'.join(parts) + '\n'
    if not Path(dest).exists() or Path(dest).read_text(encoding='utf-8') != out: Path(dest).write_text(out, encoding='utf-8')

def _section(text, title):
    "The markdown of the `## title` section of `text`."
    m = re.search(rf'^## {re.escape(title)}\n(.*?)(?=^## |\Z)', text, re.S | re.M)
    return m.group(1) if m else ''


def _notebooks(table):
    "Notebook names (or `06*` patterns) in the first column of a markdown table."
    rows = [l.split('|')[1] for l in table.splitlines() if l.startswith('|') and l.count('|') > 2]
    return [n for r in rows for n in re.findall(r'`([0-9][0-9a-z_*]*)`', r)]


def check_ru(en_path='README.md', ru_path='README.ru.md'):
    "Problems of README.ru.md against README.md: a `make` command or a course-map notebook one has and the other lacks."
    en, ru = Path(en_path).read_text(encoding='utf-8'), Path(ru_path).read_text(encoding='utf-8')
    cmds = lambda t: set(re.findall(r'^(make [a-z-]+)', t, re.M))
    en_cmds, ru_cmds = cmds(_section(en, 'Two commands')), cmds(_section(ru, 'Две команды'))
    en_nbs, ru_nbs = _notebooks(_section(en, 'Course map')), _notebooks(_section(ru, 'Карта курса'))
    def listed(nb, names): return any(nb == n or (n.endswith('*') and nb.startswith(n[:-1])) for n in names)
    probs = [f'the command `{c}`: README.md has it under "Two commands", {ru_path} not under "Две команды"'
             for c in sorted(en_cmds - ru_cmds)]
    probs += [f'the command `{c}`: {ru_path} lists it, README.md does not' for c in sorted(ru_cmds - en_cmds)]
    probs += [f'the notebook `{n}`: in the course map of README.md (nbs/index.ipynb), '
              f'not in "Карта курса" of {ru_path}' for n in en_nbs if not listed(n, ru_nbs)]
    probs += [f'the notebook `{n}`: in "Карта курса" of {ru_path}, not in the course map of README.md'
              for n in ru_nbs if not n.endswith('*') and n not in en_nbs]
    if not en_nbs: probs.append('README.md has no "## Course map" table')
    return probs


if __name__ == '__main__':
    nb2readme(*sys.argv[1:])
    dest = Path(sys.argv[2] if len(sys.argv) > 2 else 'README.md')
    ru = dest.with_name('README.ru.md')
    if ru.exists() and (probs := check_ru(dest, ru)):
        sys.exit(f'{ru} is out of step with {dest}; add to (or remove from) {ru}:\n  ' + '\n  '.join(probs))
