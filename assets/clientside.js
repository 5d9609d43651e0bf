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
            if (result.ok) { return [versions, result.message, "success", true, 3500]; }
            return [versions, result.message, "danger", true, null];
        },
        toggleHelp: function (n, isOpen) { return !isOpen; }
    }
});
