// FinSent page: POST /analyze, show label/confidence/bars, keep a short history. No dependencies.
(function () {
  "use strict";
  var HISTORY = 8;
  var $ = function (id) { return document.getElementById(id); };
  var text = $("text"), button = $("analyze"), errorBox = $("error"), result = $("result");
  var maxChars = 10000, history = [];

  function pct(p) { return (100 * p).toFixed(1) + " %"; }

  // Known labels get the study's colours; any other label gets the neutral accent.
  function cls(label) { return /^(negative|neutral|positive)$/.test(label) ? label : "other"; }

  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = false;
    result.hidden = true; // an old result next to a new error would read as the answer to the new text
  }

  function el(tag, className, content) {
    var e = document.createElement(tag);
    if (className) e.className = className;
    if (content !== undefined) e.textContent = content;
    return e;
  }

  function show(r) {
    var label = $("label");
    label.textContent = r.label;
    label.className = "label " + cls(r.label);
    $("confidence").textContent = pct(r.confidence);
    $("truncated").hidden = !r.truncated;
    var bars = $("bars");
    bars.replaceChildren();
    Object.keys(r.scores).forEach(function (k) {
      var bar = el("div", "bar"), fill = el("span", cls(k));
      fill.style.width = (100 * r.scores[k]).toFixed(1) + "%";
      bar.appendChild(fill);
      bar.setAttribute("data-label", k);
      bars.append(el("span", "name", k), bar, el("span", "pct", pct(r.scores[k])));
    });
    $("latency").textContent = "model " + r.model + " · " + r.latency_ms.toFixed(1) + " ms on the server";
    result.hidden = false;
  }

  function remember(sentence, r) {
    history.unshift({ text: sentence, label: r.label, confidence: r.confidence });
    history.length = Math.min(history.length, HISTORY);
    var list = $("history");
    list.replaceChildren();
    history.forEach(function (h) {
      var li = el("li");
      li.append(el("span", "h-label " + cls(h.label), h.label), " " + pct(h.confidence) + " — ",
        el("span", "h-text", h.text.length > 120 ? h.text.slice(0, 117) + "…" : h.text));
      li.title = h.text;
      list.appendChild(li);
    });
    $("history-box").hidden = false;
  }

  function analyze() {
    var sentence = text.value;
    errorBox.hidden = true;
    if (!sentence.trim()) { showError("Type a sentence first."); return; }
    if (sentence.length > maxChars) { showError("The text has " + sentence.length + " characters; the limit is " + maxChars + "."); return; }
    button.disabled = true;
    fetch("analyze", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ text: sentence }) })
      .then(function (resp) {
        return resp.json().catch(function () { return { error: "HTTP " + resp.status + " (no JSON answer)" }; })
          .then(function (body) {
            if (!resp.ok) throw new Error(body.error || ("HTTP " + resp.status));
            return body;
          });
      })
      .then(function (r) { show(r); remember(sentence, r); })
      .catch(function (e) { showError(e.message === "Failed to fetch" ? "The service cannot be reached." : e.message); })
      .finally(function () { button.disabled = false; });
  }

  $("form").addEventListener("submit", function (e) { e.preventDefault(); analyze(); });
  text.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); analyze(); }
  });
  text.addEventListener("input", function () {
    $("count").textContent = text.value.length + " / " + maxChars + " characters";
  });

  fetch("model").then(function (r) { return r.json(); }).then(function (m) {
    $("model-name").textContent = "model " + m.name + (m.base_model ? " (" + m.base_model + (m.technique ? ", " + m.technique : "") + ")" : "");
    if (m.limits && m.limits.max_chars) maxChars = m.limits.max_chars;
    $("count").textContent = text.value.length + " / " + maxChars + " characters";
  }).catch(function () { $("model-name").textContent = "model information unavailable"; });
})();
