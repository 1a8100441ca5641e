// Live updates for a run that is still being recorded: new events are
// appended to the timeline as the server sends them (server-sent events).
// The fragments are rendered and escaped by the server. Without JavaScript
// the page shows the run as it was when loaded; reloading shows more.
(function () {
  var timeline = document.getElementById("timeline");
  if (!timeline || !timeline.dataset.live || !window.EventSource) return;
  var note = document.getElementById("live-note");
  var source = new EventSource(timeline.dataset.live);
  source.addEventListener("events", function (e) {
    timeline.insertAdjacentHTML("beforeend", e.data);
  });
  source.addEventListener("end", function (e) {
    source.close();
    if (note) note.textContent = "The run has ended (" + e.data + ").";
  });
})();
