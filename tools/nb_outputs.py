#!/usr/bin/env python3
"""Executed notebooks that a reader can trust and git can diff: tame their outputs, and count them.

`tools/run_notebooks.py --write` saves each notebook executed. Left raw, a second run would rewrite much of it:
temp folders, ports, pids, timings, dates and widget ids change every run, nbclient splits a cell's printing into
chunks as they happen to arrive, and every progress bar (tqdm, transformers' loading bars) leaves an ipywidgets
view whose saved state holds its timings under a random id. `tame` makes the executed notebook stable:

- consecutive stream outputs of a cell are merged into one; a carriage return keeps only what the terminal shows;
- a progress bar's widget becomes its final text (`Loading weights: 100% 28/28`, no timings), as a stderr stream;
- other widget views keep their saved state (the playground shows on a code host); a view whose state was not
  saved keeps only its text; the state keeps only the widgets that outputs show, under ids numbered in order;
- where a cell's new outputs differ from the committed ones only in volatile details (`volatile_key`: temp paths,
  ports, pids, timings, dates, addresses, the repository's and the venv's location), the committed outputs stay,
  byte for byte: a second `--write` changes only what really changed.

`coverage` counts, per notebook, the code cells that produce a result when run, how many of them carry outputs in
the committed file, and the charts (image outputs); `python tools/nb_outputs.py [NOTEBOOKS]` prints the committed
side alone (without running: cells with outputs and charts per notebook).
"""
import copy, hashlib, html, json, re, sys, tempfile
from pathlib import Path
from nbformat import from_dict

REPO = Path(__file__).resolve().parent.parent
WIDGET_VIEW = 'application/vnd.jupyter.widget-view+json'
WIDGET_STATE = 'application/vnd.jupyter.widget-state+json'
MODEL_REF = re.compile(r'IPY_MODEL_([0-9a-zA-Z_-]+)')
TQDM_BAR = re.compile(r'\d+%\|.*\| *[\d.]+[kMG]?/[\d.?]+[kMG]?')  # '  0%|          | 0/28 [00:00<?, ?it/s]'
TQDM_TIMES = re.compile(r'\s*\[[0-9:?<>, .a-zA-Z/]*\]\s*$')  # ' [00:03<00:00, 15.2it/s]' at the end of a bar

# What changes from run to run although nothing the notebook teaches did: compared masked, never written masked.
_tmp = re.escape(tempfile.gettempdir().rstrip('/'))
VOLATILE = [
    (re.compile(re.escape(str(REPO))), '<repo>'),
    (re.compile(r'\S*/(site|dist)-packages/'), '<site>/'),
    (re.compile(_tmp + r'/[\w.-]+'), '<tmp>'), (re.compile(r'/tmp/[\w.-]+'), '<tmp>'),
    (re.compile(r'\btmp[a-z0-9_]{8}\b'), '<tmp>'),
    (re.compile(r'\b0x[0-9a-fA-F]{6,}\b'), '0x<addr>'),
    (re.compile(r'\b\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)?'), '<datetime>'),
    (re.compile(r'\[[\d:]+<[\d:?]+,[^\]]*\]'), '[<eta>]'),  # tqdm's ' [00:03<00:00, 15.2it/s]'
    (re.compile(r'\b\d\d:\d\d:\d\d(\.\d+)?\b'), '<time>'),
    (re.compile(r'\b1[6-9]\d{8}(\.\d+)?\b'), '<epoch>'),
    (re.compile(r'\b(localhost|127\.0\.0\.1|0\.0\.0\.0|\[::1?\]):\d+'), r'\1:<port>'),
    (re.compile(r'\b(port|pid)(["\']?\s*[=:]?\s*)\d+', re.I), r'\1\2<n>'),
    (re.compile(r'process \[\d+\]'), 'process [<n>]'),
    (re.compile(r'\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b'), '<uuid>'),
    (re.compile(r'\b(?=[a-f]*\d)(?=\d*[a-f])[0-9a-f]{16,}\b'), '<hex>'),  # request ids, cache keys, widget ids
    (re.compile(r'\b(\w+_(s|ms|sec|seconds))=\d+(\.\d+)?'), r'\1=<num>'),  # load_s=0.16, latency_ms=52.6
    (re.compile(r'\b(chatcmpl|cmpl|req|run)-[0-9a-zA-Z]{6,}\b'), r'\1-<id>'),
    (re.compile(r'\b(nonce-|nonce=)[\w+/=-]+'), r'\1<nonce>'),
    (re.compile(r'(\d[\d,]*(\.\d+)?(e-?\d+)?)(\s?)(ms|s|sec|seconds|min|µs|us|ns|it/s|s/it|tok/s|tokens/s|steps/s|'
                r'req/s|rows/s|[kKMG]B/s|x faster|x slower)(?![\w/])'), r'<num>\4\5'),
    (re.compile(r'\b(Timer|elapsed|latency\w*|took|time\w*)(["\']?[=:(]?\s*)\d+(\.\d+)?'), r'\1\2<num>'),
]


def volatile_key(text):
    "`text` with everything that changes from run to run masked (for comparing outputs, never for writing)."
    for rx, sub in VOLATILE: text = rx.sub(sub, text)
    return text


def _text(x): return ''.join(x) if isinstance(x, list) else (x or '')


def terminal_text(s):
    "What a terminal shows of `s`: on each line only the part after its last carriage return."
    return '\n'.join(l.rstrip('\r').rsplit('\r', 1)[-1] for l in s.split('\n'))


def widget_models(nb):
    "The saved ipywidgets state of `nb` (model id -> model), or {}."
    return nb.get('metadata', {}).get('widgets', {}).get(WIDGET_STATE, {}).get('state', {})


def progress_text(model_id, models):
    "The final text of a tqdm progress bar (HBox of HTML, FloatProgress, HTML), or None if it is not one."
    m = models.get(model_id)
    if not m or m.get('model_name') != 'HBoxModel': return None
    kids = [models.get(k) for k in MODEL_REF.findall(json.dumps(m['state'].get('children', [])))]
    names = [k and k.get('model_name') for k in kids]
    if len(kids) != 3 or names[0] != 'HTMLModel' or names[1] not in ('FloatProgressModel', 'IntProgressModel'):
        return None
    left, bar, right = (html.unescape(str(k['state'].get('value', ''))).replace('\u2007', ' ').strip() for k in kids)
    right = TQDM_TIMES.sub('', right)
    return ' '.join(p for p in (left, right) if p) + '\n'


def _merge_streams(outputs):
    out = []
    for o in outputs:
        if o.get('output_type') == 'stream' and out and out[-1].get('output_type') == 'stream' \
                and out[-1].get('name') == o.get('name'):
            out[-1]['text'] = _text(out[-1]['text']) + _text(o['text'])
        else: out.append(o)
    for o in out:
        if o.get('output_type') == 'stream': o['text'] = terminal_text(_text(o['text']))
    return [o for o in out if o.get('output_type') != 'stream' or o['text'].strip()]  # not a bar's lone newlines


def _tame_widgets(nb, name):
    "Progress bars to text, unsaved views to their text; keep only the shown widgets' state, ids in order."
    models = widget_models(nb)
    shown = []  # widget ids the outputs show, in order
    for c in nb.cells:
        outs = []
        for o in c.get('outputs', []):
            view = o.get('data', {}).get(WIDGET_VIEW)
            if view is None:
                outs.append(o)
                continue
            mid = view.get('model_id')
            bar = progress_text(mid, models)
            if bar is not None: outs.append(from_dict({'output_type': 'stream', 'name': 'stderr', 'text': bar}))
            elif mid in models:
                shown.append(mid)
                outs.append(o)
            else:  # the widget's state was not saved: a code host could only show its text (not a bar's first 0%)
                o['data'].pop(WIDGET_VIEW)
                if TQDM_BAR.search(_text(o['data'].get('text/plain'))): continue
                if any(k for k in o['data'] if k != 'text/plain' or _text(o['data'][k]).strip()): outs.append(o)
        if 'outputs' in c: c['outputs'] = _merge_streams(outs)
    if not shown:
        nb.metadata.pop('widgets', None)
        return
    keep, todo = [], list(shown)  # every model the shown ones refer to, depth first, in order
    while todo:
        mid = todo.pop(0)
        if mid in keep or mid not in models: continue
        keep.append(mid)
        todo[:0] = MODEL_REF.findall(json.dumps(models[mid]['state'], sort_keys=True))
    new_id = {m: hashlib.md5(f'{name}:{i}'.encode()).hexdigest() for i, m in enumerate(keep)}
    def rename(s): return MODEL_REF.sub(lambda mo: 'IPY_MODEL_' + new_id.get(mo.group(1), mo.group(1)), s)
    state = from_dict({new_id[m]: json.loads(rename(json.dumps(models[m]))) for m in keep})
    nb.metadata['widgets'][WIDGET_STATE]['state'] = state
    for c in nb.cells:
        for o in c.get('outputs', []):
            view = o.get('data', {}).get(WIDGET_VIEW)
            if view: view['model_id'] = new_id.get(view['model_id'], view['model_id'])


def _masked(x):
    if isinstance(x, str): return volatile_key(x)
    if isinstance(x, list): return [_masked(v) for v in x]
    if isinstance(x, dict): return {k: _masked(v) for k, v in x.items()}
    return x


def _lines_once(text):
    "The distinct lines of `text`, sorted: a poll logged twice or three times, a log line a poll overtook, read the same."
    return sorted(set(text.split('\n')))


def _key(outputs):
    """A cell's outputs as one string, volatile details masked (in each text, before JSON escapes its newlines);
    stdout and stderr each as one text, since how the two interleave depends on timing."""
    streams, rest = {}, []
    for o in outputs:
        if o.get('output_type') == 'stream':
            streams[o.get('name')] = streams.get(o.get('name'), '') + _text(o.get('text'))
        else: rest.append(o)
    streams = {k: _lines_once(volatile_key(v)) for k, v in streams.items()}
    return json.dumps([streams, _masked(rest)], sort_keys=True, ensure_ascii=False)


def tame(nb, old=None, name='nb'):
    """Make executed `nb` stable (in place): see the module's docstring. `old`: the committed notebook, whose
    outputs stay where the new ones differ from them only in volatile details."""
    _tame_widgets(nb, Path(name).stem)
    if old is None: return nb
    old_cells = {c.get('id'): c for c in old.cells if c.get('cell_type') == 'code'}
    for c in nb.cells:
        o = old_cells.get(c.get('id'))
        if c.get('cell_type') != 'code' or o is None or o.get('source') != c.get('source'): continue
        if o.get('outputs') and _key(o['outputs']) == _key(c.get('outputs', [])):
            c['outputs'] = copy.deepcopy(o['outputs'])
    w_old, w_new = old.metadata.get('widgets'), nb.metadata.get('widgets')
    if w_old and w_new and _masked(w_old) == _masked(w_new): nb.metadata['widgets'] = copy.deepcopy(w_old)
    return nb


def has_chart(cell): return any(k.startswith('image/') for o in cell.get('outputs', []) for k in o.get('data', {}))


def coverage(executed, committed):
    """Counts for one notebook: code cells with a result when run, those of them with outputs in `committed`,
    charts when run and charts committed (cells with an image output). Cells are matched by id."""
    com = {c.get('id'): c for c in committed.cells if c.get('cell_type') == 'code'}
    res = [c for c in executed.cells if c.get('cell_type') == 'code' and c.get('outputs')]
    kept = [c for c in res if com.get(c.get('id'), {}).get('outputs')]
    charts = [c for c in res if has_chart(c)]
    return dict(results=len(res), committed=len(kept), charts=len(charts),
                charts_committed=sum(has_chart(com.get(c.get('id'), {})) for c in charts))


def coverage_table(rows):
    "Markdown table of `rows` (name, coverage dict) and a total row; returns (text, totals)."
    tot = {k: sum(r[k] for _, r in rows) for k in ('results', 'committed', 'charts', 'charts_committed')}
    lines = ['| notebook | cells with a result | committed with outputs | charts | charts committed |',
             '|---|---:|---:|---:|---:|']
    for name, r in rows + [('total', tot)]:
        pct = f" ({100 * r['committed'] / r['results']:.0f}%)" if r['results'] else ''
        lines.append(f"| {name} | {r['results']} | {r['committed']}{pct} | {r['charts']} | {r['charts_committed']} |")
    return '\n'.join(lines), tot


def main(argv=None):
    "Committed side only: code cells, cells with outputs, charts, per notebook and in total."
    import nbformat
    names = (argv if argv is not None else sys.argv[1:]) or sorted(str(p) for p in (REPO/'nbs').glob('*.ipynb'))
    rows = []
    for n in names:
        nb = nbformat.read(n, as_version=4)
        code = [c for c in nb.cells if c.cell_type == 'code' and c.source.strip()]
        rows.append((Path(n).name, len(code), sum(bool(c.get('outputs')) for c in code), sum(map(has_chart, code))))
    print('| notebook | code cells | with outputs | charts |\n|---|---:|---:|---:|')
    for r in rows + [('total', *(sum(x[i] for x in rows) for i in (1, 2, 3)))]: print('| %s | %d | %d | %d |' % r)


if __name__ == '__main__': main()
