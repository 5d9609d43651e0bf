"""A headless page: drives the app's callbacks through Flask's test client as a browser would.

Used by the tests and by the benchmarks to measure what one action costs: the action callback,
then every render callback that listens to ``versions``, with the bytes each response carries
and the server time it took. It posts the same JSON the Dash renderer posts to
``/_dash-update-component``, so it can also post forged payloads.
"""
from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field



def split_callback_id(callback_id: str):
    """``"id.prop"`` → ``{"id", "property"}``; a multi-output id ``"..a.x...b.y.."`` → a list
    of them (the form of the keys of Dash's ``callback_map``)."""
    if callback_id.startswith(".."):
        return [split_callback_id(part) for part in callback_id[2:-2].split("...")]
    id_, prop = callback_id.rsplit(".", 1)
    return {"id": id_, "property": prop}


@dataclass
class Call:
    output: str
    status: int
    nbytes: int
    seconds: float
    response: dict | None

    def value(self, component_id, prop):
        if not self.response:
            return None
        return self.response.get("response", {}).get(_key(component_id), {}).get(prop)


@dataclass
class Action:
    calls: list[Call] = field(default_factory=list)

    @property
    def nbytes(self) -> int:
        return sum(c.nbytes for c in self.calls)

    @property
    def seconds(self) -> float:
        return sum(c.seconds for c in self.calls)

    @property
    def result(self) -> dict | None:
        for c in self.calls:
            for store in ("result", "update"):  # a command's outcome, or a background one's
                r = c.value(store, "data")
                if r is not None:
                    return r
        return None


def _key(component_id) -> str:
    if isinstance(component_id, dict):
        return json.dumps(component_id, sort_keys=True, separators=(",", ":"))
    return component_id


class HeadlessPage:
    """One browser tab's client-side stores, and the round trips a real tab would make."""

    RENDER_STORES = ("seen-map", "seen-queue", "seen-selected", "seen-stats", "seen-history",
                     "seen-batch", "seen-training", "seen-mixture", "seen-auto", "seen-models")

    def __init__(self, app):
        self.app = app
        self.client = app.server.test_client()
        self.deps = self.client.get("/_dash-dependencies").get_json()
        self.k = len(app.ssvae.state.class_names)
        # each page is one browser tab with its own session (selection, undo, redo)
        self.stores: dict[str, object] = {"versions": None, "shown-serial": None,
                                          "session-id": uuid.uuid4().hex}
        for s in self.RENDER_STORES:
            self.stores[s] = None

    # -- raw calls ------------------------------------------------------------------------
    def find(self, trigger: str, output_part: str | None = None) -> dict:
        for dep in self.deps:
            ids = [f"{_input_id(i)}.{i['property']}" for i in dep["inputs"]]
            if trigger in ids and (output_part is None or output_part in dep["output"]):
                return dep
        raise KeyError(f"no callback is triggered by {trigger}")

    def post(self, dep: dict, trigger: str, values: dict, states: dict | None = None,
             raw_body: dict | None = None) -> Call:
        """Post one callback request; ``values``/``states`` map 'id.prop' to the value sent."""
        states = states or {}
        body = raw_body or {
            "output": dep["output"],
            "outputs": self._outputs(dep["output"]),
            "inputs": [self._spec(i, values) for i in dep["inputs"]],
            "state": [self._spec(s, states) for s in dep.get("state", [])],
            "changedPropIds": [trigger],
        }
        t0 = time.perf_counter()
        resp = self.client.post("/_dash-update-component", json=body)
        dt = time.perf_counter() - t0
        data = resp.get_data()
        parsed = None
        if resp.status_code == 200 and data:
            parsed = json.loads(data)
        return Call(dep["output"], resp.status_code, len(data), dt, parsed)

    def _spec(self, item: dict, values: dict):
        cid = _input_id(item)
        if cid.startswith("{") and '["ALL"]' in cid:
            pattern = json.loads(cid)
            out = []
            for i in range(self.k):
                concrete = {**pattern, "index": i}
                out.append({"id": concrete, "property": item["property"],
                            "value": values.get(f"{_key(concrete)}.{item['property']}")})
            return out
        key = f"{cid}.{item['property']}"
        value = values.get(key, self.stores.get(cid) if item["property"] == "data" else None)
        return {"id": item["id"] if isinstance(item["id"], dict) else cid,
                "property": item["property"], "value": value}

    def _outputs(self, output: str):
        spec = split_callback_id(output)
        specs = spec if isinstance(spec, list) else [spec]
        out = []
        for s in specs:
            if s["id"].startswith("{"):
                pattern = json.loads(s["id"])
                out.append([{"id": {**pattern, "index": i}, "property": s["property"]}
                            for i in range(self.k)])
            else:
                out.append(s)
        return out if isinstance(spec, list) else out[0]

    # -- what a tab does -------------------------------------------------------------------
    def action(self, trigger: str, value, states: dict | None = None, output_part: str | None = None) -> Action:
        """Fire an action callback alone: its round trip, before any redraw that follows it."""
        dep = self.find(trigger, output_part)
        return Action([self.post(dep, trigger, {trigger: value}, self._states(dep, states))])

    def trigger(self, trigger: str, value, states: dict | None = None, output_part: str | None = None) -> Action:
        """Fire an action callback, then let the render callbacks catch up, like the page does."""
        action = self.action(trigger, value, states, output_part)
        result = action.result
        if isinstance(result, dict) and result.get("versions"):
            self.stores["versions"] = result["versions"]
            action.calls += self.render()
        return action

    def load(self) -> Action:
        """A page load: every render callback's initial call."""
        return Action(self.render())

    def tick(self) -> Action:
        dep = self.find("tick.n_intervals")
        call = self.post(dep, "tick.n_intervals", {"tick.n_intervals": 1}, self._states(dep))
        action = Action([call])
        r = action.result  # something to say, with the counters; else the counters alone
        versions = r.get("versions") if isinstance(r, dict) else call.value("versions", "data")
        if versions:
            self.stores["versions"] = versions
            action.calls += self.render()
        return action

    def training_tick(self) -> Call:
        """One poll of the training panel (its 1 s ``train-tick``), keeping what it stores."""
        dep = self.find("train-tick.n_intervals")
        call = self.post(dep, "train-tick.n_intervals", {"train-tick.n_intervals": 1}, self._states(dep))
        self._keep_stores(call)
        return call

    def render(self) -> list[Call]:
        calls = []
        for dep in self.deps:
            if "versions.data" not in [f"{_input_id(i)}.{i['property']}" for i in dep["inputs"]]:
                continue
            call = self.post(dep, "versions.data", {"versions.data": self.stores["versions"]},
                             self._states(dep))
            calls.append(call)
            self._keep_stores(call)
        return calls

    def _keep_stores(self, call: Call) -> None:
        """Remember the store values a response wrote, as the tab's stores would."""
        if call.response:
            for cid, props in call.response.get("response", {}).items():
                if cid in self.stores and "data" in props:
                    self.stores[cid] = props["data"]

    def _states(self, dep: dict, override: dict | None = None) -> dict:
        out = {}
        for s in dep.get("state", []):
            cid = _input_id(s)
            if s["property"] == "data" and cid in self.stores:
                out[f"{cid}.data"] = self.stores[cid]
        out.update(override or {})
        return out


def wait_until(predicate, timeout: float = 10.0, what: str = "condition", interval: float = 0.1):
    """Poll ``predicate`` until it returns something truthy, and return that (tests, benchmarks)."""
    end = time.time() + timeout
    while time.time() < end:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")


def _input_id(item) -> str:
    cid = item["id"]
    return _key(cid) if isinstance(cid, dict) else cid
