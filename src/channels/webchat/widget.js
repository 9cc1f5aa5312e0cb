// The web chat widget of triage. One script tag on any page of the municipality's site adds it:
//   <script src="https://triage.example/webchat/widget.js" async></script>
// (optional: data-title="Gemeente Terneuzen"). Plain JS, no framework, no build step.
//
// - A chat button (bottom right) opens a panel in a shadow root, so the site's styles leave it
//   alone and its styles leave the site alone. Keyboard: focus moves into the panel; Escape
//   closes it and returns focus to the button.
// - The visitor's key comes from POST /webchat/session on the first open and stays in
//   localStorage; every request carries it in the X-Webchat-Visitor header. A key the service
//   refuses (401: not one it issued) is dropped and a new one asked for, once per key.
// - Messages (the visitor's, the bot's, the agents') come from GET /webchat/history and live
//   from GET /webchat/stream (server-sent events read with fetch, since EventSource cannot send
//   a header), which reconnects with backoff and catches up from the last cursor. While the
//   stream is refused (429: too many open) or down, the widget reads the history every few
//   seconds instead, so replies keep coming.
// - Every text a resident or the bot wrote is put in text nodes, never in innerHTML; links are
//   made of http(s) URLs only.
(function () {
  'use strict';
  if (window.__triageWebchat) return;
  window.__triageWebchat = true;

  const script = document.currentScript
    || Array.from(document.querySelectorAll('script[src]')).find((s) => /\/webchat\/widget\.js(\?|$)/.test(s.src));
  if (!script) return;
  const API = new URL('./', script.src).href; // …/webchat/
  const MAX_CHARS = Number('{{max_text_chars}}') || 4096;
  const TITLE = (script.dataset && script.dataset.title) || 'de gemeente';
  const KEY_ITEM = 'triage-webchat-visitor';
  const OPEN_ITEM = 'triage-webchat-open';
  const ACTIVE_ITEM = 'triage-webchat-wrote';
  const WHO = { visitor: 'Jij', bot: 'Digitale assistent', agent: 'Medewerker' };

  // -- storage (a browser that refuses it keeps the key for this page only) -------------------
  const memory = {};
  function load(store, name) {
    try { return window[store].getItem(name); } catch (e) { return memory[store + name] || null; }
  }
  function save(store, name, value) {
    try { window[store].setItem(name, value); } catch (e) { memory[store + name] = value; }
  }
  function forget(store, name) {
    try { window[store].removeItem(name); } catch (e) { /* kept in memory only */ }
    delete memory[store + name];
  }

  // -- DOM helpers ----------------------------------------------------------------------------
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v !== null && v !== undefined && v !== false) node.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children) node.append(typeof c === 'string' ? document.createTextNode(c) : c);
    return node;
  }
  function svg(path) {
    const ns = 'http://www.w3.org/2000/svg';
    const s = document.createElementNS(ns, 'svg');
    s.setAttribute('viewBox', '0 0 24 24');
    s.setAttribute('aria-hidden', 'true');
    s.setAttribute('focusable', 'false');
    const p = document.createElementNS(ns, 'path');
    p.setAttribute('d', path);
    s.append(p);
    return s;
  }
  const ICON_CHAT = 'M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z';
  const ICON_CLOSE = 'M6 6l12 12M18 6L6 18';
  const ICON_SEND = 'M3 20l18-8L3 4v6l12 2-12 2z';

  // Text with its http(s) links clickable; everything else stays text.
  const URL_RE = /https?:\/\/[^\s<>"'()]+/gi;
  function linked(node, text) {
    let last = 0;
    for (const m of text.matchAll(URL_RE)) {
      const raw = m[0].replace(/[.,;:!?]+$/, '');
      node.append(document.createTextNode(text.slice(last, m.index)));
      let href = null;
      try {
        const u = new URL(raw);
        if (u.protocol === 'https:' || u.protocol === 'http:') href = u.href;
      } catch (e) { href = null; }
      if (href) {
        node.append(el('a', { href, target: '_blank', rel: 'noopener noreferrer nofollow' },
          raw, el('span', { class: 'sr' }, ' (opent in een nieuw venster)')));
      } else {
        node.append(document.createTextNode(raw));
      }
      last = m.index + raw.length;
    }
    node.append(document.createTextNode(text.slice(last)));
  }

  function clock(at) {
    const d = new Date(at);
    if (isNaN(d)) return '';
    return d.toLocaleTimeString('nl-NL', { hour: '2-digit', minute: '2-digit' });
  }

  function randomId() {
    const b = new Uint8Array(12);
    crypto.getRandomValues(b);
    return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  }

  // -- the widget -----------------------------------------------------------------------------
  const host = el('triage-webchat', { 'data-test': 'webchat' });
  host.hidden = true;
  const root = host.attachShadow({ mode: 'open' });
  const css = el('link', { rel: 'stylesheet', href: API + 'widget.css' });
  css.addEventListener('load', () => { host.hidden = false; });
  css.addEventListener('error', () => { console.warn('triage web chat: widget.css did not load'); });

  const badge = el('span', { class: 'badge', hidden: true, 'data-test': 'webchat-unread' });
  const launcher = el('button', {
    type: 'button', class: 'launcher', 'aria-expanded': 'false', 'aria-controls': 'panel',
    'data-test': 'webchat-launcher',
  }, svg(ICON_CHAT), el('span', {}, 'Chat met ons'), badge);

  const title = el('h2', { id: 'title' }, 'Chat met ' + TITLE);
  const closeButton = el('button', {
    type: 'button', class: 'close', 'aria-label': 'Chat sluiten', 'data-test': 'webchat-close',
  }, svg(ICON_CLOSE));
  const log = el('div', {
    class: 'log', role: 'log', 'aria-live': 'polite', 'aria-label': 'Gesprek', tabindex: '0',
    'data-test': 'webchat-log',
  });
  const intro = el('div', { class: 'msg bot intro' },
    el('p', { class: 'text' }, 'Hoi! 👋 Stel hier je vraag aan ' + TITLE + '. De digitale assistent helpt je meteen, '
      + 'en zet je vraag door naar een collega als dat nodig is.'));
  log.append(intro);
  const typing = el('div', { class: 'typing', hidden: true, 'aria-hidden': 'true' },
    el('span', {}), el('span', {}), el('span', {}));
  log.append(typing);
  const status = el('p', { class: 'status', role: 'status', 'data-test': 'webchat-status' });
  const input = el('textarea', {
    id: 'input', rows: '1', dir: 'auto', maxlength: String(MAX_CHARS), 'aria-describedby': 'count privacy',
    placeholder: 'Typ je vraag…', 'data-test': 'webchat-input', autocomplete: 'off',
  });
  const count = el('span', { id: 'count', class: 'count', 'aria-live': 'off' }, '');
  const sendButton = el('button', {
    type: 'submit', class: 'send', 'aria-label': 'Versturen', 'data-test': 'webchat-send',
  }, svg(ICON_SEND));
  const form = el('form', { class: 'compose', novalidate: true },
    el('label', { for: 'input', class: 'sr' }, 'Je bericht'), input, sendButton);
  const privacy = el('p', { id: 'privacy', class: 'privacy' },
    'Deel geen BSN, rekeningnummer of andere persoonsgegevens in de chat.');
  const panel = el('section', {
    id: 'panel', class: 'panel', role: 'dialog', 'aria-modal': 'false', 'aria-labelledby': 'title',
    hidden: true, 'data-test': 'webchat-panel',
  },
  el('header', {}, title, closeButton), log, status, form, el('div', { class: 'foot' }, privacy, count));
  root.append(css, launcher, panel);

  // -- state ----------------------------------------------------------------------------------
  let key = load('localStorage', KEY_ITEM);
  let cursor = 0;
  const shown = new Map(); // message id → element
  let started = null;
  let streaming = null; // AbortController of the open stream
  let backoff = 1000;
  let renewing = null; // the request for a new key, while one is under way
  const POLL_MS = 3000; // reading the history while the stream is refused or down
  let unread = 0;
  let pending = null; // { text, id }: a text being sent, with its client id (a retry reuses it)
  let typingTimer = null;

  function setStatus(text) { status.textContent = text || ''; }

  function updateCount() {
    const n = Array.from(input.value).length;
    count.textContent = n + ' / ' + MAX_CHARS + ' tekens';
    count.classList.toggle('near', n > MAX_CHARS * 0.9);
  }

  function showTyping(on) {
    clearTimeout(typingTimer);
    typing.hidden = !on;
    if (on) {
      log.append(typing);
      typingTimer = setTimeout(() => { typing.hidden = true; }, 10000);
      scrollDown();
    }
  }

  function scrollDown() { log.scrollTop = log.scrollHeight; }

  function updateBadge() {
    badge.hidden = unread === 0;
    badge.textContent = unread === 0 ? '' : String(unread);
    const label = unread === 0 ? null : (unread === 1 ? '1 nieuw bericht' : unread + ' nieuwe berichten');
    if (label) badge.setAttribute('aria-label', label); else badge.removeAttribute('aria-label');
  }

  // -- messages -------------------------------------------------------------------------------
  function renderMessage(m) {
    const from = WHO[m.from] ? m.from : 'bot';
    const item = el('div', { class: 'msg ' + from, 'data-test': 'webchat-message', 'data-from': from, 'data-id': m.id });
    // `dir="auto"`: right-to-left text (Arabic) reads from the right. The spoken label stays
    // outside, so that its Latin letters do not decide the direction.
    const text = el('p', { class: 'text', dir: 'auto' });
    linked(text, String(m.text || ''));
    item.append(el('span', { class: 'sr' }, WHO[from] + ': '), text);
    if (Array.isArray(m.buttons) && m.buttons.length) {
      const row = el('div', { class: 'buttons', role: 'group', 'aria-label': 'Antwoordknoppen' });
      for (const b of m.buttons) {
        const button = el('button', { type: 'button', class: 'reply', 'data-test': 'webchat-button' }, String(b.title));
        button.addEventListener('click', () => tap(b, row));
        row.append(button);
      }
      item.append(row);
    }
    item.append(el('span', { class: 'time' }, (from === 'agent' ? 'Medewerker · ' : '') + clock(m.at)));
    return item;
  }

  function addMessages(list) {
    let added = 0;
    let replies = 0;
    for (const m of list || []) {
      if (typeof m.id !== 'number' || shown.has(m.id)) continue;
      const node = renderMessage(m);
      let next = null;
      let nextId = Infinity;
      for (const [id, n] of shown) if (id > m.id && id < nextId) { next = n; nextId = id; }
      log.insertBefore(node, next || typing);
      shown.set(m.id, node);
      added += 1;
      if (m.from !== 'visitor') replies += 1;
    }
    if (!added) return;
    // Only the newest message's buttons can be tapped.
    const newest = Math.max(...shown.keys());
    for (const [id, n] of shown) {
      for (const b of n.querySelectorAll('button.reply')) {
        if (id !== newest) b.disabled = true;
      }
    }
    if (replies) {
      showTyping(false);
      if (panel.hidden) { unread += replies; updateBadge(); }
    }
    scrollDown();
  }

  function page(p) {
    if (!p) return;
    addMessages(p.messages);
    if (typeof p.cursor === 'number' && p.cursor > cursor) cursor = p.cursor;
  }

  // -- the API --------------------------------------------------------------------------------
  const FALLBACK = {
    403: 'Deze website mag de chat van de gemeente niet gebruiken.',
    413: 'Dit bericht is te groot voor de chat. Maak het korter.',
    429: 'Je stuurt veel berichten snel achter elkaar. Wacht even en probeer het opnieuw.',
  };
  function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }
  // Seconds from a Retry-After header (readable cross-site: the service exposes it).
  function retryAfter(res) {
    const n = Number(res.headers.get('Retry-After'));
    return n > 0 ? n : null;
  }

  // `path` may be a function: it is read again when the request is repeated with a new key.
  async function call(method, path, body, repeated) {
    const used = key;
    const headers = { Accept: 'application/json' };
    if (key) headers['X-Webchat-Visitor'] = key;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let res;
    try {
      res = await fetch(API + (typeof path === 'function' ? path() : path), {
        method, headers, body: body === undefined ? undefined : JSON.stringify(body),
        cache: 'no-store', credentials: 'omit', mode: 'cors',
      });
    } catch (e) {
      const err = new Error('Geen verbinding met de chat. Controleer je internet en probeer het opnieuw.');
      err.status = 0;
      throw err;
    }
    if (res.status === 401 && used && !repeated) {
      // Not a key the service issued (or no longer): a new visitor, and the request again.
      await renewKey(used);
      return call(method, path, body, true);
    }
    let data = null;
    try { data = await res.json(); } catch (e) { data = null; }
    if (!res.ok) {
      const err = new Error((data && data.message) || FALLBACK[res.status] || 'Er ging iets mis. Probeer het zo opnieuw.');
      err.status = res.status;
      err.retryAfter = retryAfter(res);
      throw err;
    }
    return data;
  }

  // Drops the refused key `used` (unless another request did already) and asks for a new one.
  // What was shown belonged to the old key's conversation, which the new key does not read.
  async function renewKey(used) {
    if (key === used) {
      key = null;
      forget('localStorage', KEY_ITEM);
      cursor = 0;
      for (const n of shown.values()) n.remove();
      shown.clear();
    }
    if (!renewing) renewing = ensureKey().finally(() => { renewing = null; });
    await renewing;
  }

  async function ensureKey() {
    if (key) return;
    const d = await call('POST', 'session');
    if (!d || typeof d.visitor !== 'string') throw new Error('De chat kon niet starten. Probeer het zo opnieuw.');
    key = d.visitor;
    save('localStorage', KEY_ITEM, key);
  }

  async function catchUp() {
    for (let i = 0; i < 50; i += 1) {
      const p = await call('GET', () => 'history?after=' + cursor);
      page(p);
      if (!p || !p.more) return;
    }
  }

  // Server-sent events over fetch: `event:` and `data:` lines, a blank line ends an event.
  async function stream() {
    const controller = new AbortController();
    streaming = controller;
    const used = key;
    let res;
    try {
      res = await fetch(API + 'stream?after=' + cursor, {
        headers: { Accept: 'text/event-stream', 'X-Webchat-Visitor': key },
        cache: 'no-store', credentials: 'omit', mode: 'cors', signal: controller.signal,
      });
    } catch (e) {
      if (e && e.name === 'AbortError') throw e;
      const err = new Error('stream: no connection');
      err.status = 0;
      throw err;
    }
    if (!res.ok || !res.body) {
      const err = new Error('stream ' + res.status);
      err.status = res.status;
      err.key = used;
      err.retryAfter = retryAfter(res);
      throw err;
    }
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, '\n');
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let type = 'message';
        const data = [];
        for (const line of block.split('\n')) {
          if (line.startsWith('event:')) type = line.slice(6).trim();
          else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
        }
        if (type === 'messages' && data.length) {
          try { page(JSON.parse(data.join('\n'))); } catch (e) { /* a broken event: the next one catches up */ }
          backoff = 1000;
          if (status.dataset.offline) { delete status.dataset.offline; setStatus(''); }
        }
      }
    }
  }

  // Reads the history every few seconds until `until` (a time): replies keep coming while the
  // stream is refused or down. A refused read waits as long as the service asks.
  async function poll(until) {
    while (Date.now() < until) {
      await sleep(Math.min(POLL_MS, Math.max(0, until - Date.now())));
      try {
        await catchUp();
        if (status.dataset.offline) { delete status.dataset.offline; setStatus(''); }
      } catch (e) {
        if (e && e.status === 429) await sleep(Math.min((e.retryAfter || 10) * 1000, 60000));
      }
    }
  }

  async function live() {
    let failures = 0;
    for (;;) {
      let wait = 500;
      try {
        await stream();
        failures = 0;
      } catch (e) {
        if (e && e.name === 'AbortError') return;
        let renewed = false;
        if (e && e.status === 401) {
          // Not a key the service issued: a new one, then the stream again at once.
          try { await renewKey(e.key); renewed = true; } catch (e2) { setStatus(e2.message); }
        }
        if (renewed) continue;
        if (e && e.status === 429) {
          // Too many streams open: read the history instead, and try the stream again later.
          wait = Math.min((e.retryAfter || 60) * 1000, 300000) * (0.75 + Math.random() * 0.5);
        } else {
          failures += 1;
          if (failures >= 2) { status.dataset.offline = '1'; setStatus('De verbinding is weg. De chat probeert het opnieuw…'); }
          wait = Math.min(backoff, 30000) * (0.75 + Math.random() * 0.5);
          backoff = Math.min(backoff * 2, 30000);
        }
      }
      if (wait > POLL_MS) await poll(Date.now() + wait); else await sleep(wait);
    }
  }

  function start() {
    if (!started) {
      started = (async () => {
        await ensureKey();
        await catchUp();
        live();
      })().catch((e) => { started = null; setStatus(e.message); });
    }
    return started;
  }

  // -- sending --------------------------------------------------------------------------------
  function busy(on) {
    sendButton.disabled = on;
    form.setAttribute('aria-busy', on ? 'true' : 'false');
  }

  async function deliver(body) {
    await start();
    await ensureKey();
    await call('POST', 'send', body);
    save('localStorage', ACTIVE_ITEM, String(Date.now()));
    showTyping(true);
    await catchUp();
  }

  // Messages go one after the other, in the order typed. The box is emptied at once, so what
  // the visitor types while one is still on its way is never wiped when that one arrives; a
  // message that could not go comes back into an empty box (and goes with the same id again).
  let queue = Promise.resolve();
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) { setStatus('Typ eerst je bericht.'); input.focus(); return; }
    if (Array.from(text).length > MAX_CHARS) {
      setStatus('Je bericht is te lang: hoogstens ' + MAX_CHARS + ' tekens.');
      return;
    }
    const item = pending && pending.text === text ? pending : { text, id: randomId() };
    pending = item;
    input.value = '';
    updateCount();
    setStatus('');
    queue = queue.then(async () => {
      busy(true);
      try {
        await deliver({ text: item.text, client_id: item.id });
        if (pending === item) pending = null;
      } catch (e) {
        setStatus(e.message);
        if (!input.value) { input.value = item.text; updateCount(); }
      } finally {
        busy(false);
        input.focus();
      }
    });
  });

  async function tap(button, row) {
    for (const b of row.querySelectorAll('button')) b.disabled = true;
    setStatus('');
    try {
      await deliver({ button_id: String(button.id), button_title: String(button.title), client_id: randomId() });
    } catch (e) {
      for (const b of row.querySelectorAll('button')) b.disabled = false;
      setStatus(e.message);
    }
    input.focus();
  }

  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  input.addEventListener('input', () => {
    updateCount();
    input.style.height = 'auto';
    input.style.height = Math.min(input.scrollHeight, 120) + 'px';
  });

  // -- opening and closing --------------------------------------------------------------------
  function open(focus = true) {
    panel.hidden = false;
    host.classList.add('open');
    launcher.setAttribute('aria-expanded', 'true');
    save('sessionStorage', OPEN_ITEM, '1');
    unread = 0;
    updateBadge();
    if (focus) input.focus();
    scrollDown();
    start();
  }
  function close() {
    panel.hidden = true;
    host.classList.remove('open');
    launcher.setAttribute('aria-expanded', 'false');
    save('sessionStorage', OPEN_ITEM, '0');
    launcher.focus();
  }
  launcher.addEventListener('click', () => (panel.hidden ? open(true) : close()));
  closeButton.addEventListener('click', close);
  root.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && !panel.hidden) {
      event.preventDefault();
      close();
    }
  });

  updateCount();
  function mount() {
    document.body.append(host);
    // Open again on the next page of the site if it was open (without taking the focus); listen
    // for replies if the visitor wrote in the last day.
    const wrote = Number(load('localStorage', ACTIVE_ITEM)) || 0;
    if (load('sessionStorage', OPEN_ITEM) === '1') open(false);
    else if (key && Date.now() - wrote < 24 * 3600 * 1000) start();
  }
  if (document.body) mount(); else document.addEventListener('DOMContentLoaded', mount);
})();
