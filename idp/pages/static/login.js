// Yagona login page: lists the keys of the local signing agent, asks the
// provider for a one-time challenge, has the agent sign it and sends the
// signature back. Plain ES2017, no dependencies, loaded with defer; the
// page passes everything in data- attributes of <main id="login"> (the
// Content-Security-Policy forbids inline scripts). Nothing is logged.
(function () {
  'use strict';

  var root = document.getElementById('login');
  if (!root) {
    return;
  }
  var data = root.dataset;
  var select = document.getElementById('keys');
  var button = document.getElementById('sign');
  var status = document.getElementById('status');
  var lang = document.documentElement.lang || 'uz';
  var agent = agentBase(data.agent);
  var busy = false;

  var KEYS_TIMEOUT = 10000;
  var SIGN_TIMEOUT = 180000; // the agent may ask for a PIN
  var SERVER_TIMEOUT = 30000;
  var MAX_DESCRIPTION = 300;

  // agentBase returns the agent's base URL without a trailing slash, or ''
  // if it is not an http(s) URL.
  function agentBase(s) {
    try {
      var u = new URL(s);
      if (u.protocol === 'http:' || u.protocol === 'https:') {
        return u.origin + u.pathname.replace(/\/+$/, '');
      }
    } catch (e) {
      // not a URL
    }
    return '';
  }

  function say(text, kind) {
    status.textContent = text || '';
    status.className = kind ? 'status ' + kind : 'status';
  }

  // request fetches url and parses a JSON answer. It resolves to
  // {ok, status, body} (body null if the answer is not JSON) and rejects
  // only when nothing was answered: network failure or timeout.
  async function request(url, options, timeout) {
    var opts = Object.assign({ cache: 'no-store' }, options);
    var timer = 0;
    if (typeof AbortController === 'function') {
      var ctl = new AbortController();
      opts.signal = ctl.signal;
      timer = setTimeout(function () { ctl.abort(); }, timeout);
    }
    try {
      var resp = await fetch(url, opts);
      var body = null;
      try {
        body = await resp.json();
      } catch (e) {
        body = null;
      }
      return { ok: resp.ok, status: resp.status, body: body };
    } finally {
      clearTimeout(timer);
    }
  }

  function postJSON(url, value, credentials, timeout) {
    return request(url, {
      method: 'POST',
      credentials: credentials,
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(value)
    }, timeout);
  }

  function formatDate(s) {
    var d = new Date(s);
    if (!s || isNaN(d.getTime())) {
      return String(s || '');
    }
    var dd = ('0' + d.getDate()).slice(-2);
    var mm = ('0' + (d.getMonth() + 1)).slice(-2);
    if (lang === 'en') {
      return d.getFullYear() + '-' + mm + '-' + dd;
    }
    return dd + '.' + mm + '.' + d.getFullYear();
  }

  function keyLabel(k) {
    var parts = [];
    if (k.subject) {
      parts.push(String(k.subject));
    }
    if (k.organization) {
      parts.push(String(k.organization));
    }
    if (k.not_after) {
      parts.push(data.msgValidUntil.replace('{date}', formatDate(k.not_after)));
    }
    return parts.length ? parts.join(' — ') : String(k.id);
  }

  function expired(k) {
    var t = new Date(k.not_after).getTime();
    return !isNaN(t) && t < Date.now();
  }

  function option(value, text, disabled) {
    var o = document.createElement('option');
    o.value = value;
    o.textContent = text;
    o.disabled = !!disabled;
    return o;
  }

  function fillKeys(keys) {
    select.textContent = '';
    var usable = keys.filter(function (k) { return !expired(k); });
    if (keys.length === 0) {
      select.appendChild(option('', data.msgNone, false));
      say(data.msgNone, 'error');
      return;
    }
    if (usable.length !== 1) {
      select.appendChild(option('', data.msgChoose, false));
    }
    keys.forEach(function (k) {
      var label = keyLabel(k);
      if (expired(k)) {
        label += ' (' + data.msgExpired + ')';
      }
      select.appendChild(option(String(k.id), label, expired(k)));
    });
    select.disabled = false;
    update();
    say('');
  }

  function update() {
    button.disabled = busy || select.disabled || select.value === '';
  }

  async function loadKeys() {
    say(data.msgLoading);
    if (!agent) {
      say(data.msgUnreachable, 'error');
      return;
    }
    var res;
    try {
      res = await request(agent + '/v1/keys', { method: 'GET', mode: 'cors', credentials: 'omit' }, KEYS_TIMEOUT);
    } catch (e) {
      select.textContent = '';
      say(data.msgUnreachable, 'error');
      return;
    }
    if (!res.ok || !res.body || !Array.isArray(res.body.keys)) {
      fail(res);
      return;
    }
    fillKeys(res.body.keys.filter(function (k) { return k && k.id; }));
  }

  // fail shows a translated message for an error answer plus its
  // description, which the server writes in English.
  function fail(res) {
    var body = (res && res.body) || {};
    var msg = data.msgFailed;
    if (body.error === 'rate_limited') {
      msg = data.msgRateLimited;
    } else if (body.error === 'request_expired') {
      msg = data.msgRequestExpired;
    } else if (body.error === 'challenge_expired') {
      msg = data.msgChallengeExpired;
    }
    var desc = typeof body.error_description === 'string' ? body.error_description
      : typeof body.error === 'string' ? body.error : '';
    if (desc.length > MAX_DESCRIPTION) {
      desc = desc.slice(0, MAX_DESCRIPTION) + '…';
    }
    say(desc ? msg + ' (' + desc + ')' : msg, 'error');
  }

  // safeRedirect accepts only http(s) URLs, so an answer can never turn
  // into a javascript: navigation.
  function safeRedirect(s) {
    if (typeof s !== 'string' || s === '') {
      return '';
    }
    try {
      var u = new URL(s, window.location.href);
      if (u.protocol === 'https:' || u.protocol === 'http:') {
        return u.href;
      }
    } catch (e) {
      // not a URL
    }
    return '';
  }

  function setBusy(on) {
    busy = on;
    select.disabled = on;
    root.setAttribute('aria-busy', on ? 'true' : 'false');
    update();
  }

  async function signIn() {
    var key = select.value;
    if (busy || key === '') {
      return;
    }
    setBusy(true);
    var leaving = false;
    try {
      say(data.msgSigning);
      var ch = await postJSON('/login/challenge', { request: data.request }, 'same-origin', SERVER_TIMEOUT);
      if (!ch.ok || !ch.body || typeof ch.body.to_sign !== 'string') {
        fail(ch);
        return;
      }
      var signed;
      try {
        signed = await postJSON(agent + '/v1/sign', { key: key, to_sign: ch.body.to_sign }, 'omit', SIGN_TIMEOUT);
      } catch (e) {
        say(data.msgUnreachable, 'error');
        return;
      }
      if (!signed.ok || !signed.body || typeof signed.body.signature !== 'string') {
        fail(signed);
        return;
      }
      say(data.msgChecking);
      var done = await postJSON('/login/certificate', { request: data.request, signature: signed.body.signature }, 'same-origin', SERVER_TIMEOUT);
      var next = done.ok && done.body ? safeRedirect(done.body.redirect) : '';
      if (!next) {
        fail(done);
        return;
      }
      say(data.msgRedirecting, 'ok');
      leaving = true;
      window.location.assign(next);
    } catch (e) {
      say(data.msgFailed, 'error');
    } finally {
      if (!leaving) {
        setBusy(false);
      }
    }
  }

  select.addEventListener('change', update);
  button.addEventListener('click', signIn);
  loadKeys();
}());
