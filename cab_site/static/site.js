// cab site: sortable tables (click a heading) and the leaderboard's category filter. No dependencies.
(function () {
  "use strict";
  function sortValue(cell, type) {
    var raw = cell.getAttribute("data-sort");
    if (raw === null) raw = cell.textContent.trim();
    if (type === "num") {
      var n = parseFloat(raw);
      return isNaN(n) ? -Infinity : n;
    }
    return raw.toLowerCase();
  }
  function sortBy(table, index, th) {
    var type = th.getAttribute("data-type") || "text";
    var dir = th.getAttribute("aria-sort") === "descending" ? 1 : -1;
    if (type === "text" && !th.hasAttribute("aria-sort")) dir = 1;
    table.querySelectorAll("th").forEach(function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", dir === 1 ? "ascending" : "descending");
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = sortValue(a.cells[index], type), y = sortValue(b.cells[index], type);
      return x < y ? -dir : x > y ? dir : 0;
    });
    rows.forEach(function (r) { body.appendChild(r); });
  }
  document.querySelectorAll("table.sortable").forEach(function (table) {
    table.querySelectorAll("thead th[data-type]").forEach(function (th, index) {
      th.tabIndex = 0;
      th.classList.add("sort");
      var go = function () { sortBy(table, Array.prototype.indexOf.call(th.parentNode.children, th), th); };
      th.addEventListener("click", go);
      th.addEventListener("keydown", function (e) { if (e.key === "Enter") go(); });
    });
  });
  var filter = document.getElementById("category-filter");
  if (filter) {
    filter.addEventListener("change", function () {
      document.querySelectorAll("table.board[data-category]").forEach(function (t) {
        t.hidden = t.getAttribute("data-category") !== filter.value;
      });
    });
  }
})();
