// Editing in the browser: an editor changes a keyword in the YAML view, sees the checker's error
// for a misspelt field at its line and fixes it, tries a message against the draft, publishes,
// and the simulator answers with the new version; a rollback brings the old one back; a publish
// made on an older version is refused with the other editor's change, and goes through once
// the draft is brought up to date. The server serves its own copy of the files (`ownFlows`).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Triage, until, screenshot } from './server.mjs';
import { expectAccessible } from './a11y.mjs';

let triage;
before(async () => {
  triage = await Triage.start(undefined, { ownFlows: true });
  await triage.setClock('2026-11-24T10:00:00+01:00');
});
after(async () => { await triage.stop(); });

/** The YAML view's content (CodeMirror, in its shadow root: Playwright's locators go in). */
const code = (page) => page.locator('[data-test=code] .cm-content');

/** Puts the cursor at the end of the first line of the YAML view that has `text`. */
async function endOfLine(page, text) {
  await code(page).locator('.cm-line', { hasText: text }).first().click();
  await page.keyboard.press('End');
}

/** What the bot says to a resident in the simulator, a new conversation each time. */
async function simulatorAnswer(page, text) {
  await page.goto(triage.base + '/');
  await page.click('#new');
  await page.fill('#text', text);
  await page.press('#text', 'Enter');
  const reply = page.locator('.msg.in').last();
  await reply.waitFor();
  await until(async () => (await page.locator('.msg.in').count()) >= 1, 'a reply');
  return (await page.locator('.msg.in').allInnerTexts()).join('\n');
}

test('a keyword changed in the YAML view, an error seen and fixed, tried, published, rolled back', async () => {
  const page = await triage.signedIn('demo-editor', '/editor');
  await code(page).waitFor();
  await page.locator('[data-test=file][data-path="flows/afval.yaml"][aria-current=true]').waitFor();
  await page.locator('[data-test=draft-state]', { hasText: 'Geen concept' }).waitFor();
  await expectAccessible(page, 'the work area without a draft');

  // A new keyword, typed as editors do.
  await endOfLine(page, '- afvalkalender');
  await page.keyboard.press('Enter');
  await page.keyboard.type('- zwijntjesbak');
  // Completion from the schema: the topic's fields not written yet; hover explains a field.
  await endOfLine(page, 'title: Afvalkalender en containers');
  await page.keyboard.press('Enter');
  await page.keyboard.type('prio');
  const option = page.locator('.cm-tooltip-autocomplete li', { hasText: 'priority' });
  await option.waitFor();
  assert.equal(await page.locator('.cm-tooltip-autocomplete li', { hasText: /^links$/ }).count(), 0, 'a field already there is not offered');
  await page.keyboard.press('Enter');
  await page.keyboard.type('1');
  await code(page).locator('.cm-line', { hasText: 'keywords:' }).first().hover({ position: { x: 40, y: 5 } });
  assert.match(await page.locator('[data-test=code-hover]').innerText(), /Words that point to this topic/);
  // A misspelt field: `titel` for `title`, shown inline with the "did you mean".
  await endOfLine(page, 'title: Afvalkalender en containers');
  await page.keyboard.press('Home');
  await page.keyboard.press('Shift+End');
  await page.keyboard.type('titel: Afvalkalender en containers');
  await page.locator('[data-test=draft-valid][data-valid=false]').waitFor();
  const problem = page.locator('[data-test=work-diagnostic][data-severity=error]').first();
  await problem.waitFor();
  const problemText = await problem.innerText();
  assert.match(problemText, /titel/);
  assert.match(problemText, /title/, 'the "did you mean" names the right field');
  assert.match(problemText, /flows\/afval\.yaml:12:/, 'at its line');
  await page.locator('[data-test=code] .cm-lintRange-error').first().waitFor();
  assert.equal(await page.locator('[data-test=file-changed]').count(), 1, 'one file marked as changed');
  await expectAccessible(page, 'the work area with an error inline');

  // The error's place, by keyboard: the cursor goes there.
  await problem.locator('[data-test=diagnostic-goto]').click();
  await page.keyboard.press('End');
  await page.keyboard.press('Home');
  await page.keyboard.press('Shift+End');
  await page.keyboard.type('title: Afvalkalender en containers');
  await page.locator('[data-test=draft-valid][data-valid=true]').waitFor();
  assert.equal(await page.locator('[data-test=work-diagnostic][data-severity=error]').count(), 0);

  // Tried against the draft: the new keyword finds the topic; the flows in force do not.
  await page.click('[data-test=draft-try]');
  assert.equal(await page.locator('#try-source').inputValue(), 'draft');
  await page.fill('[data-test=try-input]', 'zwijntjesbak');
  await page.click('[data-test=try-submit]');
  await page.locator('[data-test=try-outcome][data-source=draft][data-outcome=faq]').waitFor();
  await page.selectOption('#try-source', 'live');
  await page.click('[data-test=try-submit]');
  await page.locator('[data-test=try-outcome][data-source=live]:not([data-outcome=faq])').waitFor();

  // The draft's tests pass; publishing puts it in force.
  await page.click('[data-test=draft-test]');
  await page.locator('[data-test=tests-result][data-ok=true]').waitFor();
  await page.evaluate(() => window.scrollTo(0, 0));
  await screenshot(page, 'editing.png');
  await page.click('[data-test=publish]');
  await page.locator('[data-test=publish-error]', { hasText: 'Schrijf in een zin' }).waitFor();
  await page.fill('[data-test=publish-message]', 'Zwijntjesbak als trefwoord voor de afvalkalender');
  await page.click('[data-test=publish]');
  const published = page.locator('[data-test=published]');
  await published.waitFor();
  const version = Number(await published.getAttribute('data-version'));
  await page.locator('[data-test=draft-state]', { hasText: 'versie ' + version }).waitFor();
  assert.match(readFileSync(join(triage.files, 'flows', 'afval.yaml'), 'utf8'), /- zwijntjesbak\n/, 'written to the file in force');
  assert.match(readFileSync(join(triage.files, 'flows', 'afval.yaml'), 'utf8'), /\n    priority: 1\n    keywords:\n/, 'the completed field too');

  // The simulator gets the new answer.
  const sim = await triage.signedIn('demo-admin', '/');
  assert.match(await simulatorAnswer(sim, 'zwijntjesbak'), /afval/i);

  // Rolled back to the version before: the keyword is gone again.
  await page.reload();
  await code(page).waitFor();
  await page.locator('[data-test=history] > summary').click();
  const back = page.locator(`[data-test=version][data-version="${version - 1}"] [data-test=rollback]`);
  await back.click();
  await back.click();
  await page.locator('[data-test=rolled-back]').waitFor();
  assert.doesNotMatch(readFileSync(join(triage.files, 'flows', 'afval.yaml'), 'utf8'), /zwijntjesbak/);
  await page.locator(`[data-test=version][data-kind=rollback]`).first().waitFor();
  await expectAccessible(page, 'the work area after a rollback, with the versions open');
  assert.doesNotMatch(await simulatorAnswer(sim, 'zwijntjesbak'), /afvalkalender/i);
  assert.deepEqual(page.errors, []);
  assert.deepEqual(sim.errors, []);
});

test('a publish made on an older version is refused with the other change, then brought up to date', async () => {
  const page = await triage.signedIn('demo-editor', '/editor');
  await code(page).waitFor();
  await endOfLine(page, '- afvalkalender');
  await page.keyboard.press('Enter');
  await page.keyboard.type('- kliekjesbak');
  await page.locator('[data-test=draft-valid][data-valid=true]').waitFor();

  // Meanwhile another editor publishes a change of another file.
  const files = (await triage.admin('GET', '/api/editor/files')).body;
  const path = 'flows/algemeen.yaml';
  const text = files.files.find((f) => f.path === path).text;
  const changed = text.replace('topics:', '# Door de beheerder bijgewerkt.\ntopics:');
  assert.notEqual(changed, text);
  const put = await triage.admin('PUT', '/api/editor/draft', { base_version: files.version.id, files: [{ path, text: changed }] });
  assert.equal(put.status, 200, JSON.stringify(put.body));
  const pub = await triage.admin('POST', '/api/editor/publish', { message: 'Een opmerking boven algemeen' });
  assert.equal(pub.status, 200, JSON.stringify(pub.body));

  await page.fill('[data-test=publish-message]', 'Kliekjesbak erbij');
  await page.click('[data-test=publish]');
  const stale = page.locator('[data-test=stale]');
  await stale.waitFor();
  assert.match(await stale.innerText(), /demo-admin/, 'says who published');
  assert.match(await stale.locator('[data-test=udiff]').first().innerText(), /Door de beheerder bijgewerkt/, "shows the other editor's diff");
  await expectAccessible(page, 'a stale publish refused');
  await stale.scrollIntoViewIfNeeded();
  await screenshot(page, 'editing-stale.png');
  await stale.locator('[data-test=rebase]').click();
  await page.locator('[data-test=draft-state]', { hasText: 'op versie ' + pub.body.version.id }).waitFor();
  await page.fill('[data-test=publish-message]', 'Kliekjesbak erbij');
  await page.click('[data-test=publish]');
  await page.locator('[data-test=published]').waitFor();
  const afval = readFileSync(join(triage.files, 'flows', 'afval.yaml'), 'utf8');
  const algemeen = readFileSync(join(triage.files, 'flows', 'algemeen.yaml'), 'utf8');
  assert.match(afval, /kliekjesbak/);
  assert.match(algemeen, /Door de beheerder bijgewerkt/, "the other editor's change is kept");
  assert.deepEqual(page.errors, []);
});
