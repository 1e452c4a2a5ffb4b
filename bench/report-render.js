// Opens a report in headless Chromium (Playwright's driver from the test build) and prints, as one
// JSON line, the milliseconds to the load event, to the report script's end, and to a screenshot.
const [playwright, url, png] = process.argv.slice(2);
const { chromium } = require(playwright);
(async () => {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const errors = [];
  page.on('pageerror', e => errors.push(e.message));
  const t0 = Date.now();
  await page.goto(url, { timeout: 120000 });
  const load = Date.now() - t0;
  await page.waitForFunction(() => window.nasReport && window.nasReport.ready, null, { timeout: 120000 });
  const ready = Date.now() - t0;
  await page.screenshot({ path: png });
  console.log(JSON.stringify({ render_load_ms: load, render_ready_ms: ready, screenshot_ms: Date.now() - t0, page_errors: errors.length }));
  await browser.close();
})();
