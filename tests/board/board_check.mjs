// Drives Debian's chromium (headless, through puppeteer-core) against a real
// plant-register that tests/integration/board_test.cpp started with real
// agents, Mosquitto and PostgreSQL. Exits 0 when every check held; otherwise
// prints the failed check and exits 1. Every wait is on a condition in the page.
//
// Environment: BOARD_URL, BOARD_TOKEN (alice's), AGENT_PID (an agent to kill -9),
// REGISTER_PID (killed last), SCREENSHOT_DIR, CHROMIUM (default /usr/bin/chromium).
import puppeteer from 'puppeteer-core';

const env = process.env;
const url = env.BOARD_URL;
const shots = env.SCREENSHOT_DIR;
const log = (text) => console.log('board_check: ' + text);

function check(condition, message) {
  if (!condition) throw new Error(message);
}

// Runs one part of the checks; a failed wait inside says which part it was.
async function part(name, body) {
  try {
    await body();
  } catch (e) {
    throw new Error(`${name}: ${e.message}`);
  }
}

async function textOf(page, selector) {
  return page.$eval(selector, (el) => el.textContent.trim());
}

const browser = await puppeteer.launch({
  executablePath: env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  // As root (CI) chromium needs --no-sandbox; /dev/shm may be small in containers.
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});
const pageErrors = [];
try {
  const page = await browser.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.setDefaultTimeout(20000);
  await page.setViewport({ width: 1280, height: 860 });
  const card = 'article.shortage[data-site="north"][data-material="resin"]';
  let phone;

  // 1. The shortage board: north short of resin, south can spare it and arrives in time.
  await part('shortage board', async () => {
    await page.goto(url + '/', { waitUntil: 'domcontentloaded' });
    await page.waitForSelector(card + ' li.proposal[data-site="south"]');
    const cardText = await textOf(page, card);
    check(/critical/i.test(cardText), 'the card shows its status: ' + cardText);
    check(cardText.includes('1,700 kg'), 'the card shows the quantity: ' + cardText);
    check(cardText.includes('100 kg/h'), 'the card shows the rate: ' + cardText);
    check(/in 1[67] h/.test(cardText), 'the card counts down to the stockout: ' + cardText);
    const proposal = await page.$eval(card + ' li.proposal[data-site="south"]', (el) => ({ cls: el.className, text: el.textContent }));
    check(proposal.cls.includes('in-time'), 'the south proposal is in time: ' + JSON.stringify(proposal));
    check(proposal.text.includes('45,000 kg') && proposal.text.includes('transfer 6 h') && proposal.text.includes('before the stockout'),
          'the proposal names spare quantity, transfer time and verdict: ' + proposal.text);
    check((await textOf(page, '#who')) === 'read-only until you sign in', 'the board says it is read-only');
    check((await page.$(card + ' button.ack')) === null, 'no Acknowledge button before signing in');
    await page.waitForFunction(() => document.getElementById('live').textContent === 'live');
    log('shortage board: north/resin critical, south spares 45,000 kg, 6 h transfer arrives before the stockout');
    await page.screenshot({ path: `${shots}/board-shortages.png` });
  });

  // 2. Writes without a token are refused; a wrong token is not accepted; alice's is.
  await part('acknowledging', async () => {
    const refused = await page.evaluate(async () =>
      (await fetch('/api/shortages/north/resin/ack', { method: 'POST', body: '{}' })).status);
    check(refused === 401, 'an ack without a token is refused with 401, got ' + refused);
    await page.click('#signin-button');
    await page.type('#signin-token', 'not-a-token-of-anyone-here');
    await page.click('#signin-ok');
    await page.waitForFunction(() => document.getElementById('signin-error').textContent === 'That token is not accepted.');
    await page.click('#signin-cancel');
    await page.click('#signin-button');
    await page.type('#signin-token', env.BOARD_TOKEN);
    await page.click('#signin-ok');
    await page.waitForFunction(() => document.getElementById('who').textContent === 'signed in as alice');
    await page.waitForSelector(card + ' button.ack');
    await page.type(card + ' input.note-input', 'truck from south');
    await page.click(card + ' button.ack');
    await page.waitForFunction((sel) => {
      const s = document.querySelector(sel + ' .action-state');
      return s && s.textContent.includes('Acknowledged by alice') && s.textContent.includes('truck from south');
    }, {}, card);
    log('acknowledging: 401 without a token, a wrong token refused, alice acknowledged with a note');
  });

  // 3. The material page, reached by a link: a chart with data points and the reorder point.
  await part('material page', async () => {
    await page.click(card + ' a.material-link');
    await page.waitForSelector('#stock-chart circle.point');
    const points = await page.$$eval('#stock-chart circle.point', (c) => c.length);
    check(points >= 20, 'the chart draws the 24 h of hourly samples, got ' + points + ' points');
    check((await page.$('#stock-chart line.reorder')) !== null, 'the chart draws the reorder point');
    check((await page.$('#stock-chart line.safety')) !== null, 'the chart draws the safety stock');
    check((await page.$('#stock-chart polyline.projection')) !== null, 'the chart draws the projected stockout');
    await page.click('#ranges button[data-hours="168"]');
    await page.waitForFunction(() => {
      const b = document.querySelector('#ranges button.current');
      return b && b.dataset.hours === '168' && document.querySelectorAll('#stock-chart circle.point').length >= 40;
    });
    log(`material page: ${points} points in 24 h, more over 7 d, reorder point, safety stock and projection drawn`);
    await page.screenshot({ path: `${shots}/board-material.png` });
  });

  // 4. Plants: values move through the event stream without a reload, and an agent
  // killed with -9 shows offline (its Last Will) within 5 s.
  await part('plants page', async () => {
    await page.click('nav a[href="/plants"]');
    const eastLine = 'tr.line-row[data-line^="east|"]';
    await page.waitForSelector(eastLine + ' .good-count');
    await page.waitForSelector('tr[data-agent="east|line-gw"] .agent-state');
    check((await page.$$('svg.timeline rect.span')).length > 0, 'the line timelines draw their state spans');
    await page.evaluate(() => { window.__sameDocument = true; });
    const before = await textOf(page, eastLine + ' .good-count');
    await page.waitForFunction((sel, was) => window.__sameDocument === true &&
      document.querySelector(sel + ' .good-count').textContent !== was, { timeout: 20000 }, eastLine, before);
    log(`live: a line's good count went from ${before} to ${await textOf(page, eastLine + ' .good-count')} without a reload`);
    check((await textOf(page, 'tr[data-agent="east|line-gw"] .agent-state')) === 'online', 'east is online before the kill');
    process.kill(Number(env.AGENT_PID), 'SIGKILL');
    const killedAt = Date.now();
    await page.waitForFunction(() => document.querySelector('tr[data-agent="east|line-gw"] .agent-state').textContent === 'offline',
                               { timeout: 5000 });
    const offlineAfter = Date.now() - killedAt;
    check(await page.evaluate(() => window.__sameDocument === true), 'the page was not reloaded');
    log(`kill -9 of line-gw: offline on the plants page after ${offlineAfter} ms`);
    await page.screenshot({ path: `${shots}/board-plants.png`, fullPage: true });
  });

  // 5. An unknown material is a 404 page.
  await part('404 page', async () => {
    const missing = await page.goto(url + '/material/north/no-such-material');
    check(missing.status() === 404, 'an unknown material answers 404, got ' + missing.status());
    check((await textOf(page, '#not-found-reason')).includes("'no-such-material'"), 'the 404 page names the material');
  });

  // 6. A phone-sized screen: the board fits its width.
  await part('phone screen', async () => {
    phone = await browser.newPage();
    phone.on('pageerror', (e) => pageErrors.push(e.message));
    await phone.setViewport({ width: 390, height: 844, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
    await phone.goto(url + '/', { waitUntil: 'domcontentloaded' });
    await phone.waitForSelector(card + ' li.proposal');
    const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    check(overflow <= 1, 'the board fits a 390 px screen, overflow ' + overflow + ' px');
    await phone.screenshot({ path: `${shots}/board-phone.png` });
    log('phone: the board fits 390 px');
  });

  // 7. The register goes away: the page says so.
  await part('register lost', async () => {
    process.kill(Number(env.REGISTER_PID), 'SIGKILL');
    await phone.waitForFunction(() => document.getElementById('live').textContent.includes('lost the register'),
                                { timeout: 10000 });
    log('register killed: the page says it lost the register');
  });
  check(pageErrors.length === 0, 'script errors in the page: ' + pageErrors.join('; '));
  log('all checks passed');
} catch (e) {
  console.error('board_check: FAILED: ' + e.message);
  process.exitCode = 1;
} finally {
  await browser.close();
}
