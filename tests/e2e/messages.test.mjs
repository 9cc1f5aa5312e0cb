// What the API says to people is Dutch: a refused reply as the web application shows it (its
// own api() and toast()), the message of another department's conversation, a wrong period.
// The `error` codes stay as scripts read them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Triage, until } from './server.mjs';
import { expectAccessible } from './a11y.mjs';

let triage;
before(async () => { triage = await Triage.start(); });
after(async () => { await triage.stop(); });

test('a reply with a BSN is refused with a Dutch toast', async () => {
  await triage.resident('31612360001', 'ik wil mijn naam wijzigen');
  const c = await until(async () => {
    const r = await triage.admin('GET', '/api/queues/burgerzaken');
    return r.body.conversations.find((x) => x.resident.endsWith('0001'));
  }, 'the handover');
  const page = await triage.signedIn('demo-admin', '/reports');
  await page.locator('[data-test=kpi-inbound]').waitFor();
  const refused = await page.evaluate(async (id) => {
    try {
      await triage.api('POST', `/api/conversations/${id}/reply`, { text: 'Klopt het dat uw BSN 111222333 is?' });
      return null;
    } catch (e) {
      triage.toast(e.message, 'error');
      return { status: e.status, error: e.error };
    }
  }, c.id);
  assert.deepEqual(refused, { status: 400, error: 'personal_data' });
  const toast = page.locator('#toasts .toast.error');
  await toast.waitFor();
  assert.equal(await toast.innerText(),
    'Je antwoord bevat een burgerservicenummer (BSN). Dat hoort niet in een chat: verwijs de inwoner naar de beveiligde pagina.');
  assert.equal(await toast.getAttribute('role'), 'alert');
  await expectAccessible(page, 'a page with the refusal as a toast');

  // Resolved twice, and a conversation that does not exist.
  assert.equal((await triage.admin('POST', `/api/conversations/${c.id}/resolve`, {})).status, 200);
  const again = await triage.admin('POST', `/api/conversations/${c.id}/resolve`, {});
  assert.deepEqual([again.status, again.body.error, again.body.message], [409, 'already_resolved', 'Dit gesprek is al afgerond.']);
  const missing = await triage.admin('GET', '/api/conversations/99999');
  assert.deepEqual([missing.status, missing.body.message], [404, 'Gesprek 99999 bestaat niet.']);
  assert.deepEqual(page.errors, []);
});

test('a period the reports cannot show is said in Dutch on the page', async () => {
  const page = await triage.signedIn('demo-admin', '/reports');
  await page.locator('[data-test=kpi-inbound]').waitFor();
  await page.fill('[data-test=period-from]', '30-11-2026');
  await page.fill('[data-test=period-to]', '01-11-2026');
  await page.click('[data-test=period-apply]');
  const error = page.locator('[data-test=error]');
  await error.waitFor();
  assert.equal(await error.innerText(), 'De begindatum (2026-11-30) ligt na de einddatum (2026-11-01).');
  await expectAccessible(page, 'the reports with a period the service refused');
  assert.deepEqual(page.errors, []);
});
