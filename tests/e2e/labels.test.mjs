// The learning loop: an agent marks a handed-over question in the inbox with the topic that
// should have answered it (by keyboard), and another as "a new topic is needed" (on a tablet);
// an editor sees both on the editors' page, masked, with what the bot did, and makes a
// conversation test of one with one click: the page shows the YAML, the file holds it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Triage, until, screenshot, TUESDAY_MORNING } from './server.mjs';
import { expectAccessible } from './a11y.mjs';

let triage;
before(async () => {
  triage = await Triage.start(TUESDAY_MORNING);
});
after(async () => { await triage.stop(); });

/** The conversation of the resident whose number ends in `tail`, once it waits in the KCC. */
async function queued(tail) {
  return until(async () => {
    const r = await triage.admin('GET', '/api/queues/kcc');
    return r.body.conversations.find((c) => c.resident.endsWith(tail));
  }, `the conversation of …${tail} in the KCC`);
}

test('an agent labels questions in the inbox, by keyboard and on a tablet', async () => {
  // Answered with the wrong topic, then handed over.
  await triage.resident('31612340071', 'kan ik mijn aanslag in termijnen betalen', 'Fatima');
  await until(async () => (await triage.sent('31612340071')).length >= 1, 'the FAQ answer');
  await triage.resident('31612340071', 'ik wil graag een medewerker spreken', 'Fatima');
  const first = await queued('0071');

  const page = await triage.signedIn('demo-agent');
  await page.evaluate((c) => { location.hash = `#q=kcc&c=${c}`; }, first.id);
  const question = page.locator('[data-test=message][data-author=resident]', { hasText: 'termijnen' });
  await question.waitFor();
  // Only the resident's messages carry the question.
  assert.equal(await page.locator('[data-test=message][data-author=bot] [data-test=label-open]').count(), 0);

  // Focus stays on the same message's button through a live update.
  const later = page.locator('[data-test=message][data-author=resident]', { hasText: 'medewerker spreken' });
  await later.locator('[data-test=label-open]').focus();
  const laterId = await later.locator('[data-test=label-open]').getAttribute('data-label-message');
  await triage.resident('31612340071', 'is er al iemand?', 'Fatima');
  await page.locator('[data-test=message][data-author=resident]', { hasText: 'is er al iemand?' }).waitFor();
  assert.equal(await page.evaluate(() => document.activeElement.dataset.labelMessage), laterId);

  // By keyboard: the button, a few letters, Enter.
  await question.locator('[data-test=label-open]').focus();
  await page.keyboard.press('Enter');
  const dialog = page.locator('[data-test=label-dialog]');
  await dialog.waitFor();
  assert.equal(await page.evaluate(() => document.activeElement.dataset.test), 'label-search');
  assert.match(await dialog.locator('blockquote').innerText(), /termijnen betalen/);
  await page.keyboard.type('kwijt');
  assert.deepEqual(await dialog.locator('[data-test=label-topics] option').allInnerTexts(), ['Kwijtschelding gemeentelijke belastingen']);
  await expectAccessible(page, 'the inbox with the topic picker open');
  await page.keyboard.press('Enter');
  const chip = question.locator('[data-test=label-chip][data-topic=kwijtschelding]');
  await chip.waitFor();
  assert.equal(await dialog.count(), 0, 'the picker closed');
  assert.match(await chip.innerText(), /Kwijtschelding gemeentelijke belastingen/);
  assert.equal(await page.evaluate(() => document.activeElement.dataset.test), 'label-chip', 'focus back on the label');
  await expectAccessible(page, 'the inbox with a labelled question');
  await screenshot(page, 'inbox-label.png');

  // On a tablet, by touch: "a new topic is needed", with a note. A BSN in the question stays masked.
  await triage.resident('31612340072', 'ik wil graag een medewerker spreken', 'Daan');
  const second = await queued('0072');
  await triage.resident('31612340072', 'mijn buurman speelt elke nacht trompet, mijn bsn is 111222333');
  const tablet = await triage.signedIn('demo-agent', '/inbox', 'demo', { width: 768, height: 1024 });
  await tablet.evaluate((c) => { location.hash = `#q=kcc&c=${c}`; }, second.id);
  const trompet = tablet.locator('[data-test=message][data-author=resident]', { hasText: 'trompet' });
  await trompet.waitFor();
  assert.match(await trompet.innerText(), /\*{6}333/);
  const open = trompet.locator('[data-test=label-open]');
  assert.ok((await open.boundingBox()).height >= 24, 'a target a finger can hit');
  await open.click();
  const picker = tablet.locator('[data-test=label-dialog]');
  await picker.waitFor();
  const box = await picker.boundingBox();
  assert.ok(box.x >= 0 && box.x + box.width <= 768 && box.y + box.height <= 1024, 'the picker fits the screen');
  await tablet.fill('[data-test=label-note]', 'geluidsoverlast van buren');
  await screenshot(tablet, 'inbox-label-tablet.png');
  await tablet.click('[data-test=label-new-topic]');
  await trompet.locator('[data-test=label-chip][data-new-topic=true]', { hasText: 'Nieuw onderwerp nodig' }).waitFor();
  assert.deepEqual(page.errors, []);
  assert.deepEqual(tablet.errors, []);
});

test('an editor sees the labelled questions and makes a test of one', async () => {
  const page = await triage.signedIn('demo-admin', '/editor');
  const card = page.locator('[data-test=labels-card]');
  const item = card.locator('[data-test=label-item]', { hasText: 'termijnen' });
  await item.waitFor();
  assert.equal(await card.locator('[data-test=label-item]').count(), 2);
  assert.equal(await item.locator('[data-test=label-bot]').innerText(), 'antwoordde met ‘Aanslag gemeentelijke belastingen en WOZ-waarde’');
  assert.equal(await item.locator('[data-test=label-should]').innerText(), 'Kwijtschelding gemeentelijke belastingen');
  assert.match(await item.locator('[data-test=label-who]').innerText(), /^demo-agent · di 24 nov/);
  const other = card.locator('[data-test=label-item]', { hasText: 'trompet' });
  assert.match(await other.locator('[data-test=label-text]').innerText(), /bsn is \*{6}333/);
  assert.ok(!(await page.content()).includes('111222333'));
  assert.match(await other.innerText(), /geluidsoverlast van buren/);

  // Only those a topic asks for a new one.
  await page.selectOption('[data-test=labels-filter]', 'new');
  await until(async () => (await card.locator('[data-test=label-item]').count()) === 1, 'the filtered list');
  await page.selectOption('[data-test=labels-filter]', '');
  await item.waitFor();

  await item.locator('[data-test=make-test]').click();
  const yaml = item.locator('[data-test=label-yaml]');
  await yaml.waitFor();
  const written = await yaml.innerText();
  assert.match(written, /- say: "kan ik mijn aanslag in termijnen betalen"/);
  assert.match(written, /expect: \{ outcome: faq, topic: kwijtschelding \}/);
  await item.locator('[data-test=test-fails]').waitFor();
  await item.locator('[data-test=label-tested]').waitFor();
  const file = readFileSync(join(triage.testsDir, 'geleerd.yaml'), 'utf8');
  assert.ok(file.includes(written.trim()), file);
  assert.match(await item.locator('[data-test=make-test-done]').innerText(), /geleerd\.yaml:\d+/);
  await expectAccessible(page, 'the editors page with a test made of a labelled question');
  await card.evaluate((el) => el.scrollIntoView());
  await screenshot(page, 'editor-labels.png');

  // "Not yet a test" leaves the other one.
  await page.check('[data-test=labels-untested]');
  await until(async () => (await card.locator('[data-test=label-item]').count()) === 1, 'the untested labels');
  assert.match(await card.locator('[data-test=label-item]').innerText(), /trompet/);
  assert.deepEqual(page.errors, []);
});
