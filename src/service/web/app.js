// triage's shared front-end helpers: sessions, the API, the top navigation, formatting, live events.
// Plain JavaScript on purpose: the binary serves every asset itself and the service runs offline.
'use strict';

(function () {
  const TZ = 'Europe/Amsterdam';
  let me = null;

  /** Builds an element: h('a', {href: '/x', class: 'btn', onclick: f}, 'text', child…). */
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k === 'text') el.textContent = v;
      else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
      else if (v === true) el.setAttribute(k, '');
      else el.setAttribute(k, String(v));
    }
    for (const c of children.flat(Infinity)) {
      if (c === null || c === undefined || c === false) continue;
      el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
  }

  /** Replaces an element's children: nodes, strings, arrays of them; null and false are skipped. */
  function fill(el, ...children) {
    el.replaceChildren(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false)
      .map((c) => (c instanceof Node ? c : document.createTextNode(String(c)))));
    return el;
  }

  /** Text with its https links clickable (as WhatsApp shows them), as nodes: never innerHTML. */
  function linkify(text) {
    const out = [];
    const re = /https:\/\/[^\s)]+/g;
    let last = 0;
    let m;
    while ((m = re.exec(text))) {
      out.push(text.slice(last, m.index));
      out.push(h('a', { href: m[0], target: '_blank', rel: 'noopener noreferrer' }, m[0]));
      last = m.index + m[0].length;
    }
    out.push(text.slice(last));
    return out;
  }

  /** A JSON request to the API with the session's CSRF token; throws {status, error, message}. */
  async function api(method, path, body) {
    const headers = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (method !== 'GET' && me && me.csrf) headers['X-CSRF-Token'] = me.csrf;
    let res;
    try {
      res = await fetch(path, {
        method, headers, credentials: 'same-origin',
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      throw { status: 0, error: 'network', message: 'De server is niet bereikbaar. Probeer het zo opnieuw.' };
    }
    const text = await res.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (e) { data = { message: text }; }
    if (res.status === 401 && path !== '/auth/login') {
      toLogin();
      throw { status: 401, error: 'unauthorized', message: 'Je bent niet (meer) aangemeld.' };
    }
    if (!res.ok) {
      // `body`: the whole answer, for what an error carries besides its message.
      throw { status: res.status, error: (data && data.error) || 'error', message: (data && data.message) || res.statusText, body: data };
    }
    return data;
  }

  function toLogin() {
    const next = location.pathname + location.search;
    location.assign('/login?next=' + encodeURIComponent(next));
  }

  const PAGES = [
    ['inbox', '/inbox', 'Inbox', () => true],
    ['editor', '/editor', 'Redactie', (u) => u.role !== 'agent'],
    ['reports', '/reports', 'Rapportages', () => true],
  ];

  /** Checks the session, draws the navigation and resolves to the signed-in user. */
  async function start(page) {
    me = await api('GET', '/api/me');
    const top = document.getElementById('top');
    const links = PAGES.filter(([, , , allowed]) => allowed(me)).map(([id, href, label]) =>
      h('a', { href, 'aria-current': id === page ? 'page' : null }, label));
    if (me.demo) links.push(h('a', { href: '/' }, 'Simulator'));
    top.replaceChildren(h('nav', { 'aria-label': 'Hoofdmenu' },
      h('span', { class: 'brand' }, 'triage'), links,
      h('span', { class: 'spacer' }),
      h('span', { class: 'live hidden', id: 'live', role: 'status' }),
      h('span', { class: 'who', 'data-test': 'who' }, me.name + ' · ' + roleName(me.role)),
      h('button', { type: 'button', onclick: logout, 'data-test': 'logout' }, 'Afmelden')));
    if (!document.getElementById('toasts')) document.body.append(h('div', { id: 'toasts', 'aria-live': 'polite' }));
    return me;
  }

  async function logout() {
    try { await api('POST', '/auth/logout'); } catch (e) { /* signed out anyway */ }
    location.assign('/login');
  }

  function roleName(role) {
    return { agent: 'medewerker', editor: 'redacteur', admin: 'beheerder' }[role] || role;
  }

  /** "45 min", "1 u 05 min", "2 d 3 u": a business-time duration in seconds. */
  function duration(seconds) {
    const s = Math.max(0, Math.round(seconds || 0));
    if (s < 60) return s + ' s';
    const m = Math.floor(s / 60);
    if (m < 60) return m + ' min';
    const hrs = Math.floor(m / 60);
    if (hrs < 24) return hrs + ' u ' + String(m % 60).padStart(2, '0') + ' min';
    return Math.floor(hrs / 24) + ' d ' + (hrs % 24) + ' u';
  }

  const dtf = new Intl.DateTimeFormat('nl-NL', { timeZone: TZ, weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
  /** "ma 23 nov 14:05" in the office's timezone. */
  function dateTime(iso) { return iso ? dtf.format(new Date(iso)) : ''; }

  function toast(message, kind) {
    const box = document.getElementById('toasts') || document.body.appendChild(h('div', { id: 'toasts' }));
    const t = h('div', { class: 'toast ' + (kind || ''), role: kind === 'error' ? 'alert' : 'status' }, message);
    box.append(t);
    setTimeout(() => t.remove(), kind === 'error' ? 8000 : 2500);
  }

  /** Live events (server-sent): calls onEvent(data) for each; shows the connection state. */
  function events(onEvent) {
    const live = document.getElementById('live');
    const source = new EventSource('/api/events');
    const show = (ok) => {
      if (!live) return;
      live.classList.remove('hidden');
      live.classList.toggle('off', !ok);
      live.textContent = ok ? 'live' : 'verbinding weg…';
    };
    source.onopen = () => show(true);
    source.onerror = () => show(false);
    source.addEventListener('change', (e) => {
      try { onEvent(JSON.parse(e.data)); } catch (err) { /* a malformed event is skipped */ }
    });
    return source;
  }

  window.triage = { h, fill, linkify, api, start, duration, dateTime, toast, events, roleName, get me() { return me; } };
})();
