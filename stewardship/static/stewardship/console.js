// Keyboard use of the review queue and the compare screen; every action also works without it.
(function () {
  function typing(e) {
    var t = e.target.tagName;
    return t === "INPUT" || t === "TEXTAREA" || t === "SELECT" || e.target.isContentEditable;
  }
  function rows() { return Array.prototype.slice.call(document.querySelectorAll("[data-keynav] tbody tr[data-href]")); }
  function select(list, i) {
    list.forEach(function (r) { r.classList.remove("selected"); });
    if (list[i]) { list[i].classList.add("selected"); list[i].focus(); }
  }
  document.addEventListener("keydown", function (e) {
    if (typing(e) || e.ctrlKey || e.metaKey || e.altKey) return;
    var list = rows();
    var current = list.findIndex(function (r) { return r.classList.contains("selected"); });
    if (list.length && (e.key === "j" || e.key === "ArrowDown")) { select(list, Math.min(current + 1, list.length - 1)); e.preventDefault(); }
    else if (list.length && (e.key === "k" || e.key === "ArrowUp")) { select(list, Math.max(current - 1, 0)); e.preventDefault(); }
    else if (list.length && e.key === "Enter") { window.location = list[Math.max(current, 0)].dataset.href; }
    else if (e.key === "m" && document.getElementById("merge-button")) { document.getElementById("merge-button").click(); }
    else if (e.key === "x" && document.getElementById("reject-button")) { document.getElementById("reject-button").click(); }
    else if (e.key === "n" && document.getElementById("next-task")) { window.location = document.getElementById("next-task").href; }
  });
  document.addEventListener("click", function (e) {
    var row = e.target.closest && e.target.closest("tr[data-href]");
    if (row && e.target.tagName !== "A") window.location = row.dataset.href;
  });
})();
