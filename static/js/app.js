/* ma5zani Bot dashboard behaviour: plain JavaScript, no framework, no inline scripts. */
(function () {
  "use strict";

  function ready(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }

  // Phone-size navigation.
  function setupNav() {
    var toggle = document.querySelector(".nav-toggle");
    var nav = document.getElementById("nav");
    if (!toggle || !nav) return;
    toggle.addEventListener("click", function () {
      var open = nav.classList.toggle("open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }

  // The language select submits its form when changed.
  function setupLanguage() {
    document.querySelectorAll("[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });
  }

  // Forms that ask before doing something (archive, remove, revoke).
  function setupConfirm() {
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
      });
    });
  }

  // Variant rows: "add a variant" clones the formset's empty form.
  function setupFormset() {
    var add = document.querySelector("[data-formset-add]");
    if (!add) return;
    var prefix = add.getAttribute("data-formset-add");
    var total = document.getElementById("id_" + prefix + "-TOTAL_FORMS");
    var template = document.getElementById(prefix + "-empty");
    var body = document.getElementById(prefix + "-rows");
    add.addEventListener("click", function () {
      var index = parseInt(total.value, 10);
      var html = template.innerHTML.replace(/__prefix__/g, String(index));
      body.insertAdjacentHTML("beforeend", html);
      total.value = String(index + 1);
    });
  }

  // One websocket per dashboard page (/ws/dashboard/), reconnecting with backoff; events go
  // to whatever the page shows: home figures, the conversation list, an open thread.
  function setupLive() {
    var status = document.querySelector("[data-live-status]");
    var list = document.querySelector("[data-live-list]");
    var thread = document.getElementById("thread");
    var toastBox = document.getElementById("handoff-toast");
    if (!(status || list || thread || toastBox) || !window.WebSocket) return;
    var delay = 1000;
    var listTimer = null;

    function applyStatus(payload) {
      if (!status) return;
      Object.keys(payload).forEach(function (key) {
        status.querySelectorAll('[data-field="' + key + '"]').forEach(function (el) {
          if (el.hasAttribute("data-onoff")) {
            var on = Number(payload[key]) === 1;
            el.textContent = on ? el.getAttribute("data-on") : el.getAttribute("data-off");
            el.className = "badge " + (on ? "ok" : "off");
          } else {
            el.textContent = String(payload[key]);
          }
        });
      });
    }

    function refreshList() {
      if (!list) return;
      clearTimeout(listTimer);
      listTimer = setTimeout(function () {
        fetch(list.getAttribute("data-live-list"), { credentials: "same-origin" })
          .then(function (response) { return response.text(); })
          .then(function (html) { list.innerHTML = html; });  // rendered and escaped by the server
      }, 250);
    }

    function lastMessageId() {
      var bubbles = thread.querySelectorAll("[data-message]");
      return bubbles.length ? Number(bubbles[bubbles.length - 1].getAttribute("data-message")) : 0;
    }

    function bubble(message) {
      var el = document.createElement("div");
      el.className = "bubble " + message.author;
      el.setAttribute("data-message", String(message.id));
      var meta = document.createElement("div");
      meta.className = "bubble-meta";
      var label = thread.getAttribute("data-label-" + message.author) || message.author;
      meta.textContent = label + " · " + new Date(message.created_at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
      if (message.direction === "out" && message.author !== "system") {
        var state = document.createElement("span");
        state.setAttribute("data-status", "");
        state.textContent = message.status;
        meta.appendChild(document.createTextNode(" · "));
        meta.appendChild(state);
      }
      var text = document.createElement("div");
      text.className = "bubble-text";
      text.textContent = message.text;  // customer text is always shown as text
      el.appendChild(meta);
      el.appendChild(text);
      if (message.media_url && message.media_url.indexOf("https://") === 0) {
        var link = document.createElement("a");
        link.className = "media-link";
        link.href = message.media_url;
        link.target = "_blank";
        link.rel = "noopener noreferrer";
        var image = document.createElement("img");
        image.className = "media-preview";
        image.src = message.media_url;
        image.alt = message.media_kind;
        image.loading = "lazy";
        image.referrerPolicy = "no-referrer";
        image.setAttribute("data-media-preview", "");
        var expired = document.createElement("span");
        expired.className = "media-expired";
        expired.hidden = true;
        expired.setAttribute("data-media-expired", "");
        expired.textContent = message.media_kind + " · " + (thread.getAttribute("data-label-expired") || "");
        link.appendChild(image);
        link.appendChild(expired);
        el.appendChild(link);
      }
      if (message.deleted) {
        var deleted = document.createElement("div");
        deleted.className = "muted small";
        deleted.textContent = thread.getAttribute("data-label-deleted") || "";
        el.appendChild(deleted);
      }
      if (message.error) {
        var error = document.createElement("div");
        error.className = "errorlist";
        error.textContent = message.error;
        el.appendChild(error);
      }
      return el;
    }

    function refreshThread() {
      if (!thread) return;
      var url = thread.getAttribute("data-messages-url") + "?after=" + lastMessageId();
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.json(); })
        .then(function (data) {
          data.messages.forEach(function (message) {
            if (!thread.querySelector('[data-message="' + message.id + '"]')) thread.appendChild(bubble(message));
          });
          thread.scrollTop = thread.scrollHeight;
        });
    }

    function updateStatus(message) {
      if (!thread) return;
      var el = thread.querySelector('[data-message="' + message.id + '"] [data-status]');
      if (el) el.textContent = message.status;
    }

    function toast(payload) {
      var box = document.getElementById("handoff-toast");
      if (!box) return;
      var link = box.querySelector("a");
      link.href = box.getAttribute("data-base") + payload.id + "/";
      box.querySelector("[data-customer]").textContent = payload.customer || "";
      box.hidden = false;
    }

    // The WhatsApp page: state, number, pairing code and the QR code as it rotates.
    function applyWhatsApp(payload) {
      var root = document.querySelector("[data-whatsapp]");
      if (!root) return;
      ["state_label", "phone", "pair_code", "last_error"].forEach(function (key) {
        root.querySelectorAll('[data-field="' + key + '"]').forEach(function (el) {
          el.textContent = String(payload[key] || (key === "phone" ? "—" : ""));
          if (key === "last_error") el.hidden = !payload[key];
        });
      });
      root.setAttribute("data-state", payload.state || "");
      var qr = root.querySelector("[data-qr]");
      var image = root.querySelector("[data-qr-image]");
      if (typeof payload.qr_svg === "string" && payload.qr_svg.indexOf("data:image/svg+xml") === 0) {
        image.setAttribute("src", payload.qr_svg);
        qr.hidden = false;
      } else if (!payload.has_qr) {
        qr.hidden = true;
      }
      var code = root.querySelector("[data-pair-code]");
      if (code) code.hidden = !payload.pair_code;
    }

    function handle(event, payload) {
      if (event === "whatsapp.status") applyWhatsApp(payload);
      if (event === "handoff") toast(payload);
      if (event === "status" || event === "catalog.changed" || event === "bot.settings") applyStatus(payload);
      if (event === "message.created" || event === "conversation.updated" || event === "handoff") refreshList();
      if (event === "messages.created") {  // several at once (the WhatsApp gateway stores in batches)
        refreshList();
        var open = thread && (payload.messages || []).some(function (m) {
          return String(m.conversation) === thread.getAttribute("data-conversation");
        });
        if (open) refreshThread();
      }
      if (thread && payload && String(payload.conversation || payload.id) === thread.getAttribute("data-conversation")) {
        if (event === "message.created") refreshThread();
        if (event === "message.updated") updateStatus(payload);
      }
      if (event === "message.updated") refreshList();
    }

    function connect() {
      var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
      var socket = new WebSocket(scheme + window.location.host + "/ws/dashboard/");
      var root = status || list || thread || toastBox;
      socket.addEventListener("open", function () {
        delay = 1000;
        root.setAttribute("data-connected", "true");
        if (thread) refreshThread();  // catch up on what happened while disconnected
      });
      socket.addEventListener("message", function (event) {
        var message;
        try { message = JSON.parse(event.data); } catch (e) { return; }
        if (message && typeof message.event === "string") handle(message.event, message.payload || {});
      });
      socket.addEventListener("close", function (event) {
        root.setAttribute("data-connected", "false");
        if (event.code === 4403) return;
        setTimeout(connect, delay + Math.random() * 500);
        delay = Math.min(delay * 2, 30000);
      });
    }
    if (thread) thread.scrollTop = thread.scrollHeight;
    window.ma5zaniRefreshThread = refreshThread;
    connect();
  }

  // "Try your bot": send without leaving the page; the answer arrives on the thread.
  function setupTry() {
    var form = document.getElementById("try-form");
    if (!form || !window.fetch) return;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var data = new FormData(form);
      var box = form.querySelector("textarea");
      fetch(form.action || window.location.href, {
        method: "POST", body: data, credentials: "same-origin", headers: { Accept: "application/json" },
      })
        .then(function (response) { return response.json(); })
        .then(function (result) {
          if (result.error) { window.alert(result.error); return; }
          box.value = "";
          // Live events bring the answer; a few reads cover a dropped socket.
          var tries = 0;
          var timer = setInterval(function () {
            if (window.ma5zaniRefreshThread) window.ma5zaniRefreshThread();
            if (++tries >= 8) clearInterval(timer);
          }, 1000);
        });
    });
  }

  // The progress bar of a catalog import, polled until the worker is done.
  function setupImportProgress() {
    var root = document.querySelector("[data-import-status-url]");
    if (!root) return;
    var url = root.getAttribute("data-import-status-url");
    var bar = root.querySelector("progress");
    function set(name, value) {
      root.querySelectorAll('[data-field="' + name + '"]').forEach(function (el) { el.textContent = String(value); });
    }
    function renderErrors(errors) {
      var table = document.getElementById("import-errors");
      if (!table || !errors.length) return;
      var body = table.querySelector("tbody");
      body.textContent = "";
      errors.forEach(function (item) {
        var tr = document.createElement("tr");
        [String(item.line), item.sku || "", (item.errors || []).join(" · ")].forEach(function (text) {
          var td = document.createElement("td");
          td.textContent = text;  // customer and file text is always shown as text
          tr.appendChild(td);
        });
        body.appendChild(tr);
      });
      table.hidden = false;
    }
    function poll() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.json(); })
        .then(function (job) {
          bar.value = job.percent;
          ["percent", "processed", "total", "created", "updated", "unchanged", "error_count", "status_label", "error_message"].forEach(function (key) {
            set(key, job[key]);
          });
          root.setAttribute("data-status", job.status);
          var failure = root.querySelector('[data-field="error_message"]');
          if (failure) failure.hidden = !job.error_message;
          if (job.status === "done" || job.status === "failed") {
            renderErrors(job.errors || []);
            var finished = document.getElementById("import-finished");
            if (finished) finished.hidden = false;
          } else {
            setTimeout(poll, 1000);
          }
        })
        .catch(function () { setTimeout(poll, 3000); });
    }
    poll();
  }

  // Delivery fees: fill every served wilaya's empty fees at once.
  function setupDeliveryFill() {
    var button = document.querySelector("[data-fill-fees]");
    if (!button) return;
    button.addEventListener("click", function () {
      var home = document.getElementById("fill-home").value;
      var desk = document.getElementById("fill-desk").value;
      document.querySelectorAll("tr[data-wilaya]").forEach(function (row) {
        var served = row.querySelector('input[type="checkbox"]');
        if (!served.checked) return;
        var homeInput = row.querySelector('input[name^="home_"]');
        var deskInput = row.querySelector('input[name^="desk_"]');
        if (home !== "" && homeInput.value === "") homeInput.value = home;
        if (desk !== "" && deskInput.value === "") deskInput.value = desk;
      });
    });
    var all = document.querySelector("[data-serve-all]");
    if (all) {
      all.addEventListener("change", function () {
        document.querySelectorAll('tr[data-wilaya] input[type="checkbox"]').forEach(function (box) { box.checked = all.checked; });
      });
    }
  }

  // Text fields follow the direction of what is typed in them (Arabic or Latin script).
  function setupTextDirection() {
    document.querySelectorAll('input[type="text"]:not([dir]), input[type="search"]:not([dir]), input:not([type]):not([dir]), textarea:not([dir])')
      .forEach(function (el) { el.setAttribute("dir", "auto"); });
  }

  // Media shown from the channel's link (an Instagram story): a placeholder once it expired.
  function setupMediaPreviews() {
    document.addEventListener("error", function (event) {
      var image = event.target;
      if (!(image instanceof HTMLImageElement) || !image.hasAttribute("data-media-preview")) return;
      image.hidden = true;
      var placeholder = image.parentNode && image.parentNode.querySelector("[data-media-expired]");
      if (placeholder) placeholder.hidden = false;
    }, true);  // error events do not bubble: caught on the way down
  }

  ready(function () {
    setupMediaPreviews();
    setupTextDirection();
    setupNav();
    setupLanguage();
    setupConfirm();
    setupFormset();
    setupLive();
    setupTry();
    setupImportProgress();
    setupDeliveryFill();
  });
})();
