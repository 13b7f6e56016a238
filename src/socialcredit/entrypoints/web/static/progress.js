// Progress for record imports, as an enhancement: without this script the
// upload form posts as usual and the import's page is reloaded by hand.
(function () {
  "use strict";

  // The upload: a progress bar while the file travels, then the import's page.
  var form = document.querySelector("form[data-upload-progress]");
  if (form && window.XMLHttpRequest && window.FormData) {
    form.addEventListener("submit", function (event) {
      var bar = document.getElementById(form.getAttribute("data-upload-progress"));
      var line = bar && bar.closest(".progress-line");
      if (!bar || !line) return;
      event.preventDefault();
      var request = new XMLHttpRequest();
      request.open("POST", form.action);
      request.upload.addEventListener("progress", function (seen) {
        if (seen.lengthComputable) bar.value = Math.round((seen.loaded * 100) / seen.total);
      });
      request.addEventListener("load", function () {
        // The server answers with the import's page (after its redirect). If it
        // answered with the form and what was wrong, post it the plain way so
        // the page shows that.
        if (request.status < 400 && request.responseURL.indexOf("/console/imports/") >= 0) {
          window.location.assign(request.responseURL);
        } else {
          form.submit();
        }
      });
      request.addEventListener("error", function () {
        line.textContent = form.getAttribute("data-upload-failed");
      });
      line.hidden = false;
      request.send(new FormData(form));
    });
  }

  // A running import: ask how far it has got, once a second, until it ends.
  var status = document.getElementById("import-status");
  if (status && status.getAttribute("data-running") === "yes" && window.fetch) {
    var bar = document.getElementById("import-progress");
    var read = status.querySelector(".lines-read");
    var counts = document.getElementById("import-counts");
    var poll = function () {
      fetch(status.getAttribute("data-status-url"), { credentials: "same-origin" })
        .then(function (answer) { return answer.json(); })
        .then(function (now) {
          bar.value = now.lines_read;
          read.textContent = now.lines_read.toLocaleString();
          ["accepted", "duplicates", "rejected"].forEach(function (name) {
            counts.querySelector("." + name).textContent = now[name].toLocaleString();
          });
          if (now.running) {
            window.setTimeout(poll, 1000);
          } else {
            window.location.reload(); // the finished page, with the rejects
          }
        })
        .catch(function () { window.setTimeout(poll, 3000); });
    };
    window.setTimeout(poll, 1000);
  }
})();
