// Four eyes: with approval required, an editor's publish waits for another editor or admin, who
// sees what would change and approves it (which publishes it) or rejects it with a reason; the
// author cannot decide on their own request.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Triage } from './server.mjs';
import { expectAccessible } from './a11y.mjs';

let triage;
before(async () => {
  triage = await Triage.start(undefined, { ownFlows: true, env: { TRIAGE_PUBLISH_APPROVAL: 'required' } });
});
after(async () => { await triage.stop(); });

const code = (page) => page.locator('[data-test=code] .cm-content');

async function addKeyword(page, word) {
  await code(page).waitFor();
  await code(page).locator('.cm-line', { hasText: '- afvalkalender' }).first().click();
  await page.keyboard.press('End');
  await page.keyboard.press('Enter');
  await page.keyboard.type('- ' + word);
  await page.locator('[data-test=draft-valid][data-valid=true]').waitFor();
}

test('a publish waits for a second editor, who approves it; another is rejected with a reason', async () => {
  const editor = await triage.signedIn('demo-editor', '/editor');
  await addKeyword(editor, 'vierogenbak');
  await editor.fill('[data-test=publish-message]', 'Vierogenbak erbij');
  await editor.click('[data-test=publish]');
  await editor.locator('[data-test=publish-requested]').waitFor();
  const own = editor.locator('[data-test=request]');
  await own.waitFor();
  assert.equal(await own.locator('[data-test=approve]').count(), 0, 'the author cannot approve their own');
  assert.doesNotMatch(readFileSync(join(triage.files, 'flows', 'afval.yaml'), 'utf8'), /vierogenbak/, 'nothing in force yet');

  const admin = await triage.signedIn('demo-admin', '/editor');
  const request = admin.locator('[data-test=request]');
  await request.waitFor();
  assert.ok(await admin.locator('[data-test=requests-card]').evaluate((d) => d.open), 'open when something waits');
  assert.match(await request.locator('[data-test=udiff]').innerText(), /\+\s+- vierogenbak/);
  await expectAccessible(admin, 'a request waiting for approval');
  await request.locator('[data-test=approve]').click();
  await admin.locator('[data-test=requests-card][hidden]').waitFor({ state: 'attached' });
  assert.match(readFileSync(join(triage.files, 'flows', 'afval.yaml'), 'utf8'), /- vierogenbak\n/);
  await admin.locator('[data-test=history] > summary').click();
  await admin.locator('[data-test=version]', { hasText: 'goedgekeurd door demo-admin' }).waitFor();

  // A second request, rejected with a reason: nothing changes.
  await editor.reload();
  await addKeyword(editor, 'afwijsbak');
  await editor.fill('[data-test=publish-message]', 'Afwijsbak erbij');
  await editor.click('[data-test=publish]');
  await editor.locator('[data-test=publish-requested]').waitFor();
  await admin.reload();
  const second = admin.locator('[data-test=request]');
  await second.waitFor();
  await second.locator('input[type=text]').fill('Dit woord gebruikt niemand');
  await second.locator('[data-test=reject]').click();
  await admin.locator('[data-test=requests-card][hidden]').waitFor({ state: 'attached' });
  const all = (await triage.admin('GET', '/api/editor/requests?status=all')).body.requests;
  const rejected = all.find((r) => r.message === 'Afwijsbak erbij');
  assert.equal(rejected.status, 'rejected');
  assert.equal(rejected.reason, 'Dit woord gebruikt niemand');
  assert.doesNotMatch(readFileSync(join(triage.files, 'flows', 'afval.yaml'), 'utf8'), /afwijsbak/);
  assert.deepEqual(editor.errors, []);
  assert.deepEqual(admin.errors, []);
});
