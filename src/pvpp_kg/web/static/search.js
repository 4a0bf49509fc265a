// Type-ahead for the header's search box: suggestions from /api/search/suggest, usable with the keyboard
// (ArrowDown/ArrowUp choose, Enter opens the chosen resource or, with none chosen, the results page; Escape closes). No library, no request off the server.
(function () {
  "use strict";
  const input = document.getElementById("site-search-q");
  const list = document.getElementById("site-search-list");
  if (!input || !list) return;
  const ui = document.documentElement.lang === "lv" ? "lv" : "en";
  let items = [];
  let active = -1;
  let timer = null;
  let asked = 0;

  function close() {
    list.hidden = true;
    list.replaceChildren();
    items = [];
    active = -1;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
  }

  function choose(i) {
    active = i;
    items.forEach((li, j) => li.setAttribute("aria-selected", j === i ? "true" : "false"));
    if (i >= 0) input.setAttribute("aria-activedescendant", items[i].id);
    else input.removeAttribute("aria-activedescendant");
  }

  function show(suggestions) {
    list.replaceChildren();
    items = suggestions.map((s, i) => {
      const li = document.createElement("li");
      li.id = "site-search-option-" + i;
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", "false");
      li.dataset.page = s.page;
      li.append(document.createTextNode(s.label + " "));
      const kind = document.createElement("small");
      kind.textContent = s.kind_label;
      li.append(kind);
      li.addEventListener("mousedown", (e) => { e.preventDefault(); window.location.href = s.page; });
      list.append(li);
      return li;
    });
    active = -1;
    list.hidden = items.length === 0;
    input.setAttribute("aria-expanded", items.length ? "true" : "false");
  }

  async function ask(text) {
    const mine = ++asked;
    try {
      const url = "/api/search/suggest?" + new URLSearchParams({ q: text, ui: ui, limit: "8" });
      const r = await fetch(url, { headers: { Accept: "application/json" } });
      if (!r.ok || mine !== asked) return;
      const body = await r.json();
      if (mine === asked && input.value.trim() === text) show(body.suggestions);
    } catch (e) {
      /* offline or aborted: no suggestions */
    }
  }

  input.addEventListener("input", () => {
    clearTimeout(timer);
    const text = input.value.trim();
    if (!text) { asked++; close(); return; }
    timer = setTimeout(() => ask(text), 80);
  });
  input.addEventListener("keydown", (e) => {
    if (e.key === "ArrowDown" && items.length) { e.preventDefault(); choose((active + 1) % items.length); }
    else if (e.key === "ArrowUp" && items.length) { e.preventDefault(); choose(active <= 0 ? items.length - 1 : active - 1); }
    else if (e.key === "Escape") {  // keep the typed text; a suggestion still on its way is not shown either
      clearTimeout(timer);
      asked++;
      if (!list.hidden) { e.preventDefault(); close(); }
    }
    else if (e.key === "Enter" && active >= 0) { e.preventDefault(); window.location.href = items[active].dataset.page; }
  });
  input.addEventListener("blur", () => setTimeout(close, 150));
})();
