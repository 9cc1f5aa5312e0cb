// The editors' page: the shipped flows are valid, a message tried gets the FAQ answer, the
// questions that went to a person open in full; accessible in every state, and Dutch times
// from the service's clock in any browser.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Triage, until, screenshot } from './server.mjs';
import { expectAccessible } from './a11y.mjs';
import { signedInEnglish } from './english.mjs';

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
  const group = page.locator('[data-test=unmatched-group]').first();
  await group.waitFor();
  await expectAccessible(page, 'the editors page with valid flows');

  await page.fill('[data-test=try-input]', 'wanneer wordt het oud papier opgehaald?');
  await page.click('[data-test=try-submit]');
  await page.locator('[data-test=try-outcome][data-outcome=faq]').waitFor();
  assert.ok(await page.locator('[data-test=try-trace] li').count() >= 2, 'the trace is shown');
  assert.ok((await page.locator('[data-test=try-trace] li').allInnerTexts()).every((t) => t.trim() && t !== '[object Object]'));
  assert.equal(await group.getAttribute('data-size'), '2', 'the two similar questions form one group');
  await screenshot(page, 'editor.png');
  for (const summary of await page.locator('.try-result details > summary').all()) await summary.click();
  await expectAccessible(page, 'the editors page with a message tried and its candidates open');
  assert.deepEqual(page.errors, []);
});

test('a large group opens by keyboard on all its questions', async () => {
  for (let i = 0; i < 9; i++) await triage.resident(`316123410${String(i).padStart(2, '0')}`, `mijn buurman speelt elke nacht trompet ${i}`);
  await until(async () => {
    const r = await triage.admin('GET', '/api/editor/unmatched?days=30');
    return r.body.groups.some((g) => g.size === 9);
  }, 'nine questions in one group');
  const page = await triage.signedIn('demo-admin', '/editor');
  const group = page.locator('[data-test=unmatched-group][data-size="9"]');
  await group.waitFor();
  assert.equal(await group.locator(':scope > ul.examples > [data-test=unmatched-example]').count(), 5);
  const more = group.locator('[data-test=group-more]');
  assert.equal(await more.locator('summary').innerText(), 'en nog 4 andere vragen');
  assert.equal(await more.locator('[data-test=unmatched-example]').first().isVisible(), false, 'closed at first');
  await more.locator('summary').focus();
  await page.keyboard.press('Enter');
  await more.locator('[data-test=unmatched-example]').first().waitFor();
  assert.equal(await more.locator('[data-test=unmatched-example]').count(), 4);
  const texts = await group.locator('[data-test=unmatched-example] q').allInnerTexts();
  assert.equal(new Set(texts).size, 9, 'each of the nine questions once');
  await expectAccessible(page, 'the editors page with a group opened');
  assert.deepEqual(page.errors, []);
});

test('in an English browser times are Dutch and the service\'s', async () => {
  const page = await signedInEnglish(triage, 'demo-admin', '/editor');
  await page.locator('[data-test=flows-state][data-valid=true]').waitFor();
  // The service's clock (Tuesday 24 November 2026), whatever the computer's date and language.
  assert.match(await page.locator('[data-test=service-now]').innerText(), /^di 24 nov, 1\d:\d\d$/);
  assert.match(await page.locator('[data-test=loaded-at]').innerText(), /^di 24 nov, 10:\d\d$/);
  // A time typed as Dutch write it.
  await page.fill('[data-test=try-input]', 'ik wil mijn naam wijzigen');
  await page.fill('[data-test=try-at]', '27-11-2026 19:30');
  await page.click('[data-test=try-submit]');
  await page.locator('[data-test=try-outcome][data-outcome=handover]').waitFor();
  const facts = await page.locator('[data-test=try-result] .facts').innerText();
  assert.match(facts, /vr 27 nov, 19:30 \(gesloten\)/);
  assert.match(facts, /ma 30 nov, 08:30/, 'the follow-up at the next opening');
  assert.doesNotMatch(facts, /AM|PM|\d+\/\d+\/\d{4}/);
  // A time that is not one: the service says so, in Dutch.
  await page.fill('[data-test=try-at]', 'vrijdagavond');
  await page.click('[data-test=try-submit]');
  await page.locator('[data-test=try-error]', { hasText: 'is geen tijdstip' }).waitFor();
  await expectAccessible(page, 'the editors page in an English browser, with an error');
  assert.deepEqual(page.errors, []);
});

test('agents do not get the editors page', async () => {
  const page = await triage.signedIn('demo-agent');
  const status = await page.evaluate(async () => (await fetch('/api/editor/status')).status);
  assert.equal(status, 403);
});
