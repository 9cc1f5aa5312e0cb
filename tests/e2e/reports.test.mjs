// The reports page shows figures that match the messages the test sent.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Triage, until, screenshot } from './server.mjs';

let triage;
before(async () => {
  triage = await Triage.start();
  await triage.setClock('2026-11-24T10:00:00+01:00');
});
after(async () => { await triage.stop(); });

test('the reports match what was sent and answered', async () => {
  await triage.resident('31612350001', 'ik wil een nieuw paspoort');
  await triage.resident('31612350002', 'mijn bsn is 111222333, ik ben verhuisd');
  await triage.resident('31612350003', 'ik wil mijn naam wijzigen');
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
    return r.body.totals.inbound === 4 && r.body.outcomes.reduce((n, c) => n + c.count, 0) >= 4;
  }, 'every message decided');

  const page = await triage.signedIn('demo-admin', '/reports');
  await page.fill('[data-test=period-from]', '2026-11-23');
  await page.fill('[data-test=period-to]', '2026-11-29');
  await page.click('[data-test=period-apply]');
  const figure = (name) => page.locator(`[data-test=kpi-${name}]`).innerText();
  await page.locator('[data-test=kpi-inbound]', { hasText: '4' }).waitFor();
  assert.equal(await figure('faq'), '2');
  assert.equal(await figure('privacy'), '1');
  assert.equal(await figure('handover'), '1');
  assert.equal(await figure('within-goal'), '100%');
  assert.equal(await figure('median'), '20 min');
  assert.equal(await figure('outside-hours'), '1');
  await screenshot(page, 'reports.png');
  // The tables say the same, by day.
  await page.locator('summary', { hasText: 'Tabel' }).first().click();
  const cells = (date) => page.locator('[data-test=table-per_day] tr', { hasText: date }).locator('td').allInnerTexts();
  assert.deepEqual(await cells('2026-11-24'), ['2026-11-24', '3', '0']);
  assert.deepEqual(await cells('2026-11-28'), ['2026-11-28', '1', '1']);
  // The CSV link downloads the same table.
  const csv = await page.evaluate(async () => {
    const a = document.querySelector('[data-test=csv-per_day]');
    return (await fetch(a.href)).text();
  });
  assert.match(csv, /^date,inbound,outside_hours\r\n/);
  assert.match(csv, /2026-11-28,1,1\r\n/);
  assert.deepEqual(page.errors, []);
});
