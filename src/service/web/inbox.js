// The agents' inbox: queues per department, the conversations waiting in them, and one
// conversation with its whole history, what the bot decided and why, and the actions (claim,
// reply, forward, resolve, reopen). Changes arrive live over server-sent events.
//
// The address holds only a queue id or a conversation id (#q=burgerzaken, #c=12): never a number
// or a name, and never a search (it may hold either). Every piece of data comes from the API,
// which checks access each time.
//
// Built for a long queue worked by keyboard: the queue is read a page at a time with search and
// filters on the server; the list is updated in place (never redrawn whole), so focus stays where
// the agent is through live updates; the list is one Tab stop (roving tabindex, arrows inside);
// live updates are drawn at most every REDRAW_MS with a trailing update, so a burst never stalls
// the page.
'use strict';

(function () {
  const { h, fill, linkify, api, duration, dateTime, toast } = triage;
  const GOAL = { on_time: ['ok', 'op tijd'], due_soon: ['warn', 'bijna te laat'], late: ['late', 'te laat'] };
  const PHASE = {
    bot: 'bij de bot', queued: 'in de wachtrij', with_agent: 'in behandeling',
    awaiting_follow_up: 'wacht op antwoord op de nazorgvraag', resolved: 'afgerond',
  };
  const OUTCOME = {
    faq: 'beantwoord met een FAQ', clarify: 'teruggevraagd welk onderwerp', privacy_redirect: 'doorverwezen (privacy)', handover: 'overgedragen',
    to_agent: 'naar de medewerker', follow_up: 'nazorgvraag gesteld', follow_up_yes: 'nazorg: nog nodig',
    follow_up_no: 'nazorg: niet meer nodig', follow_up_other: 'nazorg: ander bericht', ignored: 'genegeerd',
    follow_up_blocked: 'nazorg: kanaal staat het niet toe, bovenaan de wachtrij',
  };
  /** The channels in use, from `/api/me`: their names, marks and colours. */
  let channels = {};
  const REASONS = [
    ['call_back', 'De inwoner vraagt om teruggebeld te worden'],
    ['urgent', 'Dringend: ik moet de inwoner bellen'],
  ];
  /** Live updates are drawn at most this often; the last change is always drawn (trailing). */
  const REDRAW_MS = 400;
  const PAGE = 50;
  const SHORTCUTS = [
    ['j / k', 'volgende / vorige gesprek openen'],
    ['↓ / ↑', 'door de lijst bewegen (in de lijst); Enter opent'],
    ['/', 'zoeken in de wachtrij'],
    ['p', 'het open gesprek oppakken'],
    ['n', 'volgende oppakken: de langst wachtende die niemand heeft'],
    ['r', 'naar het antwoordvak'],
    ['Ctrl+Enter', 'antwoord versturen'],
    ['?', 'deze sneltoetsen tonen'],
    ['Esc', 'venster sluiten'],
  ];

  /** One step of the bot's reasons: a string today, an object with a Dutch `text` soon. */
  const stepText = (s) => (typeof s === 'string' ? s : (s && s.text) || '');

  const nf = new Intl.NumberFormat('nl-NL');
  let me = null;
  let canned = [];
  let queues = [];
  let selected = { queue: null, conversation: null };
  const filter = { q: '', channel: '', state: '', late: false, offset: 0 };
  let total = 0;
  let current = null; // the open conversation as the API last returned it
  let openIndex = 0; // where the open conversation was in the list when last seen

  document.body.classList.add('inbox-page');
  const main = document.getElementById('main');
  const skip = h('a', { class: 'skip-link', href: '#gesprekken', 'data-test': 'skip-link' }, 'Naar de lijst met gesprekken');
  skip.addEventListener('click', (e) => { e.preventDefault(); focusList(); });
  document.body.prepend(skip);

  const side = h('nav', { class: 'queues card', 'aria-label': 'Wachtrijen', 'data-test': 'queue-list' });
  const queueLinks = h('div', { class: 'queue-links' });
  const helpButton = h('button', { type: 'button', class: 'linkish', 'data-test': 'shortcuts-button', onclick: () => openHelp() }, 'Sneltoetsen (?)');
  fill(side, h('h2', {}, 'Wachtrijen'), queueLinks,
    h('p', { class: 'hint small muted', 'data-test': 'shortcuts-hint' },
      h('kbd', {}, 'j'), '/', h('kbd', {}, 'k'), ' volgende/vorige · ', h('kbd', {}, '/'), ' zoeken · ', helpButton));

  const list = h('section', { class: 'list card', 'aria-labelledby': 'list-title', id: 'gesprekken' });
  const listTitle = h('h2', { id: 'list-title' });
  const searchInput = h('input', { type: 'search', id: 'search', 'data-test': 'search', maxlength: '100', autocomplete: 'off',
    placeholder: 'Naam, tekst of laatste 4 cijfers' });
  const channelPick = h('select', { id: 'filter-channel', 'data-test': 'filter-channel' },
    h('option', { value: '' }, 'Alle kanalen'));
  const statePick = h('select', { id: 'filter-state', 'data-test': 'filter-state' },
    h('option', { value: '' }, 'Alle'), h('option', { value: 'queued' }, 'In de wachtrij'),
    h('option', { value: 'awaiting_follow_up' }, 'Wacht op nazorgantwoord'), h('option', { value: 'again' }, 'Opnieuw gemeld'));
  const lateBox = h('input', { type: 'checkbox', id: 'filter-late', 'data-test': 'filter-late' });
  const searchForm = h('form', { class: 'search', role: 'search', 'aria-label': 'Zoeken in de wachtrij' },
    h('label', { for: 'search', class: 'sr-only' }, 'Zoeken'), searchInput,
    h('div', { class: 'filters' },
      h('label', { for: 'filter-channel', class: 'sr-only' }, 'Kanaal'), channelPick,
      h('label', { for: 'filter-state', class: 'sr-only' }, 'Status'), statePick,
      h('span', { class: 'check' }, lateBox, h('label', { for: 'filter-late' }, 'alleen te laat'))));
  const nextButton = h('button', { type: 'button', class: 'primary', 'data-test': 'claim-next', onclick: () => claimNext() }, 'Volgende oppakken');
  const summary = h('p', { class: 'summary small muted', 'data-test': 'list-summary', role: 'status' });
  const items = h('ul', { class: 'items', 'data-test': 'items', 'aria-labelledby': 'list-title' });
  const prevPage = h('button', { type: 'button', 'data-test': 'page-prev', onclick: () => page(-1) }, '‹ Vorige');
  const nextPage = h('button', { type: 'button', 'data-test': 'page-next', onclick: () => page(1) }, 'Volgende ›');
  const listError = h('p', { class: 'error hidden', 'data-test': 'error' });
  const empty = h('p', { class: 'muted hidden' });
  fill(list, h('div', { class: 'list-head' }, listTitle, nextButton), searchForm, summary, listError, empty,
    h('div', { class: 'items-scroll' }, items), h('div', { class: 'pager' }, prevPage, nextPage));

  const view = h('section', { class: 'view card', 'aria-label': 'Gesprek', tabindex: '-1' });
  const help = h('dialog', { class: 'help card', 'aria-labelledby': 'help-title', 'data-test': 'shortcuts-help' },
    h('h2', { id: 'help-title' }, 'Sneltoetsen'),
    h('dl', {}, SHORTCUTS.map(([k, d]) => [h('dt', {}, h('kbd', {}, k)), h('dd', {}, d)])),
    h('form', { method: 'dialog' }, h('button', { class: 'primary', 'data-test': 'shortcuts-close' }, 'Sluiten')));
  let helpReturn = null;
  help.addEventListener('close', () => {
    const id = helpReturn && helpReturn.dataset && helpReturn.dataset.id;
    const back = helpReturn && helpReturn.isConnected ? helpReturn
      : (id && items.querySelector('[data-test=conversation-item][data-id="' + id + '"]'))
        || (helpReturn && helpReturn.dataset && helpReturn.dataset.test && view.querySelector('[data-test="' + helpReturn.dataset.test + '"]'));
    if (back) back.focus();
    helpReturn = null;
  });

  triage.start('inbox').then(async (user) => {
    me = user;
    channels = Object.fromEntries((me.channels || []).map((c) => [c.id, c]));
    channelPick.append(...(me.channels || []).map((c) => h('option', { value: c.id }, c.title)));
    main.classList.add('inbox');
    fill(main, side, list, view);
    document.body.append(help);
    readHash();
    // Listening from the start: an address changed while the first round loads is not lost.
    window.addEventListener('hashchange', () => {
      const before = { ...selected };
      readHash();
      if (before.queue !== selected.queue) filter.offset = 0;
      for (const a of cards()) a.classList.toggle('active', Number(a.dataset.id) === selected.conversation);
      schedule({ queues: before.queue !== selected.queue, list: true, conversation: before.conversation !== selected.conversation }, true);
    });
    api('GET', '/api/canned').then((r) => { canned = r.canned; }).catch(() => {});
    await refreshAll();
    triage.events(onChange);
    // A slow safety net: waiting times grow and deliveries change without an event of ours.
    setInterval(() => schedule({ queues: true, list: true, conversation: true }), 30000);
  }).catch((e) => showError(main, e));

  function readHash() {
    const p = new URLSearchParams(location.hash.slice(1));
    const c = parseInt(p.get('c'), 10);
    selected.conversation = Number.isFinite(c) ? c : null;
    selected.queue = p.get('q') || selected.queue || 'mine';
  }

  function go(queue, conversation) {
    const p = new URLSearchParams();
    if (queue) p.set('q', queue);
    if (conversation) p.set('c', conversation);
    const next = '#' + p.toString();
    if (location.hash !== next) location.hash = next;
    else schedule({ list: true, conversation: true }, true);
  }

  // -------------------------------------------------------------------------------------------
  // Redrawing: what changed, at most every REDRAW_MS, the last change always drawn.

  let pending = {};
  let waiters = [];
  let timer = null;
  let running = false;
  let urgent = false;
  let lastRun = 0;

  /** Asks for parts of the page to be drawn again; `now` skips the pause (the agent acted).
   * Resolves once they are drawn. */
  function schedule(parts, now) {
    for (const [k, v] of Object.entries(parts)) if (v) pending[k] = true;
    const done = new Promise((resolve) => waiters.push(resolve));
    if (!running) arm(now);
    else if (now) urgent = true;
    return done;
  }

  function arm(now) {
    if (timer && !now) return; // already due: this change is drawn with it
    clearTimeout(timer);
    const wait = now ? 0 : Math.max(0, lastRun + REDRAW_MS - Date.now());
    timer = setTimeout(run, wait);
  }

  async function run() {
    timer = null;
    const parts = pending;
    const done = waiters;
    pending = {};
    waiters = [];
    lastRun = Date.now();
    running = true;
    try {
      await Promise.all([
        parts.queues ? drawQueues() : null,
        parts.list ? drawList() : null,
        parts.conversation ? drawConversation() : null,
      ]);
    } catch (e) {
      toast(e.message || 'Bijwerken lukt niet', 'error');
    }
    running = false;
    done.forEach((resolve) => resolve());
    // Changes that came while drawing: drawn after the pause (at once if the agent acted).
    if (Object.keys(pending).length || waiters.length) { arm(urgent); urgent = false; }
  }

  function refreshAll() {
    return schedule({ queues: true, list: true, conversation: true }, true);
  }

  function onChange(change) {
    const touchesQueue = (change.departments || []).includes(selected.queue);
    schedule({
      queues: (change.departments || []).length > 0 || change.what === 'claim',
      list: selected.queue === 'mine' || touchesQueue,
      conversation: change.conversation === selected.conversation,
    });
    if (touchesQueue && change.what === 'decision') fresh.add(change.conversation);
  }
  const fresh = new Set();

  // -------------------------------------------------------------------------------------------
  // Queues

  async function drawQueues() {
    const [q, mine] = await Promise.all([api('GET', '/api/queues'), api('GET', '/api/mine')]);
    queues = q.queues;
    const waitingMine = mine.conversations.filter((c) => c.unanswered).length;
    const entries = [
      ['mine', 'Mijn gesprekken', mine.conversations.length, waitingMine, 'in behandeling', 'wachten op jou'],
      ...queues.map((x) => [x.id, x.name, x.waiting, x.late, 'wachtend', 'te laat']),
    ];
    // In place, by id: the queue link the agent is on keeps its focus.
    const have = new Map([...queueLinks.querySelectorAll('a.queue')].map((a) => [a.dataset.department, a]));
    const wanted = [];
    for (const [id, name, count, late, countLabel, lateLabel] of entries) {
      let a = have.get(id);
      if (!a) {
        a = h('a', { href: '#q=' + encodeURIComponent(id), class: 'queue', 'data-test': 'queue', 'data-department': id });
      }
      have.delete(id);
      const active = selected.queue === id;
      a.classList.toggle('active', active);
      if (active) a.setAttribute('aria-current', 'true'); else a.removeAttribute('aria-current');
      fill(a, h('span', { class: 'name' }, name),
        h('span', { class: 'qmeta small' },
          h('span', { class: 'count' }, h('span', { 'data-test': 'queue-count' }, nf.format(count)), ' ' + countLabel),
          late ? h('span', { class: 'badge late', 'data-test': 'queue-late' }, nf.format(late) + ' ' + lateLabel) : null));
      wanted.push(a);
      if (id === 'mine') wanted.push(queueLinks.querySelector('hr') || h('hr'));
    }
    for (const gone of have.values()) gone.remove();
    place(queueLinks, wanted);
    if (!queues.length && !queueLinks.querySelector('.none')) queueLinks.append(h('p', { class: 'muted small none' }, 'Je hebt geen afdelingen.'));
  }

  /** Puts `nodes` in `parent` in this order, moving only those out of place. */
  function place(parent, nodes) {
    let at = parent.firstChild;
    for (const n of nodes) {
      if (n === at) { at = at.nextSibling; continue; }
      parent.insertBefore(n, at);
    }
    while (at) { const next = at.nextSibling; if (nodes.indexOf(at) < 0 && !at.classList.contains('none')) at.remove(); at = next; }
  }

  function departmentName(id) {
    const d = (me.all_departments || []).find((x) => x.id === id) || queues.find((x) => x.id === id);
    return d ? d.name : (id || '—');
  }

  // -------------------------------------------------------------------------------------------
  // The list of one queue: a page at a time, searched on the server, updated in place.

  let searchTimer = null;
  const onFilter = () => { filter.offset = 0; schedule({ list: true }, true); };
  searchInput.addEventListener('input', () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => { filter.q = searchInput.value.trim(); onFilter(); }, 250);
  });
  searchForm.addEventListener('submit', (e) => { e.preventDefault(); clearTimeout(searchTimer); filter.q = searchInput.value.trim(); onFilter(); });
  channelPick.addEventListener('change', () => { filter.channel = channelPick.value; onFilter(); });
  statePick.addEventListener('change', () => { filter.state = statePick.value; onFilter(); });
  lateBox.addEventListener('change', () => { filter.late = lateBox.checked; onFilter(); });

  function page(step) {
    const offset = Math.max(0, filter.offset + step * PAGE);
    if (offset >= total && step > 0) return Promise.resolve();
    filter.offset = offset;
    return schedule({ list: true }, true);
  }

  async function fetchList() {
    const id = selected.queue;
    if (id === 'mine') {
      const data = await api('GET', '/api/mine');
      return { title: 'Mijn gesprekken', conversations: data.conversations, total: data.conversations.length, offset: 0 };
    }
    const p = new URLSearchParams({ offset: String(filter.offset), limit: String(PAGE) });
    if (filter.q) p.set('q', filter.q);
    if (filter.channel) p.set('channel', filter.channel);
    if (filter.state) p.set('state', filter.state);
    if (filter.late) p.set('late', 'true');
    try {
      const data = await api('GET', '/api/queues/' + encodeURIComponent(id) + '?' + p.toString());
      return { title: departmentName(id), conversations: data.conversations, total: data.total, offset: data.offset, waiting: data.waiting };
    } catch (e) {
      if (e.status === 403 || e.status === 404) return { title: departmentName(id), conversations: [], total: 0, offset: 0, denied: e };
      throw e;
    }
  }

  async function drawList() {
    const id = selected.queue;
    const data = await fetchList();
    if (id !== selected.queue) return; // another queue was picked meanwhile
    // A page emptied under us (resolved by colleagues): go back to the last one there is.
    if (!data.conversations.length && data.offset > 0 && data.total > 0) {
      filter.offset = Math.floor((data.total - 1) / PAGE) * PAGE;
      return drawList();
    }
    total = data.total;
    const mine = id === 'mine';
    searchForm.classList.toggle('hidden', mine);
    nextButton.classList.toggle('hidden', mine || !!data.denied);
    const searching = filter.q || filter.channel || filter.state || filter.late;
    fill(listTitle, data.title, ' ', h('span', { class: 'muted' }, '(' + nf.format(mine ? data.total : (data.waiting ?? data.total)) + ')'));
    const shown = data.conversations.length;
    summary.textContent = mine ? '' : shown
      ? (data.offset + 1) + '–' + (data.offset + shown) + ' van ' + nf.format(data.total) + (searching ? ' gevonden' : '')
      : (searching ? 'Niets gevonden.' : '');
    listError.classList.toggle('hidden', !data.denied);
    listError.textContent = data.denied ? 'Geen toegang tot deze wachtrij.' : '';
    empty.classList.toggle('hidden', !!shown || !!data.denied || (!!searching && !mine));
    empty.textContent = mine ? 'Je hebt geen gesprekken in behandeling.' : 'Niemand wacht. 🎉';
    prevPage.disabled = mine || data.offset <= 0;
    nextPage.disabled = mine || data.offset + shown >= data.total;
    prevPage.parentElement.classList.toggle('hidden', mine || data.total <= PAGE);

    const focused = document.activeElement;
    const focusedId = focused && focused.matches && focused.matches('[data-test=conversation-item]') ? focused.dataset.id : null;
    const focusedAt = focusedId ? [...items.children].findIndex((li) => li.dataset.id === focusedId) : -1;
    const have = new Map([...items.children].map((li) => [li.dataset.id, li]));
    const wanted = data.conversations.map((c) => {
      const key = String(c.id);
      let li = have.get(key);
      if (!li) {
        li = h('li', { 'data-id': key }, h('a', { 'data-test': 'conversation-item', 'data-id': key, tabindex: '-1' }));
        if (fresh.has(c.id)) li.firstChild.classList.add('fresh');
      }
      fresh.delete(c.id);
      have.delete(key);
      drawItem(li.firstChild, c, mine);
      return li;
    });
    for (const gone of have.values()) gone.remove();
    place(items, wanted);
    const at = wanted.findIndex((li) => Number(li.dataset.id) === selected.conversation);
    if (at >= 0) openIndex = at;
    // Focus stays on the card it was on; if that card left, on the one now in its place.
    if (focusedId) {
      const same = items.querySelector('[data-test=conversation-item][data-id="' + focusedId + '"]');
      const target = same || (wanted.length ? wanted[Math.min(focusedAt, wanted.length - 1)].firstChild : null);
      if (target && document.activeElement !== target) target.focus({ preventScroll: !!same });
      else if (!target) searchInput.focus();
    }
    rove();
  }

  function drawItem(a, c, mine) {
    const [cls, label] = GOAL[c.goal] || ['', ''];
    const waiting = !mine || c.unanswered;
    const active = c.id === selected.conversation;
    a.href = '#' + new URLSearchParams({ q: selected.queue, c: c.id }).toString();
    a.className = 'item' + (active ? ' active' : '') + (a.classList.contains('fresh') ? ' fresh' : '');
    if (active) a.setAttribute('aria-current', 'true'); else a.removeAttribute('aria-current');
    fill(a,
      h('span', { class: 'line' },
        channelMark(c.channel),
        h('span', { class: 'who' }, c.resident_name || 'Inwoner'),
        waiting && label ? h('span', { class: 'badge ' + cls, 'data-test': 'goal' }, label) : null,
        languageBadge(c.language),
        c.on_top ? h('span', { class: 'badge warn', 'data-test': 'again', title: 'De inwoner wil nog antwoord' }, 'opnieuw') : null),
      h('span', { class: 'snippet', dir: 'auto' }, c.last_message ? c.last_message.text : ''),
      h('span', { class: 'meta muted small' },
        h('span', { class: 'number' }, c.resident), ' · ',
        waiting ? 'wacht ' + duration(c.waiting_business_seconds) + ' (kantoortijd)' : 'beantwoord',
        c.agent && !mine ? ' · bij ' + c.agent : '',
        mine ? ' · ' + departmentName(c.department) : ''));
  }

  /** The resident's language when it is not Dutch: the name the flows give it. */
  function languageBadge(language) {
    if (!language || language.code === 'nl') return null;
    return h('span', { class: 'badge', 'data-test': 'language', 'data-language': language.code,
      title: 'De inwoner schrijft in het ' + (language.name || language.code) }, language.name || language.code);
  }

  /** The channel as a small mark with its full name for screen readers and on hover. */
  function channelMark(channel) {
    const c = channels[channel] || {};
    const name = c.title || channel || '';
    const mark = h('span', { class: 'channel', 'data-test': 'channel', 'data-channel': channel || '', title: name },
      h('span', { 'aria-hidden': 'true' }, c.mark || name), h('span', { class: 'sr-only' }, name));
    // Through the style object, which the page's content security policy allows.
    if (c.colour) mark.style.backgroundColor = c.colour;
    return mark;
  }

  /** What the channel's window lets an agent send now, in words. */
  function windowState(c) {
    const w = c.window || {};
    const p = w.permit || {};
    const name = c.channel_title || c.channel;
    if (p.state === 'open') {
      return w.closes_at
        ? h('span', { class: 'muted', 'data-test': 'window', 'data-window': 'open', title: name + ' laat vrije tekst toe tot 24 uur na het laatste bericht van de inwoner' },
          '24-uursvenster open tot ' + dateTime(w.closes_at))
        // X and the web chat have no window: an answer can always go (never "no window", which
        // reads as "no answer possible").
        : h('span', { class: 'muted', 'data-test': 'window', 'data-window': 'open', title: name + ' kent geen 24-uursvenster: een antwoord kan altijd' },
          'antwoorden kan altijd');
    }
    if (p.state === 'human_agent_tag') {
      return h('span', { class: 'badge warn', 'data-test': 'window', 'data-window': 'human_agent_tag',
        title: name + ' laat na 24 uur alleen nog een antwoord van een medewerker toe (human-agent-tag), tot 7 dagen na het laatste bericht' },
      '24-uursvenster dicht: antwoord als medewerker kan tot ' + dateTime(p.until));
    }
    if (p.state === 'templates_only') {
      return h('span', { class: 'badge warn', 'data-test': 'window', 'data-window': 'templates_only' }, '24-uursvenster dicht: alleen sjablonen');
    }
    return h('span', { class: 'badge late', 'data-test': 'window', 'data-window': 'closed' },
      name + ' neemt geen bericht meer aan tot de inwoner weer schrijft');
  }

  const cards = () => [...items.querySelectorAll('[data-test=conversation-item]')];

  /** One card of the list is in the Tab order: the focused one, else the open one, else the first. */
  function rove() {
    const all = cards();
    const target = all.find((a) => a === document.activeElement) || all.find((a) => a.classList.contains('active')) || all[0];
    for (const a of all) a.tabIndex = a === target ? 0 : -1;
  }

  function focusList() {
    rove();
    const t = cards().find((a) => a.tabIndex === 0);
    if (t) t.focus(); else searchInput.focus();
  }

  items.addEventListener('focusin', rove);
  items.addEventListener('keydown', (e) => {
    const all = cards();
    const at = all.indexOf(document.activeElement);
    if (at < 0) return;
    const to = { ArrowDown: at + 1, ArrowUp: at - 1, Home: 0, End: all.length - 1 }[e.key];
    if (to === undefined) return;
    e.preventDefault();
    const next = all[Math.max(0, Math.min(all.length - 1, to))];
    next.focus();
  });

  /** Opens the conversation `step` away from the open one (j/k), across pages. */
  async function move(step) {
    let all = cards();
    const at = all.findIndex((a) => a.classList.contains('active'));
    let to = at < 0 ? Math.min(openIndex, all.length - 1) + (step > 0 ? 0 : -1) : at + step;
    if (to >= all.length && filter.offset + all.length < total) { await page(1); all = cards(); to = 0; }
    else if (to < 0 && filter.offset > 0) { await page(-1); all = cards(); to = all.length - 1; }
    const next = all[Math.max(0, Math.min(all.length - 1, to))];
    if (next) { next.focus(); next.click(); }
  }

  // -------------------------------------------------------------------------------------------
  // One conversation

  async function drawConversation() {
    const id = selected.conversation;
    if (!id) {
      current = null;
      fill(view, h('p', { class: 'muted empty' }, 'Kies een gesprek uit de lijst.'));
      return;
    }
    let c;
    try {
      c = await api('GET', '/api/conversations/' + id);
    } catch (e) {
      current = null;
      const text = e.status === 403 ? 'Geen toegang: dit gesprek hoort bij een andere afdeling.'
        : e.status === 404 ? 'Dit gesprek bestaat niet.' : e.message;
      fill(view, h('p', { class: 'error', 'data-test': 'error' }, text));
      return;
    }
    if (id !== selected.conversation) return;
    // Keep what the agent is typing when the conversation is drawn again.
    const typed = view.querySelector('[data-test=reply-input]');
    const same = current && current.id === c.id;
    const draft = typed && same ? typed.value : '';
    // A live redraw keeps what the agent has open and half filled in.
    const opened = same ? [...view.querySelectorAll('details[data-key]')].filter((d) => d.open).map((d) => d.dataset.key) : [];
    const fields = same ? [...view.querySelectorAll('[data-test=forward-department], [data-test=forward-note], [data-test=template]')]
      .map((el) => [el.getAttribute('data-test'), el.value]) : [];
    const focused = document.activeElement && view.contains(document.activeElement) ? document.activeElement.getAttribute('data-test') : null;
    // A message's label control is one of many with its name: found again by its message.
    const focusedLabel = focused && document.activeElement.dataset.labelMessage;
    const history = view.querySelector('.history');
    const atBottom = !history || !same || history.scrollHeight - history.scrollTop - history.clientHeight < 40;
    current = c;
    fill(view, header(c), messages(c), actions(c, draft), decisions(c));
    for (const key of opened) {
      const d = view.querySelector('details[data-key="' + key + '"]');
      if (d) d.open = true;
    }
    for (const [name, value] of fields) {
      const el = view.querySelector('[data-test="' + name + '"]');
      if (el && [...(el.options || [{ value }])].some((o) => o.value === value)) {
        el.value = value;
        el.dispatchEvent(new Event('change'));
      }
    }
    const newHistory = view.querySelector('.history');
    if (atBottom) newHistory.scrollTop = newHistory.scrollHeight;
    else newHistory.scrollTop = history.scrollTop;
    if (wantFocus) {
      const pick = wantFocus.map((t) => view.querySelector('[data-test="' + t + '"]')).find(Boolean);
      wantFocus = null;
      if (pick) pick.focus();
    } else if (focused) {
      const el = (focusedLabel && view.querySelector('[data-label-message="' + focusedLabel + '"]'))
        || view.querySelector('[data-test="' + focused + '"]');
      if (el) el.focus(); else view.focus();
    }
  }
  /** Where focus goes once the open conversation is drawn next (data-test names, first found). */
  let wantFocus = null;

  function mayShowNumber(c) {
    if (!c.phone_numbers) return false;
    return me.role === 'admin' || (me.role === 'agent' && me.departments.includes(c.department));
  }

  function header(c) {
    const [cls, label] = GOAL[c.goal] || [];
    const mineNow = c.agent === me.name;
    const open = c.phase !== 'resolved';
    const buttons = h('div', { class: 'row buttons' });
    if (open && !mineNow) {
      buttons.append(h('button', { class: 'primary', type: 'button', 'data-test': 'claim',
        onclick: () => act('claim', {}, c.agent ? 'Overgenomen van ' + c.agent : 'Opgepakt', ['reply-input', 'template', 'resolve']) },
      c.agent ? 'Overnemen' : 'Oppakken'));
    }
    if (open) {
      buttons.append(h('button', { type: 'button', 'data-test': 'resolve', onclick: () => resolveAndNext() }, 'Afronden'));
    } else {
      buttons.append(h('button', { type: 'button', 'data-test': 'reopen', onclick: () => act('reopen', {}, 'Heropend', ['claim', 'resolve']) }, 'Heropenen'));
    }
    if (mayShowNumber(c)) {
      buttons.append(h('button', { type: 'button', class: 'quiet', 'data-test': 'show-number', onclick: () => askNumber(c) }, 'Nummer tonen…'));
    }
    return h('header', { class: 'conv-head', 'data-test': 'conversation', 'data-id': c.id },
      h('div', { class: 'who' },
        h('h2', {}, c.resident_name || 'Inwoner', ' ', h('span', { class: 'muted' }, c.resident)),
        h('div', { class: 'row small' },
          channelMark(c.channel),
          h('span', { 'data-test': 'phase', 'data-phase': c.phase }, PHASE[c.phase] || c.phase),
          h('span', { class: 'muted' }, '·'),
          h('span', { 'data-test': 'department', 'data-department': c.department || '' }, departmentName(c.department)),
          c.agent ? h('span', { class: 'muted' }, '· bij ' + c.agent) : null,
          languageBadge(c.language),
          label ? h('span', { class: 'badge ' + cls }, label + ' · ' + duration(c.waiting_business_seconds)) : null,
          windowState(c))),
      buttons);
  }

  function messages(c) {
    const items = c.messages.map((m) => {
      const kind = m.direction === 'in' ? 'in' : (m.direction === 'internal' ? 'note' : 'out');
      const who = m.author === 'resident' ? (c.resident_name || 'Inwoner')
        : m.author === 'bot' ? 'Bot' : m.author.replace(/^agent:/, '');
      const status = m.direction === 'out'
        ? (m.error ? '⚠ ' + m.error : (m.delivery || m.send_status || '')) : '';
      return h('div', { class: 'bubble ' + kind + (m.author === 'bot' ? ' bot' : ''), 'data-test': 'message', 'data-author': m.author, 'data-kind': m.kind },
        kind === 'note' ? h('b', {}, 'Notitie: ') : null,
        // `dir="auto"`: Arabic (or any right-to-left text) reads from the right, the rest from
        // the left, each message by its own first letters.
        m.removed ? h('i', { class: 'muted' }, 'Tekst verwijderd: de bewaartermijn is voorbij.')
          : h('div', { class: 'text', dir: 'auto', 'data-test': 'message-text' }, linkify(m.text)),
        h('span', { class: 'meta' }, who + ' · ' + dateTime(m.at) + (m.kind === 'template' ? ' · sjabloon' : '') + (status ? ' · ' + statusName(status) : '')),
        kind === 'in' ? labelControl(c, m) : null);
    });
    return h('div', { class: 'history', role: 'log', tabindex: '0', 'aria-label': 'Berichten', 'data-test': 'history' }, items);
  }

  function statusName(s) {
    return { pending: 'in de wachtrij', sending: 'wordt verstuurd', sent: 'verstuurd', accepted: 'verstuurd',
      delivered: 'afgeleverd', read: 'gelezen', failed: 'mislukt' }[s] || s;
  }

  function decisions(c) {
    if (!c.decisions.length) return null;
    const items = c.decisions.slice().reverse().map((d) => {
      const x = d.decision || {};
      const trace = (x.trace && x.trace.steps) || [];
      return h('li', { 'data-test': 'decision' },
        h('div', {}, h('b', {}, OUTCOME[d.outcome] || d.outcome),
          d.topic ? ' · onderwerp ' + d.topic : '',
          d.department ? ' · ' + departmentName(d.department) : '',
          h('span', { class: 'muted small' }, ' · ' + dateTime(d.at))),
        x.findings && x.findings.length
          ? h('div', { class: 'small' }, 'Afgeschermd: ', x.findings.map((f) => f.label + ' ' + f.masked).join(', ')) : null,
        trace.length ? h('ol', { class: 'trace small muted' }, trace.map((s) => h('li', {}, stepText(s)))) : null);
    });
    return h('details', { class: 'decisions', 'data-key': 'decisions' },
      h('summary', {}, 'Wat de bot besliste en waarom (' + c.decisions.length + ')'),
      h('ul', {}, items));
  }

  // -------------------------------------------------------------------------------------------
  // Actions

  function actions(c, draft) {
    if (c.phase === 'resolved') return null;
    return h('div', { class: 'actions' }, replyForm(c, draft), forwardForm(c));
  }

  function replyForm(c, draft) {
    const form = h('form', { class: 'reply stack', 'aria-label': 'Antwoorden' });
    const permit = (c.window && c.window.permit && c.window.permit.state) || '';
    if (permit === 'closed') {
      form.append(h('p', { class: 'small muted', 'data-test': 'window-closed' },
        'De inwoner schreef te lang geleden. ' + (c.channel_title || c.channel) + ' neemt nu geen bericht meer aan; zodra de inwoner weer schrijft, kun je antwoorden.'));
      return form;
    }
    if (c.in_window) {
      const input = h('textarea', { id: 'reply', rows: '2', dir: 'auto', maxlength: String(c.max_text_chars || 4096), 'data-test': 'reply-input',
        placeholder: 'Typ je antwoord… (Ctrl+Enter verstuurt)' });
      input.value = draft || '';
      input.addEventListener('keydown', (e) => {
        if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); form.requestSubmit(); }
      });
      const pick = h('select', { id: 'canned', 'data-test': 'canned', 'aria-label': 'Standaardantwoord invoegen' },
        h('option', { value: '' }, 'Standaardantwoord…'),
        canned.map((x, i) => h('option', { value: String(i) }, x.title)));
      pick.addEventListener('change', () => {
        const x = canned[parseInt(pick.value, 10)];
        if (x) {
          const name = (c.resident_name || '').split(' ')[0];
          input.value = (input.value ? input.value + '\n\n' : '') + x.text.replaceAll('{name}', name).replace(/ !/g, '!');
          input.focus();
        }
        pick.value = '';
      });
      form.append(h('label', { for: 'reply', class: 'sr-only' }, 'Antwoord aan de inwoner'), input,
        h('div', { class: 'row' }, pick, h('span', { class: 'spacer' }),
          h('button', { class: 'primary', type: 'submit', 'data-test': 'reply-send' }, 'Versturen')));
      form.addEventListener('submit', async (e) => {
        e.preventDefault();
        const text = input.value.trim();
        if (!text) { input.focus(); return; }
        // Cleared first: the redraw after sending keeps what is in the box.
        input.value = '';
        if (!(await act('reply', { text }, 'Verstuurd', ['reply-input']))) {
          const again = view.querySelector('[data-test=reply-input]');
          if (again) again.value = text;
        }
      });
    } else {
      // The template as the resident will read it, before it goes.
      const preview = h('blockquote', { class: 'bubble out template-preview', 'data-test': 'template-preview', id: 'template-preview' });
      const pick = h('select', { id: 'template', 'data-test': 'template', 'aria-describedby': 'template-preview' },
        c.templates.map((t) => h('option', { value: t.name }, t.name + ' (' + t.language + ')')));
      const show = () => {
        const t = c.templates.find((x) => x.name === pick.value);
        preview.textContent = t ? (t.text || '[sjabloon ' + t.name + ': ' + t.parameters.join(' | ') + ']') : '';
      };
      pick.addEventListener('change', show);
      show();
      form.append(
        h('p', { class: 'small muted' }, 'De inwoner schreef meer dan 24 uur geleden. ' + (c.channel_title || 'WhatsApp') + ' staat dan alleen een goedgekeurd sjabloon toe. Zo leest de inwoner het:'),
        preview,
        h('div', { class: 'row' }, h('label', { for: 'template', class: 'inline' }, 'Sjabloon'), pick,
          h('button', { class: 'primary', type: 'submit', 'data-test': 'template-send', disabled: !c.templates.length }, 'Sjabloon versturen')));
      form.addEventListener('submit', (e) => {
        e.preventDefault();
        if (pick.value) act('reply', { template: pick.value }, 'Sjabloon verstuurd', ['template-send']);
      });
    }
    return form;
  }

  function forwardForm(c) {
    const others = (me.all_departments || []).filter((d) => d.id !== c.department);
    const pick = h('select', { id: 'forward-to', 'data-test': 'forward-department' },
      others.map((d) => h('option', { value: d.id }, d.name)));
    const note = h('input', { id: 'forward-note', 'data-test': 'forward-note', maxlength: '1000',
      placeholder: 'Notitie voor de collega’s (niet naar de inwoner)' });
    const form = h('form', { class: 'forward' },
      h('details', { 'data-key': 'forward' },
        h('summary', {}, 'Doorsturen naar een andere afdeling'),
        h('div', { class: 'stack' },
          h('div', {}, h('label', { for: 'forward-to' }, 'Afdeling'), pick),
          h('div', {}, h('label', { for: 'forward-note' }, 'Notitie'), note),
          h('div', {}, h('button', { type: 'submit', 'data-test': 'forward' }, 'Doorsturen')))));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const body = { department: pick.value };
      if (note.value.trim()) body.note = note.value.trim();
      if (await act('forward', body, 'Doorgestuurd naar ' + departmentName(pick.value), ['resolve'])) {
        // An agent without that department no longer sees it: back to the queue.
        if (me.role === 'agent' && !me.departments.includes(pick.value)) go(selected.queue, null);
      }
    });
    return form;
  }

  /** One action on the open conversation; true when it was done. `focus`: where focus goes after. */
  async function act(action, body, done, focus) {
    const id = selected.conversation;
    const buttons = view.querySelectorAll('button');
    buttons.forEach((b) => { b.disabled = true; });
    try {
      await api('POST', '/api/conversations/' + id + '/' + action, body);
      toast(done, 'ok');
      wantFocus = focus || null;
      await schedule({ queues: true, list: true, conversation: true }, true);
      return true;
    } catch (e) {
      toast(e.message || 'Dat lukte niet', 'error');
      await schedule({ list: true, conversation: true }, true);
      return false;
    } finally {
      buttons.forEach((b) => { if (b.isConnected) b.disabled = false; });
    }
  }

  /** Afronden, then the next conversation of the list opens, focus on its "Oppakken". */
  async function resolveAndNext() {
    const id = selected.conversation;
    if (!(await act('resolve', {}, 'Afgerond', ['reopen']))) return;
    const next = cards().find((a, i) => i >= openIndex && Number(a.dataset.id) !== id)
      || cards().filter((a) => Number(a.dataset.id) !== id).pop();
    if (next) {
      wantFocus = ['claim', 'resolve'];
      go(selected.queue, Number(next.dataset.id));
    }
  }

  /** Claims the longest waiting conversation nobody has, and opens it at the reply box. */
  async function claimNext() {
    if (selected.queue === 'mine') return;
    try {
      const r = await api('POST', '/api/queues/' + encodeURIComponent(selected.queue) + '/next', {});
      toast('Opgepakt', 'ok');
      wantFocus = ['reply-input', 'template', 'resolve'];
      go(selected.queue, r.id);
    } catch (e) {
      toast(e.status === 404 ? 'Er wacht niemand meer die nog niet is opgepakt.' : (e.message || 'Dat lukte niet'), e.status === 404 ? 'ok' : 'error');
    }
  }

  // -------------------------------------------------------------------------------------------
  // The learning loop: which topic should have answered a resident's question (or "a new topic
  // is needed"), marked on the message; the editors turn it into a conversation test.

  const LABEL_TEXT = {
    question: 'Welk onderwerp had dit moeten beantwoorden?',
    open: 'Welk onderwerp?',
    openHidden: ' had dit bericht moeten beantwoorden',
    search: 'Zoek een onderwerp',
    searchHint: 'Typ een deel van de naam; ↓ gaat naar de lijst, Enter slaat op.',
    topics: 'Onderwerpen',
    none: 'Geen onderwerp gevonden. Past er geen? Kies “Nieuw onderwerp nodig”.',
    note: 'Notitie voor de redactie (mag leeg)',
    save: 'Opslaan',
    newTopic: 'Nieuw onderwerp nodig',
    remove: 'Label weghalen',
    cancel: 'Annuleren',
    pick: 'Kies een onderwerp, of “Nieuw onderwerp nodig”.',
    saved: 'Gemarkeerd voor de redactie',
    removed: 'Label weggehaald',
    by: (l) => 'Gemarkeerd door ' + l.by + ', ' + dateTime(l.at) + (l.test ? ' · is een gesprekstest' : ''),
  };

  /** On a resident's message of a handed-over conversation: its label as a chip, or the button
   * that asks which topic should have answered it. Either opens the picker. */
  function labelControl(c, m) {
    if (!c.can_label || m.removed || !m.text) return null;
    const l = (c.labels || []).find((x) => x.message_id === m.id);
    const open = (e) => { e.preventDefault(); openLabel(c, m, l); };
    if (l) {
      const name = l.new_topic ? LABEL_TEXT.newTopic : (l.topic_title || l.topic);
      return h('span', { class: 'label-row' },
        h('button', { type: 'button', class: 'label-chip' + (l.new_topic ? ' new' : ''), 'data-test': 'label-chip',
          'data-label-message': m.id, 'data-topic': l.topic || '', 'data-new-topic': String(l.new_topic),
          title: LABEL_TEXT.by(l), onclick: open },
        h('span', { 'aria-hidden': 'true' }, '🏷 '), name,
        h('span', { class: 'sr-only' }, ' · ' + LABEL_TEXT.by(l) + '. Wijzigen')));
    }
    return h('span', { class: 'label-row' },
      h('button', { type: 'button', class: 'linkish label-open', 'data-test': 'label-open', 'data-label-message': m.id,
        title: LABEL_TEXT.question, onclick: open },
      h('span', { 'aria-hidden': 'true' }, '🏷 '), LABEL_TEXT.open, h('span', { class: 'sr-only' }, LABEL_TEXT.openHidden)));
  }

  /** Lower case without accents, for searching topic titles as typed. */
  const fold = (t) => t.toLowerCase().normalize('NFD').replace(/[\u0300-\u036f]/g, '');

  async function openLabel(c, m, current) {
    const opener = document.activeElement;
    let topics;
    try {
      topics = (await api('GET', '/api/topics')).topics;
    } catch (e) {
      toast(e.message || 'Dat lukte niet', 'error');
      return;
    }
    const search = h('input', { type: 'search', id: 'label-search', 'data-test': 'label-search', autocomplete: 'off',
      'aria-controls': 'label-topics', 'aria-describedby': 'label-search-hint' });
    const pick = h('select', { id: 'label-topics', size: '8', 'data-test': 'label-topics', 'aria-label': LABEL_TEXT.topics });
    const none = h('p', { class: 'muted small hidden', 'data-test': 'label-none', role: 'status' }, LABEL_TEXT.none);
    const note = h('input', { id: 'label-note', 'data-test': 'label-note', maxlength: '500', autocomplete: 'off' });
    note.value = (current && current.note) || '';
    const error = h('p', { class: 'error', role: 'alert', 'data-test': 'label-error' });
    const show = () => {
      const words = fold(search.value).split(/\s+/).filter(Boolean);
      const keep = pick.value;
      const shown = topics.filter((t) => words.every((w) => fold(t.title + ' ' + t.id).includes(w)));
      pick.replaceChildren(...shown.map((t) => h('option', { value: t.id }, t.title)));
      none.classList.toggle('hidden', shown.length > 0);
      pick.value = shown.some((t) => t.id === keep) ? keep : (shown[0] ? shown[0].id : '');
    };
    search.addEventListener('input', show);
    search.addEventListener('keydown', (e) => {
      if (e.key === 'ArrowDown' && pick.options.length) { e.preventDefault(); pick.focus(); }
    });
    pick.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') { e.preventDefault(); form.requestSubmit(); }
    });
    pick.addEventListener('dblclick', () => form.requestSubmit());
    const save = async (body) => {
      error.textContent = '';
      if (note.value.trim()) body.note = note.value.trim();
      try {
        await api('PUT', '/api/conversations/' + c.id + '/messages/' + m.id + '/label', body);
      } catch (err) {
        error.textContent = err.message || 'Dat lukte niet';
        return;
      }
      await done(LABEL_TEXT.saved);
    };
    /** Closes the picker, draws the conversation again and puts focus on the message's label. */
    let changed = false;
    const done = async (message) => {
      changed = true;
      dialog.close();
      toast(message, 'ok');
      await schedule({ conversation: true }, true);
      const back = view.querySelector('[data-label-message="' + m.id + '"]');
      if (back) back.focus();
    };
    const remove = current
      ? h('button', { type: 'button', class: 'danger', 'data-test': 'label-remove', onclick: async () => {
        try {
          await api('DELETE', '/api/conversations/' + c.id + '/messages/' + m.id + '/label');
        } catch (err) {
          error.textContent = err.message || 'Dat lukte niet';
          return;
        }
        await done(LABEL_TEXT.removed);
      } }, LABEL_TEXT.remove)
      : null;
    const form = h('form', { class: 'stack' },
      h('div', {}, h('label', { for: 'label-search' }, LABEL_TEXT.search), search,
        h('div', { id: 'label-search-hint', class: 'muted small' }, LABEL_TEXT.searchHint)),
      pick, none,
      h('div', {}, h('label', { for: 'label-note' }, LABEL_TEXT.note), note),
      error,
      h('div', { class: 'row' },
        h('button', { type: 'submit', class: 'primary', 'data-test': 'label-save' }, LABEL_TEXT.save),
        h('button', { type: 'button', 'data-test': 'label-new-topic', onclick: () => save({ new_topic: true }) }, LABEL_TEXT.newTopic),
        remove,
        h('span', { class: 'spacer' }),
        h('button', { type: 'button', 'data-test': 'label-cancel', onclick: () => dialog.close() }, LABEL_TEXT.cancel)));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      if (!pick.value) { error.textContent = LABEL_TEXT.pick; search.focus(); return; }
      save({ topic: pick.value });
    });
    const dialog = h('dialog', { class: 'card label-dialog', 'aria-labelledby': 'label-title', 'data-test': 'label-dialog' },
      h('h2', { id: 'label-title' }, LABEL_TEXT.question),
      h('blockquote', { class: 'bubble in label-quote' }, m.text),
      form);
    dialog.addEventListener('close', () => {
      dialog.remove();
      if (changed) return; // `done` puts focus on the label once the conversation is drawn again
      // Back on the message's button, also when a live update drew the conversation again.
      const back = opener && opener.isConnected ? opener : view.querySelector('[data-label-message="' + m.id + '"]');
      if (back) back.focus();
    });
    document.body.append(dialog);
    show();
    if (current && current.topic) { pick.value = current.topic; }
    dialog.showModal();
    search.focus();
  }

  // -------------------------------------------------------------------------------------------
  // The resident's number, on purpose: asked why, audited by the API, shown only in the dialog.

  function askNumber(c) {
    const opener = document.activeElement;
    const choices = REASONS.map(([value, text], i) => h('div', { class: 'check' },
      h('input', { type: 'radio', name: 'reason', id: 'reason-' + value, value, checked: i === 0, 'data-test': 'reason-' + value }),
      h('label', { for: 'reason-' + value, class: 'inline' }, text)));
    const out = h('p', { class: 'number', 'data-test': 'number', 'aria-live': 'polite' });
    const confirm = h('button', { type: 'submit', class: 'primary', 'data-test': 'number-confirm' }, 'Nummer tonen');
    const form = h('form', { class: 'stack' },
      h('fieldset', {}, h('legend', {}, 'Waarom heb je het nummer nodig?'), choices),
      out,
      h('div', { class: 'row' }, confirm, h('button', { type: 'button', 'data-test': 'number-close', onclick: () => dialog.close() }, 'Sluiten')));
    const dialog = h('dialog', { class: 'card reveal', 'aria-labelledby': 'reveal-title', 'data-test': 'number-dialog' },
      h('h2', { id: 'reveal-title' }, 'Nummer van de inwoner tonen'),
      h('p', { class: 'small' }, 'Het nummer is persoonsgegeven. Het wordt alleen getoond als je het nodig hebt om terug te bellen, en vastgelegd: wie, welk gesprek en waarom.'),
      form);
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const reason = form.querySelector('input[name=reason]:checked').value;
      try {
        const r = await api('POST', '/api/conversations/' + c.id + '/number', { reason });
        fill(out, 'Nummer: ', h('a', { href: 'tel:' + r.number }, r.number));
        confirm.remove();
      } catch (err) {
        fill(out, h('span', { class: 'error' }, err.message || 'Dat lukte niet'));
      }
    });
    // Gone when closed: the number stays nowhere on the page.
    // Focus back on the button, also when a live update drew the conversation again meanwhile.
    dialog.addEventListener('close', () => {
      dialog.remove();
      const back = opener && opener.isConnected ? opener : view.querySelector('[data-test=show-number]');
      if (back) back.focus();
    });
    document.body.append(dialog);
    dialog.showModal();
  }

  function openHelp() {
    if (help.open) return;
    helpReturn = document.activeElement;
    help.showModal();
  }

  function showError(where, e) {
    fill(where, h('p', { class: 'error', 'data-test': 'error' }, e.message || String(e)));
  }

  // Keyboard shortcuts (not while typing or in a dialog).
  document.addEventListener('keydown', (e) => {
    if (e.target.closest('input, textarea, select, dialog') || e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === 'j' || e.key === 'k') {
      e.preventDefault();
      move(e.key === 'j' ? 1 : -1);
    } else if (e.key === '/') {
      if (!searchForm.classList.contains('hidden')) { e.preventDefault(); searchInput.focus(); searchInput.select(); }
    } else if (e.key === 'r') {
      const input = view.querySelector('[data-test=reply-input], [data-test=template]');
      if (input) { e.preventDefault(); input.focus(); }
    } else if (e.key === 'p') {
      const claim = view.querySelector('[data-test=claim]');
      if (claim) { e.preventDefault(); claim.click(); }
    } else if (e.key === 'n') {
      if (!nextButton.classList.contains('hidden')) { e.preventDefault(); claimNext(); }
    } else if (e.key === '?') {
      e.preventDefault();
      openHelp();
    }
  });
})();
