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
