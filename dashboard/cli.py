"""``ssvae dashboard``: open the labeling workspace in the browser (added to the ``ssvae``
command through the ``ssvae.commands`` entry point, so the library never imports the app)."""
from __future__ import annotations

from ssvae.cli.common import add_config_arg, add_data_args, add_workspace_arg, config_from_args
from ssvae.workspace import dataset_from_config, labels_path


def register(sub) -> None:
    p = sub.add_parser("dashboard", help="open the labeling page (http://127.0.0.1:8050)")
    add_config_arg(p)
    add_data_args(p)
    p.add_argument("--port", type=int, default=8050, help="port to listen on (default 8050)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default 127.0.0.1: only this machine can connect)")
    add_workspace_arg(p)  # the page's files go to <workspace>/artifacts/workspace/<dataset>/
    p.add_argument("--no-browser", action="store_true",
                   help="do not open a browser tab (one opens only where there is a display)")
    p.add_argument("--no-training", action="store_true",
                   help="do not start the training worker (label only; the map waits for a "
                        "predictions snapshot from elsewhere)")
    p.add_argument("--debug", action="store_true", help="Dash debug mode (reloader off)")
    p.set_defaults(func=run)


def run(args) -> int:
    from ssvae.errors import SSVAEError

    if not 0 < args.port < 65536:
        raise SSVAEError(f"--port {args.port} is not a port number (1–65535).")
    cfg = config_from_args(args)
    ds = dataset_from_config(cfg)
    from dashboard.app import workspace_for  # Dash only; never JAX
    from dashboard.worker.service import TrainingService

    import signal
    import sys

    # `kill` (SIGTERM) stops the app like Ctrl+C does: the worker is shut down in `finally`
    previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    worker = None
    if not args.no_training:
        ws = workspace_for(ds)
        worker = TrainingService(ws.root, cfg.model_dump(mode="json"))
    try:
        return serve(args, cfg, ds, worker)
    finally:
        signal.signal(signal.SIGTERM, previous)
        if worker is not None:
            print("stopping the training worker")
            worker.shutdown()


def serve(args, cfg, ds, worker) -> int:
    import sys

    from dashboard.app import allowed_hosts_for, create_app, exposure_warnings

    for warning in exposure_warnings(args.host, args.debug):
        print(f"ssvae dashboard: {warning}", file=sys.stderr)
    app = create_app(ds, labels_path(cfg, ds), queue_size=cfg.query.k,
                     strategy=cfg.query.strategy, diverse=cfg.query.diverse, worker=worker,
                     allowed_hosts=allowed_hosts_for(args.host))
    state = app.ssvae.state
    print(f"ssvae dashboard: {ds.name}, {ds.size} images, {len(state.labels)} labeled "
          f"({state.labels.path})")
    print(f"page files in {state.workspace.root}; model '{state.workspace.model}' in "
          f"{state.workspace.model_root}")
    if state.predictions is None:
        print("no map yet: " + ("the training worker draws the map of the images, then a first "
                                "model is training in the background" if worker else
                                "the map and the uncertainty queue appear after a training"))
    elif not state.has_model:
        print("the map of the images is ready: " + (
            "a first model is training in the background" if worker else
            "class predictions and the uncertainty queue appear after a training"))
    shown_host = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host
    url = f"http://{shown_host}:{args.port}/"
    print(f"open {url}  (Ctrl+C stops)")
    if not args.no_browser and can_open_browser():
        open_browser_later(url)
    if not args.debug:
        import logging

        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    app.run(host=args.host, port=args.port, debug=args.debug, use_reloader=False)
    return 0


def can_open_browser() -> bool:
    """A browser tab can open: a desktop OS, or Linux with a display (never on a bare server)."""
    import os
    import sys

    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def open_browser_later(url: str, delay: float = 1.0) -> None:
    import threading
    import webbrowser

    timer = threading.Timer(delay, webbrowser.open, args=(url,))
    timer.daemon = True
    timer.start()
