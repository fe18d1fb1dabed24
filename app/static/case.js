/* The case page, progressively enhanced: everything works without this script.
   - countdowns tick every second from the server-computed deadline (<time class="countdown" datetime=…>);
   - the amount of a proposal/ruling shows only for the remedies that take one;
   - the penalty rows beyond the first empty one fold behind an "add" button, and each row shows the
     number its kind needs. */
(function () {
  "use strict";

  function fill(fmt, v) {
    return fmt.replace(/\{(\w)\}/g, function (_, k) { return String(v[k]); });
  }

  function tick() {
    document.querySelectorAll("time.countdown[datetime]").forEach(function (el) {
      var left = Math.floor((Date.parse(el.getAttribute("datetime")) - Date.now()) / 1000);
      if (isNaN(left)) { return; }
      if (left <= 0) { el.textContent = el.dataset.overdue; el.classList.add("overdue"); return; }
      var v = { d: Math.floor(left / 86400), h: Math.floor(left % 86400 / 3600),
                m: Math.floor(left % 3600 / 60), s: left % 60 };
      el.textContent = fill(v.d ? el.dataset.fmtD : v.h ? el.dataset.fmtH : el.dataset.fmtM, v);
    });
  }

  function remedies() {
    document.querySelectorAll("form.action-form").forEach(function (form) {
      var select = form.querySelector("select[data-remedy]");
      var amount = form.querySelector("[data-amount-for]");
      if (!select || !amount) { return; }
      var takes = amount.dataset.amountFor.split(" ");
      function sync() {
        var on = takes.indexOf(select.value) >= 0;
        amount.hidden = !on;
        amount.querySelectorAll("input").forEach(function (i) { i.disabled = !on; });
      }
      select.addEventListener("change", sync);
      sync();
    });
  }

  function penalties() {
    document.querySelectorAll("fieldset.penalties").forEach(function (set) {
      var rows = Array.prototype.slice.call(set.querySelectorAll(".penalty-row"));
      function syncRow(row) {
        var kind = row.querySelector("select[data-penalty-kind]").value;
        row.querySelectorAll("[data-for-kind]").forEach(function (f) { f.hidden = f.dataset.forKind !== kind; });
      }
      rows.forEach(function (row) {
        row.querySelector("select[data-penalty-kind]").addEventListener("change", function () { syncRow(row); });
        syncRow(row);
      });
      var firstEmpty = true;
      rows.forEach(function (row) {
        var empty = !row.querySelector("select[data-penalty-kind]").value;
        if (empty && !firstEmpty) { row.hidden = true; }
        if (empty) { firstEmpty = false; }
      });
      var add = document.createElement("button");
      add.type = "button";
      add.className = "secondary small";
      add.textContent = set.dataset.addLabel;
      add.addEventListener("click", function () {
        var next = rows.filter(function (r) { return r.hidden; })[0];
        if (next) { next.hidden = false; next.querySelector("select").focus(); }
        if (!rows.some(function (r) { return r.hidden; })) { add.hidden = true; }
      });
      if (rows.some(function (r) { return r.hidden; })) { set.appendChild(add); }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    tick();
    setInterval(tick, 1000);
    remedies();
    penalties();
  });
})();
