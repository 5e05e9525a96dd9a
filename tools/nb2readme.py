#!/usr/bin/env python3
"""Write README.md from nbs/index.ipynb without Quarto (nbdev_readme needs Quarto, which this stack does not ship).

Markdown cells are copied as they are; code cells become ```python blocks (cells marked `#| hide` are left out,
nbdev directives are dropped); outputs are not copied, so the README does not change from run to run.
"""
import json, sys
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

if __name__ == '__main__': nb2readme(*sys.argv[1:])
