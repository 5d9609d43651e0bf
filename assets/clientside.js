// Client-side callbacks (Dash ClientsideFunction namespace "ssvae").
window.dash_clientside = Object.assign({}, window.dash_clientside, {
    ssvae: {
        // The outcome of a command: copy its version counters (which wakes the render
        // callbacks) and show its message; errors stay until dismissed.
        showResult: function (result) {
            const nu = window.dash_clientside.no_update;
            if (!result) { return [nu, nu, nu, nu, nu]; }
            const versions = result.versions || nu;
            if (!result.message) { return [versions, nu, nu, nu, nu]; }
            if (result.warning) { return [versions, result.message, "warning", true, null]; }
            if (result.ok) { return [versions, result.message, "success", true, 3500]; }
            return [versions, result.message, "danger", true, null];
        },
        // Map hover: [point for the server, tooltip show, tooltip bbox]. The server is asked
        // only for a Serial whose current card the tooltip does not hold ("hover-shown": the
        // Serial and the labels/predictions versions it was drawn at); until its answer the
        // tooltip stays hidden.
        hover: function (hoverData, shown, versions) {
            const nu = window.dash_clientside.no_update;
            const points = hoverData && hoverData.points;
            const p = points && points.length ? points[0] : null;
            if (!p || p.curveNumber !== 0) { return [nu, false, nu]; }
            const serial = p.pointIndex !== undefined ? p.pointIndex : p.pointNumber;
            const v = versions || {};
            const fresh = shown && shown.serial === serial && shown.v &&
                shown.v[0] === v.labels && shown.v[1] === v.predictions;
            if (fresh) { return [nu, true, p.bbox || nu]; }
            return [{serial: serial, bbox: p.bbox || null, ts: Date.now()}, false, nu];
        },
        toggleHelp: function (n, isOpen) { return !isOpen; }
    }
});
