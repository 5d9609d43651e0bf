"""``ssvae models list|create|select|rename|delete|show``: the named models of a data set (no JAX).

Each model is a folder ``artifacts/workspace/<dataset>/models/<name>/`` with its own config,
checkpoint, predictions and run history; one is selected, and ``rank``, ``map``, ``train
--resume`` and the page use it. The labels are shared by all of them.
"""
from __future__ import annotations

import time

from ssvae.cli.common import add_data_args, config_from_args


def register(sub) -> None:
    p = sub.add_parser("models", help="list, create, select, rename, delete the models of a data set")
    msub = p.add_subparsers(dest="models_command", metavar="ACTION", required=True)

    def data_args(q):
        q.add_argument("--data-config", dest="config", default=None, metavar="YAML",
                       help="config whose data section names the data set (default: default)")
        add_data_args(q, labels=False)

    ls = msub.add_parser("list", help="the models, the selected one marked with *")
    data_args(ls)
    ls.set_defaults(func=run_list)

    cr = msub.add_parser("create", help="a new, untrained model with its own config")
    cr.add_argument("name", help="the model's name (letters, digits, '.', '_', '-')")
    cr.add_argument("--config", dest="model_config", default="default", metavar="YAML",
                    help="its config: default, mixture, another shipped name, or a YAML file "
                         "(its model, train and query sections) (default: default)")
    cr.add_argument("--select", action="store_true", help="select the new model")
    data_args(cr)
    cr.set_defaults(func=run_create)

    se = msub.add_parser("select", help="make a model the selected one (rank, map, the page use it)")
    se.add_argument("name")
    data_args(se)
    se.set_defaults(func=run_select)

    rn = msub.add_parser("rename", help="rename a model")
    rn.add_argument("name")
    rn.add_argument("new_name")
    data_args(rn)
    rn.set_defaults(func=run_rename)

    de = msub.add_parser("delete", help="delete a model and its files (not the labels)")
    de.add_argument("name")
    data_args(de)
    de.set_defaults(func=run_delete)

    sh = msub.add_parser("show", help="one model: folder, config, runs")
    sh.add_argument("name", nargs="?", default=None, help="(default: the selected model)")
    data_args(sh)
    sh.set_defaults(func=run_show)


def _registry(args):
    from ssvae.workspace import dataset_from_config, models

    ds = dataset_from_config(config_from_args(args))
    return models(ds.name)


def _acc(run: dict | None) -> str:
    acc = (run or {}).get("test_accuracy")
    return f"{acc:.1%}" if isinstance(acc, (int, float)) else "-"


def run_list(args) -> int:
    reg = _registry(args)
    rows = [reg.info(n) for n in reg.names()]
    print(f"models of data set '{reg.dataset_name}' ({reg.models_root}):")
    print(f"  {'name':<20} {'prior':<8} {'trained':<8} {'runs':>4}  {'test acc':>8}  status")
    for r in rows:
        mark = "*" if r["selected"] else " "
        status = "training" if r["training"] else (r["latest_run"] or {}).get("status", "")
        print(f"{mark} {r['name']:<20} {(r['prior'] or '(app)'):<8} "
              f"{'yes' if r['trained'] else 'no':<8} {r['runs']:>4}  {_acc(r['latest_run']):>8}  {status}")
    return 0


def run_create(args) -> int:
    from ssvae.config import load_config

    reg = _registry(args)
    cfg = load_config(args.model_config)
    folder = reg.create(args.name, cfg, source=str(args.model_config))
    print(f"created model '{args.name}' ({cfg.model.prior} prior) in {folder}")
    if args.select:
        reg.select(args.name)
        print(f"selected model '{args.name}'")
    return 0


def run_select(args) -> int:
    reg = _registry(args)
    reg.select(args.name)
    print(f"selected model '{args.name}' of data set '{reg.dataset_name}'")
    return 0


def run_rename(args) -> int:
    reg = _registry(args)
    reg.rename(args.name, args.new_name)
    print(f"renamed model '{args.name}' to '{args.new_name}'")
    return 0


def run_delete(args) -> int:
    reg = _registry(args)
    selected = reg.delete(args.name)
    print(f"deleted model '{args.name}'; the selected model is '{selected}' (labels untouched)")
    return 0


def run_show(args) -> int:
    reg = _registry(args)
    name = args.name or reg.selected()
    info = reg.info(name)
    print(f"model '{name}' of data set '{reg.dataset_name}'{' (selected)' if info['selected'] else ''}")
    print(f"  folder:  {info['folder']}")
    print(f"  config:  {info['config'] or 'none (trains with the config it is opened with)'}"
          f"{'; prior ' + info['prior'] if info['prior'] else ''}")
    print(f"  trained: {'yes' if info['trained'] else 'no'}"
          f"{' (training now)' if info['training'] else ''}")
    runs = reg.runs(name)
    print(f"  runs:    {len(runs)}")
    for r in runs[-10:]:
        when = r.get("finished_at")
        stamp = time.strftime("%Y-%m-%d %H:%M", time.localtime(when)) if isinstance(when, (int, float)) else "?"
        print(f"    {stamp}  {r.get('status', '?'):<13} {r.get('labels', '?')!s:>6} labels "
              f"{r.get('epochs', '?')!s:>4} epochs  test acc {_acc(r)}")
    return 0
