// The editors' page: the shipped flows are valid, and a message tried gets the FAQ answer.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Triage, screenshot } from './server.mjs';

let triage;
before(async () => {
  triage = await Triage.start();
  await triage.setClock('2026-11-24T10:00:00+01:00');
});
after(async () => { await triage.stop(); });

test('the editors page shows valid flows, tries a message and lists what went to a person', async () => {
  await triage.resident('31612340003', 'ik wil mijn achternaam wijzigen');
  await triage.resident('31612340004', 'hoe kan ik mijn achternaam wijzigen');
  const page = await triage.signedIn('demo-admin', '/editor');
  await page.locator('[data-test=flows-state][data-valid=true]').waitFor();

  await page.fill('[data-test=try-input]', 'wanneer wordt het oud papier opgehaald?');
  await page.click('[data-test=try-submit]');
  await page.locator('[data-test=try-outcome][data-outcome=faq]').waitFor();
  assert.ok(await page.locator('[data-test=try-trace] li').count() >= 2, 'the trace is shown');
  const group = page.locator('[data-test=unmatched-group]').first();
  await group.waitFor();
  assert.equal(await group.getAttribute('data-size'), '2', 'the two similar questions form one group');
  await screenshot(page, 'editor.png');
  assert.deepEqual(page.errors, []);
});

test('agents do not get the editors page', async () => {
  const page = await triage.signedIn('demo-agent');
  const status = await page.evaluate(async () => (await fetch('/api/editor/status')).status);
  assert.equal(status, 403);
});
