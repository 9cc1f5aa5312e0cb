// What would change: residents' questions are stored, a flow is changed on disk, and before the
// reload the editors' page lists every decision the new flows make differently (masked), with
// the reload below; after it nothing would change. Errors on disk show as the reload shows them.
// By keyboard, on a tablet, accessible in each state.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Triage, until, ROOT } from './server.mjs';
import { expectAccessible } from './a11y.mjs';

let triage;
before(async () => {
  triage = await Triage.start('2026-11-24T10:00:00+01:00', { ownFlows: true });
});
after(async () => { await triage.stop(); });

const QUESTIONS = [
  ['31612350001', 'ik wil mijn achternaam wijzigen'],
  ['31612350002', 'wanneer wordt het oud papier opgehaald?'],
  ['31612350003', 'hoe kan ik mijn achternaam wijzigen'],
  // Masked before it is stored: the page never sees the number.
  ['31612350004', 'mijn bsn is 111222333 en ik wil mijn achternaam wijzigen'],
];

const NEW_TOPIC = `topics:
  - id: naamswijziging
    title: Achternaam wijzigen
    keywords: [achternaam, naamswijziging]
    answers: ["Je achternaam wijzigen vraag je aan via de gemeente. Kijk op de website wat je nodig hebt."]
    links:
      - title: Naam wijzigen
        url: https://www.terneuzen.nl/naam-wijzigen
`;

function afvalPath() { return join(triage.files, 'flows', 'afval.yaml'); }

test('a changed flow on disk is listed before the reload, and nothing is left to change after it', async () => {
  for (const [from, text] of QUESTIONS) await triage.resident(from, text);
  // Each is decided and answered with the flows in force.
  for (const [from] of QUESTIONS) await until(async () => (await triage.sent(from)).length > 0, `a reply to ${from}`);

  // The editor adds a topic for surnames and rewords the container calendar's answers.
  writeFileSync(join(triage.files, 'flows', 'naamswijziging.yaml'), NEW_TOPIC);
  const afval = readFileSync(afvalPath(), 'utf8');
  writeFileSync(afvalPath(), afval.replace('Wanneer welke container', 'Welke container wanneer')
    .replace('In de afvalkalender vind je', 'In de afvalkalender staan'));

  const page = await triage.signedIn('demo-admin', '/editor');
  await page.locator('[data-test=flows-state][data-valid=true]').waitFor();
  // From the check card, by keyboard: to the comparison, which runs.
  await page.locator('[data-test=diff-open]').focus();
  await page.keyboard.press('Enter');
  const summary = page.locator('[data-test=diff-summary]');
  await summary.waitFor();
  assert.equal(await summary.getAttribute('data-changed'), '4', await summary.innerText());
  assert.equal(await summary.innerText(), 'Van de 4 berichten van de laatste 7 dagen zouden er 4 anders beslist worden.');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'diff-title', 'the focus went to the comparison');

  const kinds = await page.locator('[data-test=diff-kind]').allInnerTexts();
  assert.deepEqual(kinds.map((k) => k.replace(/\s+/g, ' ').trim()), [
    '2 Nu beantwoord: medewerker Burgerzaken → ‘Achternaam wijzigen’',
    '1 Privacy-doorverwijzing, ander onderwerp: geen onderwerp → ‘Achternaam wijzigen’',
    '1 Andere tekst: ‘Afvalkalender en containers’',
  ]);
  // Each changed message: masked, before and after, and why.
  const first = page.locator('[data-test=diff-change]').first();
  assert.equal(await first.locator('[data-test=diff-text]').innerText(), 'hoe kan ik mijn achternaam wijzigen');
  const [now, later] = await first.locator('[data-test=diff-side]').all();
  assert.equal(await now.locator('[data-test=diff-outcome]').getAttribute('data-outcome'), 'handover');
  assert.match(await now.innerText(), /Burgerzaken/);
  assert.equal(await later.locator('[data-test=diff-outcome]').getAttribute('data-outcome'), 'faq');
  assert.match(await later.locator('[data-test=diff-why]').innerText(), /trefwoord "achternaam"/);
  assert.match(await later.innerText(), /Je achternaam wijzigen vraag je aan via de gemeente/);
  const all = await page.locator('[data-test=diff-result]').innerText();
  assert.doesNotMatch(all, /111222333/, 'personal data stays masked');
  // An edited answer: the words that went and came are marked, each on its side.
  const edited = page.locator('[data-test=diff-change]').last();
  const [was, is] = await edited.locator('[data-test=diff-side]').all();
  const gone = await was.locator('del.word').allInnerTexts();
  const added = await is.locator('ins.word').allInnerTexts();
  assert.ok(gone.length && added.length, 'the changed words are marked');
  assert.ok(added.every((w) => ['Welke', 'wanneer', 'staan'].includes(w)), added.join(' '));
  assert.ok(gone.every((w) => ['Wanneer', 'welke', 'vind', 'je'].includes(w)), gone.join(' '));
  assert.equal(await is.locator('ins.word').count() + await is.locator('del.word').count(), added.length);

  // A kind's link moves the focus to its list, by keyboard.
  await page.locator('[data-test=diff-kind] a').nth(2).focus();
  await page.keyboard.press('Enter');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'diff-kind-2');
  // The reasons open by keyboard too.
  const reasons = first.locator('details > summary').first();
  await reasons.focus();
  await page.keyboard.press('Enter');
  await first.locator('details[open] .trace li').first().waitFor();
  await expectAccessible(page, 'what would change, listed with reasons open');
  if (process.env.UPDATE_SCREENSHOTS === '1') {
    await page.setViewportSize({ width: 1280, height: 1100 });
    await reasons.press('Enter');
    await page.evaluate(() => document.activeElement.blur());
    await page.locator('[data-test=diff-card]').screenshot({ path: join(ROOT, 'docs', 'what-would-change.png') });
  }
  assert.deepEqual(page.errors, []);
});

test('on a tablet the comparison fits, and its reload puts the new flows in force', async () => {
  const page = await triage.signedIn('demo-admin', '/editor', 'demo', { width: 768, height: 1024 });
  await page.locator('[data-test=flows-state][data-valid=true]').waitFor();
  await page.selectOption('[data-test=diff-days]', '30');
  await page.click('[data-test=diff-run]');
  await page.locator('[data-test=diff-summary][data-changed="4"]').waitFor();
  assert.match(await page.locator('[data-test=diff-summary]').innerText(), /van de laatste 30 dagen/);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow}px`);
  const reload = page.locator('[data-test=diff-reload]');
  const box = await reload.boundingBox();
  assert.ok(box.height >= 44, 'a target a finger can hit');
  const loadedBefore = await page.locator('[data-test=loaded-at]').innerText();
  await triage.setClock('2026-11-24T10:20:00+01:00');
  await reload.click();
  await page.locator('[data-test=reload-result][data-ok=true]').waitFor();
  // After the reload the disk is in force: the same messages are decided the same.
  await page.locator('[data-test=diff-summary][data-changed="0"]').waitFor();
  assert.match(await page.locator('[data-test=diff-summary]').innerText(), /Er verandert niets/);
  assert.notEqual(await page.locator('[data-test=loaded-at]').innerText(), loadedBefore);
  const tried = await triage.admin('POST', '/api/editor/try', { text: 'ik wil mijn achternaam wijzigen' });
  assert.equal(tried.body.topic, 'naamswijziging');
  await expectAccessible(page, 'what would change on a tablet, after the reload');
  assert.deepEqual(page.errors, []);
});

test('errors on disk show instead of a comparison', async () => {
  const good = readFileSync(afvalPath(), 'utf8');
  writeFileSync(afvalPath(), good.replace('keywords:', 'keywrods:'));
  try {
    const page = await triage.signedIn('demo-admin', '/editor');
    await page.locator('[data-test=flows-state][data-valid=false]').waitFor();
    await page.click('[data-test=diff-run]');
    await page.locator('[data-test=diff-invalid]').waitFor();
    const where = await page.locator('[data-test=diff-result] [data-test=diagnostic-where]').first().innerText();
    assert.match(where, /afval\.yaml:\d+:\d+$/);
    assert.match(await page.locator('[data-test=diff-result]').innerText(), /unknown field `keywrods`/);
    assert.equal(await page.locator('[data-test=diff-reload]').count(), 0, 'no reload offered');
    await expectAccessible(page, 'what would change with errors on disk');
    assert.deepEqual(page.errors, []);
  } finally {
    writeFileSync(afvalPath(), good);
  }
});

test('agents get no comparison', async () => {
  const page = await triage.signedIn('demo-agent');
  const status = await page.evaluate(async () => (await fetch('/api/editor/diff')).status);
  assert.equal(status, 403);
});
