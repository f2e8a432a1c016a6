// Quick exit: pressing Escape twice leaves at once, replacing this page in the history.
(function () {
  var last = 0;
  function leave() {
    var link = document.getElementById("quick-exit");
    if (link) { window.location.replace(link.href); }
  }
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") { return; }
    var now = Date.now();
    if (now - last < 800) { leave(); }
    last = now;
  });
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("#quick-exit");
    if (link) { event.preventDefault(); leave(); }
  });
})();

// Plan page: while a PDF is being prepared, check its status and reload once it is done.
(function () {
  var pending = document.querySelectorAll('[data-document][data-status="queued"], [data-document][data-status="rendering"]');
  if (!pending.length) { return; }
  var id = pending[0].getAttribute("data-document");
  function check() {
    fetch("/api/v1/documents/" + id + "/", {credentials: "same-origin"})
      .then(function (r) { return r.json(); })
      .then(function (doc) {
        if (doc.status === "ready" || doc.status === "failed") { window.location.reload(); }
        else { setTimeout(check, 1000); }
      })
      .catch(function () { setTimeout(check, 3000); });
  }
  setTimeout(check, 500);
})();
