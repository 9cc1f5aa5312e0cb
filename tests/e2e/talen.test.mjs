// Languages: a Polish question in the simulator is answered in Polish; an Arabic message reads
// right to left in the inbox, with the resident's language beside their name.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Triage, screenshot, TUESDAY_MORNING } from './server.mjs';
import { expectAccessible } from './a11y.mjs';

let triage;
before(async () => {
  triage = await Triage.start(TUESDAY_MORNING);
});
after(async () => { await triage.stop(); });

test('a Polish question in the simulator gets the Polish answer, links and buttons', async () => {
  const page = await triage.page({ width: 1100, height: 800 });
  await page.goto(triage.base + '/');
  await page.fill('#text', 'dzień dobry, zgubiłem paszport, co mam zrobić?');
  await page.press('#text', 'Enter');
  const answer = page.locator('.msg.in', { hasText: 'wyrobisz w okienku w ratuszu' });
  await answer.waitFor();
  assert.match(await answer.innerText(), /Paszport i dowód osobisty: https:\/\/www\.terneuzen\.nl\/paspoort-en-id-kaart/);
  const buttons = await answer.locator('.buttons button').allInnerTexts();
  assert.deepEqual(buttons, ['Umów wizytę', 'Konsultant']);
  await screenshot(page, 'polish.png');
  // Tapping a button answers the next topic in Polish too.
  await answer.locator('.buttons button', { hasText: 'Umów wizytę' }).click();
  await page.locator('.msg.in', { hasText: 'Wizytę umówisz online' }).waitFor();
  assert.equal(await page.locator('.msg.in', { hasText: 'Wizytę umówisz online' }).locator('.text').evaluate(
    (el) => getComputedStyle(el).direction), 'ltr');
  await expectAccessible(page, 'the simulator with a Polish answer');
  assert.deepEqual(page.errors, []);
});

test('an Arabic message reads right to left in the inbox, the Dutch around it left to right', async () => {
  // The message first, then the page: this test is about direction, not live updates.
  await triage.resident('31612347001', 'السلام عليكم، عندي سؤال عن جاري الذي يزعجنا كل ليلة', 'Ahmed');
  const page = await triage.signedIn('demo-agent');
  await page.locator('[data-test=queue][data-department=kcc] [data-test=queue-count]', { hasText: '1' }).waitFor();
  await page.click('[data-test=queue][data-department=kcc]');
  const item = page.locator('[data-test=conversation-item]', { hasText: 'يزعجنا' });
  await item.waitFor();
  assert.equal(await item.locator('[data-test=language]').innerText(), 'Arabisch');
  assert.equal(await item.locator('.snippet').evaluate((el) => getComputedStyle(el).direction), 'rtl');
  await item.click();
  await page.locator('[data-test=conversation] [data-test=language][data-language=ar]').waitFor();
  const resident = page.locator('[data-test=message][data-author=resident] [data-test=message-text]');
  await resident.waitFor();
  assert.equal(await resident.evaluate((el) => getComputedStyle(el).direction), 'rtl');
  // The bot's handover reply is Arabic as well, and so right to left.
  const bot = page.locator('[data-test=message][data-author=bot] [data-test=message-text]', { hasText: 'حوّلتُ سؤالك' });
  await bot.waitFor();
  assert.equal(await bot.evaluate((el) => getComputedStyle(el).direction), 'rtl');
  // The name and time under a message stay left to right.
  const meta = page.locator('[data-test=message][data-author=resident] .meta');
  assert.equal(await meta.evaluate((el) => getComputedStyle(el).direction), 'ltr');
  // The trace names the language and why.
  await page.click('text=Wat de bot besliste en waarom');
  await page.locator('[data-test=decision]', { hasText: 'Taal: Arabisch (uit het schrift).' }).waitFor();

  // An agent who answers in Arabic types right to left; in Dutch left to right.
  await page.click('[data-test=claim]');
  const box = page.locator('[data-test=reply-input]');
  await box.fill('مرحبا أحمد، سأساعدك');
  assert.equal(await box.evaluate((el) => el.matches(':dir(rtl)')), true);
  await box.fill('Hoi Ahmed, ik help je');
  assert.equal(await box.evaluate((el) => el.matches(':dir(ltr)')), true);
  await screenshot(page, 'inbox-arabic.png');
  await expectAccessible(page, 'the inbox with an Arabic conversation');
  assert.deepEqual(page.errors, []);
});
