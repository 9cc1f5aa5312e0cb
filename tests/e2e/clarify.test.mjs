// A question back: when the bot is unsure which topic is meant it asks, with a button per topic
// and one for a person; a tapped topic answers, "Iets anders" hands over. And a question only a
// person can answer goes to a person although it names an FAQ topic.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Triage, screenshot } from './server.mjs';
import { expectAccessible } from './a11y.mjs';

let triage;
before(async () => {
  triage = await Triage.start();
  await triage.setClock('2026-11-25T10:00:00+01:00');
});
after(async () => { await triage.stop(); });

test('the simulator asks which topic is meant, and the tapped topic answers', async () => {
  const page = await triage.signedIn('demo-admin', '/');
  await page.locator('#clockbox:not([hidden])').waitFor();
  await page.fill('#text', 'ik wil een afspraak maken voor mijn paspoort');
  await page.press('#text', 'Enter');
  const question = page.locator('.msg.in', { hasText: 'Gaat je vraag over' });
  await question.waitFor();
  assert.match(await question.innerText(), /Paspoort of ID-kaart aanvragen, of over Afspraak maken/);
  const buttons = question.locator('.buttons button');
  assert.deepEqual(await buttons.allInnerTexts(), ['Paspoort…', 'Afspraak maken…', 'Iets anders']);
  await expectAccessible(page, 'the simulator with a question back');
  await screenshot(page, 'clarify.png');

  // By keyboard: the first button answers with the passport topic and its link.
  await buttons.first().focus();
  await page.keyboard.press('Enter');
  const answer = page.locator('.msg.in', { hasText: 'paspoort' }).filter({ has: page.locator('a[href*="paspoort"]') });
  await answer.first().waitFor();

  // "Iets anders" hands the question to a person.
  await page.click('#new');
  await page.fill('#text', 'mag ik een feestje geven');
  await page.press('#text', 'Enter');
  const again = page.locator('.msg.in', { hasText: 'Gaat je vraag over Evenement organiseren?' });
  await again.waitFor();
  await again.locator('.buttons button', { hasText: 'Iets anders' }).click();
  await page.locator('.msg.in', { hasText: 'collega' }).waitFor();

  // The status of one's own application is for a person, though it names a permit.
  await page.click('#new');
  await page.fill('#text', 'ik heb 3 weken geleden een parkeervergunning aangevraagd en nog niks gehoord');
  await page.press('#text', 'Enter');
  const handed = page.locator('.msg.in', { hasText: 'collega van Vergunningen' });
  await handed.waitFor();
  assert.deepEqual(page.errors, []);
});
