// The agents' inbox: a resident's message appears live in the right queue; claim, reply (it
// reaches the Graph API stand-in), forward with a note, resolve; another department's
// conversation is refused.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Triage, until, TUESDAY_MORNING } from './server.mjs';

let triage;
before(async () => {
  triage = await Triage.start(TUESDAY_MORNING);
});
after(async () => { await triage.stop(); });

test('a message appears live; claim, reply, forward, resolve', async () => {
  const page = await triage.signedIn('demo-agent');
  let loads = 0;
  page.on('load', () => { loads += 1; });
  await page.click('[data-test=queue][data-department=burgerzaken]');
  await page.locator('[data-test=queue-list] [data-department=burgerzaken] [data-test=queue-count]', { hasText: '0' }).waitFor();

  // The resident writes; the page shows it without being reloaded.
  await triage.resident('31612340001', 'ik wil mijn naam wijzigen, hoe gaat dat?', 'Fatima');
  const item = page.locator('[data-test=conversation-item]', { hasText: 'naam wijzigen' });
  await item.waitFor();
  await page.locator('[data-test=queue][data-department=burgerzaken] [data-test=queue-count]', { hasText: '1' }).waitFor();
  assert.equal(loads, 0, 'the page was not reloaded');
  assert.match(await item.locator('[data-test=goal]').innerText(), /op tijd/);
  assert.match(await item.innerText(), /\*{6}0001/, 'the number is masked');

  await item.click();
  const conversation = page.locator('[data-test=conversation]');
  await conversation.waitFor();
  const id = await conversation.getAttribute('data-id');
  assert.match(page.url(), new RegExp(`#q=burgerzaken&c=${id}$`), 'only ids in the address');
  await page.locator('[data-test=message][data-author=bot]').first().waitFor();

  await page.click('[data-test=claim]');
  await page.locator('[data-test=phase][data-phase=with_agent]').waitFor();

  // A canned answer from the FAQ topics fills the box; the agent writes their own instead.
  await page.selectOption('[data-test=canned]', { index: 1 });
  assert.notEqual(await page.inputValue('[data-test=reply-input]'), '');
  await page.fill('[data-test=reply-input]', 'Hoi Fatima! Dat regel je bij Burgerzaken, ik stuur je de link.');
  await page.click('[data-test=reply-send]');
  await page.locator('[data-test=message][data-author="agent:demo-agent"]').waitFor();
  assert.equal(await page.inputValue('[data-test=reply-input]'), '');
  const sent = await until(async () => (await triage.sent('31612340001'))
    .find((m) => JSON.stringify(m.body).includes('ik stuur je de link')), 'the reply at the Graph API');
  assert.equal(sent.to, '31612340001');
  // A second resident waits meanwhile (for the counts below).
  await triage.resident('31612340009', 'ik heb een brief gekregen over mijn naamswijziging maar snap het niet', 'Anouk');
  await page.locator('[data-test=conversation-item]', { hasText: 'brief gekregen' }).waitFor();

  // Forward to Belastingen with a note for the colleagues (never sent to the resident).
  await page.click('text=Doorsturen naar een andere afdeling');
  await page.selectOption('[data-test=forward-department]', 'belastingen');
  await page.fill('[data-test=forward-note]', 'Gaat over de aanslag, niet over de naam');
  await page.click('[data-test=forward]');
  await page.locator('[data-test=department][data-department=belastingen]').waitFor();
  await page.locator('[data-test=message]', { hasText: 'Gaat over de aanslag' }).waitFor();
  await page.locator('[data-test=queue][data-department=belastingen] [data-test=queue-count]', { hasText: '1' }).waitFor();
  await page.locator('[data-test=queue][data-department=burgerzaken] [data-test=queue-count]', { hasText: '1' }).waitFor();
  const all = JSON.stringify(await triage.sent('31612340001'));
  assert.ok(!all.includes('Gaat over de aanslag'), 'the note never reaches the resident');

  // Afronden moves on to the next one waiting in the queue (Anouk's); the resolved one can be
  // opened again.
  await page.click('[data-test=resolve]');
  await page.locator('[data-test=conversation]', { hasText: 'Anouk' }).waitFor();
  await page.evaluate((c) => { location.hash = `#q=burgerzaken&c=${c}`; }, id);
  await page.locator('[data-test=phase][data-phase=resolved]').waitFor();
  await page.click('[data-test=reopen]');
  await page.locator('[data-test=phase][data-phase=queued]').waitFor();
  assert.equal(loads, 0);
  assert.deepEqual(page.errors, []);
});

test("an agent of one department gets 403 on another department's conversation", async () => {
  const created = await triage.admin('POST', '/api/users', {
    name: 'bram', role: 'agent', departments: ['burgerzaken'], password: 'bram-zijn-wachtwoord',
  });
  assert.equal(created.status, 201);
  await triage.resident('31612340002', 'ik wil een wmo voorziening aanvragen', 'Sanne');
  const queued = await until(async () => {
    const r = await triage.admin('GET', '/api/queues/sociaal-domein');
    return r.body.conversations.find((c) => c.resident.endsWith('0002'));
  }, 'the conversation in Sociaal Domein');

  const page = await triage.signedIn('bram', '/inbox', 'bram-zijn-wachtwoord');
  await page.locator('[data-test=queue][data-department=burgerzaken]').waitFor();
  assert.equal(await page.locator('[data-test=queue][data-department=sociaal-domein]').count(), 0);
  const status = await page.evaluate(async (id) => (await fetch(`/api/conversations/${id}`)).status, queued.id);
  assert.equal(status, 403);
  const queue = await page.evaluate(async () => (await fetch('/api/queues/sociaal-domein')).status);
  assert.equal(queue, 403);
  // By direct address too: the page says so and shows nothing of it.
  await page.goto(`${triage.base}/inbox#c=${queued.id}`);
  await page.locator('[data-test=error]', { hasText: 'Geen toegang' }).waitFor();
  assert.ok(!(await page.content()).includes('wmo voorziening'));
});
