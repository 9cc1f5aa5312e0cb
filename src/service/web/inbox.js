// The agents' inbox: queues per department, the conversations waiting in them, and one
// conversation with its whole history, what the bot decided and why, and the actions (claim,
// reply, forward, resolve, reopen). Changes arrive live over server-sent events.
//
// The address holds only a queue id or a conversation id (#q=burgerzaken, #c=12): never a number
// or a name. Every piece of data comes from the API, which checks access each time.
'use strict';

(function () {
  const { h, fill, linkify, api, duration, dateTime, toast } = triage;
  const GOAL = { on_time: ['ok', 'op tijd'], due_soon: ['warn', 'bijna te laat'], late: ['late', 'te laat'] };
  const PHASE = {
    bot: 'bij de bot', queued: 'in de wachtrij', with_agent: 'in behandeling',
    awaiting_follow_up: 'wacht op antwoord op de nazorgvraag', resolved: 'afgerond',
  };
  const OUTCOME = {
    faq: 'beantwoord met een FAQ', privacy_redirect: 'doorverwezen (privacy)', handover: 'overgedragen',
    to_agent: 'naar de medewerker', follow_up: 'nazorgvraag gesteld', follow_up_yes: 'nazorg: nog nodig',
    follow_up_no: 'nazorg: niet meer nodig', follow_up_other: 'nazorg: ander bericht', ignored: 'genegeerd',
  };

  let me = null;
  let canned = [];
  let queues = [];
  let selected = { queue: null, conversation: null };
  let current = null; // the open conversation as the API last returned it
  let refreshing = null;

  const main = document.getElementById('main');
  const side = h('nav', { class: 'queues card', 'aria-label': 'Wachtrijen', 'data-test': 'queue-list' });
  const list = h('section', { class: 'list card', 'aria-label': 'Gesprekken' });
  const view = h('section', { class: 'view card', 'aria-label': 'Gesprek', tabindex: '-1' });

  triage.start('inbox').then(async (user) => {
    me = user;
    main.classList.add('inbox');
    fill(main, side, list, view);
    readHash();
    api('GET', '/api/canned').then((r) => { canned = r.canned; }).catch(() => {});
    await refresh();
    triage.events(onChange);
    // A slow safety net: waiting times grow and deliveries change without an event of ours.
    setInterval(refresh, 30000);
    window.addEventListener('hashchange', () => { readHash(); refresh(); });
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
    if (location.hash !== next) location.hash = next; else { readHash(); refresh(); }
  }

  /** Everything the page shows, once more; concurrent calls share one round. */
  function refresh() {
    if (!refreshing) {
      refreshing = Promise.all([drawQueues(), drawList(), drawConversation()])
        .catch((e) => toast(e.message || 'Bijwerken lukt niet', 'error'))
        .finally(() => { refreshing = null; });
    }
    return refreshing;
  }

  let again = null;
  function onChange(change) {
    // Many changes at once (a busy morning): one refresh for the lot.
    clearTimeout(again);
    again = setTimeout(() => {
      const mine = change.conversation === selected.conversation;
      refresh().then(() => {
        if (!mine && change.what === 'decision' && change.departments && change.departments.includes(selected.queue)) {
          const item = list.querySelector('[data-id="' + change.conversation + '"]');
          if (item) item.classList.add('fresh');
        }
      });
    }, 150);
  }

  // -------------------------------------------------------------------------------------------
  // Queues

  async function drawQueues() {
    const [q, mine] = await Promise.all([api('GET', '/api/queues'), api('GET', '/api/mine')]);
    queues = q.queues;
    const waitingMine = mine.conversations.filter((c) => c.unanswered).length;
    const entry = (id, name, count, late, title) => h('a', {
      href: '#q=' + encodeURIComponent(id), class: 'queue' + (selected.queue === id ? ' active' : ''),
      'aria-current': selected.queue === id ? 'true' : null, 'data-test': 'queue', 'data-department': id,
      title,
    }, h('span', { class: 'name' }, name),
    late ? h('span', { class: 'badge late', title: late + ' te laat' }, late) : null,
    h('span', { class: 'count', 'data-test': 'queue-count' }, String(count)));
    fill(side, 
      h('h2', {}, 'Wachtrijen'),
      entry('mine', 'Mijn gesprekken', mine.conversations.length, waitingMine, waitingMine + ' wachten op jouw antwoord'),
      h('hr'),
      queues.map((x) => entry(x.id, x.name, x.waiting, x.late, x.waiting + ' wachtend')),
      queues.length ? null : h('p', { class: 'muted small' }, 'Je hebt geen afdelingen.'));
  }

  function departmentName(id) {
    const d = (me.all_departments || []).find((x) => x.id === id) || queues.find((x) => x.id === id);
    return d ? d.name : (id || '—');
  }

  // -------------------------------------------------------------------------------------------
  // The list of one queue

  async function drawList() {
    const id = selected.queue;
    const data = id === 'mine' ? await api('GET', '/api/mine') : await api('GET', '/api/queues/' + encodeURIComponent(id)).catch((e) => {
      if (e.status === 403 || e.status === 404) return { conversations: [], denied: e };
      throw e;
    });
    const title = id === 'mine' ? 'Mijn gesprekken' : departmentName(id);
    const items = data.conversations.map((c) => {
      const [cls, label] = GOAL[c.goal] || ['', ''];
      const waiting = id !== 'mine' || c.unanswered;
      return h('li', {},
        h('a', {
          href: '#' + new URLSearchParams({ q: id, c: c.id }).toString(),
          class: 'item' + (c.id === selected.conversation ? ' active' : ''),
          'aria-current': c.id === selected.conversation ? 'true' : null,
          'data-test': 'conversation-item', 'data-id': c.id,
        },
        h('span', { class: 'who' }, c.resident_name || 'Inwoner', ' ', h('span', { class: 'muted' }, c.resident)),
        waiting && label ? h('span', { class: 'badge ' + cls, 'data-test': 'goal' }, label) : null,
        c.on_top ? h('span', { class: 'badge warn', title: 'De inwoner wil nog antwoord' }, 'opnieuw') : null,
        h('span', { class: 'snippet' }, c.last_message ? c.last_message.text : ''),
        h('span', { class: 'meta muted small' },
          waiting ? 'wacht ' + duration(c.waiting_business_seconds) + ' (kantoortijd)' : 'beantwoord',
          c.agent && id !== 'mine' ? ' · bij ' + c.agent : '',
          id === 'mine' ? ' · ' + departmentName(c.department) : '')));
    });
    fill(list, 
      h('h2', {}, title, ' ', h('span', { class: 'muted' }, '(' + data.conversations.length + ')')),
      data.denied ? h('p', { class: 'error', 'data-test': 'error' }, 'Geen toegang tot deze wachtrij.') : null,
      items.length ? h('ul', { class: 'items' }, items)
        : h('p', { class: 'muted' }, id === 'mine' ? 'Je hebt geen gesprekken in behandeling.' : 'Niemand wacht. 🎉'));
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
    // Keep what the agent is typing when the conversation is drawn again.
    const typed = view.querySelector('[data-test=reply-input]');
    const same = current && current.id === c.id;
    const draft = typed && same ? typed.value : '';
    // A live redraw keeps what the agent has open and half filled in.
    const opened = same ? [...view.querySelectorAll('details[data-key]')].filter((d) => d.open).map((d) => d.dataset.key) : [];
    const fields = same ? [...view.querySelectorAll('[data-test=forward-department], [data-test=forward-note], [data-test=template]')]
      .map((el) => [el.getAttribute('data-test'), el.value]) : [];
    const focused = document.activeElement && view.contains(document.activeElement) ? document.activeElement.getAttribute('data-test') : null;
    const history = view.querySelector('.history');
    const atBottom = !history || history.scrollHeight - history.scrollTop - history.clientHeight < 40;
    current = c;
    fill(view, header(c), messages(c), actions(c, draft), decisions(c));
    for (const key of opened) {
      const d = view.querySelector('details[data-key="' + key + '"]');
      if (d) d.open = true;
    }
    for (const [name, value] of fields) {
      const el = view.querySelector('[data-test="' + name + '"]');
      if (el && [...(el.options || [{ value }])].some((o) => o.value === value)) el.value = value;
    }
    const newHistory = view.querySelector('.history');
    if (atBottom || !history) newHistory.scrollTop = newHistory.scrollHeight;
    else newHistory.scrollTop = history.scrollTop;
    if (focused) {
      const el = view.querySelector('[data-test="' + focused + '"]');
      if (el) el.focus();
    }
  }

  function header(c) {
    const [cls, label] = GOAL[c.goal] || [];
    return h('header', { class: 'conv-head', 'data-test': 'conversation', 'data-id': c.id },
      h('div', {},
        h('h2', {}, c.resident_name || 'Inwoner', ' ', h('span', { class: 'muted' }, c.resident)),
        h('div', { class: 'row small' },
          h('span', { 'data-test': 'phase', 'data-phase': c.phase }, PHASE[c.phase] || c.phase),
          h('span', { class: 'muted' }, '·'),
          h('span', { 'data-test': 'department', 'data-department': c.department || '' }, departmentName(c.department)),
          c.agent ? h('span', { class: 'muted' }, '· bij ' + c.agent) : null,
          label ? h('span', { class: 'badge ' + cls }, label + ' · ' + duration(c.waiting_business_seconds)) : null,
          c.in_window
            ? h('span', { class: 'muted', title: 'WhatsApp laat vrije tekst toe tot 24 uur na het laatste bericht van de inwoner' }, 'venster open tot ' + dateTime(c.window_closes_at))
            : h('span', { class: 'badge warn' }, '24-uursvenster dicht: alleen sjablonen'))));
  }

  function messages(c) {
    const items = c.messages.map((m) => {
      const kind = m.direction === 'in' ? 'in' : (m.direction === 'internal' ? 'note' : 'out');
      const who = m.author === 'resident' ? (c.resident_name || 'Inwoner')
        : m.author === 'bot' ? 'Bot' : m.author.replace(/^agent:/, '');
      const status = m.direction === 'out'
        ? (m.error ? '⚠ ' + m.error : (m.delivery || m.send_status || '')) : '';
      return h('div', { class: 'bubble ' + kind + (m.author === 'bot' ? ' bot' : ''), 'data-test': 'message', 'data-author': m.author },
        kind === 'note' ? h('b', {}, 'Notitie: ') : null,
        m.removed ? h('i', { class: 'muted' }, 'Tekst verwijderd: de bewaartermijn is voorbij.') : linkify(m.text),
        h('span', { class: 'meta' }, who + ' · ' + dateTime(m.at) + (status ? ' · ' + statusName(status) : '')));
    });
    return h('div', { class: 'history', role: 'log', 'aria-label': 'Berichten' }, items);
  }

  function statusName(s) {
    return { pending: 'in de wachtrij', sending: 'wordt verstuurd', sent: 'verstuurd', accepted: 'verstuurd',
      delivered: 'afgeleverd', read: 'gelezen', failed: 'mislukt' }[s] || s;
  }


  /** A step of the bot's reasons: data with a Dutch `text` (older decisions: a sentence). */
  function stepText(s) { return typeof s === 'string' ? s : s.text; }

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
    const box = h('div', { class: 'actions' });
    const mineNow = c.agent === me.name;
    const open = c.phase !== 'resolved';
    const buttons = h('div', { class: 'row' });
    if (open && !mineNow) {
      buttons.append(h('button', { class: 'primary', type: 'button', 'data-test': 'claim',
        onclick: () => act('claim', {}, c.agent ? 'Overgenomen van ' + c.agent : 'Opgepakt') }, c.agent ? 'Overnemen' : 'Oppakken'));
    }
    if (open) {
      buttons.append(h('button', { type: 'button', 'data-test': 'resolve', onclick: () => act('resolve', {}, 'Afgerond') }, 'Afronden'));
    } else {
      buttons.append(h('button', { type: 'button', 'data-test': 'reopen', onclick: () => act('reopen', {}, 'Heropend') }, 'Heropenen'));
    }
    box.append(buttons);
    if (open) {
      box.append(replyForm(c, draft));
      box.append(forwardForm(c));
    }
    return box;
  }

  function replyForm(c, draft) {
    const form = h('form', { class: 'reply stack', 'aria-label': 'Antwoorden' });
    if (c.in_window) {
      const input = h('textarea', { id: 'reply', rows: '3', maxlength: '4096', 'data-test': 'reply-input',
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
      form.append(h('label', { for: 'reply' }, 'Antwoord aan de inwoner'), input,
        h('div', { class: 'row' }, pick, h('span', { class: 'spacer' }),
          h('button', { class: 'primary', type: 'submit', 'data-test': 'reply-send' }, 'Versturen')));
      form.addEventListener('submit', async (e) => {
        e.preventDefault();
        const text = input.value.trim();
        if (!text) { input.focus(); return; }
        // Cleared first: the redraw after sending keeps what is in the box.
        input.value = '';
        if (!(await act('reply', { text }, 'Verstuurd'))) {
          const again = view.querySelector('[data-test=reply-input]');
          if (again) again.value = text;
        }
      });
    } else {
      const pick = h('select', { id: 'template', 'data-test': 'template' },
        c.templates.map((t) => h('option', { value: t.name }, t.name + ' (' + t.language + ')')));
      form.append(
        h('p', { class: 'small muted' }, 'De inwoner schreef meer dan 24 uur geleden. WhatsApp staat dan alleen een goedgekeurd sjabloon toe.'),
        h('label', { for: 'template' }, 'Sjabloon'),
        h('div', { class: 'row' }, pick,
          h('button', { class: 'primary', type: 'submit', 'data-test': 'template-send', disabled: !c.templates.length }, 'Sjabloon versturen')));
      form.addEventListener('submit', (e) => {
        e.preventDefault();
        if (pick.value) act('reply', { template: pick.value }, 'Sjabloon verstuurd');
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
      if (await act('forward', body, 'Doorgestuurd naar ' + departmentName(pick.value))) {
        // An agent without that department no longer sees it: back to the queue.
        if (me.role === 'agent' && !me.departments.includes(pick.value)) go(selected.queue, null);
      }
    });
    return form;
  }

  /** One action on the open conversation; true when it was done. */
  async function act(action, body, done) {
    const id = selected.conversation;
    const buttons = view.querySelectorAll('button');
    buttons.forEach((b) => { b.disabled = true; });
    try {
      await api('POST', '/api/conversations/' + id + '/' + action, body);
      toast(done, 'ok');
      await refresh();
      return true;
    } catch (e) {
      toast(e.message || 'Dat lukte niet', 'error');
      await refresh();
      return false;
    } finally {
      buttons.forEach((b) => { b.disabled = false; });
    }
  }

  function showError(where, e) {
    fill(where, h('p', { class: 'error', 'data-test': 'error' }, e.message || String(e)));
  }

  // Keyboard: j/k move through the list, / focuses the reply box (not while typing).
  document.addEventListener('keydown', (e) => {
    if (e.target.closest('input, textarea, select') || e.ctrlKey || e.metaKey || e.altKey) return;
    const items = [...list.querySelectorAll('[data-test=conversation-item]')];
    const at = items.findIndex((x) => x.classList.contains('active'));
    if (e.key === 'j' || e.key === 'k') {
      const next = items[Math.max(0, Math.min(items.length - 1, at + (e.key === 'j' ? 1 : -1)))];
      if (next) { e.preventDefault(); next.click(); next.focus(); }
    } else if (e.key === '/') {
      const input = view.querySelector('[data-test=reply-input]');
      if (input) { e.preventDefault(); input.focus(); }
    }
  });
})();
