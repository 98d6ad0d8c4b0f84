// Yagona login page: lists the keys of the local signing agent, asks the
// provider for a challenge, has the agent sign it, and posts the
// signature. No secrets are logged; no inline script (CSP).
(function () {
  "use strict";
  var main = document.getElementById("login");
  if (!main) { return; }
  var d = main.dataset;
  var agent = (d.agent || "").replace(/\/+$/, "");
  var select = document.getElementById("keys");
  var button = document.getElementById("sign");
  var status = document.getElementById("status");

  function say(text, isError) {
    status.textContent = text;
    status.className = isError ? "status error" : "status";
  }

  function json(url, opts) {
    return fetch(url, opts).then(function (resp) {
      return resp.text().then(function (body) {
        var data = {};
        try { data = body ? JSON.parse(body) : {}; } catch (e) { data = {}; }
        if (!resp.ok) {
          var err = new Error(data.error_description || data.error || ("HTTP " + resp.status));
          err.data = data;
          throw err;
        }
        return data;
      });
    });
  }

  function post(url, body, credentials) {
    return json(url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      credentials: credentials,
      body: JSON.stringify(body)
    });
  }

  function loadKeys() {
    say(d.msgLoading, false);
    json(agent + "/v1/keys", { method: "GET", credentials: "omit" }).then(function (data) {
      var keys = (data && data.keys) || [];
      select.textContent = "";
      if (keys.length === 0) {
        var none = document.createElement("option");
        none.value = "";
        none.textContent = d.msgNokeys;
        select.appendChild(none);
        say(d.msgNokeys, true);
        return;
      }
      keys.forEach(function (k) {
        var o = document.createElement("option");
        o.value = k.id;
        var label = k.subject || k.id;
        if (k.organization) { label += " — " + k.organization; }
        if (k.not_after) { label += " — " + d.msgUntil + " " + String(k.not_after).slice(0, 10); }
        o.textContent = label;
        select.appendChild(o);
      });
      select.disabled = false;
      button.disabled = false;
      say(d.msgChoose, false);
    }).catch(function () {
      select.textContent = "";
      say(d.msgAgent, true);
    });
  }

  button.addEventListener("click", function () {
    var key = select.value;
    if (!key) { say(d.msgChoose, true); return; }
    button.disabled = true;
    say(d.msgSigning, false);
    post("/login/challenge", { request: d.request }, "same-origin").then(function (ch) {
      return post(agent + "/v1/sign", { key: key, to_sign: ch.to_sign }, "omit");
    }).then(function (signed) {
      return post("/login/certificate", { request: d.request, signature: signed.signature }, "same-origin");
    }).then(function (done) {
      window.location.assign(done.redirect);
    }).catch(function (err) {
      button.disabled = false;
      say(d.msgFailed + " " + (err && err.message ? err.message : ""), true);
    });
  });

  loadKeys();
}());
