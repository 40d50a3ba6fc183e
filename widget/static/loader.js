/* Registratura loader: <script src="https://GATEWAY/widget.js" async></script>
   Puts the booking widget in an iframe of the gateway, sizes it to its content and re-dispatches
   its events (registratura:booked, registratura:cancelled) on the container. Messages are sent to
   the gateway's origin only and accepted from it only. No personal data pass through here. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !script.src) return;
  var gateway = new URL(script.src);
  var origin = gateway.origin;
  // The gateway may be served under a path (https://clinic.example/registratura/widget.js):
  // everything it serves is relative to where this file came from.
  var base = gateway.href.replace(/\/widget\.js(?:[?#].*)?$/, "");
  var w = window.__registratura = window.__registratura || { n: 0, frames: {} };
  // The widget's page and files come from the gateway: have the connection ready for them
  // (this script may have come from the browser's cache).
  if (!w.preconnected && document.head) {
    w.preconnected = true;
    var hint = document.createElement("link");
    hint.rel = "preconnect";
    hint.href = origin;
    document.head.appendChild(hint);
  }
  var id = "rg" + (++w.n);
  var data = script.dataset;
  var container = null;
  if (data.target) container = document.querySelector(data.target);
  if (!container) {
    container = document.createElement("div");
    script.parentNode.insertBefore(container, script);
  }
  var params = new URLSearchParams();
  params.set("wid", id);
  params.set("origin", location.origin);
  ["clinic", "region", "lang", "specialty", "doctor", "accent"].forEach(function (k) {
    if (data[k]) params.set(k, data[k]);
  });
  var frame = document.createElement("iframe");
  frame.src = base + "/widget/?" + params.toString();
  frame.title = data.lang === "en" ? "Book a doctor's appointment" : "Запись на приём к врачу";
  frame.setAttribute("scrolling", "no");
  frame.setAttribute("allow", "");
  frame.style.cssText = "display:block;width:100%;min-height:420px;border:0;overflow:hidden;";
  container.appendChild(frame);
  w.frames[id] = { frame: frame, container: container };
  if (w.listening) return;
  w.listening = true;
  window.addEventListener("message", function (e) {
    var m = e.data;
    if (!m || m.source !== "registratura" || typeof m.widget !== "string") return;
    var entry = w.frames[m.widget];
    if (!entry || e.source !== entry.frame.contentWindow) return;
    if (e.origin !== new URL(entry.frame.src).origin) return;
    if (m.type === "resize" && m.detail && m.detail.height > 0) {
      entry.frame.style.height = Math.ceil(m.detail.height) + "px";
    } else if (m.type === "booked" || m.type === "cancelled") {
      var d = m.detail || {};
      entry.container.dispatchEvent(new CustomEvent("registratura:" + m.type, {
        bubbles: true,
        detail: { ticketId: d.ticket_id, start: d.start, specialty: d.specialty, doctor: d.doctor }
      }));
    }
  });
})();
