// The resident simulator: an FAQ answer with its link and buttons, a tapped button, and with the
// clock control the out-of-hours reply.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Triage, screenshot } from './server.mjs';
import { expectAccessible } from './a11y.mjs';
import { signedInEnglish } from './english.mjs';

let triage;
before(async () => {
  triage = await Triage.start();
  await triage.setClock('2026-11-24T10:00:00+01:00');
});
after(async () => { await triage.stop(); });

test('the simulator round trip: question, answer with links and buttons, out of hours', async () => {
  // Moving the clock needs an editor or admin: sign in as the demo admin first.
  const page = await triage.signedIn('demo-admin', '/');
  await page.locator('#clockbox:not([hidden])').waitFor();
  await expectAccessible(page, 'the simulator, empty');
  await page.fill('#text', 'ik wil een nieuw paspoort');
  await page.press('#text', 'Enter');
  const answer = page.locator('.msg.in', { hasText: 'paspoort' });
  await answer.waitFor();
  await answer.locator('a[href^="https://www.terneuzen.nl/"]').first().waitFor();
  const buttons = answer.locator('.buttons button');
  assert.ok(await buttons.count() >= 1, 'reply buttons as WhatsApp shows them');
  await expectAccessible(page, 'the simulator with an answer and its buttons');

  // Tapping "Medewerker" hands the conversation to a person.
  await answer.locator('.buttons button', { hasText: 'Medewerker' }).click();
  await page.locator('.msg.in', { hasText: 'collega' }).waitFor();
  await screenshot(page, 'simulator.png');
  await expectAccessible(page, 'the simulator after a handover');

  // Friday evening: the out-of-hours reply names the next opening.
  await page.click('#new');
  await page.click('button[data-at="2026-11-27T19:30"]');
  await page.locator('#status', { hasText: /19:30|vrijdag/ }).waitFor().catch(() => {});
  await page.fill('#text', 'ik wil mijn naam wijzigen');
  await page.press('#text', 'Enter');
  await page.locator('.msg.in', { hasText: 'gesloten' }).waitFor();
  assert.match(await page.locator('.msg.in', { hasText: 'gesloten' }).innerText(), /maandag 30 november/);
  await expectAccessible(page, 'the simulator out of hours');
  assert.deepEqual(page.errors, []);
});

test('in an English browser the demo\'s clock reads and is set in Dutch', async () => {
  const page = await signedInEnglish(triage, 'demo-admin', '/');
  await page.locator('#clockbox:not([hidden])').waitFor();
  await page.fill('#at', '30-11-2026 08:30');
  await page.click('#setclock');
  await page.locator('#status', { hasText: 'maandag 30 november 2026 om 08:30' }).waitFor();
  assert.match(await page.locator('#status').innerText(), /\(geopend\)$/);
  await page.fill('#at', 'maandagochtend');
  await page.click('#setclock');
  await page.locator('#status', { hasText: 'is geen tijdstip' }).waitFor();
  await expectAccessible(page, 'the simulator in an English browser, a wrong time typed');
  assert.deepEqual(page.errors, []);
});

test('without signing in the clock stays where it is, and a number alone reads no replies', async () => {
  const page = await triage.page();
  await page.goto(triage.base + '/');
  const before = await (await fetch(triage.base + '/simulator/clock')).json();
  await page.click('button[data-at="2026-11-27T19:30"]');
  await page.locator('#status', { hasText: 'demo-admin' }).waitFor();
  await expectAccessible(page, 'the simulator without signing in, the clock refused');
  const after = await (await fetch(triage.base + '/simulator/clock')).json();
  assert.equal(after.open, before.open);
  const anon = await fetch(triage.base + '/simulator/clock', {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ at: '2026-11-27T19:30:00+01:00' }),
  });
  assert.equal(anon.status, 401);
  const byNumber = await fetch(triage.base + '/simulator/replies', {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ to: '31611112222' }),
  });
  assert.equal(byNumber.status, 422);
  const listing = await fetch(triage.base + '/standin/whatsapp/_standin/messages');
  assert.equal(listing.status, 401);
  assert.deepEqual(page.errors, []);
});
