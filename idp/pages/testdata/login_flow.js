// Runs static/login.js against a minimal fake DOM, a fake signing agent
// and a fake provider, one scenario at a time. Usage:
//   node login_flow.js <login.js> <attrs.json>
// where attrs.json holds the data- attributes of <main id="login"> as the
// page renders them, in dataset form ({"msgFailed": "..."}).
'use strict';

const fs = require('fs');
const vm = require('vm');
const assert = require('assert');

process.env.TZ = 'UTC';
const src = fs.readFileSync(process.argv[2], 'utf8');
const attrs = JSON.parse(fs.readFileSync(process.argv[3], 'utf8'));
const AGENT = 'http://127.0.0.1:8765';

class Element {
  constructor(tag) {
    this.tagName = tag;
    this.children = [];
    this.listeners = {};
    this.attributes = {};
    this.dataset = {};
    this.className = '';
    this.disabled = false;
    this.text = '';
  }
  get textContent() { return this.text + this.children.map((c) => c.textContent).join(''); }
  set textContent(s) { this.children = []; this.text = String(s); }
  appendChild(c) { this.children.push(c); return c; }
  addEventListener(type, fn) { (this.listeners[type] = this.listeners[type] || []).push(fn); }
  setAttribute(k, v) { this.attributes[k] = String(v); }
  fire(type) { return Promise.all((this.listeners[type] || []).map((fn) => fn({ type: type }))); }
}

// Select models the browser's choice: the set value, else the first
// option that is not disabled.
class Select extends Element {
  get value() {
    if (this.chosen !== undefined) { return this.chosen; }
    const o = this.children.find((c) => !c.disabled);
    return o ? o.value : '';
  }
  set value(v) { this.chosen = v; }
  set textContent(s) { this.children = []; this.text = String(s); this.chosen = undefined; }
  get textContent() { return super.textContent; }
}

const tick = () => new Promise((resolve) => setImmediate(resolve));
async function settle() { for (let i = 0; i < 20; i++) { await tick(); } }

function reply(status, body) {
  return { ok: status >= 200 && status < 300, status: status, json: async () => { if (body === undefined) { throw new SyntaxError('no JSON'); } return body; } };
}

// page builds the DOM and globals; routes maps "METHOD url" to a function
// of the parsed request body returning a reply, or throwing for a network
// failure.
function page(routes) {
  const els = { login: new Element('main'), keys: new Select('select'), sign: new Element('button'), status: new Element('p') };
  Object.assign(els.login.dataset, attrs);
  els.keys.disabled = true;
  els.sign.disabled = true;
  const calls = [];
  const assigned = [];
  const ctx = {
    document: { documentElement: { lang: 'uz' }, getElementById: (id) => els[id] || null, createElement: (t) => new Element(t) },
    window: { location: { href: 'https://id.example/login?request=req-1', assign: (u) => assigned.push(u) } },
    fetch: async (url, opts) => {
      const key = (opts.method || 'GET') + ' ' + url;
      calls.push({ key: key, opts: opts, body: opts.body ? JSON.parse(opts.body) : undefined });
      const route = routes[key];
      if (!route) { throw new TypeError('Failed to fetch ' + key); }
      return route(opts.body ? JSON.parse(opts.body) : undefined, opts);
    },
    URL: URL, AbortController: AbortController, setTimeout: setTimeout, clearTimeout: clearTimeout,
    Date: Date, JSON: JSON, Object: Object, Array: Array, String: String, isNaN: isNaN, Promise: Promise,
  };
  vm.runInNewContext(src, ctx);
  return { els: els, calls: calls, assigned: assigned };
}

const key1 = { id: 'k1', subject: 'ALIYEV VALI', pinfl: '31204900012345', organization: 'Soliq qoʻmitasi', not_after: '2030-01-31T12:00:00Z', certificate: 'MII...' };
const key2 = { id: 'k2', subject: 'ALIYEV VALI', pinfl: '31204900012345', organization: '', not_after: '2031-06-01T12:00:00Z', certificate: 'MII...' };
const old = { id: 'k0', subject: 'ALIYEV VALI', organization: 'Eski', not_after: '2020-01-01T00:00:00Z', certificate: 'MII...' };

function happyRoutes(keys, redirect) {
  return {
    ['GET ' + AGENT + '/v1/keys']: () => reply(200, { keys: keys }),
    'POST /login/challenge': () => reply(200, { to_sign: 'yagona-login\nnonce: n', expires_in: 120 }),
    ['POST ' + AGENT + '/v1/sign']: () => reply(200, { signature: 'TUlJ' }),
    'POST /login/certificate': () => reply(200, { redirect: redirect || 'https://rp.example/cb?code=c1&state=s' }),
  };
}

const scenarios = {
  'one usable key signs in': async () => {
    const p = page(happyRoutes([key1, old]));
    await settle();
    const labels = p.els.keys.children.map((o) => o.textContent);
    assert.deepStrictEqual(labels, [
      'ALIYEV VALI — Soliq qoʻmitasi — ' + attrs.msgValidUntil.replace('{date}', '31.01.2030'),
      'ALIYEV VALI — Eski — ' + attrs.msgValidUntil.replace('{date}', '01.01.2020') + ' (' + attrs.msgExpired + ')',
    ]);
    assert.strictEqual(p.els.keys.children[1].disabled, true);
    assert.strictEqual(p.els.sign.disabled, false);
    assert.strictEqual(p.els.keys.value, 'k1');
    const agentCall = p.calls[0];
    assert.strictEqual(agentCall.opts.credentials, 'omit');
    await p.els.sign.fire('click');
    await settle();
    assert.deepStrictEqual(p.calls.map((c) => c.key), ['GET ' + AGENT + '/v1/keys', 'POST /login/challenge', 'POST ' + AGENT + '/v1/sign', 'POST /login/certificate']);
    const [, ch, sign, cert] = p.calls;
    assert.deepStrictEqual(ch.body, { request: 'req-1' });
    assert.strictEqual(ch.opts.credentials, 'same-origin');
    assert.strictEqual(ch.opts.headers['Content-Type'], 'application/json');
    assert.deepStrictEqual(sign.body, { key: 'k1', to_sign: 'yagona-login\nnonce: n' });
    assert.strictEqual(sign.opts.credentials, 'omit');
    assert.deepStrictEqual(cert.body, { request: 'req-1', signature: 'TUlJ' });
    assert.strictEqual(cert.opts.credentials, 'same-origin');
    assert.deepStrictEqual(p.assigned, ['https://rp.example/cb?code=c1&state=s']);
    assert.strictEqual(p.els.status.textContent, attrs.msgRedirecting);
    assert.strictEqual(p.els.sign.disabled, true, 'button stays disabled while leaving');
  },

  'several keys: choose first': async () => {
    const p = page(happyRoutes([key1, key2]));
    await settle();
    assert.strictEqual(p.els.keys.children[0].textContent, attrs.msgChoose);
    assert.strictEqual(p.els.keys.children[2].textContent, 'ALIYEV VALI — ' + attrs.msgValidUntil.replace('{date}', '01.06.2031'));
    assert.strictEqual(p.els.sign.disabled, true);
    p.els.keys.value = 'k2';
    await p.els.keys.fire('change');
    assert.strictEqual(p.els.sign.disabled, false);
    await p.els.sign.fire('click');
    await settle();
    assert.strictEqual(p.calls[2].body.key, 'k2');
    assert.strictEqual(p.assigned.length, 1);
  },

  'agent not running': async () => {
    const p = page({});
    await settle();
    assert.strictEqual(p.els.status.textContent, attrs.msgUnreachable);
    assert.strictEqual(p.els.status.className, 'status error');
    assert.strictEqual(p.els.sign.disabled, true);
  },

  'agent has no keys': async () => {
    const p = page(happyRoutes([]));
    await settle();
    assert.strictEqual(p.els.status.textContent, attrs.msgNone);
    assert.strictEqual(p.els.sign.disabled, true);
  },

  'certificate refused': async () => {
    const routes = happyRoutes([key1]);
    routes['POST /login/certificate'] = () => reply(403, { error: 'certificate_refused', error_description: 'the certificate is revoked' });
    const p = page(routes);
    await settle();
    await p.els.sign.fire('click');
    await settle();
    assert.strictEqual(p.els.status.textContent, attrs.msgFailed + ' (the certificate is revoked)');
    assert.strictEqual(p.els.status.className, 'status error');
    assert.strictEqual(p.els.sign.disabled, false, 'button enabled again');
    assert.strictEqual(p.assigned.length, 0);
  },

  'rate limited': async () => {
    const routes = happyRoutes([key1]);
    routes['POST /login/challenge'] = () => reply(429, { error: 'rate_limited', error_description: 'wait a minute' });
    const p = page(routes);
    await settle();
    await p.els.sign.fire('click');
    await settle();
    assert.strictEqual(p.els.status.textContent, attrs.msgRateLimited + ' (wait a minute)');
    assert.strictEqual(p.calls.length, 2, 'nothing sent to the agent');
  },

  'challenge expired': async () => {
    const routes = happyRoutes([key1]);
    routes['POST /login/certificate'] = () => reply(400, { error: 'challenge_expired', error_description: 'ask for a new one' });
    const p = page(routes);
    await settle();
    await p.els.sign.fire('click');
    await settle();
    assert.strictEqual(p.els.status.textContent, attrs.msgChallengeExpired + ' (ask for a new one)');
  },

  'agent stops while signing': async () => {
    const routes = happyRoutes([key1]);
    routes['POST ' + AGENT + '/v1/sign'] = () => { throw new TypeError('Failed to fetch'); };
    const p = page(routes);
    await settle();
    await p.els.sign.fire('click');
    await settle();
    assert.strictEqual(p.els.status.textContent, attrs.msgUnreachable);
    assert.strictEqual(p.els.sign.disabled, false);
    assert.strictEqual(p.calls.length, 3, 'no certificate post without a signature');
  },

  'agent refuses to sign': async () => {
    const routes = happyRoutes([key1]);
    routes['POST ' + AGENT + '/v1/sign'] = () => reply(400, { error: 'cancelled by the user' });
    const p = page(routes);
    await settle();
    await p.els.sign.fire('click');
    await settle();
    assert.strictEqual(p.els.status.textContent, attrs.msgFailed + ' (cancelled by the user)');
  },

  'server answers with no JSON': async () => {
    const routes = happyRoutes([key1]);
    routes['POST /login/challenge'] = () => reply(502);
    const p = page(routes);
    await settle();
    await p.els.sign.fire('click');
    await settle();
    assert.strictEqual(p.els.status.textContent, attrs.msgFailed);
  },

  'javascript: redirect refused': async () => {
    const p = page(happyRoutes([key1], 'javascript:alert(1)'));
    await settle();
    await p.els.sign.fire('click');
    await settle();
    assert.deepStrictEqual(p.assigned, []);
    assert.strictEqual(p.els.status.className, 'status error');
  },

  'relative redirect resolved': async () => {
    const p = page(happyRoutes([key1], '/consent?request=req-1'));
    await settle();
    await p.els.sign.fire('click');
    await settle();
    assert.deepStrictEqual(p.assigned, ['https://id.example/consent?request=req-1']);
  },

  'double click signs once': async () => {
    const p = page(happyRoutes([key1]));
    await settle();
    await Promise.all([p.els.sign.fire('click'), p.els.sign.fire('click')]);
    await settle();
    assert.strictEqual(p.calls.filter((c) => c.key === 'POST /login/challenge').length, 1);
  },

  'bad agent URL': async () => {
    const saved = attrs.agent;
    attrs.agent = 'javascript:alert(1)';
    try {
      const p = page(happyRoutes([key1]));
      await settle();
      assert.strictEqual(p.calls.length, 0);
      assert.strictEqual(p.els.status.textContent, attrs.msgUnreachable);
    } finally {
      attrs.agent = saved;
    }
  },
};

(async () => {
  let failed = 0;
  for (const [name, fn] of Object.entries(scenarios)) {
    try {
      await fn();
      console.log('ok   ' + name);
    } catch (e) {
      failed++;
      console.log('FAIL ' + name + ': ' + (e && e.message));
    }
  }
  process.exit(failed ? 1 : 0);
})();
