// Keyboard-first labeling: one keydown listener (no polling) that turns keys into events for
// the server, through the "key-event" store. Thumbnail clicks in the queue go through
// "ui-event". Keys are ignored while the user types in an input, select or text area.
(function () {
    // Light/dark theme: follow the system until the user picks one with the ◐ button.
    const root = document.documentElement;
    const stored = window.localStorage ? localStorage.getItem("ssvae-theme") : null;
    const dark = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
    root.setAttribute("data-bs-theme", stored || (dark ? "dark" : "light"));
    document.addEventListener("click", function (e) {
        if (!e.target.closest || !e.target.closest("#theme-btn")) { return; }
        const next = root.getAttribute("data-bs-theme") === "dark" ? "light" : "dark";
        root.setAttribute("data-bs-theme", next);
        try { localStorage.setItem("ssvae-theme", next); } catch (err) { /* private mode */ }
    });

    function send(id, data) {
        if (window.dash_clientside && window.dash_clientside.set_props) {
            window.dash_clientside.set_props(id, {data: Object.assign({ts: Date.now()}, data)});
        }
    }

    function typing(target) {
        if (!target) { return false; }
        const tag = (target.tagName || "").toUpperCase();
        return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || target.isContentEditable;
    }

    // The letters that label a class on this page (dashboard/keys.py puts them on the class
    // buttons' container); digits are always sent, so a digit without a class is explained.
    function classLetter(k) {
        if (!/^[a-zA-Z]$/.test(k)) { return false; }
        const el = document.getElementById("label-buttons");
        return !!el && (el.getAttribute("data-keys") || "").indexOf(k) >= 0;
    }

    function keyName(e) {
        const mod = e.ctrlKey || e.metaKey;
        const k = e.key;
        if (mod && !e.altKey && (k === "z" || k === "Z")) { return e.shiftKey ? "redo" : "undo"; }
        if (mod && !e.altKey && (k === "y" || k === "Y")) { return "redo"; }
        if (mod || e.altKey) { return null; }
        if (/^[0-9]$/.test(k)) { return k; }
        if (k === "s" || k === "S") { return "skip"; }
        // Caps Lock without Shift means the plain letter (Shift+letter is a class of its own)
        const letter = (/^[A-Z]$/.test(k) && !e.shiftKey && e.getModifierState &&
                        e.getModifierState("CapsLock")) ? k.toLowerCase() : k;
        if (classLetter(letter)) { return letter; }
        if (k === "Backspace" || k === "Delete") { return "remove"; }
        if (k === "ArrowRight" || k === "ArrowDown") { return "next"; }
        if (k === "ArrowLeft" || k === "ArrowUp") { return "prev"; }
        if (k === " " || k === "Spacebar") { return e.shiftKey ? "prev" : "next"; }
        return null;
    }

    document.addEventListener("keydown", function (e) {
        if (typing(e.target) || e.isComposing) { return; }
        if (document.querySelector(".modal.show")) { return; }
        const key = keyName(e);
        if (key === null) { return; }
        e.preventDefault();
        send("key-event", {key: key});
    });

    document.addEventListener("click", function (e) {
        const item = e.target.closest ? e.target.closest("#queue [data-serial]") : null;
        if (!item) { return; }
        send("ui-event", {type: "select", serial: Number(item.getAttribute("data-serial"))});
        item.blur();
    });
})();
