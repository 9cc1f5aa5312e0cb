// The editors' work area: change the flow and rules files in the browser. The files in force
// (GET /api/editor/files) with the editor's own draft laid over them (GET/PUT /api/editor/draft),
// a form for a topic's everyday fields (editor-form.js) and the YAML itself (editor-code.js),
// the checker's findings as they type, then try, test, compare and publish, the versions with
// "Terugzetten", and the changes that wait for a second editor's approval.
//
// Nobody else sees a draft: the bot answers with it only on "Publiceren". Every change is saved
// (debounced) as the editor types, and checked on the way.
'use strict';

(function () {
  const { h, fill, api, dateTime, toast } = triage;
  const SAVE_AFTER_MS = 600;
  const KIND = { publish: 'gepubliceerd', rollback: 'teruggezet', disk: 'op de schijf gewijzigd' };
  const FILE_LABEL = {
    'rules/departments.yaml': 'Afdelingen en routering',
    'rules/office-hours.yaml': 'Openingstijden',
    'rules/privacy.yaml': 'Privacy',
  };

  /**
   * Draws the work area in `root` (a section). `hooks.tryDraft()` and `hooks.diffDraft()` open
   * the page's try and compare cards on the draft; `hooks.onDraft(has)` tells the page whether
   * there is a draft; `hooks.onPublished()` that the flows in force changed.
   */
  function mount(root, hooks) {
    let inForce = null; // {version, files: {path: text}}
    let draft = null; // as the API has it, or null
    let texts = {}; // path → the text the editor has now
    let selected = null;
    let view = 'code';
    let saveTimer = null;
    let saving = Promise.resolve();
    let seq = 0;
    let lastCheck = null;
    let formApi = null;
    const me = triage.me;

    const stateLine = h('div', { class: 'draft-state', 'data-test': 'draft-state', role: 'status' });
    const discard = h('button', { type: 'button', 'data-test': 'draft-discard', onclick: discardDraft }, 'Concept weggooien');
    const fileList = h('ul', { class: 'files' });
    const tabs = h('div', { class: 'tabs', role: 'tablist', 'aria-label': 'Weergave' });
    const formPanel = h('div', { id: 'work-form', role: 'tabpanel', class: 'work-panel', 'aria-labelledby': 'tab-form', 'data-test': 'work-form' });
    const codeHost = h('div', { class: 'code-host', 'data-test': 'code' });
    const codePanel = h('div', { id: 'work-code', role: 'tabpanel', class: 'work-panel', 'aria-labelledby': 'tab-code' },
      h('p', { class: 'muted small', id: 'code-hint' },
        'Ctrl+Spatie: aanvullen. Tab springt in; druk Esc en dan Tab om verder te gaan naar het volgende onderdeel.'),
      codeHost);
    const problems = h('div', { class: 'stack file-problems', 'data-test': 'work-diagnostics', 'aria-live': 'polite' });
    const result = h('div', { class: 'stack work-result', 'data-test': 'work-result', 'aria-live': 'polite' });
    const message = h('input', { id: 'publish-message', type: 'text', maxlength: 500, autocomplete: 'off', 'data-test': 'publish-message',
      placeholder: 'bijv. Nieuwe openingstijden milieustraat', 'aria-describedby': 'publish-hint' });
    const publishButton = h('button', { type: 'submit', class: 'primary', 'data-test': 'publish' }, 'Publiceren');
    const historyBody = h('div', { class: 'stack', 'data-test': 'versions' });
    const requestsBody = h('div', { class: 'stack', 'data-test': 'requests' });

    const code = triage.codeEditor.create(codeHost, {
      onChange: (path, text) => {
        texts[path] = text;
        changed();
      },
      extraValues: (key) => (key === 'topic' ? topicIds() : key === 'department' ? departmentIds() : []),
    });

    const publishForm = h('form', { class: 'publish', 'aria-label': 'Publiceren' },
      h('label', { for: 'publish-message' }, 'Wat heeft u veranderd?'),
      h('div', { class: 'row' }, message, publishButton),
      h('p', { id: 'publish-hint', class: 'muted small' },
        'Publiceren kan alleen als de controle en de gesprekstests slagen. Daarna antwoordt de bot zo, en staat deze versie in de geschiedenis.'));
    publishForm.addEventListener('submit', (e) => { e.preventDefault(); publish(); });

    fill(root,
      h('div', { class: 'row card-head' },
        h('h2', { id: 'work-title' }, 'Bewerken'), h('span', { class: 'spacer' }), discard),
      stateLine,
      h('div', { class: 'work-grid' },
        h('nav', { class: 'work-files', 'aria-label': 'Bestanden' }, fileList),
        h('div', { class: 'work-main' }, tabs, formPanel, codePanel, problems)),
      h('div', { class: 'row work-actions' },
        h('button', { type: 'button', 'data-test': 'draft-try', onclick: () => whenSaved(hooks.tryDraft) }, 'Probeer het concept'),
        h('button', { type: 'button', 'data-test': 'draft-test', onclick: runTests }, 'Tests draaien'),
        h('button', { type: 'button', 'data-test': 'draft-diff', onclick: () => whenSaved(hooks.diffDraft) }, 'Wat verandert er?')),
      publishForm,
      result,
      h('details', { class: 'requests', 'data-test': 'requests-card' },
        h('summary', { 'data-test': 'requests-summary' }, 'Wacht op goedkeuring'), requestsBody),
      h('details', { class: 'history', 'data-test': 'history' },
        h('summary', {}, 'Versies'), historyBody));

    load();

    // -----------------------------------------------------------------------------------------
    // Loading

    async function load(keepSelection) {
      let files;
      try {
        files = await api('GET', '/api/editor/files');
      } catch (e) {
        fill(stateLine, h('p', { class: 'error', role: 'alert' }, e.message));
        return;
      }
      inForce = { version: files.version, files: {} };
      for (const f of files.files) inForce.files[f.path] = f.text;
      try {
        draft = await api('GET', '/api/editor/draft');
      } catch (e) {
        if (e.status !== 404) toast(e.message, 'error');
        draft = null;
      }
      texts = { ...inForce.files };
      if (draft) for (const f of draft.files) {
        if (f.text === null || f.text === undefined) delete texts[f.path];
        else texts[f.path] = f.text;
      }
      code.reset();
      if (!keepSelection || !(selected in texts)) selected = Object.keys(texts).find((p) => p.startsWith('flows/')) || Object.keys(texts)[0];
      drawFiles();
      show(selected);
      drawState();
      lastCheck = null;
      fill(problems);
      if (draft) check();
      hooks.onDraft(!!draft);
      loadHistory();
      loadRequests();
    }

    /** What differs from the files in force: the draft's files. */
    function changes() {
      const out = [];
      for (const [path, text] of Object.entries(texts)) if (inForce.files[path] !== text) out.push({ path, text });
      for (const path of Object.keys(inForce.files)) if (!(path in texts)) out.push({ path, text: null });
      return out;
    }

    function baseVersion() {
      return draft && draft.base_version != null ? draft.base_version : inForce.version.id;
    }

    // -----------------------------------------------------------------------------------------
    // The files and the two views

    function drawFiles() {
      const changed = new Set(changes().map((c) => c.path));
      const errors = new Set(((lastCheck && lastCheck.diagnostics) || []).filter((d) => d.severity === 'error').map((d) => d.file));
      fill(fileList, Object.keys(texts).sort(byKind).map((path) =>
        h('li', {}, h('button', {
          type: 'button', class: 'file', 'data-test': 'file', 'data-path': path,
          'aria-current': path === selected ? 'true' : null, onclick: () => show(path, true),
        },
        h('span', { class: 'name' }, FILE_LABEL[path] || path.replace(/^flows\//, '').replace(/\.ya?ml$/, '')),
        h('span', { class: 'path' }, path),
        changed.has(path) ? h('span', { class: 'badge warn', 'data-test': 'file-changed' }, 'gewijzigd') : null,
        errors.has(path) ? h('span', { class: 'badge late' }, 'fout') : null))));
    }

    function byKind(a, b) {
      return (a.startsWith('rules/') - b.startsWith('rules/')) || a.localeCompare(b);
    }

    function show(path, focus) {
      selected = path;
      code.open(path, texts[path]);
      for (const b of fileList.querySelectorAll('button.file')) b.setAttribute('aria-current', String(b.dataset.path === path));
      const formable = path.startsWith('flows/') && triage.topicForm;
      if (!formable) view = 'code';
      drawTabs(formable);
      drawProblems();
      if (!focus) return;
      if (view === 'form') (formPanel.querySelector('select, input, textarea') || formPanel).focus();
      else code.focus();
    }

    function drawTabs(formable) {
      const tab = (id, label, panel) => h('button', {
        type: 'button', role: 'tab', id: 'tab-' + id, 'aria-controls': 'work-' + id, 'aria-selected': String(view === id),
        tabindex: view === id ? '0' : '-1', 'data-test': 'tab-' + id, onclick: () => switchTo(id),
        onkeydown: (e) => {
          if (!formable || !['ArrowLeft', 'ArrowRight'].includes(e.key)) return;
          e.preventDefault();
          switchTo(view === 'form' ? 'code' : 'form');
          document.getElementById('tab-' + view).focus();
        },
      }, label, panel);
      fill(tabs, formable ? tab('form', 'Formulier') : null, tab('code', 'YAML'));
      formPanel.hidden = view !== 'form';
      codePanel.hidden = view !== 'code';
      if (view === 'form') mountForm();
    }

    function switchTo(id) {
      view = id;
      drawTabs(selected.startsWith('flows/') && !!triage.topicForm);
    }

    function mountForm() {
      if (!formApi) {
        formApi = triage.topicForm.mount(formPanel, {
          getText: () => texts[selected],
          setText: (text) => {
            // Through the YAML view: undo there brings the old text back, and the change is saved.
            code.replace(text);
          },
          onChange: () => {},
        });
      }
      formApi.refresh();
    }

    // -----------------------------------------------------------------------------------------
    // Saving and checking as the editor types

    function changed() {
      drawFiles();
      fill(stateLine, h('span', { class: 'muted' }, 'Wijzigingen nog niet opgeslagen…'));
      clearTimeout(saveTimer);
      saveTimer = setTimeout(() => { saving = save(); }, SAVE_AFTER_MS);
    }

    /** Waits for the change being typed to be saved, then runs `then`. */
    async function whenSaved(then) {
      if (saveTimer) {
        clearTimeout(saveTimer);
        saveTimer = null;
        saving = save();
      }
      await saving;
      if (!draft) {
        toast('U heeft nog niets veranderd: er is geen concept om mee te proberen.', 'error');
        return false;
      }
      if (then) then();
      return true;
    }

    async function save() {
      saveTimer = null;
      const mine = ++seq;
      const files = changes();
      try {
        if (!files.length) {
          if (draft) await api('DELETE', '/api/editor/draft').catch((e) => { if (e.status !== 404) throw e; });
          if (mine !== seq) return;
          draft = null;
          lastCheck = null;
          hooks.onDraft(false);
        } else {
          const r = await api('PUT', '/api/editor/draft', { base_version: baseVersion(), files });
          if (mine !== seq) return;
          draft = { base_version: baseVersion(), files };
          lastCheck = r.check;
          hooks.onDraft(true);
        }
      } catch (e) {
        if (mine === seq) fill(stateLine, h('p', { class: 'error', role: 'alert', 'data-test': 'save-error' }, 'Niet opgeslagen: ' + e.message));
        return;
      }
      drawState();
      drawFiles();
      drawProblems();
    }

    async function check() {
      try {
        const r = await api('POST', '/api/editor/check', { files: changes() });
        lastCheck = r;
      } catch (e) {
        return;
      }
      drawFiles();
      drawProblems();
      drawState();
    }

    function drawState() {
      const v = inForce.version;
      if (!draft) {
        fill(stateLine, h('span', {}, 'Geen concept: u ziet ', h('strong', {}, 'versie ' + v.id), ', die nu in gebruik is. Wat u verandert, bewaart de pagina als uw concept; niemand anders ziet het tot u publiceert.'));
        discard.hidden = true;
        return;
      }
      discard.hidden = false;
      const n = changes().length;
      const c = lastCheck;
      const verdict = !c ? null
        : c.valid
          ? h('span', { class: 'badge ok', 'data-test': 'draft-valid', 'data-valid': 'true' }, c.warnings ? '✔ in orde, ' + plural(c.warnings, 'waarschuwing', 'waarschuwingen') : '✔ in orde')
          : h('span', { class: 'badge late', 'data-test': 'draft-valid', 'data-valid': 'false' }, '✖ ' + plural(c.errors, 'fout', 'fouten'));
      const behind = draft.base_version != null && draft.base_version !== v.id
        ? h('div', { class: 'state bad small', 'data-test': 'draft-behind' },
          'Uw concept is gemaakt op versie ' + draft.base_version + '; intussen is versie ' + v.id + ' in gebruik. Publiceren wordt geweigerd tot u het concept bijwerkt.')
        : null;
      fill(stateLine,
        h('span', {}, h('strong', {}, 'Concept'), ' op versie ' + baseVersion() + ' · ' + plural(n, 'bestand', 'bestanden') + ' gewijzigd · opgeslagen '),
        verdict, behind);
    }

    function drawProblems() {
      const all = (lastCheck && lastCheck.diagnostics) || [];
      const byFile = {};
      for (const d of all) (byFile[d.file] = byFile[d.file] || []).push(d);
      code.setDiagnostics(byFile);
      const here = byFile[selected] || [];
      const elsewhere = all.filter((d) => d.file !== selected);
      if (!lastCheck) { fill(problems); return; }
      fill(problems,
        here.length
          ? h('ul', { class: 'diagnostics', 'aria-label': 'Wat de controle in dit bestand vond' }, here.map((d) => diagnosticItem(d)))
          : h('p', { class: 'muted small', 'data-test': 'no-problems' }, 'De controle vond niets in dit bestand.'),
        elsewhere.length
          ? h('details', { 'data-test': 'problems-elsewhere' },
            h('summary', {}, plural(elsewhere.length, 'melding', 'meldingen') + ' in andere bestanden'),
            h('ul', { class: 'diagnostics' }, elsewhere.map((d) => diagnosticItem(d))))
          : null);
    }

    function diagnosticItem(d) {
      const go = h('button', { type: 'button', class: 'link', 'data-test': 'diagnostic-goto' }, d.file + ':' + d.line + ':' + d.column);
      go.addEventListener('click', () => {
        if (!(d.file in texts)) return;
        if (view !== 'code') switchTo('code');
        if (d.file !== selected) show(d.file);
        code.goto(d.line, d.column);
      });
      return h('li', { class: d.severity, 'data-test': 'work-diagnostic', 'data-severity': d.severity },
        h('span', { class: 'badge ' + (d.severity === 'error' ? 'late' : 'warn') }, d.severity === 'error' ? 'fout' : 'let op'),
        ' ', go,
        h('div', { class: 'message' }, d.message),
        d.help ? h('div', { class: 'help muted' }, '💡 ' + d.help) : null);
    }

    async function discardDraft() {
      if (discard.dataset.confirm !== 'yes') {
        discard.dataset.confirm = 'yes';
        discard.textContent = 'Zeker weggooien? Klik nogmaals';
        setTimeout(() => { discard.dataset.confirm = ''; discard.textContent = 'Concept weggooien'; }, 5000);
        return;
      }
      discard.dataset.confirm = '';
      discard.textContent = 'Concept weggooien';
      clearTimeout(saveTimer);
      saveTimer = null;
      seq++;
      try {
        await api('DELETE', '/api/editor/draft');
      } catch (e) {
        if (e.status !== 404) { toast(e.message, 'error'); return; }
      }
      toast('Het concept is weggegooid.', 'ok');
      fill(result);
      await load(true);
    }

    // -----------------------------------------------------------------------------------------
    // Tests and publishing

    async function runTests(e) {
      const button = e.currentTarget;
      if (!(await whenSaved())) return;
      button.disabled = true;
      fill(result, h('p', { class: 'muted' }, 'De gesprekstests draaien…'));
      try {
        const r = await api('POST', '/api/editor/draft/test', {});
        fill(result, testsResult(r));
      } catch (err) {
        fill(result, failure(err));
      } finally {
        button.disabled = false;
      }
    }

    function testsResult(r) {
      const ok = r.failed === 0 && !(r.problems || []).length;
      return h('div', { class: 'state ' + (ok ? 'ok' : 'bad'), 'data-test': 'tests-result', 'data-ok': String(ok) },
        h('strong', {}, (ok ? '✔ ' : '✖ ') + plural(r.passed, 'gesprekstest geslaagd', 'gesprekstests geslaagd') +
          (r.failed ? ', ' + r.failed + ' mislukt' : '')),
        r.failed ? h('ul', { class: 'small' }, r.results.filter((t) => !t.passed).map((t) =>
          h('li', { 'data-test': 'test-failed' }, h('code', {}, t.file + ':' + t.line), ' ', t.name,
            t.text ? h('pre', { class: 'yaml', tabindex: '0' }, t.text) : null))) : null,
        (r.problems || []).length ? h('ul', { class: 'small' }, r.problems.map((p) => h('li', {}, p.file + ':' + p.line + ' ' + p.message))) : null);
    }

    async function publish() {
      if (!(await whenSaved())) return;
      if (!message.value.trim()) {
        fill(result, h('p', { class: 'error', role: 'alert', 'data-test': 'publish-error' }, 'Schrijf in een zin wat u veranderde.'));
        message.focus();
        return;
      }
      publishButton.disabled = true;
      fill(result, h('p', { class: 'muted' }, 'Controleren, gesprekstests draaien en publiceren…'));
      try {
        const r = await api('POST', '/api/editor/publish', { message: message.value });
        message.value = '';
        if (r.request) {
          fill(result, h('div', { class: 'state ok', 'data-test': 'publish-requested' }, h('strong', {}, r.message)));
          loadRequests(true);
        } else {
          fill(result, h('div', { class: 'state ok', 'data-test': 'published', 'data-version': r.version.id },
            h('strong', {}, '✔ Gepubliceerd als versie ' + r.version.id), ' De bot antwoordt nu zo.'));
          toast('Gepubliceerd: versie ' + r.version.id, 'ok');
          await load(true);
          hooks.onPublished();
        }
      } catch (err) {
        fill(result, failure(err));
      } finally {
        publishButton.disabled = false;
      }
    }

    /** What a refused publish, rollback or approval says, with what it carries. */
    function failure(err) {
      const body = err.body || {};
      const parts = [h('p', {}, h('strong', {}, err.message))];
      if (err.error === 'stale' && body.newest) {
        const mine = new Set(changes().map((c) => c.path));
        const both = (body.diff || []).map((d) => d.path).filter((p) => mine.has(p));
        const rebase = h('button', { type: 'button', 'data-test': 'rebase' }, 'Concept bijwerken naar versie ' + body.newest.id);
        rebase.addEventListener('click', () => rebaseOn(body.newest.id));
        parts.push(
          fileDiffs(body.diff || [], 'Wat de andere wijziging veranderde'),
          both.length
            ? h('p', { class: 'small' }, 'U veranderde ook ' + both.join(', ') + ': bij het bijwerken blijft uw tekst van dat bestand staan. Neem de wijziging hierboven daarin over voordat u publiceert.')
            : h('p', { class: 'small' }, 'U veranderde andere bestanden: bijwerken neemt de nieuwe versie over en houdt uw wijzigingen.'),
          rebase);
      }
      if (body.check) parts.push(h('p', {}, plural(body.check.errors, 'fout', 'fouten') + ' in het concept: zie de meldingen bij de bestanden.'));
      if (body.tests) parts.push(testsResult(body.tests));
      if (body.check) { lastCheck = body.check; drawProblems(); drawFiles(); }
      return h('div', { class: 'state bad', role: 'alert', 'data-test': err.error === 'stale' ? 'stale' : 'publish-error', 'data-error': err.error }, parts);
    }

    /** The draft on version `id`: the files in force now, with this editor's changed files over them. */
    async function rebaseOn(id) {
      const mine = changes().filter((c) => c.text !== null);
      try {
        const r = await api('PUT', '/api/editor/draft', { base_version: id, files: mine });
        lastCheck = r.check;
      } catch (e) {
        toast(e.message, 'error');
        return;
      }
      fill(result, h('p', { class: 'state ok', 'data-test': 'rebased' }, 'Uw concept staat nu op versie ' + id + '.'));
      await load(true);
    }

    function fileDiffs(list, title) {
      if (!list.length) return null;
      return h('div', { class: 'file-diffs' }, h('h3', {}, title), list.map((d) =>
        h('div', { class: 'file-diff' }, h('div', { class: 'small' }, h('code', {}, d.path), ' ', d.change === 'added' ? 'nieuw' : d.change === 'removed' ? 'verwijderd' : 'gewijzigd'),
          unified(d.diff))));
    }

    /** A unified diff with its added and removed lines marked (as text, never HTML). */
    function unified(text) {
      return h('pre', { class: 'udiff', tabindex: '0', 'data-test': 'udiff' }, String(text || '').split('\n').map((line) =>
        h('span', { class: line.startsWith('+') && !line.startsWith('+++') ? 'add' : line.startsWith('-') && !line.startsWith('---') ? 'del' : line.startsWith('@@') ? 'hunk' : '' }, line + '\n')));
    }

    // -----------------------------------------------------------------------------------------
    // The versions and rollback

    async function loadHistory() {
      let list;
      try {
        list = await api('GET', '/api/editor/versions?limit=30');
      } catch (e) {
        fill(historyBody, h('p', { class: 'error' }, e.message));
        return;
      }
      const newest = list.length ? list[0].id : null;
      fill(historyBody, list.length
        ? h('ol', { class: 'versions' }, list.map((v) => versionItem(v, v.id === newest)))
        : h('p', { class: 'muted' }, 'Nog geen versies.'));
    }

    function versionItem(v, isNewest) {
      const details = h('div', { class: 'version-diff' });
      const look = h('button', { type: 'button', 'aria-expanded': 'false', 'data-test': 'version-show' }, 'Bekijk');
      look.addEventListener('click', async () => {
        if (look.getAttribute('aria-expanded') === 'true') {
          look.setAttribute('aria-expanded', 'false');
          fill(details);
          return;
        }
        try {
          const r = await api('GET', '/api/editor/versions/' + v.id);
          look.setAttribute('aria-expanded', 'true');
          fill(details, r.diff.length ? fileDiffs(r.diff, 'Wat deze versie veranderde') : h('p', { class: 'muted small' }, 'Geen verschil met de vorige versie.'));
        } catch (e) {
          fill(details, h('p', { class: 'error' }, e.message));
        }
      });
      const back = isNewest ? h('span', { class: 'badge ok' }, 'in gebruik')
        : h('button', { type: 'button', 'data-test': 'rollback', 'data-version': v.id }, 'Terugzetten');
      if (!isNewest) back.addEventListener('click', () => rollback(v, back));
      return h('li', { class: 'version', 'data-test': 'version', 'data-version': v.id, 'data-kind': v.kind },
        h('div', { class: 'row' },
          h('div', { class: 'version-text' },
            h('strong', {}, 'Versie ' + v.id), ' · ' + (KIND[v.kind] || v.kind) + ' door ' + v.author + ' · ' + dateTime(v.at),
            v.approved_by ? ' · goedgekeurd door ' + v.approved_by : '',
            h('div', { class: 'small' }, '“' + v.message + '” · ' + plural(v.files_changed, 'bestand', 'bestanden'))),
          h('span', { class: 'spacer' }), look, back),
        details);
    }

    async function rollback(v, button) {
      if (button.dataset.confirm !== 'yes') {
        button.dataset.confirm = 'yes';
        button.textContent = 'Zeker terugzetten naar versie ' + v.id + '?';
        return;
      }
      button.disabled = true;
      try {
        const r = await api('POST', '/api/editor/rollback', { version: v.id, base_version: inForce.version.id });
        if (r.request) {
          toast(r.message, 'ok');
          loadRequests(true);
        } else {
          fill(result, h('div', { class: 'state ok', 'data-test': 'rolled-back', 'data-version': r.version.id },
            h('strong', {}, '✔ Teruggezet: versie ' + r.version.id + ' heeft de bestanden van versie ' + v.id + '.')));
          await load(true);
          hooks.onPublished();
        }
      } catch (err) {
        fill(result, failure(err));
        button.disabled = false;
      }
    }

    // -----------------------------------------------------------------------------------------
    // Waiting for approval (four eyes)

    async function loadRequests(open) {
      let list;
      try {
        list = (await api('GET', '/api/editor/requests')).requests;
      } catch (e) {
        fill(requestsBody, h('p', { class: 'error' }, e.message));
        return;
      }
      const card = root.querySelector('[data-test=requests-card]');
      card.hidden = !list.length;
      // Open when something waits for this editor, or they just asked.
      if (list.some((r) => !me || r.author !== me.name) || (open && list.length)) card.open = true;
      root.querySelector('[data-test=requests-summary]').textContent = 'Wacht op goedkeuring (' + list.length + ')';
      fill(requestsBody, h('ol', { class: 'versions' }, list.map(requestItem)));
    }

    function requestItem(r) {
      const own = me && r.author === me.name;
      const reason = h('input', { type: 'text', id: 'reason-' + r.id, maxlength: 500, autocomplete: 'off' });
      const approve = h('button', { type: 'button', class: 'primary', 'data-test': 'approve' }, 'Goedkeuren en publiceren');
      const reject = h('button', { type: 'button', 'data-test': 'reject' }, 'Afwijzen');
      approve.addEventListener('click', () => decide(r, 'approve', {}, approve));
      reject.addEventListener('click', () => decide(r, 'reject', reason.value.trim() ? { reason: reason.value.trim() } : {}, reject));
      return h('li', { class: 'version', 'data-test': 'request', 'data-request': r.id },
        h('div', {}, h('strong', {}, r.kind === 'rollback' ? 'Terugzetten naar versie ' + r.rollback_to : 'Publicatie'),
          ' door ' + r.author + ' · ' + dateTime(r.at),
          h('div', { class: 'small' }, '“' + r.message + '”')),
        fileDiffs(r.diff || [], 'Wat er verandert'),
        own ? h('p', { class: 'muted small' }, 'Een andere redacteur of beheerder keurt dit goed.')
          : h('div', { class: 'row' }, approve,
            h('label', { for: 'reason-' + r.id, class: 'inline' }, 'Reden (bij afwijzen)'), reason, reject));
    }

    async function decide(r, what, body, button) {
      button.disabled = true;
      try {
        await api('POST', '/api/editor/requests/' + r.id + '/' + what, body);
        toast(what === 'approve' ? 'Goedgekeurd en gepubliceerd.' : 'Afgewezen.', 'ok');
        if (what === 'approve') { await load(true); hooks.onPublished(); } else loadRequests();
      } catch (err) {
        fill(result, failure(err));
        button.disabled = false;
      }
    }

    // -----------------------------------------------------------------------------------------
    // Completion help: the ids the files define

    function topicIds() {
      const ids = [];
      for (const [path, text] of Object.entries(texts)) {
        if (!path.startsWith('flows/')) continue;
        for (const m of text.matchAll(/^\s*-\s+id:\s*["']?([\w-]+)/gm)) ids.push(m[1]);
      }
      return ids;
    }

    function departmentIds() {
      const text = texts['rules/departments.yaml'] || '';
      return [...text.matchAll(/^\s*-\s+id:\s*["']?([\w-]+)/gm)].map((m) => m[1]);
    }

    return { reload: () => load(true) };
  }

  function plural(n, one, many) {
    return n + ' ' + (n === 1 ? one : many);
  }

  triage.workArea = { mount };
})();
