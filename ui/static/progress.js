// Keeps a progress bar marked data-progress="<url>" up to date while
// provisioning tasks run: every two seconds it asks the URL (JSON with
// pending, running and failed counts) how many tasks are left. With
// data-progress-total the bar shows how many of that many are done;
// otherwise it runs until nothing is left. Then it says so, once.
(function () {
  var box = document.querySelector("[data-progress]");
  if (!box) { return; }
  var url = box.getAttribute("data-progress");
  var total = parseInt(box.getAttribute("data-progress-total") || "0", 10);
  var bar = box.querySelector("progress");
  var text = box.querySelector("[data-progress-text]");
  function tick() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.json(); })
      .then(function (c) {
        var left = c.pending + c.running;
        if (total > 0) {
          bar.max = total;
          bar.value = Math.max(0, Math.min(total, total - left));
        }
        if (left === 0) {
          if (total > 0) { bar.value = total; } else { bar.max = 1; bar.value = 1; }
          text.textContent = "Done: nothing left to run" + (c.failed ? "; " + c.failed + " task(s) failed." : ".") + " Reload the page to see the tasks.";
          return;
        }
        text.textContent = left + " task(s) still to run" + (c.failed ? ", " + c.failed + " failed" : "") + ".";
        window.setTimeout(tick, 2000);
      })
      .catch(function () { text.textContent = "The progress could not be read; reload the page."; });
  }
  window.setTimeout(tick, 2000);
})();
