#!/usr/bin/env python3
"""Run the workbook's notebooks the way a learner does: Run All in a fresh Jupyter kernel.

`nbdev_test` runs notebooks in its own shell with `IN_TEST=1` and skips `#| eval: false` cells, so it cannot
see what breaks in JupyterLab: a running asyncio loop, the kernel's working directory (`nbs/`), full-size demo
work, cells that Jupyter runs although nbdev would skip them. This runs each notebook in a real `ipykernel`
through `nbclient` (the engine behind `jupyter nbconvert --execute`), in `nbs/`, with `IN_TEST` unset and no
Hugging Face token, every cell included, and fails on the first error, naming the notebook, the cell and the error.

    python tools/run_notebooks.py                    # every notebook in nbs/, 2 kernels at a time
    python tools/run_notebooks.py nbs/00_core.ipynb  # the ones named
    python tools/run_notebooks.py --write 00_core    # ... and save them executed, cleaned as nbdev_clean does
    python tools/run_notebooks.py --check-outputs    # ... and fail unless the committed files carry enough outputs

`--write` tames the outputs first (tools/nb_outputs.py: progress bars to text, widget state kept for the widgets
shown, the committed outputs kept where only temp paths, ports, timings, ... changed), so that a second `--write`
changes little. Every run ends with a table of the code cells that produce a result and how many of them carry
outputs in the committed notebook (charts counted apart), then the line `N passed, N failed`.

With more than one kernel at a time, the notebooks' last cell (`nbdev.nbdev_export()`, which rewrites every file
in `radon/`) is held back, so that no kernel imports a module while another kernel rewrites it; one such cell is
then run on its own in a fresh kernel once all notebooks have passed. `--jobs 1` runs every cell in place.
"""
import argparse, asyncio, copy, os, sys, tempfile, time, traceback
from pathlib import Path
from nb_outputs import coverage, coverage_table, tame

REPO = Path(__file__).resolve().parent.parent
EXPORT_CALL = 'nbdev_export' + '('  # the cell a notebook ends with (nbdev_test skips it too)
# Never hand a developer's credentials to notebooks run as a test: the deploy cells must take their offline path.
SECRET_ENV = ('IN_TEST', 'HF_TOKEN', 'HUGGING_FACE_HUB_TOKEN', 'VK_TOKEN', 'VK_SECRET', 'RADON_API_KEY')


def find_notebooks(names, nbs):
    "The notebooks named (paths, or names with or without `.ipynb`), or every notebook in `nbs` in course order."
    if not names: return sorted(p for p in nbs.glob('*.ipynb') if not p.name.startswith(('_', '.')))
    out = []
    for n in names:
        p = Path(n)
        cands = [p, nbs/p.name, nbs/f'{p.name}.ipynb']
        hit = next((c for c in cands if c.suffix == '.ipynb' and c.is_file()), None)
        if hit is None: sys.exit(f'run_notebooks: no notebook {n!r} (looked for {", ".join(map(str, cands))})')
        out.append(hit.resolve())
    return out


def kernel_env(hf_home):
    "The learner's environment: this Python's, less IN_TEST and tokens, with a fresh HF_HOME."
    env = {k: v for k, v in os.environ.items() if k not in SECRET_ENV}
    env['HF_HOME'] = str(hf_home)  # no stored `hf auth login` token; remote code cached per run
    env.setdefault('PYTHONUNBUFFERED', '1')
    env['MPLBACKEND'] = 'module://matplotlib_inline.backend_inline'  # what Jupyter uses, whatever the shell says
    return env


def clean_notebook(nb, path):
    "Clean `nb` in place exactly as `nbdev_clean` would with the project's settings.ini (outputs kept)."
    from nbdev.config import get_config
    from nbdev.clean import clean_nb
    cfg = get_config(path=path)
    clean_nb(nb, cfg.clear_all, cfg.get('allowed_metadata_keys', '').split(),
             cfg.get('allowed_cell_metadata_keys', '').split(), cfg.clean_ids)
    return nb


def cell_title(cell, idx):
    "`cell 12 (first line of its source)`, as a reader finds it in JupyterLab."
    first = next((l for l in cell.source.splitlines() if l.strip() and not l.startswith('#|')), '')
    return f'cell {idx} ({first[:60]!r})'


def error_text(cell):
    "The error outputs of `cell`, as a traceback without ANSI colours."
    import re
    for o in cell.get('outputs', []):
        if o.get('output_type') == 'error':
            tb = '\n'.join(o.get('traceback', [])) or f"{o.get('ename')}: {o.get('evalue')}"
            return re.sub(r'\x1b\[[0-9;]*m', '', tb)
    return ''


def kernel_log(path, n=20):
    "The last `n` lines the kernel process wrote to its own stdout/stderr."
    lines = Path(path).read_text(errors='replace').splitlines() if Path(path).exists() else []
    lines = [l for l in lines if 'running over TCP without encryption' not in l]
    return ('kernel output:\n' + '\n'.join(lines[-n:])) if lines else ''


def quiet_orphans(loop, ctx):
    "nbclient leaves a kernel-alive poll task behind when a kernel is stopped mid-cell: not worth a traceback."
    if 'never retrieved' in ctx.get('message', '') and '_async_poll_kernel_alive' in repr(ctx.get('future')): return
    loop.default_exception_handler(ctx)


class Result:
    def __init__(self, path):
        self.path, self.ok, self.secs, self.cells, self.error, self.held = path, False, 0., 0, '', 0
        self.coverage = None  # nb_outputs.coverage: results when run against the outputs committed


async def run_one(path, timeout, env, hold_export, write, cell_timeout, log_path):
    "Execute notebook `path` in a fresh kernel; return a Result (the error names the cell)."
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, DeadKernelError
    res = Result(path)
    nb = nbformat.read(path, as_version=4)
    committed = copy.deepcopy(nb)
    held = {}  # cell index -> source of the export cells held back (an empty cell is not run)
    if hold_export:
        for i, c in enumerate(nb.cells):
            if c.cell_type == 'code' and EXPORT_CALL in c.source:
                held[i] = c.source
                c.source = ''
    res.held = len(held)
    state = {'idx': None}
    def on_start(cell, cell_index, **kw): state['idx'] = cell_index
    client = NotebookClient(nb, timeout=cell_timeout, kernel_name='python3', allow_errors=False,
                            resources={'metadata': {'path': str(path.parent)}}, on_cell_start=on_start,
                            record_timing=False, store_widget_state=True)
    t0 = time.monotonic()
    with open(log_path, 'w') as log:  # the kernel process's own stdout/stderr (start-up noise, a crash's last words)
        task = asyncio.ensure_future(client.async_execute(env=env, cwd=str(path.parent), stdout=log, stderr=log))
        done, _ = await asyncio.wait({task}, timeout=timeout)
        i = state['idx']
        where = cell_title(nb.cells[i], i) if i is not None else 'kernel start-up'
        if not done:  # stop the kernel; whatever that raises, the verdict is the timeout
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            res.error = (f'ran past {timeout:.0f} s in {where}: a learner waits that long with Run All; '
                         f'size the demo down (or show progress)')
        elif task.exception() is None: res.ok = True
        else:
            e = task.exception()
            if isinstance(e, CellExecutionError):
                res.error = f'{where}: {e.ename}: {e.evalue}\n{error_text(nb.cells[i]) if i is not None else e}'
            elif isinstance(e, DeadKernelError):
                res.error = f'the kernel died in {where}: {e}\n{kernel_log(log_path)}'
            else:  # the kernel did not start, ...: say what, with the traceback
                tb = ''.join(traceback.format_exception(e))
                res.error = f'{where}: {type(e).__name__}: {e}\n{tb}\n{kernel_log(log_path)}'
    res.secs = time.monotonic() - t0
    res.cells = client.code_cells_executed
    if res.ok:
        for i, src in held.items(): nb.cells[i].source = src  # back, unexecuted (it prints nothing anyway)
        nb.metadata.pop('language_info', None)
        clean_notebook(nb, path)  # first, so that outputs compare with the committed (clean) ones
        tame(nb, committed, path.name)  # stable outputs; the committed ones where only volatile details changed
        clean_notebook(nb, path)
        if write:
            nbformat.write(nb, path)
            committed = nb
        res.coverage = coverage(nb, committed)
    return res


async def run_all(paths, jobs, timeout, env, write, cell_timeout, report, logs):
    asyncio.get_running_loop().set_exception_handler(quiet_orphans)
    sem = asyncio.Semaphore(jobs)
    async def one(p):
        async with sem:
            r = await run_one(p, timeout, env, jobs > 1, write, cell_timeout, Path(logs)/f'{p.stem}.kernel.log')
            report(r)
            return r
    return await asyncio.gather(*(one(p) for p in paths))


async def run_export_cell(nbs, env, timeout, log_path):
    "Run the held-back `nbdev.nbdev_export()` cell once, alone, in a fresh kernel in `nbs`."
    import nbformat
    from nbclient import NotebookClient
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell('import nbdev; nbdev.nbdev_export()')])
    nb.metadata['kernelspec'] = {'name': 'python3', 'display_name': 'python3', 'language': 'python'}
    client = NotebookClient(nb, timeout=timeout, kernel_name='python3', resources={'metadata': {'path': str(nbs)}})
    with open(log_path, 'w') as log:
        await asyncio.wait_for(client.async_execute(env=env, cwd=str(nbs), stdout=log, stderr=log), timeout)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('notebooks', nargs='*', help='notebooks to run (default: every notebook in nbs/)')
    ap.add_argument('--nbs', default=str(REPO/'nbs'), help='the notebook folder (the kernels run there)')
    ap.add_argument('--jobs', '-j', type=int, default=int(os.environ.get('RADON_NB_JOBS', 2)),
                    help='kernels at a time (default 2, or $RADON_NB_JOBS)')
    ap.add_argument('--timeout', type=float, default=300, help='seconds one notebook may take (default 300)')
    ap.add_argument('--write', action='store_true',
                    help='save each notebook that passed executed, outputs kept and tamed (tools/nb_outputs.py), '
                         'cleaned like nbdev_clean')
    ap.add_argument('--check-outputs', action='store_true',
                    help='also fail unless at least half the cells with a result, and every chart, carry their '
                         'outputs in the committed notebooks')
    a = ap.parse_args(argv)
    if a.jobs < 1: ap.error(f'--jobs {a.jobs}: give 1 or more')
    nbs = Path(a.nbs).resolve()
    paths = find_notebooks(a.notebooks, nbs)
    if not paths: sys.exit(f'run_notebooks: no notebooks in {nbs}')
    with tempfile.TemporaryDirectory(prefix='radon-learner-') as tmp:
        hf_home = Path(tmp)/'hf'
        env = kernel_env(hf_home)
        print(f'Running {len(paths)} notebook(s) as a learner does (fresh kernel, cwd {nbs}, IN_TEST unset), '
              f'{a.jobs} at a time, {a.timeout:.0f} s each', flush=True)
        def report(r):
            print(f"  {'ok  ' if r.ok else 'FAIL'} {r.path.name:<22} {r.secs:6.1f} s", flush=True)
        t0 = time.monotonic()
        results = asyncio.run(run_all(paths, a.jobs, a.timeout, env, a.write, a.timeout, report, tmp))
        export_err = None
        if all(r.ok for r in results) and any(r.held for r in results):
            try: asyncio.run(run_export_cell(nbs, env, a.timeout, Path(tmp)/'export.kernel.log'))
            except Exception as e: export_err = f'{type(e).__name__}: {e}'
        total = time.monotonic() - t0
    print(f"\n| notebook | result | seconds | code cells run |\n|---|---|---:|---:|")
    for r in results: print(f"| {r.path.name} | {'pass' if r.ok else 'FAIL'} | {r.secs:.1f} | {r.cells} |")
    rows = [(r.path.name, r.coverage) for r in results if r.coverage]
    table, tot = coverage_table(rows)
    print(f"\nOutputs {'written' if a.write else 'committed'} (code cells with a result when run, those carrying "
          f"outputs in the file; charts = cells with an image):\n{table}")
    short = []
    if a.check_outputs:
        if tot['committed'] * 2 < tot['results']:
            short.append(f"{tot['committed']} of {tot['results']} cells with a result carry outputs (less than half)")
        short += [f"{n}: {c['charts'] - c['charts_committed']} chart(s) not committed" for n, c in rows
                  if c['charts_committed'] < c['charts']]
    failed = [r for r in results if not r.ok]
    sys.stdout.flush()
    for r in failed: print(f'\n=== {r.path.name} failed: {r.error}', file=sys.stderr)
    if export_err: print(f"\n=== the notebooks' `nbdev.nbdev_export()` cell failed in {nbs}: {export_err}", file=sys.stderr)
    for s in short:
        print(f'\n=== outputs: {s}; run `make test-learner NB_ARGS=--write` and commit nbs/', file=sys.stderr)
    sys.stderr.flush()
    print(f'\nlearner run: {total:.0f} s, {a.jobs} kernel(s) at a time')
    print(f'{sum(r.ok for r in results)} passed, {len(failed)} failed')
    return 1 if failed or export_err or short else 0


if __name__ == '__main__': sys.exit(main())
