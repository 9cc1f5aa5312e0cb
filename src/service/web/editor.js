// The editors' page: the work area where the files are changed, drafted and published
// (editor-work.js, with its form and YAML view), are the flow files on disk valid (errors with
// file:line:column), the last reload, what a draft or a reload would change (the last days'
// messages decided again), a box to try a message against the flows in force or the draft and
// see why the bot answers as it does, and the questions that went to a person, grouped, to
// write new FAQ topics from.
//
// Every piece of data comes from /api/editor/*, which only editors and admins may use. Text is
// put in the page with textContent (triage.h), never as HTML. Times are the service's (its
// clock, which tests and the demo may set) and written in Dutch whatever the browser's language.
'use strict';

(function () {
  const { h, fill, linkify, api, dateTime, toast } = triage;
  const OUTCOME = {
    faq: ['ok', 'beantwoord met een FAQ'],
    clarify: ['warn', 'teruggevraagd welk onderwerp'],
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
  /** Whether the signed-in editor has a draft: "mijn concept" can be tried and compared. */
  let hasDraft = false;
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
    loadLabels();
  }).catch((e) => {
    if (e && e.status !== 401) fill(main, h('p', { class: 'error' }, e.message || 'Er ging iets mis.'));
  });

  function draw() {
    const checkAgain = h('button', { type: 'button', 'data-test': 'check-again', onclick: loadStatus }, 'Opnieuw controleren');
    const reload = h('button', { type: 'button', class: 'primary', 'data-test': 'reload', onclick: () => doReload(reload) }, 'Opnieuw laden');
    const whatChanges = h('button', { type: 'button', 'data-test': 'diff-open', onclick: openDiff }, 'Wat verandert er?');
    const work = h('section', { class: 'card work', id: 'work', 'aria-labelledby': 'work-title', 'data-test': 'work' });
    fill(main,
      h('h1', {}, 'Redactie'),
      work,
      h('div', { class: 'editor-top' },
        h('section', { class: 'card', 'aria-labelledby': 'check-title', 'data-test': 'check-card' },
          h('div', { class: 'row card-head' }, h('h2', { id: 'check-title' }, 'Controle van de flows'),
            h('span', { class: 'spacer' }), checkAgain, whatChanges, reload),
          checkBody),
        h('section', { class: 'card', 'aria-labelledby': 'reload-title' },
          h('h2', { id: 'reload-title' }, 'Laatste keer geladen'), reloadBody)),
      diffCard(),
      tryCard(),
      unmatchedCard(),
      labelsCard());
    triage.workArea.mount(work, {
      onDraft: (has) => {
        hasDraft = has;
        for (const o of document.querySelectorAll('option[value=draft]')) o.disabled = !has;
        for (const sel of document.querySelectorAll('[data-source-select]')) if (!has && sel.value === 'draft') sel.value = sel.dataset.sourceSelect;
      },
      onPublished: loadStatus,
      tryDraft: () => {
        document.getElementById('try-source').value = 'draft';
        const card = document.getElementById('try-text');
        card.scrollIntoView({ block: 'center' });
        card.focus({ preventScroll: true });
      },
      diffDraft: () => {
        document.getElementById('diff-source').value = 'draft';
        openDiff();
      },
    });
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
  // What would change: the residents' messages of the last days decided again by the flows in
  // force and by the flows on disk (compiled, not loaded), every decision that differs listed,
  // and the reload below it.

  const DIFF_PERIODS = [1, 7, 30];
  /** The heading of a change's second side: after reloading the disk's flows, or publishing. */
  let afterLabel = 'Na opnieuw laden';
  const diffBody = h('div', { class: 'stack', 'data-test': 'diff-result', 'aria-live': 'polite' });

  function diffCard() {
    const select = h('select', { id: 'diff-days', 'data-test': 'diff-days' },
      DIFF_PERIODS.map((d) => h('option', { value: d, selected: d === 7 }, d === 1 ? 'laatste dag' : 'laatste ' + d + ' dagen')));
    const run = h('button', { type: 'button', class: 'primary', 'data-test': 'diff-run', onclick: loadDiff }, 'Vergelijk');
    const source = h('select', { id: 'diff-source', 'data-test': 'diff-source', 'data-source-select': 'disk' },
      h('option', { value: 'disk' }, 'de bestanden op schijf'),
      h('option', { value: 'draft', disabled: !hasDraft }, 'mijn concept'));
    return h('section', { class: 'card diff', id: 'diff', 'aria-labelledby': 'diff-title', 'data-test': 'diff-card' },
      h('div', { class: 'row card-head' },
        h('h2', { id: 'diff-title', tabindex: '-1' }, 'Wat verandert er?'),
        h('span', { class: 'spacer' }),
        h('label', { for: 'diff-source', class: 'inline' }, 'Tegenover'), source,
        h('label', { for: 'diff-days', class: 'inline' }, 'Periode'), select, run),
      h('p', { class: 'muted small' }, 'Voordat je publiceert of opnieuw laadt: de berichten van inwoners uit de gekozen periode, opnieuw beslist door de flows die nu in gebruik zijn én door je concept of de flows op schijf. Elk bericht telt als het eerste van een nieuw gesprek, op het moment dat het binnenkwam, zodat alleen het verschil tussen de flows telt. Er wordt niets opgeslagen of verstuurd; persoonsgegevens zijn afgeschermd.'),
      diffBody);
  }

  /** The check card's "Wat verandert er?": to the comparison, and run it. */
  function openDiff() {
    const card = document.getElementById('diff');
    card.scrollIntoView({ block: 'start' });
    document.getElementById('diff-title').focus({ preventScroll: true });
    loadDiff();
  }

  async function loadDiff() {
    const days = document.getElementById('diff-days').value;
    const draft = document.getElementById('diff-source').value === 'draft';
    const run = document.querySelector('[data-test=diff-run]');
    run.disabled = true;
    diffBody.setAttribute('aria-busy', 'true');
    fill(diffBody, h('p', { class: 'muted', 'data-test': 'diff-busy' }, 'Vergelijken…'));
    try {
      drawDiff(await api('GET', (draft ? '/api/editor/draft/diff' : '/api/editor/diff') + '?days=' + encodeURIComponent(days)), draft);
    } catch (e) {
      fill(diffBody, h('p', { class: 'error', role: 'alert' }, e.message));
    } finally {
      run.disabled = false;
      diffBody.removeAttribute('aria-busy');
    }
  }

  function drawDiff(v, draft) {
    afterLabel = draft ? 'Na publiceren' : 'Na opnieuw laden';
    const other = draft ? 'je concept' : 'de flows op schijf';
    if (!v.valid) {
      fill(diffBody,
        h('div', { class: 'state bad', 'data-test': 'diff-invalid', role: 'alert' },
          h('strong', {}, '✖ ' + plural(v.errors, 'fout', 'fouten') + (draft ? ' in je concept' : ' in de bestanden op schijf')),
          h('div', { class: 'small' }, 'Zo kan er niet vergeleken en niet geladen worden. De flows in gebruik blijven gewoon werken.')),
        diagnosticList(v.diagnostics));
      return;
    }
    const names = v.names;
    const period = v.days === 1 ? 'de laatste dag' : 'de laatste ' + v.days + ' dagen';
    const summary = v.changed === 0
      ? h('div', { class: 'state ok', 'data-test': 'diff-summary', 'data-changed': '0' },
        h('strong', {}, '✔ Er verandert niets'),
        h('span', {}, ': ' + other + (draft ? ' beslist ' : ' beslissen ') + plural(v.replayed, 'bericht', 'berichten') + ' van ' + period + ' hetzelfde als de flows in gebruik.'))
      : h('p', { 'data-test': 'diff-summary', 'data-changed': String(v.changed) },
        h('strong', {}, 'Van de ' + number(v.replayed) + ' berichten van ' + period + ' zouden er ' + number(v.changed) + ' anders beslist worden.'));
    const capped = [
      v.left_out ? 'Alleen de nieuwste ' + number(v.max_messages) + ' berichten zijn vergeleken; ' + plural(v.left_out, 'ouder bericht', 'oudere berichten') + ' niet.' : null,
      v.stopped ? 'De vergelijking stopte na ' + v.budget_seconds + ' seconden: ' + plural(v.stopped, 'bericht', 'berichten') + ' niet vergeleken.' : null,
      v.unlisted ? plural(v.unlisted, 'groep', 'groepen') + ' staan niet in de lijst hieronder (wel meegeteld).' : null,
    ].filter(Boolean);
    const sections = [];
    v.kinds.forEach((k, i) => {
      const changes = v.changes.filter((c) => sameKind(c, k));
      sections.push(h('section', { class: 'diff-kind', 'aria-labelledby': 'diff-kind-' + i, 'data-test': 'diff-kind-section' },
        h('h3', { id: 'diff-kind-' + i, tabindex: '-1' }, kindLabel(k, names), ' ', h('span', { class: 'badge' }, '× ' + number(k.count))),
        changes.length
          ? h('ol', { class: 'diff-changes' }, changes.map((c) => diffChange(c, names)))
          : h('p', { class: 'muted small' }, 'Niet in de lijst: die is ingekort (wel meegeteld).')));
    });
    fill(diffBody,
      summary,
      capped.length ? h('ul', { class: 'diff-capped small', 'data-test': 'diff-capped' }, capped.map((t) => h('li', {}, t))) : null,
      v.kinds.length ? h('ul', { class: 'diff-kinds', 'aria-label': 'Soorten veranderingen' }, v.kinds.map((k, i) =>
        h('li', { 'data-test': 'diff-kind', 'data-kind': k.kind },
          h('span', { class: 'badge size', 'data-test': 'diff-kind-count' }, number(k.count)), ' ',
          h('a', { href: '#diff-kind-' + i, onclick: (e) => { e.preventDefault(); jump('diff-kind-' + i); } }, kindLabel(k, names))))) : null,
      sections,
      draft ? null : reloadBelow(v));
  }

  /** To a kind's heading, by mouse or keyboard, keeping the focus there. */
  function jump(id) {
    const target = document.getElementById(id);
    target.scrollIntoView({ block: 'start' });
    target.focus({ preventScroll: true });
  }

  function reloadBelow(v) {
    const button = h('button', { type: 'button', class: 'primary', 'data-test': 'diff-reload' }, 'Opnieuw laden');
    button.addEventListener('click', async () => {
      await doReload(button);
      await loadDiff();
    });
    return h('div', { class: 'row diff-reload' },
      h('p', { class: 'small' }, v.changed
        ? 'Klopt dit? Laad de flows dan opnieuw: daarna beslist de bot zo.'
        : 'Opnieuw laden verandert niets aan deze berichten.'),
      h('span', { class: 'spacer' }), button);
  }

  function sameKind(c, k) {
    for (const key of Object.keys(k)) {
      if (key !== 'count' && c[key] !== k[key]) return false;
    }
    return true;
  }

  function topicName(id, names) {
    if (!id) return 'geen onderwerp';
    return '‘' + (names.topics[id] || id) + '’';
  }

  function departmentName(id, names) {
    return id ? names.departments[id] || id : 'de standaardafdeling';
  }

  function outcomeName(o) {
    return (OUTCOME[o] || ['', o])[1];
  }

  function kindLabel(k, n) {
    switch (k.kind) {
      case 'topic':
        return (k.outcome === 'privacy_redirect' ? 'Privacy-doorverwijzing, ander onderwerp: ' : 'Ander onderwerp: ') +
          topicName(k.from, n) + ' → ' + topicName(k.to, n);
      case 'faq_to_handover':
        return 'Niet meer beantwoord: ' + topicName(k.topic, n) + ' → medewerker ' + departmentName(k.department, n);
      case 'handover_to_faq':
        return 'Nu beantwoord: medewerker ' + departmentName(k.department, n) + ' → ' + topicName(k.topic, n);
      case 'department':
        return 'Andere afdeling: ' + departmentName(k.from, n) + ' → ' + departmentName(k.to, n);
      case 'outcome':
        return 'Anders afgehandeld: ' + outcomeName(k.from) + ' → ' + outcomeName(k.to);
      case 'replies':
        return 'Andere tekst: ' + (k.topic ? topicName(k.topic, n) : outcomeName(k.outcome) +
          (k.department ? ' (' + departmentName(k.department, n) + ')' : ''));
      default:
        return k.kind;
    }
  }

  function diffChange(c, names) {
    const m = c.messages[0];
    return h('li', { class: 'diff-change', 'data-test': 'diff-change' },
      h('div', { class: 'row' },
        h('q', { 'data-test': 'diff-text' }, c.text || '(geen tekst)'),
        c.count > 1 ? h('span', { class: 'badge', title: 'zo vaak gestuurd' }, '× ' + c.count) : null,
        h('span', { class: 'spacer' }),
        h('span', { class: 'muted small' }, (c.count > 1 ? 'laatst ' : '') + dateTime(m.at) + ' · ' + m.channel + ' · '),
        h('a', { class: 'small', href: '/inbox#' + new URLSearchParams({ c: m.conversation_id }).toString() }, 'gesprek ' + m.conversation_id)),
      h('div', { class: 'diff-sides' },
        sideView('Nu', c.before, names, c.kind === 'replies' ? [c.after.replies, 'del'] : null),
        sideView(afterLabel, c.after, names, c.kind === 'replies' ? [c.before.replies, 'ins'] : null)));
  }

  /** One side; `compare` ([the other side's replies, 'del' or 'ins']) marks the words of a text
   * that the other side's text does not have. */
  function sideView(title, s, names, compare) {
    const [cls] = OUTCOME[s.outcome] || [''];
    const what = s.outcome === 'handover' ? departmentName(s.department, names)
      : s.topic ? topicName(s.topic, names) : null;
    return h('div', { class: 'diff-side', 'data-test': 'diff-side' },
      h('div', { class: 'muted small' }, title),
      h('p', {}, h('span', { class: 'badge ' + cls, 'data-test': 'diff-outcome', 'data-outcome': s.outcome }, outcomeName(s.outcome)),
        what ? ' ' + what : null),
      h('p', { class: 'small', 'data-test': 'diff-why' }, why(s)),
      s.replies && s.replies.length
        ? h('div', { class: 'chat' + (compare ? ' changed' : ''), role: 'group', 'aria-label': 'Antwoord van de bot' },
          s.replies.map((t, i) => h('div', { class: 'bubble out' },
            compare ? marked(t, (compare[0] || [])[i] || '', compare[1]) : linkify(t))))
        : null,
      s.trace.steps.length
        ? h('details', {}, h('summary', { class: 'small' }, 'Waarom precies'),
          h('ol', { class: 'trace small' }, s.trace.steps.map((st) => h('li', {}, stepText(st)))))
        : null);
  }

  /** The terms that carried the decision: the winning topic's, or for a handover the routing
   * rule's. */
  function why(s) {
    const w = s.winner;
    const terms = w ? w.matched.map((m) => (KIND[m.kind] || m.kind) + ' "' + m.term + '"' + how(m)).join(', ') : '';
    if (s.outcome === 'handover') {
      const none = s.trace.candidates && s.trace.candidates.length ? 'geen onderwerp won' : 'geen onderwerp gevonden';
      return none + (w ? '; afdeling gekozen op ' + terms : '; standaardafdeling');
    }
    if (w) return 'Gevonden: ' + terms + ' (score ' + w.score.toFixed(1) + ')';
    const step = (name) => s.trace.steps.some((st) => st.step === name);
    if (step('button_topic')) return 'De inwoner tikte op de knop van dit onderwerp.';
    if (s.outcome === 'privacy_redirect') return 'Geen onderwerp gevonden: de algemene pagina voor veilig delen.';
    return '';
  }

  function number(n) {
    return Number(n).toLocaleString('nl-NL');
  }

  /** `text` with the words that `other` lacks wrapped in `tag` (ins: new, del: gone), by the
   * longest common run of words (spaces do not count); links stay links. Long texts are shown
   * unmarked. */
  function marked(text, other, tag) {
    const words = (t) => (t.match(/\s*\S+/g) || []).concat([t.match(/\s*$/)[0]]);
    const a = words(text);
    const b = words(other);
    if (a.length * b.length > 250000) return linkify(text);
    const same = (x, y) => x.trim() === y.trim();
    // lcs[i][j]: the longest common run of a[i..] and b[j..].
    const lcs = Array.from({ length: a.length + 1 }, () => new Uint16Array(b.length + 1));
    for (let i = a.length - 1; i >= 0; i--) {
      for (let j = b.length - 1; j >= 0; j--) {
        lcs[i][j] = same(a[i], b[j]) ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
      }
    }
    const out = [];
    let i = 0;
    let j = 0;
    while (i < a.length) {
      if (j < b.length && same(a[i], b[j])) {
        out.push(linkify(a[i]));
        i++; j++;
      } else if (j < b.length && lcs[i][j + 1] >= lcs[i + 1][j]) {
        j++;
      } else {
        const space = a[i].match(/^\s*/)[0];
        out.push(space, a[i].trim() ? h(tag, { class: 'word' }, a[i].slice(space.length)) : null);
        i++;
      }
    }
    return out;
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
    const source = h('select', { id: 'try-source', 'data-test': 'try-source', 'data-source-select': 'live' },
      h('option', { value: 'live' }, 'de flows in gebruik'),
      h('option', { value: 'draft', disabled: !hasDraft }, 'mijn concept'));
    const form = h('form', { class: 'stack', 'aria-labelledby': 'try-title' },
      h('div', {}, h('label', { for: 'try-text' }, 'Bericht van een inwoner'), text),
      h('div', { class: 'row' },
        h('div', {}, h('label', { for: 'try-at' }, 'Tijdstip (Nederlandse tijd)'), at,
          h('div', { id: 'try-at-hint', class: 'muted small' }, 'Bijv. 27-11-2026 19:30. Leeg = nu volgens de service: ', serviceNow)),
        h('div', {}, h('label', { for: 'try-source' }, 'Beslist door'), source),
        h('span', { class: 'spacer' }),
        submit),
      h('p', { class: 'muted small' }, 'De bot antwoordt zoals in een nieuw gesprek, met de flows die nu in gebruik zijn of met je concept (dat nog niemand anders ziet). Er wordt niets opgeslagen of verstuurd.'));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      if (!text.value.trim()) { text.focus(); return; }
      submit.disabled = true;
      try {
        const body = { text: text.value };
        if (at.value.trim()) body.at = localTime(at.value);
        drawTry(await api('POST', source.value === 'draft' ? '/api/editor/draft/try' : '/api/editor/try', body), source.value === 'draft');
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

  function drawTry(d, draft) {
    const [cls, label] = OUTCOME[d.outcome] || ['', d.outcome];
    const facts = [
      ['Tijdstip', dateTime(d.at) + (d.open ? ' (open)' : ' (gesloten)')],
      d.topic ? ['Onderwerp', d.topic + (d.topic_title ? ' · ' + d.topic_title : '')] : null,
      d.department ? ['Afdeling', d.department_name || d.department] : null,
      d.follow_up_at ? ['Nazorgvraag', dateTime(d.follow_up_at)] : null,
      d.findings.length ? ['Afgeschermd', d.findings.map((f) => f.label + ' ' + f.masked).join(', ')] : null,
    ].filter(Boolean);
    fill(tryResult,
      h('p', {}, h('span', { class: 'badge ' + cls, 'data-test': 'try-outcome', 'data-outcome': d.outcome, 'data-source': draft ? 'draft' : 'live' }, label),
        draft ? h('span', { class: 'muted small' }, ' · met je concept') : null),
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
            similar(c.similar),
            c.excluded_by ? h('div', { class: 'error small' }, 'uitgesloten door "' + c.excluded_by + '"') : null))))));
  }

  /** What the message has in common with the topic's words and examples, and how much it counts. */
  function similar(s) {
    if (!s || !s.words || !s.words.length) return null;
    const words = s.words.slice(0, 5).map((w) => '"' + w.word + '"' + (w.as_word ? ' (als "' + w.as_word + '")' : '') + ' ' + w.weight.toFixed(1).replace('.', ','));
    return h('div', { class: 'small', 'data-test': 'similar' },
      'lijkt op het onderwerp in ' + words.join(', ') + ' (samen ' + s.score.toFixed(1).replace('.', ',') + ')',
      s.example && s.overlap >= 0.3 ? h('div', { class: 'muted' }, 'dichtstbijzijnde voorbeeld: “' + s.example + '”') : null);
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

  // -------------------------------------------------------------------------------------------
  // Labelled questions: what agents marked in the inbox with the topic that should have answered
  // it (or "a new topic is needed"); one click makes a conversation test of one.

  const labelsBody = h('div', { class: 'stack', 'aria-live': 'polite' });
  const labelFilter = h('select', { id: 'labels-filter', 'data-test': 'labels-filter', onchange: () => loadLabels() },
    h('option', { value: '' }, 'Alle onderwerpen'), h('option', { value: 'new' }, 'Nieuw onderwerp nodig'));
  const labelUntested = h('input', { type: 'checkbox', id: 'labels-untested', 'data-test': 'labels-untested', onchange: () => loadLabels() });
  const labelsFile = h('code', { 'data-test': 'labels-file' });
  let labelTopics = null;

  function labelsCard() {
    return h('section', { class: 'card', 'aria-labelledby': 'labels-title', 'data-test': 'labels-card' },
      h('div', { class: 'row card-head' },
        h('h2', { id: 'labels-title' }, 'Gelabelde vragen'),
        h('span', { class: 'spacer' }),
        h('label', { for: 'labels-filter', class: 'inline' }, 'Onderwerp'), labelFilter,
        h('span', { class: 'check' }, labelUntested, h('label', { for: 'labels-untested', class: 'inline' }, 'alleen nog geen test'))),
      h('p', { class: 'muted small' }, 'Vragen die een medewerker in de inbox markeerde met het onderwerp dat ze had moeten beantwoorden. ',
        '“Maak test” zet er een gesprekstest van onderaan in ', labelsFile,
        '; draai ze met ', h('code', {}, 'triage test'), '. Persoonsgegevens zijn afgeschermd.'),
      labelsBody);
  }

  async function loadLabels() {
    if (!labelTopics) {
      try {
        labelTopics = (await api('GET', '/api/topics')).topics;
        labelFilter.append(...labelTopics.map((t) => h('option', { value: t.id }, t.title)));
      } catch (e) { /* the list still loads; the filter offers all and new topics */ }
    }
    const p = new URLSearchParams();
    if (labelFilter.value === 'new') p.set('new_topic', 'true');
    else if (labelFilter.value) p.set('topic', labelFilter.value);
    if (labelUntested.checked) p.set('untested', 'true');
    let v;
    try {
      v = await api('GET', '/api/editor/labels?' + p.toString());
    } catch (e) {
      fill(labelsBody, h('p', { class: 'error' }, e.message));
      return;
    }
    labelsFile.textContent = v.tests_file;
    if (!v.labels.length) {
      fill(labelsBody, h('p', { class: 'muted', 'data-test': 'labels-empty' },
        p.toString() ? 'Geen gelabelde vragen met dit filter.' : 'Nog geen gelabelde vragen. Medewerkers markeren ze in de inbox, bij een bericht van de inwoner.'));
      return;
    }
    fill(labelsBody,
      h('p', { class: 'small', 'data-test': 'labels-summary' }, plural(v.total, 'gelabelde vraag', 'gelabelde vragen') +
        (v.total > v.labels.length ? ' (de nieuwste ' + v.labels.length + ')' : '')),
      h('ol', { class: 'labels' }, v.labels.map(labelItem)));
  }

  /** What the bot did with the question, in words. */
  function botChose(b) {
    if (!b) return 'onbekend';
    const topic = b.topic ? '‘' + (b.topic_title || b.topic) + '’' : '';
    if (b.outcome === 'faq') return 'antwoordde met ' + topic;
    if (b.outcome === 'handover') return 'gaf het door aan een medewerker';
    if (b.outcome === 'privacy_redirect') return 'verwees naar een beveiligde pagina' + (topic ? ' (' + topic + ')' : '');
    return (OUTCOME[b.outcome] || [null, b.outcome])[1] + (topic ? ' · ' + topic : '');
  }

  function labelItem(l) {
    const result = h('div', { class: 'label-result', 'data-test': 'label-result', 'aria-live': 'polite' });
    const should = l.new_topic
      ? h('span', { class: 'badge warn', 'data-test': 'label-should' }, 'nieuw onderwerp nodig')
      : h('span', { class: 'badge topic', 'data-test': 'label-should' }, l.topic_title || l.topic);
    const action = l.test
      ? h('span', { class: 'badge ok', 'data-test': 'label-tested', title: 'door ' + l.test.by + ', ' + dateTime(l.test.at) }, '✔ is een test')
      : h('button', { type: 'button', class: 'primary', 'data-test': 'make-test', onclick: (e) => makeTest(l, e.currentTarget, result) }, 'Maak test');
    return h('li', { class: 'label-item', 'data-test': 'label-item', 'data-message': l.message_id },
      h('div', { class: 'row' },
        h('q', { class: 'label-text', 'data-test': 'label-text' }, l.text),
        h('span', { class: 'spacer' }), action),
      h('dl', { class: 'facts label-facts' },
        h('dt', {}, 'De bot'), h('dd', { 'data-test': 'label-bot' }, botChose(l.bot)),
        h('dt', {}, 'Had moeten zijn'), h('dd', {}, should),
        h('dt', {}, 'Gemarkeerd'), h('dd', { 'data-test': 'label-who' }, l.by + ' · ' + dateTime(l.at) + ' · ',
          h('a', { href: '/inbox#' + new URLSearchParams({ c: l.conversation_id }).toString() }, 'gesprek ' + l.conversation_id)),
        l.note ? [h('dt', {}, 'Notitie'), h('dd', {}, l.note)] : null),
      result);
  }

  async function makeTest(l, button, result) {
    button.disabled = true;
    let r;
    try {
      r = await api('POST', '/api/editor/labels/' + l.message_id + '/test', {});
    } catch (e) {
      button.disabled = false;
      // Nothing was written: the test to add by hand, and what is wrong with the file.
      const t = (e.body && e.body.test) || {};
      fill(result, h('p', { class: 'error', role: 'alert', 'data-test': 'make-test-error' }, e.message),
        t.diagnostics && t.diagnostics.length ? diagnosticList(t.diagnostics) : null,
        t.yaml ? [h('p', { class: 'small' }, 'Zet deze test er zelf in:'), h('pre', { class: 'yaml', 'data-test': 'label-yaml' }, t.yaml)] : null);
      return;
    }
    button.replaceWith(h('span', { class: 'badge ok', 'data-test': 'label-tested' }, '✔ is een test'));
    fill(result,
      h('p', { class: 'small', 'data-test': 'make-test-done' },
        r.added ? 'Toegevoegd aan ' : 'Stond al in ', h('code', {}, r.file + (r.line ? ':' + r.line : '')), '. ',
        r.passes === true ? h('span', { class: 'badge ok', 'data-test': 'test-passes' }, 'slaagt al')
          : r.passes === false ? h('span', { class: 'badge late', 'data-test': 'test-fails' }, 'faalt nog: pas de flows aan') : null),
      h('pre', { class: 'yaml', 'data-test': 'label-yaml' }, r.yaml),
      r.failure ? h('details', {}, h('summary', { class: 'small' }, 'Wat de test nu ziet'), h('pre', { class: 'yaml' }, r.failure)) : null);
    toast(r.added ? 'De test staat erin.' : 'Die test stond er al.', 'ok');
  }

  function plural(n, one, many) {
    return n + ' ' + (n === 1 ? one : many);
  }
})();
