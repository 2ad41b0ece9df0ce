// Keeps the connection page current without a reload: polls the page's JSON status view, fast while syncs run.
(function () {
  var table = document.getElementById("streams");
  if (!table) return;
  var url = table.getAttribute("data-status-url");
  function text(el, value) { if (el) el.textContent = value; }
  function when(iso) { return iso ? new Date(iso).toLocaleString() : "never"; }
  function render(data) {
    var health = document.getElementById("health");
    health.className = "health-" + data.health.state;
    text(document.getElementById("health-label"), data.health.label);
    var list = document.getElementById("health-reasons");
    list.replaceChildren.apply(list, data.health.reasons.map(function (r) {
      var li = document.createElement("li"); li.textContent = r.text; return li;
    }));
    text(document.getElementById("syncing"), data.syncing ? "syncing…" : "");
    text(document.getElementById("last-success"), when(data.last_successful_sync_at));
    data.streams.forEach(function (s) {
      var row = table.querySelector('tr[data-stream="' + s.stream + '"]');
      if (!row) return;
      text(row.querySelector(".state"), s.state_words);
      var progress = row.querySelector(".progress");
      progress.replaceChildren();
      if (s.active) { progress.appendChild(document.createElement("progress")); progress.append(" "); }
      progress.append(s.pages + " page(s), " + s.records_seen + " record(s)");
      var counts = row.querySelector(".counts");
      counts.textContent = s.records_created + " new, " + s.records_updated + " updated, " + s.records_held +
        " held, " + s.records_refused + " refused";
      if (s.drift) {
        var drift = document.createElement("div"); drift.className = "drift"; drift.textContent = "Stock check: " + s.drift;
        counts.appendChild(drift);
      }
      s.refused_samples.forEach(function (e) {
        var div = document.createElement("div"); div.className = "muted refused"; div.textContent = e;
        counts.appendChild(div);
      });
      text(row.querySelector(".last-success"), when(s.last_success_at));
      text(row.querySelector(".last-error"), s.last_error);
    });
    return data.syncing;
  }
  function poll() {
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (data) { setTimeout(poll, render(data) ? 1000 : 10000); })
      .catch(function () { setTimeout(poll, 15000); });
  }
  setTimeout(poll, 1000);
})();
