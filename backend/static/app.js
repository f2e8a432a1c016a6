// Quick exit: pressing Escape twice (or the link) leaves at once, replacing this page in the
// history. On a wizard page or the plan editor, what was typed is sent first (sendBeacon, which
// outlives the page), with a signed token, so it is kept even if the sign-out lands first.
(function () {
  var last = 0;
  // The plan editor sends only when something was typed since the page was shown (it keeps
  // a draft for later); a wizard page always (it saves the page).
  document.addEventListener("input", function (event) {
    var form = event.target.closest && event.target.closest("form[data-plan-editor]");
    if (form) { form.setAttribute("data-typed", "1"); }
  });
  function saveTyped() {
    var form = document.querySelector("form[data-quick-save]");
    if (!form) { return; }
    if (form.hasAttribute("data-plan-editor") && !form.hasAttribute("data-typed")) { return; }
    var url = form.getAttribute("data-quick-save");
    var data = new FormData(form);
    try {
      if (navigator.sendBeacon && navigator.sendBeacon(url, data)) { return; }
    } catch (e) { /* fall through to fetch */ }
    try {
      fetch(url, {method: "POST", body: data, keepalive: true, credentials: "same-origin"});
    } catch (e) { /* leaving matters more than saving */ }
  }
  function leave() {
    var link = document.getElementById("quick-exit");
    if (!link) { return; }
    saveTyped();
    window.location.replace(link.href);
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

// Plan page: the link to show it in another language keeps what was typed and not saved. It is
// kept as a draft for its author (as quick exit keeps it) and shown again in that language.
(function () {
  var nav = document.querySelector(".page-language");
  var form = document.querySelector("form[data-plan-editor][data-quick-save]");
  if (!nav || !form) { return; }
  nav.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[href]");
    if (!link) { return; }
    var typed = form.hasAttribute("data-typed");
    var drafting = /[?&]draft=1(&|$)/.test(window.location.search);
    if (!typed && !drafting) { return; }
    event.preventDefault();
    function go() { window.location.href = link.href + "&draft=1"; }
    if (!typed) { go(); return; }
    fetch(form.getAttribute("data-quick-save"), {
      method: "POST", body: new FormData(form), credentials: "same-origin"
    }).then(function (r) { if (r.ok) { go(); } });  // not kept: stay, nothing is lost
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

// Wording check: on a pause in typing, show suggestions under the field, with one-click
// replace and "keep as is" (with a reason). The client's own words are exempt server-side.
(function () {
  var fields = document.querySelectorAll("[data-language-check]");
  if (!fields.length) { return; }
  var token = (document.querySelector("[name=csrfmiddlewaretoken]") || {}).value;
  function post(url, body) {
    return fetch(url, {method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": token},
      body: JSON.stringify(body)}).then(function (r) { return r.json(); });
  }
  function show(field, findings) {
    var box = field.nextElementSibling;
    if (!box || !box.classList.contains("findings")) {
      box = document.createElement("div");
      box.className = "findings";
      box.setAttribute("role", "status");
      field.insertAdjacentElement("afterend", box);
    }
    box.textContent = "";
    findings.forEach(function (f) {
      var row = document.createElement("p");
      var word = field.value.slice(f.start, f.end);
      row.textContent = "\u201c" + word + "\u201d: try " + f.suggestion + ". " + f.reason + " ";
      if (f.replacement) {
        var replace = document.createElement("button");
        replace.type = "button"; replace.className = "small";
        replace.textContent = "Use \u201c" + f.replacement + "\u201d";
        replace.addEventListener("click", function () {
          field.value = field.value.slice(0, f.start) + f.replacement + field.value.slice(f.end);
          check(field);
        });
        row.appendChild(replace);
      }
      var keep = document.createElement("button");
      keep.type = "button"; keep.className = "small secondary"; keep.textContent = "Keep as is";
      keep.addEventListener("click", function () {
        var reason = window.prompt("Why keep this wording? (optional)") || "";
        post("/api/v1/language-check/dismissals/", {term: f.term, reason: reason})
          .then(function (answer) {
            row.textContent = answer.consultation_suggested
              ? "Kept. You have kept this wording several times: it may help to talk it through in consultation."
              : "Kept.";
          });
      });
      row.appendChild(keep);
      box.appendChild(row);
    });
  }
  // The client's own terms (their word for their work, their goals) are exempt: the page
  // lists them as JSON in data-client-terms on the element marked data-language-check-form.
  function clientTerms(field) {
    var form = field.closest("[data-language-check-form]") ||
      document.querySelector("[data-language-check-form]");
    var raw = form && form.getAttribute("data-client-terms");
    if (!raw) { return []; }
    try {
      var terms = JSON.parse(raw);
      return Array.isArray(terms) ? terms.filter(function (t) { return typeof t === "string" && t.trim(); }).slice(0, 50) : [];
    } catch (e) { return []; }
  }
  function check(field) {
    var form = field.closest("[data-language-check-form]");
    var language = (form && form.getAttribute("data-language")) || "en";
    post("/api/v1/language-check/", {text: field.value, client_terms: clientTerms(field), language: language}).then(function (body) {
      show(field, body.findings || []);
      if (body.checked === false) {  // no word list for this language: say so, beside any English finding
        var note = document.createElement("p");
        note.className = "meta";
        note.textContent = (form && form.getAttribute("data-unchecked-note")) || ("Wording: " + body.note + ".");
        field.nextElementSibling.appendChild(note);
      }
    });
  }
  fields.forEach(function (field) {
    var timer;
    field.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () { check(field); }, 500);
    });
    if (field.value) { check(field); }
  });
})();

// Plan editor: "add another" copies an empty row from a <template> (without script, the page
// already has one empty row of each kind); textareas with a limit show a character counter.
(function () {
  var editor = document.querySelector("[data-plan-editor]");
  if (!editor) { return; }
  function fromTemplate(id, replacements) {
    var html = document.getElementById(id).innerHTML;
    Object.keys(replacements).forEach(function (key) {
      html = html.split(key).join(String(replacements[key]));
    });
    var holder = document.createElement("div");
    holder.innerHTML = html.trim();
    return holder.firstElementChild;
  }
  function counter(field) {
    if (field.dataset.counted) { return; }
    field.dataset.counted = "1";
    var limit = parseInt(field.getAttribute("maxlength"), 10);
    var out = document.createElement("p");
    out.className = "counter meta";
    out.setAttribute("aria-live", "polite");
    var words = editor.getAttribute("data-counter-text") || "{n} of {max} characters";
    function update() {
      out.textContent = words.replace("{n}", field.value.length).replace("{max}", limit);
    }
    field.insertAdjacentElement("afterend", out);
    field.addEventListener("input", update);
    update();
  }
  function prepare(root) {
    root.querySelectorAll("[data-add]").forEach(function (b) { b.hidden = false; });
    root.querySelectorAll("textarea[data-counter][maxlength]").forEach(counter);
  }
  editor.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-add]");
    if (!button) { return; }
    var kind = button.getAttribute("data-add"), row;
    if (kind === "step") {
      var goal = button.closest("[data-goal]");
      var list = goal.querySelector("[data-steps]");
      if (list.children.length >= parseInt(goal.dataset.maxSteps, 10)) { return; }
      var s = parseInt(goal.dataset.nextStep, 10);
      goal.dataset.nextStep = s + 1;
      row = fromTemplate("tpl-step", {"__g__": goal.dataset.goal, "__s__": s});
      list.appendChild(row);
    } else if (kind === "goal") {
      var goals = editor.querySelector("[data-goals]");
      if (goals.children.length >= parseInt(goals.dataset.maxGoals, 10)) { return; }
      var g = parseInt(goals.dataset.nextGoal, 10);
      goals.dataset.nextGoal = g + 1;
      row = fromTemplate("tpl-goal", {"__g__": g});
      goals.appendChild(row);
    } else {
      var refs = editor.querySelector("[data-referrals]");
      var r = parseInt(refs.dataset.nextReferral, 10);
      refs.dataset.nextReferral = r + 1;
      row = fromTemplate("tpl-referral", {"__r__": r});
      refs.appendChild(row);
    }
    prepare(row);
    var first = row.querySelector("textarea, input:not([type=hidden]), select");
    if (first) { first.focus(); }
  });
  // With script, empty rows appear on request ("Add a ..."), so the page stays short; a row
  // with anything typed in it or an error stays.
  editor.querySelectorAll("[data-blank-row]").forEach(function (row) {
    if (row.closest("template") || row.querySelector(".errors")) { return; }
    var typed = Array.prototype.some.call(
      row.querySelectorAll("input:not([type=hidden]):not([type=checkbox]), textarea, select"),
      function (f) { return f.value; });
    if (!typed) { row.remove(); }
  });
  prepare(editor);
})();

// Any page answered with what to fix (the wizard, the plan editor) or a conflict: focus moves
// to that summary, so a keyboard or screen-reader user starts there.
(function () {
  var alert = document.getElementById("error-summary") || document.getElementById("unasked-summary") || document.getElementById("removal-summary") || document.getElementById("conflict");
  if (alert) { alert.focus(); }
})();

// Exports page: refresh while an export is running, to move its progress bar.
(function () {
  var list = document.querySelector("[data-refresh]");
  if (list) { setTimeout(function () { window.location.reload(); }, 2000); }
})();
