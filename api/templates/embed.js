(function () {
  "use strict";
  var entries = Array.prototype.slice.call(document.querySelectorAll("ol.timeline article"));
  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey) { return; }
    var step = event.key === "j" || event.key === "ArrowDown" ? 1 :
      event.key === "k" || event.key === "ArrowUp" ? -1 : 0;
    if (!step || !entries.length) { return; }
    var here = document.activeElement && document.activeElement.closest ?
      document.activeElement.closest("article") : null;
    var index = entries.indexOf(here);
    index = index < 0 ? (step > 0 ? 0 : entries.length - 1) :
      Math.min(entries.length - 1, Math.max(0, index + step));
    entries[index].focus();
    event.preventDefault();
  });
  // Entries below the first screen are laid out after the first paint (CSS content-visibility),
  // then all at once, so that a full-page capture or a search in the page finds every one.
  var root = document.documentElement;
  function whole() { root.classList.add("whole"); }
  if (window.PerformanceObserver && (PerformanceObserver.supportedEntryTypes || [])
    .indexOf("paint") >= 0) {
    new PerformanceObserver(function () { setTimeout(whole, 0); }).observe({ type: "paint" });
  }
  setTimeout(whole, 500);
  window.addEventListener("beforeprint", whole);
  function resize() {
    if (window.parent === window) { return; }
    var height = Math.ceil(document.documentElement.getBoundingClientRect().height);
    window.parent.postMessage({ type: "policy-timeline:resize", height: height }, "*");
  }
  window.addEventListener("load", resize);
  if (window.ResizeObserver) { new ResizeObserver(resize).observe(document.documentElement); }
  else { window.addEventListener("resize", resize); }
})();
