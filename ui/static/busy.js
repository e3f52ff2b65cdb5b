// Shows progress on forms marked data-busy: once a submission goes ahead,
// the form's buttons are disabled and the pressed one reads "Working…".
// The pressed button's name and value are kept in a hidden input, since a
// disabled button is not submitted.
document.addEventListener("submit", function (e) {
  var form = e.target;
  if (e.defaultPrevented || !form.hasAttribute("data-busy")) { return; }
  var pressed = e.submitter;
  if (pressed && pressed.name) {
    var keep = document.createElement("input");
    keep.type = "hidden";
    keep.name = pressed.name;
    keep.value = pressed.value;
    form.appendChild(keep);
  }
  form.setAttribute("aria-busy", "true");
  // data-busy="words" also shows what is being done, with a progress bar
  // that runs until the answer arrives.
  var what = form.getAttribute("data-busy");
  if (what) {
    var note = document.createElement("p");
    note.className = "busy-note";
    note.setAttribute("role", "status");
    var bar = document.createElement("progress");
    bar.setAttribute("aria-label", what);
    note.appendChild(bar);
    note.appendChild(document.createTextNode(" " + what));
    form.appendChild(note);
  }
  window.setTimeout(function () {
    var buttons = form.querySelectorAll("button");
    for (var i = 0; i < buttons.length; i++) { buttons[i].disabled = true; }
    if (pressed) { pressed.textContent = "Working\u2026"; }
  }, 0);
});
// A page restored from the back/forward cache gets its buttons back.
window.addEventListener("pageshow", function (e) {
  if (!e.persisted) { return; }
  var forms = document.querySelectorAll("form[aria-busy]");
  for (var i = 0; i < forms.length; i++) {
    forms[i].removeAttribute("aria-busy");
    var notes = forms[i].querySelectorAll(".busy-note");
    for (var j = 0; j < notes.length; j++) { notes[j].remove(); }
  }
});
