// The inbox once the 24-hour window has closed: the agent sees the template as the resident
// will read it before sending and in the history after; the resident's number for a call back
// only on purpose (a reason asked, an audit line, gone when the dialog closes). In an English
// browser, so dates must still be Dutch. axe-core in every state.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Triage, until, TUESDAY_MORNING } from './server.mjs';
import { expectAccessible } from './a11y.mjs';

const NUMBER = '31612345678';
const RENDERED = 'Goedemorgen Fatima! Je stuurde ons buiten kantoortijd een bericht. Heb je nog antwoord nodig?';

let triage;
before(async () => { triage = await Triage.start(TUESDAY_MORNING); });
after(async () => { await triage.stop(); });

test('a closed window: the template as the resident reads it; the number on purpose, audited', async () => {
  await triage.resident(NUMBER, 'ik wil mijn naam wijzigen, kunt u mij terugbellen?', 'Fatima');
  const queued = await until(async () => (await triage.admin('GET', '/api/queues/burgerzaken')).body.conversations[0],
    'the conversation in Burgerzaken');
  // Wednesday 11:00: more than 24 hours since the resident wrote.
  await triage.setClock('2026-11-25T11:00:00+01:00');

  const page = await triage.page(undefined, 'en-US');
  await page.goto(`${triage.base}/login?next=%2Finbox`);
  await page.fill('[data-test=login-name]', 'demo-agent');
  await page.fill('[data-test=login-password]', 'demo');
  await page.click('[data-test=login-submit]');
  await page.waitForURL((u) => u.pathname === '/inbox');
  await page.evaluate((id) => { location.hash = `#q=burgerzaken&c=${id}`; }, queued.id);
  await page.locator('[data-test=window]', { hasText: '24-uursvenster dicht' }).waitFor();

  // Dates in Dutch, in the office's timezone, whatever the browser's language.
  const meta = await page.locator('[data-test=message][data-author=resident] .meta').innerText();
  assert.match(meta, /di 24 nov, 10:0\d/, meta);
  assert.doesNotMatch(await page.locator('[data-test=history]').innerText(), /\d+\/\d+\/\d{4}|Tue|Nov /);

  // The template's text as the resident will read it, before sending.
  assert.equal(await page.locator('[data-test=template-preview]').innerText(), RENDERED);
  await expectAccessible(page, 'a conversation with a closed window');
  await page.click('[data-test=template-send]');
  const sent = page.locator('[data-test=message][data-kind=template]');
  await sent.waitFor();
  assert.match(await sent.innerText(), /^Goedemorgen Fatima! Je stuurde ons buiten kantoortijd/);
  assert.match(await sent.innerText(), /sjabloon/);
  assert.doesNotMatch(await page.locator('[data-test=history]').innerText(), /\[template/);

  // The number: never on the page by default; asked why; shown in the dialog only.
  assert.ok(!(await page.content()).includes(NUMBER));
  await page.click('[data-test=show-number]');
  const dialog = page.locator('[data-test=number-dialog]');
  await dialog.waitFor();
  assert.ok(!(await page.content()).includes(NUMBER), 'nothing shown before the agent confirms');
  await expectAccessible(page, 'the number dialog');
  await page.check('[data-test=reason-call_back]');
  await page.click('[data-test=number-confirm]');
  await dialog.locator('[data-test=number]', { hasText: '+' + NUMBER }).waitFor();
  assert.equal(await dialog.locator('a[href^="tel:"]').getAttribute('href'), 'tel:+' + NUMBER);
  await page.click('[data-test=number-close]');
  await dialog.waitFor({ state: 'detached' });
  assert.ok(!(await page.content()).includes(NUMBER), 'gone once the dialog closes');
  assert.equal(await page.evaluate(() => document.activeElement.dataset.test), 'show-number', 'focus back on the button');

  const view = (await triage.admin('GET', `/api/conversations/${queued.id}`)).body;
  const shown = view.audit.filter((a) => a.action === 'number_shown');
  assert.equal(shown.length, 1, JSON.stringify(view.audit));
  assert.equal(shown[0].actor, 'demo-agent');
  assert.equal(shown[0].detail, 'reason: call_back');
  assert.ok(!JSON.stringify(view).includes(NUMBER), 'the number in no audit line nor the view');
  assert.deepEqual(page.errors, []);
});
