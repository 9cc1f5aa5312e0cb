// The reports page shows figures that match the messages the test sent, fits the screen, is
// accessible in every state it shows, and writes days in Dutch in any browser.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Triage, until, screenshot } from './server.mjs';
import { expectAccessible } from './a11y.mjs';
import { signedInEnglish } from './english.mjs';

let triage;
before(async () => {
  triage = await Triage.start();
  await triage.setClock('2026-11-24T10:00:00+01:00');
  await triage.resident('31612350001', 'ik wil een nieuw paspoort');
  await triage.resident('31612350002', 'mijn bsn is 111222333, ik ben verhuisd');
  await triage.resident('31612350003', 'ik wil mijn naam wijzigen');
  // Topics with long titles, which the charts must not cut off.
  await triage.resident('31612350005', 'ik wil een dakkapel bouwen, heb ik een omgevingsvergunning nodig?');
  await triage.resident('31612350006', 'ik wil bezwaar maken tegen mijn WOZ-waarde');
  // Saturday: out of office hours.
  await triage.setClock('2026-11-28T11:00:00+01:00');
  await triage.resident('31612350004', 'wanneer wordt het oud papier opgehaald?');
  const handover = await until(async () => {
    const r = await triage.admin('GET', '/api/queues/burgerzaken');
    return r.body.conversations.find((c) => c.resident.endsWith('0003'));
  }, 'the handover');
  // Answered 20 business minutes after the handover.
  await triage.setClock('2026-11-24T10:20:00+01:00');
  assert.equal((await triage.admin('POST', `/api/conversations/${handover.id}/claim`, {})).status, 200);
  assert.equal((await triage.admin('POST', `/api/conversations/${handover.id}/reply`, { text: 'Hoi! Dat regelen we.' })).status, 200);
  await until(async () => {
    const r = await triage.admin('GET', '/api/reports?from=2026-11-23&to=2026-11-29');
    return r.body.totals.inbound === 6 && r.body.outcomes.reduce((n, c) => n + c.count, 0) >= 6;
  }, 'every message decided');
});
after(async () => { await triage.stop(); });

/** Opens every "Tabel" disclosure. */
async function openTables(page) {
  for (const summary of await page.locator('#report summary', { hasText: 'Tabel' }).all()) await summary.click();
}

const widest = (page) => page.evaluate(() => document.documentElement.scrollWidth);

/** The chart labels that stick out of their chart (and so would be cut off or overlap the card). */
const clippedLabels = (page) => page.evaluate(() => [...document.querySelectorAll('#report svg text')]
  .filter((t) => {
    const r = t.getBoundingClientRect();
    const box = t.closest('svg').getBoundingClientRect();
    return r.width > 0 && (r.left < box.left - 0.5 || r.right > box.right + 0.5 || r.top < box.top - 0.5 || r.bottom > box.bottom + 0.5);
  })
  .map((t) => t.textContent));

test('the reports match what was sent and answered', async () => {
  const page = await triage.signedIn('demo-admin', '/reports');
  // Without a period typed, the service's last seven days (its clock, not the computer's).
  await page.locator('[data-test=kpi-inbound]').waitFor();
  assert.equal(await page.inputValue('[data-test=period-from]'), '18-11-2026');
  assert.equal(await page.inputValue('[data-test=period-to]'), '24-11-2026');
  await expectAccessible(page, 'the reports of the last seven days');
  await page.click('button:has-text("Deze week")');
  assert.equal(await page.inputValue('[data-test=period-from]'), '23-11-2026', 'Monday of the service\'s week');
  assert.equal(await page.inputValue('[data-test=period-to]'), '24-11-2026');

  await page.fill('[data-test=period-from]', '23-11-2026');
  await page.fill('[data-test=period-to]', '2026-11-29');
  await page.click('[data-test=period-apply]');
  const figure = (name) => page.locator(`[data-test=kpi-${name}]`).innerText();
  await page.locator('[data-test=kpi-inbound]', { hasText: '6' }).waitFor();
  assert.equal(await page.inputValue('[data-test=period-to]'), '29-11-2026', 'shown as Dutch write it');
  assert.equal(await figure('faq'), '4');
  assert.equal(await figure('privacy'), '1');
  assert.equal(await figure('handover'), '1');
  assert.equal(await figure('within-goal'), '100%');
  assert.equal(await figure('median'), '20 min');
  assert.equal(await figure('outside-hours'), '1');
  // The FAQ topics by their titles from the flows, not their ids.
  const topics = page.locator('section[aria-label="Meest gestelde FAQ-vragen"]');
  await topics.locator('svg text', { hasText: 'Paspoort of ID-kaart aanvragen' }).waitFor();
  assert.equal(await topics.locator('svg text', { hasText: 'paspoort-id-kaart' }).count(), 0);
  // At 1280 px nothing is wider than the screen, and every label of the charts is inside them.
  assert.ok(await widest(page) <= 1280, `the page is ${await widest(page)} px wide`);
  assert.deepEqual(await clippedLabels(page), []);
  await screenshot(page, 'reports.png');
  await expectAccessible(page, 'the reports of a week');

  // The tables say the same, by day, in Dutch.
  await openTables(page);
  const cells = (day) => page.locator('[data-test=table-per_day] tr', { hasText: day }).locator('td').allInnerTexts();
  assert.deepEqual(await cells('di 24 nov 2026'), ['di 24 nov 2026', '5', '0']);
  assert.deepEqual(await cells('za 28 nov 2026'), ['za 28 nov 2026', '1', '1']);
  const titles = await page.locator('[data-test=table-topics] tbody td:first-child').allInnerTexts();
  assert.ok(titles.includes('Aanslag gemeentelijke belastingen en WOZ-waarde'), titles.join(' | '));
  assert.ok(titles.includes('Afvalkalender en containers'), titles.join(' | '));
  assert.ok(await widest(page) <= 1280, `with the tables open the page is ${await widest(page)} px wide`);
  await expectAccessible(page, 'the reports with every table open');

  // The CSV link downloads the same table, as a Dutch spreadsheet opens it.
  const csv = await page.evaluate(async () => {
    const a = document.querySelector('[data-test=csv-per_day]');
    const bytes = new Uint8Array(await (await fetch(a.href)).arrayBuffer());
    return { bom: Array.from(bytes.slice(0, 3)), text: new TextDecoder().decode(bytes) };
  });
  assert.deepEqual(csv.bom, [0xef, 0xbb, 0xbf], 'a UTF-8 byte order mark');
  assert.match(csv.text, /^datum;berichten;buiten kantoortijd\r\n/);
  assert.match(csv.text, /\r\n2026-11-28;1;1\r\n/);

  // A day that is not one: said next to the fields, and nothing is lost.
  await page.fill('[data-test=period-from]', '31-02-2026');
  await page.click('[data-test=period-apply]');
  await page.locator('[data-test=period-error]', { hasText: 'geen datum' }).waitFor();
  assert.equal(await page.getAttribute('[data-test=period-from]', 'aria-invalid'), 'true');
  assert.equal(await page.evaluate(() => document.activeElement.dataset.test), 'period-from');
  assert.equal(await figure('inbound'), '6', 'the report shown stays');
  await expectAccessible(page, 'the reports with a wrong day typed');
  assert.deepEqual(page.errors, []);
});

test('on a tablet the reports fit, and the wide table scrolls in a region the keyboard reaches', async () => {
  const page = await triage.signedIn('demo-admin', '/reports');
  await page.setViewportSize({ width: 820, height: 1180 });
  await page.locator('[data-test=kpi-inbound]').waitFor();
  await page.fill('[data-test=period-from]', '23-11-2026');
  await page.fill('[data-test=period-to]', '29-11-2026');
  await page.click('[data-test=period-apply]');
  await page.locator('[data-test=kpi-inbound]', { hasText: '6' }).waitFor();
  await openTables(page);
  assert.ok(await widest(page) <= 820, `the page is ${await widest(page)} px wide`);
  assert.deepEqual(await clippedLabels(page), []);
  const region = page.locator('[role=region][aria-label="Berichten per uur van de week, tabel"]');
  assert.equal(await region.getAttribute('tabindex'), '0');
  assert.ok(await region.evaluate((el) => el.scrollWidth > el.clientWidth), 'the hour table scrolls inside its region');
  await region.focus();
  await page.keyboard.press('ArrowRight');
  await until(() => region.evaluate((el) => el.scrollLeft > 0), 'the region scrolled by keyboard');
  await expectAccessible(page, 'the reports on a tablet with every table open');
  assert.deepEqual(page.errors, []);
});

test('a period typed while the first report loads is kept, and only the newest answer is drawn', async () => {
  const page = await triage.page();
  // Hold the first report's answer until the visitor has typed and asked for another period.
  let release;
  const held = new Promise((r) => { release = r; });
  let first = true;
  await page.route('**/api/reports', async (route) => {
    if (first) { first = false; await held; }
    await route.continue();
  });
  await page.route('**/api/reports?*', (route) => route.continue());
  await page.goto(`${triage.base}/login?next=/reports`);
  await page.fill('[data-test=login-name]', 'demo-admin');
  await page.fill('[data-test=login-password]', 'demo');
  await page.click('[data-test=login-submit]');
  await page.waitForURL((u) => u.pathname === '/reports');
  await until(() => !first, 'the first report asked for');
  await page.fill('[data-test=period-from]', '23-11-2026');
  await page.fill('[data-test=period-to]', '29-11-2026');
  await page.click('[data-test=period-apply]');
  await page.locator('[data-test=kpi-inbound]', { hasText: '6' }).waitFor();
  release();
  await page.waitForResponse((r) => r.url().endsWith('/api/reports'));
  await page.waitForTimeout(200);
  assert.equal(await page.locator('[data-test=kpi-inbound]').innerText(), '6', 'the older answer is not drawn over it');
  assert.equal(await page.inputValue('[data-test=period-from]'), '23-11-2026');
  assert.equal(await page.inputValue('[data-test=period-to]'), '29-11-2026');
  assert.deepEqual(page.errors, []);
});

test('in an English browser the days are still Dutch', async () => {
  const page = await signedInEnglish(triage, 'demo-admin', '/reports');
  await page.locator('[data-test=kpi-inbound]').waitFor();
  await page.fill('[data-test=period-from]', '23-11-2026');
  await page.fill('[data-test=period-to]', '29-11-2026');
  await page.click('[data-test=period-apply]');
  await page.locator('[data-test=kpi-inbound]', { hasText: '6' }).waitFor();
  const axis = await page.locator('section[aria-label="Berichten per dag"] svg text.axis')
    .evaluateAll((els) => els.map((e) => e.textContent));
  assert.ok(axis.includes('di 24-11') && axis.includes('zo 29-11'), axis.join(' | '));
  await openTables(page);
  const days = await page.locator('[data-test=table-per_day] tbody tr td:first-child').allInnerTexts();
  assert.deepEqual(days, ['ma 23 nov 2026', 'di 24 nov 2026', 'wo 25 nov 2026', 'do 26 nov 2026',
    'vr 27 nov 2026', 'za 28 nov 2026', 'zo 29 nov 2026']);
  assert.equal(await page.inputValue('[data-test=period-from]'), '23-11-2026');
  await expectAccessible(page, 'the reports in an English browser');
  assert.deepEqual(page.errors, []);
});
