// The editors' page: are the flow files on disk valid (errors with file:line:column), the last
// reload, a box to try a message and see why the bot answers as it does, and the questions that
// went to a person, grouped, to write new FAQ topics from.
//
// Every piece of data comes from /api/editor/*, which only editors and admins may use. Text is
// put in the page with textContent (triage.h), never as HTML. Times are the service's (its
// clock, which tests and the demo may set) and written in Dutch whatever the browser's language.
'use strict';

(function () {
  const { h, fill, linkify, api, dateTime, toast } = triage;
  const OUTCOME = {
    faq: ['ok', 'beantwoord met een FAQ'],
    privacy_redirect: ['warn', 'doorverwezen (privacy)'],
    handover: ['late', 'naar een medewerker'],
    to_agent: ['', 'naar de medewerker'],
    ignored: ['', 'genegeerd'],
  };
  const KIND = { keyword: 'trefwoord', synonym: 'synoniem', phrase: 'zinsdeel', pattern: 'patroon', exclude: 'uitsluiting' };
  const PERIODS = [7, 30, 90];
  /** One step of the bot's reasons: a sentence, or (as the engine will send them) an object
   * with its Dutch `text`. */
  const stepText = (step) => (typeof step === 'string' ? step : step.text);

  let status = null;
  let departments = {};
  const main = document.getElementById('main');

  // The four cards, filled by their own functions.
  const checkBody = h('div', { class: 'stack', 'aria-live': 'polite' });
  const reloadBody = h('div', { class: 'stack', 'data-test': 'last-reload' });
  const tryResult = h('div', { class: 'try-result', 'data-test': 'try-result', 'aria-live': 'polite' });
  // What "now" is for the service, shown beside the time field (from the last status).
  const serviceNow = h('span', { 'data-test': 'service-now' });
  const unmatchedBody = h('div', { class: 'stack' });

  triage.start('editor').then((me) => {
    if (me.role === 'agent') {
      fill(main, h('div', { class: 'card' }, h('h1', {}, 'Redactie'),
        h('p', { 'data-test': 'not-allowed' }, 'Deze pagina is voor redacteuren en beheerders.')));
      return;
    }
    draw();
    loadStatus();
    loadUnmatched();
  }).catch((e) => {
    if (e && e.status !== 401) fill(main, h('p', { class: 'error' }, e.message || 'Er ging iets mis.'));
  });

  function draw() {
    const checkAgain = h('button', { type: 'button', 'data-test': 'check-again', onclick: loadStatus }, 'Opnieuw controleren');
    const reload = h('button', { type: 'button', class: 'primary', 'data-test': 'reload', onclick: () => doReload(reload) }, 'Opnieuw laden');
    fill(main,
      h('h1', {}, 'Redactie'),
      h('div', { class: 'editor-top' },
        h('section', { class: 'card', 'aria-labelledby': 'check-title', 'data-test': 'check-card' },
          h('div', { class: 'row card-head' }, h('h2', { id: 'check-title' }, 'Controle van de flows'),
            h('span', { class: 'spacer' }), checkAgain, reload),
          checkBody),
        h('section', { class: 'card', 'aria-labelledby': 'reload-title' },
          h('h2', { id: 'reload-title' }, 'Laatste keer geladen'), reloadBody)),
      tryCard(),
      unmatchedCard());
  }

  // -------------------------------------------------------------------------------------------
  // The files' state and reloading

  async function loadStatus() {
    try {
      status = await api('GET', '/api/editor/status');
    } catch (e) {
      fill(checkBody, h('p', { class: 'error' }, e.message));
      return;
    }
    departments = {};
    for (const d of status.in_force.departments) departments[d.id] = d.name;
    serviceNow.textContent = dateTime(status.checked_at);
    drawCheck();
    drawReload();
  }

  function drawCheck() {
    const s = status;
    const state = s.valid
      ? h('div', { class: 'state ok', 'data-test': 'flows-state', 'data-valid': 'true' },
        h('strong', {}, '✔ De bestanden zijn in orde'),
        s.warnings ? h('span', {}, ' · ' + plural(s.warnings, 'waarschuwing', 'waarschuwingen')) : null)
      : h('div', { class: 'state bad', 'data-test': 'flows-state', 'data-valid': 'false', role: 'alert' },
        h('strong', {}, '✖ ' + plural(s.errors, 'fout', 'fouten') + ' in de bestanden'),
        s.warnings ? h('span', {}, ' · ' + plural(s.warnings, 'waarschuwing', 'waarschuwingen')) : null,
        h('div', { class: 'small' }, 'Zolang er fouten zijn, blijven de vorige flows gewoon werken.'));
    const untested = s.tests && s.tests.untested && s.tests.untested.length
      ? h('details', { 'data-test': 'untested' },
        h('summary', {}, plural(s.tests.untested.length, 'onderwerp', 'onderwerpen') + ' zonder gesprekstest'),
        diagnosticList(s.tests.untested))
      : null;
    const testProblems = s.tests && s.tests.problems && s.tests.problems.length
      ? h('details', {}, h('summary', {}, 'Problemen in de gesprekstests'), diagnosticList(s.tests.problems))
      : null;
    fill(checkBody,
      state,
      h('p', { class: 'muted small' }, 'Gecontroleerd ' + dateTime(s.checked_at) + ' · ',
        h('code', {}, s.flows_dir), ' en ', h('code', {}, s.rules_dir)),
      s.diagnostics.length ? diagnosticList(s.diagnostics) : null,
      untested, testProblems);
  }

  function diagnosticList(list) {
    return h('ul', { class: 'diagnostics', 'data-test': 'diagnostics' }, list.map((d) =>
      h('li', { class: d.severity, 'data-test': 'diagnostic', 'data-severity': d.severity },
        h('span', { class: 'badge ' + (d.severity === 'error' ? 'late' : 'warn') }, d.severity === 'error' ? 'fout' : 'let op'),
        ' ', h('code', { class: 'where', 'data-test': 'diagnostic-where' }, d.file + ':' + d.line + ':' + d.column),
        h('div', { class: 'message' }, d.message),
        d.help ? h('div', { class: 'help muted' }, '💡 ' + d.help) : null)));
  }

  async function doReload(button) {
    button.disabled = true;
    try {
      const r = await api('POST', '/api/editor/reload', {});
      if (r.ok) toast('De nieuwe flows zijn geladen.', 'ok');
      else toast('Niet geladen: de bestanden hebben fouten. De vorige flows blijven werken.', 'error');
    } catch (e) {
      toast(e.message, 'error');
    } finally {
      button.disabled = false;
    }
    await loadStatus();
  }

  function drawReload() {
    const s = status;
    const f = s.in_force;
    const r = s.last_reload;
    let last;
    if (!r) {
      last = h('p', { class: 'muted', 'data-test': 'reload-result' }, 'Sinds de start niet opnieuw geladen.');
    } else {
      const errors = r.diagnostics.filter((d) => d.severity === 'error');
      last = h('div', { 'data-test': 'reload-result', 'data-ok': String(r.ok) },
        h('p', {}, h('span', { class: 'badge ' + (r.ok ? 'ok' : 'late') }, r.ok ? 'gelukt' : 'geweigerd'),
          ' ', dateTime(r.at)),
        r.ok ? null : h('p', { class: 'small' }, plural(errors.length, 'fout', 'fouten') +
          ': de vorige flows bleven in gebruik. Zolang de fouten er nog zijn, staan ze bij de controle.'));
    }
    fill(reloadBody,
      h('dl', { class: 'facts' },
        h('dt', {}, 'In gebruik sinds'), h('dd', { 'data-test': 'loaded-at' }, dateTime(f.loaded_at)),
        h('dt', {}, 'Onderwerpen'), h('dd', { 'data-test': 'topic-count' }, String(f.topics)),
        h('dt', {}, 'Afdelingen'), h('dd', {}, String(f.departments.length)),
        h('dt', {}, 'Bestanden'), h('dd', {}, String(f.files))),
      h('h3', {}, 'Laatste poging'),
      last);
  }

  // -------------------------------------------------------------------------------------------
  // Try a message

  function tryCard() {
    const text = h('textarea', { id: 'try-text', rows: 4, dir: 'auto', maxlength: 4096, required: true, 'data-test': 'try-input',
      placeholder: 'bijv. hoi ik ben mijn paspoort kwijt' });
    // A text field, not the browser's date picker: that writes the browser's language
    // (mm/dd/yyyy in an English browser) and opens on the computer's today.
    const at = h('input', { id: 'try-at', type: 'text', autocomplete: 'off', size: 18, placeholder: 'dd-mm-jjjj uu:mm',
      'aria-describedby': 'try-at-hint', 'data-test': 'try-at' });
    const submit = h('button', { type: 'submit', class: 'primary', 'data-test': 'try-submit' }, 'Probeer');
    const form = h('form', { class: 'stack', 'aria-labelledby': 'try-title' },
      h('div', {}, h('label', { for: 'try-text' }, 'Bericht van een inwoner'), text),
      h('div', { class: 'row' },
        h('div', {}, h('label', { for: 'try-at' }, 'Tijdstip (Nederlandse tijd)'), at,
          h('div', { id: 'try-at-hint', class: 'muted small' }, 'Bijv. 27-11-2026 19:30. Leeg = nu volgens de service: ', serviceNow)),
        h('span', { class: 'spacer' }),
        submit),
      h('p', { class: 'muted small' }, 'De bot antwoordt zoals in een nieuw gesprek, met de flows die nu in gebruik zijn. Er wordt niets opgeslagen of verstuurd.'));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      if (!text.value.trim()) { text.focus(); return; }
      submit.disabled = true;
      try {
        const body = { text: text.value };
        if (at.value.trim()) body.at = localTime(at.value);
        drawTry(await api('POST', '/api/editor/try', body));
      } catch (err) {
        fill(tryResult, h('p', { class: 'error', role: 'alert', 'data-test': 'try-error' }, err.message));
      } finally {
        submit.disabled = false;
      }
    });
    // Ctrl+Enter (or Cmd+Enter) tries the message without leaving the keyboard.
    text.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); form.requestSubmit(); }
    });
    return h('section', { class: 'card try', 'aria-labelledby': 'try-title' },
      h('h2', { id: 'try-title' }, 'Probeer een bericht'),
      h('div', { class: 'try-grid' }, form, tryResult));
  }

  /** "27-11-2026 19:30" (or 27/11/2026 19.30) as 2026-11-27T19:30, the office's local time the
   * API takes; anything else goes as typed, and the API says what is wrong with it. */
  function localTime(text) {
    const m = /^\s*(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})(?:[ T,]+(\d{1,2})[:.](\d{2}))?\s*$/.exec(text);
    if (!m) return text.trim();
    const [, d, mo, y, hh, mm] = m;
    return y + '-' + mo.padStart(2, '0') + '-' + d.padStart(2, '0') + 'T' + (hh || '00').padStart(2, '0') + ':' + (mm || '00');
  }

  function drawTry(d) {
    const [cls, label] = OUTCOME[d.outcome] || ['', d.outcome];
    const facts = [
      ['Tijdstip', dateTime(d.at) + (d.open ? ' (open)' : ' (gesloten)')],
      d.topic ? ['Onderwerp', d.topic + (d.topic_title ? ' · ' + d.topic_title : '')] : null,
      d.department ? ['Afdeling', d.department_name || d.department] : null,
      d.follow_up_at ? ['Nazorgvraag', dateTime(d.follow_up_at)] : null,
      d.findings.length ? ['Afgeschermd', d.findings.map((f) => f.label + ' ' + f.masked).join(', ')] : null,
    ].filter(Boolean);
    fill(tryResult,
      h('p', {}, h('span', { class: 'badge ' + cls, 'data-test': 'try-outcome', 'data-outcome': d.outcome }, label)),
      h('dl', { class: 'facts' }, facts.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
      h('div', { class: 'chat', role: 'log', 'aria-label': 'Het gesprek zoals de inwoner het ziet', 'data-test': 'try-chat' },
        h('div', { class: 'bubble in' }, h('div', { dir: 'auto' }, d.masked_text), h('span', { class: 'meta' }, 'Inwoner')),
        d.replies.map(replyBubble)),
      h('h3', {}, 'Waarom'),
      h('ol', { class: 'trace', 'data-test': 'try-trace' }, d.trace.steps.map((s) => h('li', {}, stepText(s)))),
      candidates(d.trace.candidates, 'Onderwerpen die meededen'),
      candidates(d.trace.routing, 'Routeringsregels die meededen'));
  }

  function replyBubble(r) {
    if (r.kind === 'template') {
      return h('div', { class: 'bubble out', 'data-test': 'try-reply' },
        h('em', {}, 'Sjabloon ' + r.name + ': '), r.parameters.join(' | '),
        h('span', { class: 'meta' }, 'Bot'));
    }
    return h('div', { class: 'bubble out', 'data-test': 'try-reply' },
      h('div', { dir: 'auto' }, linkify(r.text)),
      r.buttons && r.buttons.length
        ? h('span', { class: 'buttons' }, r.buttons.map((b) => h('span', { title: b.id }, b.title))) : null,
      h('span', { class: 'meta' }, 'Bot'));
  }

  function candidates(list, title) {
    if (!list || !list.length) return null;
    return h('details', { class: 'candidates' },
      h('summary', {}, title + ' (' + list.length + ')'),
      h('table', { class: 'data' },
        h('thead', {}, h('tr', {}, h('th', {}, 'Naam'), h('th', { class: 'num' }, 'Score'), h('th', {}, 'Gevonden'))),
        h('tbody', {}, list.map((c) => h('tr', {},
          h('td', {}, c.id),
          h('td', { class: 'num' }, c.score.toFixed(1)),
          h('td', {}, c.matched.map((m) => (KIND[m.kind] || m.kind) + ' "' + m.term + '"' + how(m)).join(', '),
            c.excluded_by ? h('div', { class: 'error small' }, 'uitgesloten door "' + c.excluded_by + '"') : null))))));
  }

  function how(m) {
    const x = m.how;
    if (x === 'exact') return '';
    if (x === 'partial') return ' in "' + m.found + '"';
    if (x === 'joined') return ' als "' + m.found + '"';
    if (x && typeof x === 'object' && 'typo' in x) return ' als "' + m.found + '" (' + plural(x.typo, 'typfout', 'typfouten') + ')';
    return '';
  }


  // -------------------------------------------------------------------------------------------
  // Questions that went to a person

  function unmatchedCard() {
    const select = h('select', { id: 'unmatched-days', 'data-test': 'unmatched-days', onchange: loadUnmatched },
      PERIODS.map((d) => h('option', { value: d, selected: d === 30 }, 'laatste ' + d + ' dagen')));
    return h('section', { class: 'card', 'aria-labelledby': 'unmatched-title' },
      h('div', { class: 'row card-head' },
        h('h2', { id: 'unmatched-title' }, 'Vragen die naar een medewerker gingen'),
        h('span', { class: 'spacer' }),
        h('label', { for: 'unmatched-days', class: 'inline' }, 'Periode'), select),
      h('p', { class: 'muted small' }, 'Vragen waar de bot geen antwoord op had, gegroepeerd op woorden die ze delen, nieuwste groep eerst. Een grote groep is een goede kandidaat voor een nieuw FAQ-onderwerp. Persoonsgegevens zijn afgeschermd.'),
      unmatchedBody);
  }

  async function loadUnmatched() {
    const select = document.getElementById('unmatched-days');
    const days = select ? select.value : 30;
    fill(unmatchedBody, h('p', { class: 'muted' }, 'Laden…'));
    let v;
    try {
      v = await api('GET', '/api/editor/unmatched?days=' + encodeURIComponent(days));
    } catch (e) {
      fill(unmatchedBody, h('p', { class: 'error' }, e.message));
      return;
    }
    const names = v.departments || {};
    if (!v.groups.length) {
      fill(unmatchedBody, h('p', { class: 'muted', 'data-test': 'unmatched-empty' }, 'Geen vragen naar een medewerker in deze periode. 🎉'));
      return;
    }
    fill(unmatchedBody,
      h('p', { 'data-test': 'unmatched-summary' },
        plural(v.questions, 'vraag', 'vragen') + ' in ' + plural(v.groups.length, 'groep', 'groepen') +
        (v.truncated ? ' (alleen de nieuwste ' + v.questions + ')' : '')),
      h('ol', { class: 'groups' }, v.groups.map((g) => group(g, names))));
  }

  function group(g, names) {
    return h('li', { class: 'group', 'data-test': 'unmatched-group', 'data-size': g.size },
      h('div', { class: 'row' },
        h('span', { class: 'badge size', 'data-test': 'group-size', title: 'aantal vragen' }, '× ' + g.size),
        h('span', { class: 'terms', 'data-test': 'group-terms' }, g.terms.map((t) => h('span', { class: 'term' }, t))),
        h('span', { class: 'spacer' }),
        h('span', { class: 'muted small' }, 'laatst ' + dateTime(g.latest_at))),
      h('ul', { class: 'examples' }, g.examples.map((e) => example(e, names))),
      more(g, names));
  }

  function example(e, names) {
    return h('li', { 'data-test': 'unmatched-example' },
      h('q', {}, e.text),
      h('span', { class: 'muted small' }, ' · ' + dateTime(e.at) +
        (e.department ? ' · ' + (names[e.department] || e.department) : '') + ' · '),
      h('a', { class: 'small', href: '/inbox#' + new URLSearchParams({ q: e.department || '', c: e.conversation_id }).toString() },
        'gesprek ' + e.conversation_id));
  }

  /** "en nog 37 andere", which opens (a native disclosure: Enter or Space) on the group's
   * further questions, newest first. */
  function more(g, names) {
    const rest = g.size - g.examples.length;
    if (rest <= 0) return null;
    const list = g.more || [];
    return h('details', { class: 'more', 'data-test': 'group-more' },
      h('summary', { class: 'small' }, 'en nog ' + plural(rest, 'andere vraag', 'andere vragen')),
      h('ul', { class: 'examples' }, list.map((e) => example(e, names))),
      list.length < rest ? h('p', { class: 'muted small' }, 'De nieuwste ' + list.length + ' hiervan staan hierboven.') : null);
  }

  function plural(n, one, many) {
    return n + ' ' + (n === 1 ? one : many);
  }
})();
