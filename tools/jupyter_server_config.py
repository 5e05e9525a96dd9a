# JupyterLab settings for the workbook: `make lab` and docker compose's `lab` service start JupyterLab with
# `--config tools/jupyter_server_config.py`; by hand: `jupyter lab --config tools/jupyter_server_config.py`.
#
# 1. Every notebook JupyterLab saves (by you or by autosave) is cleaned first exactly as `nbdev_clean` cleans it
#    with this project's settings.ini: outputs and widget state stay, execution counts, cell metadata, kernel
#    details and timings go. So a notebook you merely ran stays clean enough for `make test`'s check.
#    (nbdev's own hook, from `nbdev_install_hooks`, writes to ~/.jupyter and does the same; this one needs no
#    global install and does not leave a `.last_checked` file in nbs/.)
# 2. Root may run it: a container runs as root, and JupyterLab refuses root without `--allow-root`.
import os
from pathlib import Path


def radon_clean_before_save(model, path, contents_manager, **kwargs):
    "Pre-save hook: clean a notebook model as `nbdev_clean` would, if it lies in a project with a settings.ini."
    if model.get('type') != 'notebook' or model.get('content', {}).get('nbformat') != 4: return
    os_path = Path(contents_manager.root_dir) / path
    if not any((p / 'settings.ini').is_file() for p in os_path.parents): return  # not an nbdev project
    from nbdev.config import get_config
    from nbdev.clean import clean_nb
    get_config.cache_clear()  # settings.ini may have changed since the server started
    cfg = get_config(path=os_path.parent)
    clean_nb(model['content'], cfg.clear_all, cfg.get('allowed_metadata_keys', '').split(),
             cfg.get('allowed_cell_metadata_keys', '').split(), cfg.clean_ids)


c = get_config()  # noqa: F821 (jupyter provides get_config in config files)
c.ContentsManager.pre_save_hook = radon_clean_before_save
if hasattr(os, 'geteuid') and os.geteuid() == 0: c.ServerApp.allow_root = True
