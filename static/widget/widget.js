/* ma5zani Bot web chat widget. One tag on any page:
 *   <script src="https://<platform>/static/widget/widget.js" data-key="wk_..." async></script>
 * Plain JavaScript, no framework. The chat lives in a shadow root so the shop's styles do not
 * reach it. Every text from the server or the customer is shown with textContent.
 * A final answer (unknown key, site not allowed, bad visitor id: websocket close 4404 / 4403 /
 * 4400, HTTP 404 / 403 / 400 with that code) stops it for good: no reconnection, no polling.
 * Its host element tells its state in data-state (connecting, open, polling, stopped),
 * data-stop-reason and data-timers (pending timers); data-retry-ms and data-poll-ms on the tag
 * change the first reconnection delay (1 s) and the polling period (3 s), which tests shorten. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !script.getAttribute("data-key") || window.__ma5zaniWidget) return;
  window.__ma5zaniWidget = true;

  var KEY = script.getAttribute("data-key");
  var SERVER = new URL(script.src, window.location.href).origin;
  var LANG = (script.getAttribute("data-lang") || document.documentElement.lang || navigator.language || "fr").slice(0, 2).toLowerCase();
  if (["ar", "fr", "en"].indexOf(LANG) < 0) LANG = "fr";
  var RTL = LANG === "ar";
  function delayAttr(name, fallback) {
    var value = parseInt(script.getAttribute(name), 10);
    return value > 0 ? Math.max(100, value) : fallback;
  }
  var RETRY_MS = delayAttr("data-retry-ms", 1000);
  var POLL_MS = delayAttr("data-poll-ms", 3000);
  // Answers after which asking again can only get the same answer.
  var STOP_CLOSE_CODES = { 4400: "bad_visitor", 4403: "forbidden_origin", 4404: "unknown_key" };
  var STOP_HTTP_STATUS = { bad_visitor: 400, forbidden_origin: 403, unknown_key: 404 };
  var TEXT = {
    ar: { title: "تحدث معنا", placeholder: "اكتب رسالتك…", send: "إرسال", open: "افتح الدردشة", close: "أغلق", typing: "يكتب…", offline: "جاري إعادة الاتصال…", error: "لم تُرسل الرسالة، نعيد المحاولة", unavailable: "الدردشة غير متاحة حاليًا" },
    fr: { title: "Discutons", placeholder: "Écrivez votre message…", send: "Envoyer", open: "Ouvrir le chat", close: "Fermer", typing: "écrit…", offline: "Reconnexion…", error: "Message non envoyé, nouvel essai", unavailable: "Discussion indisponible pour le moment" },
    en: { title: "Chat with us", placeholder: "Type your message…", send: "Send", open: "Open chat", close: "Close", typing: "typing…", offline: "Reconnecting…", error: "Not sent yet, retrying", unavailable: "Chat unavailable for now" }
  }[LANG];

  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" + hex.slice(16, 20) + "-" + hex.slice(20);
  }

  var VISITOR;
  try {
    VISITOR = localStorage.getItem("m5z_visitor");
    if (!VISITOR) { VISITOR = uuid(); localStorage.setItem("m5z_visitor", VISITOR); }
  } catch (e) { VISITOR = uuid(); }

  var CSS = [
    ":host{all:initial}",
    "*{box-sizing:border-box;font-family:system-ui,-apple-system,'Segoe UI',Roboto,'Noto Sans Arabic',Tahoma,sans-serif}",
    ".bubble-btn{position:fixed;bottom:20px;inset-inline-end:20px;width:58px;height:58px;border-radius:50%;border:0;background:#0f766e;color:#fff;font-size:26px;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25);z-index:2147483000}",
    ".panel{position:fixed;bottom:90px;inset-inline-end:20px;width:360px;max-width:calc(100vw - 24px);height:520px;max-height:calc(100vh - 110px);background:#fff;border-radius:14px;box-shadow:0 8px 30px rgba(0,0,0,.25);display:none;flex-direction:column;overflow:hidden;z-index:2147483000;color:#0f172a}",
    ".panel.open{display:flex}",
    ".head{background:#0f766e;color:#fff;padding:12px 14px;display:flex;align-items:center;justify-content:space-between;font-weight:600}",
    ".head button{background:none;border:0;color:#fff;font-size:20px;cursor:pointer}",
    ".state{font-size:12px;padding:4px 12px;background:#fef9c3;color:#854d0e;display:none}",
    ".state.on{display:block}",
    ".log{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:8px;background:#f8fafc}",
    ".log>*{flex-shrink:0}",
    ".msg{max-width:82%;padding:8px 11px;border-radius:12px;white-space:pre-wrap;overflow-wrap:anywhere;font-size:14px;line-height:1.4;unicode-bidi:plaintext}",
    ".bubble-btn svg{width:28px;height:28px;fill:#fff;vertical-align:middle}",
    ".msg.customer{align-self:flex-end;background:#0f766e;color:#fff}",
    ".msg.bot,.msg.seller{align-self:flex-start;background:#fff;border:1px solid #e2e8f0}",
    ".msg.pending{opacity:.6}",
    ".card{align-self:flex-start;width:220px;background:#fff;border:1px solid #e2e8f0;border-radius:12px;overflow:hidden;font-size:13px}",
    ".card img{width:100%;height:140px;object-fit:cover;display:block;background:#e2e8f0}",
    ".card div{padding:8px 10px}",
    ".card .price{font-weight:700;color:#0f766e}",
    ".card .out{color:#b91c1c}",
    ".quick{display:flex;flex-wrap:wrap;gap:6px;padding:0 12px 8px;background:#f8fafc}",
    ".quick button{border:1px solid #0f766e;color:#0f766e;background:#fff;border-radius:999px;padding:5px 10px;font-size:13px;cursor:pointer}",
    ".typing{font-size:12px;color:#64748b;padding:0 14px 6px;background:#f8fafc;display:none}",
    ".typing.on{display:block}",
    "form{display:flex;gap:6px;padding:10px;border-top:1px solid #e2e8f0}",
    "textarea{flex:1;resize:none;border:1px solid #cbd5e1;border-radius:10px;padding:8px;font-size:14px;height:42px}",
    "form button{background:#0f766e;color:#fff;border:0;border-radius:10px;padding:0 14px;cursor:pointer}"
  ].join("\n");

  var host = document.createElement("div");
  host.setAttribute("data-ma5zani-widget", "");
  var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text) node.textContent = text;
    return node;
  }
  var style = el("style");
  // A shop page whose Content-Security-Policy allows styles by nonce: ours carries the nonce of
  // the script tag that loaded the widget (browsers expose it as the `nonce` property only).
  if (script && script.nonce) style.nonce = script.nonce;
  style.textContent = CSS;
  var openBtn = el("button", "bubble-btn");
  var svgNS = "http://www.w3.org/2000/svg";
  var icon = document.createElementNS(svgNS, "svg");
  icon.setAttribute("viewBox", "0 0 24 24");
  var iconPath = document.createElementNS(svgNS, "path");
  iconPath.setAttribute("d", "M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H8l-5 4V5a2 2 0 0 1 1-2z");
  icon.appendChild(iconPath);
  openBtn.appendChild(icon);
  openBtn.setAttribute("aria-label", TEXT.open);
  var panel = el("div", "panel");
  panel.setAttribute("dir", RTL ? "rtl" : "ltr");
  panel.setAttribute("lang", LANG);
  panel.setAttribute("role", "dialog");
  var head = el("div", "head");
  head.appendChild(el("span", "", TEXT.title));
  var closeBtn = el("button", "", "×");
  closeBtn.setAttribute("aria-label", TEXT.close);
  head.appendChild(closeBtn);
  var state = el("div", "state", TEXT.offline);
  var log = el("div", "log");
  log.setAttribute("aria-live", "polite");
  var typing = el("div", "typing", TEXT.typing);
  var quick = el("div", "quick");
  var form = el("form");
  var input = el("textarea");
  input.setAttribute("placeholder", TEXT.placeholder);
  input.setAttribute("maxlength", "2000");
  input.setAttribute("dir", "auto");
  var sendBtn = el("button", "", TEXT.send);
  sendBtn.type = "submit";
  form.appendChild(input);
  form.appendChild(sendBtn);
  [head, state, log, typing, quick, form].forEach(function (node) { panel.appendChild(node); });
  [style, openBtn, panel].forEach(function (node) { root.appendChild(node); });
  if (RTL) openBtn.style.insetInlineEnd = "20px";

  var shown = {};        // server ids already on screen
  var pending = {};      // client_id -> {text, node}
  var lastId = 0;
  var catchUpTimer = null;
  var catchUpTries = 0;
  var socket = null;
  var delay = RETRY_MS;
  var polling = null;
  var reconnectTimer = null;
  var failures = 0;
  var stopped = false;
  var timers = {};       // pending setTimeout ids, counted in data-timers

  function report(stateName, reason) {
    var count = Object.keys(timers).length + (polling ? 1 : 0);
    if (stateName) host.setAttribute("data-state", stateName);
    if (reason) host.setAttribute("data-stop-reason", reason);
    host.setAttribute("data-timers", String(count));
  }
  function later(fn, ms) {
    var id = setTimeout(function () { delete timers[id]; report(); fn(); }, ms);
    timers[id] = true;
    report();
    return id;
  }
  function cancel(id) {
    if (id) { clearTimeout(id); delete timers[id]; report(); }
    return null;
  }

  function scroll() { log.scrollTop = log.scrollHeight; }

  function renderQuick(list) {
    quick.textContent = "";
    (list || []).slice(0, 6).forEach(function (label) {
      var button = el("button", "", label);
      button.type = "button";
      button.addEventListener("click", function () { send(label); });
      quick.appendChild(button);
    });
  }

  function renderCard(card) {
    var box = el("div", "card");
    if (card.image_url) {
      var img = el("img");
      img.src = card.image_url.indexOf("http") === 0 ? card.image_url : SERVER + card.image_url;
      img.alt = "";
      box.appendChild(img);
    }
    var body = el("div");
    body.appendChild(el("strong", "", card.title));
    body.appendChild(el("div", "price", String(card.price).replace(/\B(?=(\d{3})+(?!\d))/g, " ") + (RTL ? " دج" : " DA")));
    if (!card.in_stock) body.appendChild(el("div", "out", RTL ? "غير متوفر" : LANG === "fr" ? "Rupture de stock" : "Out of stock"));
    box.appendChild(body);
    return box;
  }

  function show(message) {
    if (!message) return;
    lastId = Math.max(lastId, message.id);
    if (shown[message.id]) return;
    shown[message.id] = true;
    if (message.client_id && pending[message.client_id]) {
      pending[message.client_id].node.classList.remove("pending");
      delete pending[message.client_id];
      return;
    }
    if (message.author === "system") return;
    var bubble = el("div", "msg " + message.author, message.text);
    bubble.setAttribute("dir", "auto");
    log.appendChild(bubble);
    (message.cards || []).forEach(function (card) { log.appendChild(renderCard(card)); });
    if (message.author !== "customer") {
      typing.classList.remove("on");
      renderQuick(message.quick_replies);
      stopCatchUp();
    }
    scroll();
  }

  // A pushed answer can be lost on the way (the database keeps it): while an answer is awaited,
  // ask for what came after the last message received, after 5 s, then less and less often.
  function catchUp() {
    catchUpTries += 1;
    if (socket && socket.readyState === 1) socket.send(JSON.stringify({ type: "history", after: lastId }));
    else poll();
    if (catchUpTries < 8 && !stopped) catchUpTimer = later(catchUp, Math.min(5000 * Math.pow(2, catchUpTries), 60000));
  }
  function startCatchUp() {
    stopCatchUp();
    if (!stopped) catchUpTimer = later(catchUp, 5000);
  }
  function stopCatchUp() {
    catchUpTimer = cancel(catchUpTimer);
    catchUpTries = 0;
  }

  // A final answer: stop for good. The bubble goes away; an open chat says it is unavailable.
  function stop(reason) {
    if (stopped) return;
    stopped = true;
    stopPolling();
    stopCatchUp();
    reconnectTimer = cancel(reconnectTimer);
    if (socket) { socket.onclose = null; try { socket.close(); } catch (e) { /* closed already */ } socket = null; }
    // A visitor id the server refuses is of no use: the next page gets a new one.
    if (reason === "bad_visitor") { try { localStorage.removeItem("m5z_visitor"); } catch (e) { /* no storage */ } }
    typing.classList.remove("on");
    renderQuick([]);
    state.textContent = TEXT.unavailable;
    state.classList.add("on");
    input.disabled = true;
    sendBtn.disabled = true;
    if (!panel.classList.contains("open")) host.style.display = "none";
    report("stopped", reason);
  }
  function finalAnswer(status, data) {
    return !!(data && STOP_HTTP_STATUS[data.code] === status) && data.code;
  }

  function handle(frame) {
    if (frame.type === "history") (frame.messages || []).forEach(show);
    else if (frame.type === "message") show(frame.message);
    else if (frame.type === "typing") typing.classList.toggle("on", !!frame.on);
    else if (frame.type === "ack") {
      var item = pending[frame.client_id];
      if (item) { item.node.classList.remove("pending"); delete pending[frame.client_id]; }
      // Shown already; `lastId` moves only with what the server sent, so nothing before is skipped.
      shown[frame.id] = true;
      startCatchUp();
    }
  }

  function wsUrl() {
    return SERVER.replace(/^http/, "ws") + "/ws/widget/?key=" + encodeURIComponent(KEY) + "&visitor=" + VISITOR;
  }

  function apiUrl(extra) {
    return SERVER + "/widget/v1/messages?key=" + encodeURIComponent(KEY) + (extra || "");
  }

  function flushPending() {
    Object.keys(pending).forEach(function (clientId) { transmit(clientId, pending[clientId].text); });
  }

  function connect() {
    reconnectTimer = null;
    if (stopped) return;
    if (!window.WebSocket) return startPolling();
    report(polling ? "polling" : "connecting");
    socket = new WebSocket(wsUrl());
    socket.onopen = function () {
      delay = RETRY_MS;
      failures = 0;
      state.classList.remove("on");
      stopPolling();
      report("open");
      flushPending();
    };
    socket.onmessage = function (event) {
      try { handle(JSON.parse(event.data)); } catch (e) { /* ignore a bad frame */ }
    };
    socket.onclose = function (event) {
      socket = null;
      if (STOP_CLOSE_CODES[event.code]) return stop(STOP_CLOSE_CODES[event.code]);
      state.classList.add("on");
      failures += 1;
      if (failures >= 3) startPolling();
      reconnectTimer = later(connect, delay + Math.random() * RETRY_MS / 2);
      delay = Math.min(delay * 2, 30000);
      report(polling ? "polling" : "connecting");
    };
  }

  // An HTTP answer as {status, data}; a body that is not JSON is no data.
  function answer(response) {
    return response.json().then(
      function (data) { return { status: response.status, data: data || {} }; },
      function () { return { status: response.status, data: {} }; }
    );
  }

  function poll() {
    if (stopped) return;
    fetch(apiUrl("&visitor=" + VISITOR + "&after=" + lastId))
      .then(answer)
      .then(function (result) {
        var reason = finalAnswer(result.status, result.data);
        if (reason) return stop(reason);
        if (result.status === 200) (result.data.messages || []).forEach(show);
      })
      .catch(function () {});
  }
  function startPolling() {
    if (polling || stopped) return;
    poll();
    polling = setInterval(poll, POLL_MS);
    report("polling");
  }
  function stopPolling() {
    if (polling) { clearInterval(polling); polling = null; report(); }
  }

  function transmit(clientId, text) {
    if (stopped) return;
    if (socket && socket.readyState === 1) {
      socket.send(JSON.stringify({ type: "message", text: text, client_id: clientId }));
      return;
    }
    fetch(apiUrl(), {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ key: KEY, visitor: VISITOR, client_id: clientId, text: text })
    }).then(answer)
      .then(function (result) {
        var reason = finalAnswer(result.status, result.data);
        if (reason) return stop(reason);
        if (result.data.id) handle({ type: "ack", client_id: clientId, id: result.data.id });
      })
      .catch(function () { /* kept pending: sent again on reconnect (same client_id, stored once) */ });
  }

  function send(text) {
    text = (text || "").trim();
    if (!text || stopped) return;
    var clientId = uuid();
    var node = el("div", "msg customer pending", text);
    node.setAttribute("dir", "auto");
    log.appendChild(node);
    pending[clientId] = { text: text, node: node };
    renderQuick([]);
    scroll();
    transmit(clientId, text);
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    send(input.value);
    input.value = "";
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); form.requestSubmit ? form.requestSubmit() : form.dispatchEvent(new Event("submit")); }
  });
  openBtn.addEventListener("click", function () {
    panel.classList.toggle("open");
    if (panel.classList.contains("open")) { input.focus(); scroll(); }
  });
  closeBtn.addEventListener("click", function () {
    panel.classList.remove("open");
    if (stopped) host.style.display = "none";
  });

  function start() {
    document.body.appendChild(host);
    report("connecting");
    connect();
  }
  if (document.body) start(); else document.addEventListener("DOMContentLoaded", start);
})();
