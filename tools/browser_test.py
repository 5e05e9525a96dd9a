#!/usr/bin/env python3
"""Use the workbook and the server the way people do, in a real browser (Chromium driven by Playwright).

1. JupyterLab: start `jupyter lab` (our `tools/jupyter_server_config.py`, a random free port, a token) on a temp
   copy of the playground notebook, open it, Run All, wait for the ipywidgets playground, type a prompt, click
   Generate and read the answer; then save (Ctrl+S) and check that the saved file is as `nbdev_clean` leaves it.
2. The server's page: build a tiny checkpoint, start `uvicorn radon.api:app` on it, open `/`, type a message,
   send it and read the streamed reply. Skipped, saying so, only while `GET /` answers 404 (no page yet).

Screenshots go to a temp folder (or --shots DIR); their paths are printed. This installs nothing: it needs
Debian's Chromium (`apt-get install -y chromium`, at /usr/bin/chromium or $CHROMIUM) and the PyPI package
`playwright` pinned in requirements.txt. Never `playwright install`: its browser download is not reachable here.

    python tools/browser_test.py                  # both parts
    python tools/browser_test.py --part lab       # JupyterLab only ('page' for the server's page only)
"""
import argparse, json, os, re, shutil, signal, socket, subprocess, sys, tempfile, time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# --- what the test looks for: change these when the playground or the page moves ---------------------------
PLAYGROUND_NOTEBOOK = 'nbs/08_engine.ipynb'  # the notebook whose Run All shows `playground(engine)`
PLAYGROUND_PROMPT_LABEL = 'prompt'       # ipywidgets Textarea descriptions in the playground
PLAYGROUND_ANSWER_LABEL = 'answer'
PLAYGROUND_BUTTON = 'Generate'           # the button's text
PLAYGROUND_MAX_TOKENS = ('max tokens', 16)  # a slider (its description) set to a short answer first; None: leave it
PLAYGROUND_STATUS = r'(length|eos_token|stop_sequence): \d+ tokens'  # the status label once an answer is done
PROMPT = 'Однажды утром'
PAGE_PROMPT, PAGE_SEND, PAGE_ANSWER = '#prompt', '#send', '#answer'  # the server's chat page at `/`
SERVER_APP = 'radon.api:app'            # what `uvicorn` serves for part 2
CHROMIUM = os.environ.get('CHROMIUM', '/usr/bin/chromium')
RUN_ALL_TIMEOUT = 300  # seconds for the notebook's Run All
ANSWER_TIMEOUT = 60    # seconds for an answer to finish


class Skip(Exception): "A part that cannot run yet, with the reason."


def need_browser():
    "Playwright's sync API and the Chromium executable, or exit 2 saying exactly what to install."
    missing = []
    try: from playwright.sync_api import sync_playwright
    except ImportError:
        pin = next((l.strip() for l in (REPO/'requirements.txt').read_text().splitlines() if l.startswith('playwright==')),
                   'playwright')
        missing.append(f"the Python package: pip install {pin}  (never `playwright install`)")
        sync_playwright = None
    if not (Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK)):
        missing.append(f"Chromium at {CHROMIUM}: apt-get update && apt-get install -y chromium  (or set CHROMIUM=...)")
    if missing:
        print('browser_test: cannot run, install\n  ' + '\n  '.join(missing), file=sys.stderr)
        sys.exit(2)
    return sync_playwright


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def wait_http(url, proc, timeout, ok=(200,), what='server'):
    "Poll `url` until it answers one of `ok`; raise with the process's output if it exits or takes too long."
    import requests
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if proc.poll() is not None: raise RuntimeError(f'the {what} exited with {proc.returncode}: {tail(proc)}')
        try:
            if requests.get(url, timeout=5).status_code in ok: return
        except requests.ConnectionError: pass
        time.sleep(0.3)
    raise TimeoutError(f'the {what} did not answer {url} within {timeout} s: {tail(proc)}')


def tail(proc, n=30):
    log = getattr(proc, 'log_path', None)
    if not log or not Path(log).exists(): return ''
    return '\n' + '\n'.join(Path(log).read_text(errors='replace').splitlines()[-n:])


def start(args, env, cwd, log_path):
    "A child process in its own session, output to `log_path` (a full pipe would block it)."
    f = open(log_path, 'w')
    p = subprocess.Popen(args, env=env, cwd=cwd, stdout=f, stderr=subprocess.STDOUT, start_new_session=True)
    p.log_path = log_path
    return p


def stop(proc, timeout=20):
    "SIGTERM the child's whole process group (kernels and servers it started), then SIGKILL if it lingers."
    if proc is None or proc.poll() is not None: return
    try: os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError: return
    try: proc.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def learner_env(tmp):
    "The environment a learner's JupyterLab has: no IN_TEST, no tokens, private Jupyter and HF folders."
    env = {k: v for k, v in os.environ.items()
           if k not in ('IN_TEST', 'HF_TOKEN', 'HUGGING_FACE_HUB_TOKEN', 'VK_TOKEN', 'RADON_API_KEY')}
    for k, sub in [('HF_HOME', 'hf'), ('JUPYTER_CONFIG_DIR', 'jupyter-config'), ('JUPYTER_DATA_DIR', 'jupyter-data'),
                   ('JUPYTER_RUNTIME_DIR', 'jupyter-runtime'), ('IPYTHONDIR', 'ipython')]:
        env[k] = str(tmp/sub)
        (tmp/sub).mkdir(parents=True, exist_ok=True)
    return env


def lab_workspace(tmp, notebook):
    "A folder laid out like the repo (settings.ini, nbs/<the notebook>, data and configs), so nothing in git changes."
    ws = tmp/'workbook'
    (ws/'nbs').mkdir(parents=True)
    shutil.copy2(REPO/'settings.ini', ws/'settings.ini')
    for d in ('data', 'configs'):
        if (REPO/d).exists(): (ws/d).symlink_to(REPO/d)
    dest = ws/'nbs'/Path(notebook).name
    shutil.copy2(REPO/notebook, dest)
    # Every cell in the page (not only those in view), and no news prompt, whatever JupyterLab's defaults are.
    us = tmp/'lab-settings'
    (us/'@jupyterlab'/'notebook-extension').mkdir(parents=True)
    (us/'@jupyterlab'/'notebook-extension'/'tracker.jupyterlab-settings').write_text(json.dumps({'windowingMode': 'none'}))
    (us/'@jupyterlab'/'apputils-extension').mkdir(parents=True)
    (us/'@jupyterlab'/'apputils-extension'/'notification.jupyterlab-settings').write_text(
        json.dumps({'fetchNews': 'false', 'checkForUpdates': False}))
    return ws, dest, us


def wait_kernel(page, timeout=120):
    "Accept JupyterLab's 'Select Kernel' dialog if it asks (as a learner clicks Select), then wait for an idle kernel."
    t0 = time.monotonic()
    idle = page.locator('.jp-StatusBar-Widget', has_text=re.compile(r'\|\s*Idle'))
    while time.monotonic() - t0 < timeout:
        dialog = page.locator('.jp-Dialog', has_text='Select Kernel')
        if dialog.count(): dialog.locator('button', has_text=re.compile(r'^Select$')).click()
        if idle.count(): return
        page.wait_for_timeout(500)
    raise TimeoutError(f'the kernel was not idle within {timeout} s')


def cell_states(page):
    "For every code cell with source: its prompt ('[3]:', '[*]:', '[ ]:') and first line."
    return page.evaluate("""() => [...document.querySelectorAll('.jp-Notebook .jp-CodeCell')].map(c => ({
        prompt: (c.querySelector('.jp-InputPrompt')?.textContent || '').trim(),
        src: (c.querySelector('.cm-content')?.innerText || '').trim(),
        out: (c.querySelector('.jp-OutputArea')?.innerText || '').trim().slice(-1500)})).filter(c => c.src)""")


def run_all(page, timeout):
    "Run > Run All Cells, then wait until no cell is queued or running; raise naming the cell that failed."
    page.locator('.lm-MenuBar-itemLabel', has_text=re.compile(r'^Run$')).click()
    page.locator('li.lm-Menu-item[data-command="runmenu:run-all"]').click()  # Run All Cells
    t0, states = time.monotonic(), []
    page.wait_for_timeout(1000)
    while time.monotonic() - t0 < timeout:
        states = cell_states(page)
        if states and not any(s['prompt'] == '[*]:' for s in states): break
        page.wait_for_timeout(1000)
    else:
        running = next((s for s in states if s['prompt'] == '[*]:'), None)
        raise TimeoutError(f"Run All did not finish in {timeout} s; still running: {running and running['src'][:80]!r}")
    not_run = [i for i, s in enumerate(states) if not re.match(r'\[\d+\]:', s['prompt'])]
    if not_run:  # Run All stops at the first error: the cell before the first one not run failed
        bad = states[not_run[0] - 1] if not_run[0] else states[0]
        raise RuntimeError(f"Run All stopped at the cell {bad['src'].splitlines()[0][:80]!r}:\n{bad['out']}")
    return len(states)


def check_saved_clean(path):
    "The notebook JupyterLab saved: it has outputs, and nbdev_clean (project settings) would not change a byte."
    sys.path.insert(0, str(REPO/'tools'))
    from run_notebooks import clean_notebook
    text = path.read_text(encoding='utf-8')
    nb = json.loads(text)
    if not any(c.get('outputs') for c in nb['cells']): raise AssertionError(f'{path}: saved without any output')
    clean_notebook(nb, path)
    again = json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False) + '\n'  # what nbdev_clean writes
    if again != text:
        raise AssertionError(f'{path}: JupyterLab saved a notebook that nbdev_clean would change (the pre-save hook in '
                             f'tools/jupyter_server_config.py did not run): make test would fail after a save')


def test_lab(pw, shots, tmp, log, notebook=PLAYGROUND_NOTEBOOK):
    "Part 1: the playground notebook in JupyterLab."
    env = learner_env(tmp)
    ws, nb_path, settings = lab_workspace(tmp, notebook)
    port, token = free_port(), os.urandom(16).hex()
    args = [sys.executable, '-m', 'jupyterlab', '--no-browser', f'--port={port}', '--ip=127.0.0.1',
            f'--IdentityProvider.token={token}', f'--notebook-dir={ws/"nbs"}',
            f'--config={REPO/"tools"/"jupyter_server_config.py"}', f'--LabApp.user_settings_dir={settings}',
            f'--LabApp.workspaces_dir={tmp/"lab-workspaces"}']
    lab = start(args, env, ws, tmp/'jupyterlab.log')
    try:
        base = f'http://127.0.0.1:{port}'
        wait_http(f'{base}/api/status?token={token}', lab, 120, what='JupyterLab')
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=['--no-sandbox', '--disable-dev-shm-usage'])
        page = browser.new_page(viewport={'width': 1400, 'height': 1000})
        page.goto(f'{base}/lab/tree/{nb_path.name}?token={token}', timeout=120_000)
        page.wait_for_selector('.jp-NotebookPanel .jp-Notebook .jp-Cell', timeout=120_000)
        wait_kernel(page)
        log(f'JupyterLab {base} opened {nb_path.name}; Run All ...')
        try: lab_steps(page, nb_path, shots, log)
        except Exception:
            page.screenshot(path=str(shots/'lab-failure.png'))
            raise
        browser.close()
    finally: stop(lab)


def lab_steps(page, nb_path, shots, log):
    "Run All, use the playground, save: the steps of part 1 once the notebook is open."
    t0 = time.monotonic()
    n = run_all(page, RUN_ALL_TIMEOUT)
    log(f'Run All: {n} code cells ran in {time.monotonic() - t0:.0f} s')
    text, status = use_playground(page, shots)
    log(f"playground: prompt {PROMPT!r} -> answer {text[:80]!r} ({status})")
    before = nb_path.stat().st_mtime_ns
    page.locator('.jp-Notebook').first.click(position={'x': 5, 'y': 5})
    page.keyboard.press('Control+s')
    t0 = time.monotonic()
    while nb_path.stat().st_mtime_ns == before and time.monotonic() - t0 < 30: time.sleep(0.2)
    if nb_path.stat().st_mtime_ns == before: raise AssertionError('Ctrl+S did not save the notebook in 30 s')
    time.sleep(0.5)  # let the write finish
    check_saved_clean(nb_path)
    page.screenshot(path=str(shots/'lab-notebook.png'))
    log('saved from JupyterLab: outputs kept, nbdev_clean would change nothing')


def use_playground(page, shots):
    "Type the prompt into the (last) playground, click its button, wait for its status; the answer and status."
    def textarea(label):
        box = page.locator('.widget-textarea', has=page.locator('.widget-label', has_text=re.compile(f'^{label}$')))
        return box.last.locator('textarea')
    prompt, answer = textarea(PLAYGROUND_PROMPT_LABEL), textarea(PLAYGROUND_ANSWER_LABEL)
    try: prompt.wait_for(timeout=30_000)
    except Exception: raise AssertionError(f'no playground (a {PLAYGROUND_PROMPT_LABEL!r} text box) after Run All') from None
    panel = page.locator('.widget-vbox', has=prompt).last
    panel.scroll_into_view_if_needed()
    labels = panel.locator('.widget-label')
    def status(): return labels.last.inner_text().strip() if labels.count() else ''
    old = status()
    prompt.fill(PROMPT)
    if PLAYGROUND_MAX_TOKENS:  # type into the slider's readout, as a reader can
        name, value = PLAYGROUND_MAX_TOKENS
        slider = panel.locator('.widget-slider', has=page.locator('.widget-label', has_text=re.compile(f'^{name}$')))
        readout = slider.first.locator('.widget-readout')
        readout.click()
        page.keyboard.press('Control+a')
        page.keyboard.type(str(value))
        page.keyboard.press('Enter')
        page.wait_for_timeout(300)
        if readout.inner_text().strip() != str(value):
            raise AssertionError(f'could not set the {name!r} slider to {value} (it shows {readout.inner_text()!r})')
    panel.locator('button', has_text=PLAYGROUND_BUTTON).first.click()
    t0, moved, now = time.monotonic(), False, old
    while time.monotonic() - t0 < ANSWER_TIMEOUT:  # until the status leaves 'generating...' for a final word
        now = status()
        moved = moved or now != old
        if moved and now and not now.endswith('...'): break
        page.wait_for_timeout(200)
    panel.screenshot(path=str(shots/'lab-playground.png'))
    text = answer.input_value()
    if not re.search(PLAYGROUND_STATUS, now):
        raise AssertionError(f'the playground did not answer: its status says {now!r} (answer box: {text[:80]!r})')
    if not text.strip(): raise AssertionError(f'the playground finished ({now!r}) but its answer box is empty')
    return text, now


def tiny_model(out):
    "A tiny random checkpoint (with its tokenizer) to serve: wherever the workbook's builder lives now."
    try: from radon.testing import tiny_checkpoint
    except ImportError: from radon.export import tiny_checkpoint
    return tiny_checkpoint(out, 'gpt2')


def test_page(pw, shots, tmp, log, app=SERVER_APP):
    "Part 2: the server's own page at `/`: type, send, read the streamed reply."
    import requests
    model = tiny_model(tmp/'radon-tiny')
    env = {**learner_env(tmp), 'RADON_MODEL': str(model), 'PYTHONPATH': os.environ.get('PYTHONPATH', '')}
    port = free_port()
    srv = start([sys.executable, '-m', 'uvicorn', app, '--host', '127.0.0.1', '--port', str(port)],
                env, REPO, tmp/'server.log')
    try:
        base = f'http://127.0.0.1:{port}'
        wait_http(f'{base}/health', srv, 120, what='server')
        r = requests.get(f'{base}/', timeout=10)
        if r.status_code == 404: raise Skip(f'GET {base}/ answers 404: the server has no page at / yet')
        r.raise_for_status()
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=['--no-sandbox', '--disable-dev-shm-usage'])
        page = browser.new_page(viewport={'width': 1200, 'height': 900})
        page.goto(f'{base}/', timeout=60_000)
        page.fill(PAGE_PROMPT, PROMPT)
        page.click(PAGE_SEND)
        answer = page.locator(PAGE_ANSWER)
        t0, last, since = time.monotonic(), None, time.monotonic()
        seen = []  # the reply's length as it grows: streamed, not all at once
        while time.monotonic() - t0 < ANSWER_TIMEOUT:
            now = answer.inner_text()
            if now != last: last, since = now, time.monotonic(); seen.append(len(now))
            elif now.strip() and time.monotonic() - since > 2: break
            page.wait_for_timeout(100)
        page.screenshot(path=str(shots/'server-page.png'))
        if not (last or '').strip(): raise AssertionError(f'{PAGE_ANSWER} stayed empty for {ANSWER_TIMEOUT} s after {PAGE_SEND}')
        log(f"server page: {PROMPT!r} -> {last[:80]!r} (grew in {len([s for s in seen if s])} steps)")
        browser.close()
    finally: stop(srv)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--part', choices=['lab', 'page', 'all'], default='all')
    ap.add_argument('--notebook', default=PLAYGROUND_NOTEBOOK, help=f'the playground notebook ({PLAYGROUND_NOTEBOOK})')
    ap.add_argument('--app', default=SERVER_APP, help=f'the ASGI app part 2 serves ({SERVER_APP})')
    ap.add_argument('--shots', help='folder for the screenshots (default: a new temp folder, kept)')
    a = ap.parse_args(argv)
    sync_playwright = need_browser()
    shots = Path(a.shots) if a.shots else Path(tempfile.mkdtemp(prefix='radon-browser-'))
    shots.mkdir(parents=True, exist_ok=True)
    def log(msg): print(f'browser_test: {msg}', flush=True)
    parts = {'lab': lambda *x: test_lab(*x, notebook=a.notebook), 'page': lambda *x: test_page(*x, app=a.app)}
    todo = list(parts) if a.part == 'all' else [a.part]
    passed, failed, skipped = 0, 0, 0
    with sync_playwright() as pw:
        for name in todo:
            tmp = Path(tempfile.mkdtemp(prefix=f'radon-{name}-'))
            try:
                parts[name](pw, shots, tmp, log)
                passed += 1
                shutil.rmtree(tmp, ignore_errors=True)
            except Skip as e:
                skipped += 1
                log(f'SKIPPED {name}: {e}')
                shutil.rmtree(tmp, ignore_errors=True)
            except Exception as e:
                failed += 1
                log(f'FAILED {name}: {type(e).__name__}: {e}\n  (logs and files kept in {tmp})')
    for p in sorted(shots.glob('*.png')): log(f'screenshot {p}')
    print(f'{passed} passed, {failed} failed' + (f', {skipped} skipped' if skipped else ''))
    return 1 if failed else 0


if __name__ == '__main__': sys.exit(main())
