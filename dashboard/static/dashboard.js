// Optional niceties; every action works without this file.
// 1. Regions marked data-live refresh every few seconds while nothing in them is being edited.
// 2. "Select all" toggles the row checkboxes of a list.
(function () {
  "use strict";
  var body = document.body;
  var seconds = parseInt(body.getAttribute("data-refresh") || "0", 10);

  function busy(region) {
    var active = document.activeElement;
    if (active && region.contains(active) && active !== document.body) return true;
    return region.querySelector("input[type=checkbox]:checked, textarea:not(:placeholder-shown)") !== null;
  }

  function refresh() {
    var regions = document.querySelectorAll("[data-live]");
    if (!regions.length || document.hidden) return;
    fetch(window.location.href, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (!html) return;
        var parsed = new DOMParser().parseFromString(html, "text/html");
        var fresh = parsed.querySelectorAll("[data-live]");
        if (!parsed.body.hasAttribute("data-refresh")) window.clearInterval(timer); // finished: nothing left to follow
        regions.forEach(function (region, index) {
          if (fresh[index] && !busy(region)) region.replaceWith(document.adoptNode(fresh[index]));
        });
      })
      .catch(function () { /* the next tick tries again */ });
  }

  var timer = seconds > 0 ? window.setInterval(refresh, seconds * 1000) : 0;

  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!box.matches || !box.matches("[data-select-all]")) return;
    var form = box.form;
    if (!form) return;
    form.querySelectorAll("input[type=checkbox][name=item_id]").forEach(function (item) { item.checked = box.checked; });
  });
})();
