// Browser tests of procd's web UI: the real daemon, Debian's Chromium (headless) driven by
// playwright-core. Run by ./run.sh (which installs what they need); procd's state is checked over
// XML-RPC, never only through the page. Screenshots (and procd's log) go to target/browser-artifacts/.
//
// Environment: PROCD_BIN (default target/debug/procd), PROCD_CHROMIUM (default /usr/bin/chromium).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync, readFileSync, openSync, closeSync } from 'node:fs';
import { createServer } from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const procdBin = process.env.PROCD_BIN || path.join(root, 'target/debug/procd');
const chromiumBin = process.env.PROCD_CHROMIUM || '/usr/bin/chromium';
const artifacts = path.join(root, 'target/browser-artifacts');
const WAIT = 15000;

let dir, port, base, daemon, browser, attacker, attackerPort;

/** A TCP port nobody listens on (bound, read back, released). */
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port: p } = srv.address();
      srv.close(() => resolve(p));
    });
  });
}

/** Retries `probe` until it returns a truthy value or `ms` pass. */
async function waitFor(what, probe, ms = WAIT) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

const xmlEscape = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

/** One XML-RPC call with string arguments; returns the response document. */
async function rpc(method, ...args) {
  const params = args
    .map((a) => `<param><value><string>${xmlEscape(a)}</string></value></param>`)
    .join('');
  const body = `<?xml version="1.0"?><methodCall><methodName>${method}</methodName><params>${params}</params></methodCall>`;
  const resp = await fetch(`${base}/RPC2`, {
    method: 'POST',
    headers: { 'Content-Type': 'text/xml' },
    body,
  });
  const text = await resp.text();
  assert.equal(resp.status, 200, text);
  assert.ok(!text.includes('<fault>'), `${method}(${args}) failed: ${text}`);
  return text;
}

function member(xml, name) {
  const m = xml.match(new RegExp(`<name>${name}</name>\\s*<value>\\s*<(?:string|int|i4)>([^<]*)<`));
  return m ? m[1] : undefined;
}

async function info(name) {
  const xml = await rpc('supervisor.getProcessInfo', name);
  return { state: member(xml, 'statename'), pid: Number(member(xml, 'pid')) };
}

async function waitState(name, state) {
  return waitFor(`${name} ${state}`, async () => {
    const i = await info(name);
    return i.state === state ? i : null;
  });
}

before(async () => {
  mkdirSync(artifacts, { recursive: true });
  dir = mkdtempSync(path.join(os.tmpdir(), 'procd-web-'));
  port = await freePort();
  base = `http://127.0.0.1:${port}`;
  writeFileSync(
    path.join(dir, 'supervisord.conf'),
    `[inet_http_server]
port=127.0.0.1:${port}

[supervisord]
logfile=${dir}/main.log
pidfile=${dir}/procd.pid
childlogdir=${dir}

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[program:alpha]
command=sleep 1000
startsecs=0
stopwaitsecs=2

[program:web]
command=sh -c 'echo "listening on :8080"; echo "GET /health 200"; exec sleep 1000'
startsecs=0
stdout_logfile=${dir}/web.out

[program:worker]
command=sleep 1000
process_name=%(program_name)s_%(process_num)02d
numprocs=2
startsecs=0

[group:jobs]
programs=worker

[program:reports-nightly-with-a-long-name]
command=sleep 1000
autostart=false

[program:broken]
command=false
startsecs=1
startretries=0
`,
  );
  // procd's own output (its main log, with -n) is kept with the screenshots.
  const out = openSync(path.join(artifacts, 'procd.log'), 'w');
  daemon = spawn(procdBin, ['-n', '-c', path.join(dir, 'supervisord.conf')], {
    cwd: dir,
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  daemon.on('error', (e) => {
    throw new Error(`cannot start ${procdBin}: ${e.message}`);
  });
  await waitState('alpha', 'RUNNING');
  await waitState('web', 'RUNNING');
  await waitState('broken', 'FATAL');

  // Another local origin: the pages an attacker would serve.
  attackerPort = await freePort();
  attacker = createServer((req, res) => {
    const target = `${base}/index.html`;
    const pages = {
      '/form.html': `<form id="f" method="post" action="${target}">
          <input name="processname" value="alpha"><input name="action" value="stop"></form>
          <script>document.getElementById('f').submit()</script>`,
      '/img.html': `<img src="${target}?processname=alpha&amp;action=stop">`,
      '/frame.html': `<iframe src="${target}?processname=alpha&amp;action=stop"></iframe>`,
      // XML-RPC posted as text/plain, which needs no CORS preflight.
      '/rpc.html': `<script>fetch('${base}/RPC2', { method: 'POST', mode: 'no-cors',
          body: '<?xml version="1.0"?><methodCall><methodName>supervisor.stopProcess</methodName>'
            + '<params><param><value><string>alpha</string></value></param></params></methodCall>' })
          </script>`,
    };
    const page = pages[req.url];
    res.writeHead(page ? 200 : 404, { 'Content-Type': 'text/html' });
    res.end(page || 'not found');
  });
  await new Promise((r) => attacker.listen(attackerPort, '127.0.0.1', r));

  browser = await chromium.launch({
    executablePath: chromiumBin,
    headless: true,
    // Playwright gives every launch a fresh --user-data-dir of its own.
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});

after(async () => {
  await browser?.close();
  attacker?.close();
  if (daemon && daemon.exitCode === null) {
    const exited = new Promise((r) => daemon.once('exit', r));
    daemon.kill('SIGTERM');
    const timer = setTimeout(() => daemon.kill('SIGKILL'), 10000);
    await exited;
    clearTimeout(timer);
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A fresh desktop page (own context: no shared cookies or storage). */
async function desktop() {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  return ctx.newPage();
}

const row = (page, name) => page.locator('tr', { has: page.locator(`td.name a:text-is("${name}")`) });

/** Clicks a row's button and waits for the redirect back to the status page. */
async function clickAction(page, name, action) {
  await Promise.all([
    page.waitForURL(/\?message=/, { timeout: WAIT }),
    row(page, name).locator(`button[value="${action}"]`).click(),
  ]);
}

test('the buttons stop, start and restart a process', async () => {
  const page = await desktop();
  await page.goto(`${base}/`);
  const before = await info('alpha');
  assert.equal(before.state, 'RUNNING');

  await clickAction(page, 'alpha', 'stop');
  assert.equal((await info('alpha')).state, 'STOPPED');
  assert.equal(await page.locator('p.message').textContent(), 'Process alpha stopped');
  assert.equal(await row(page, 'alpha').locator('.state').textContent(), 'stopped');

  await clickAction(page, 'alpha', 'start');
  const started = await info('alpha');
  assert.equal(started.state, 'RUNNING');
  assert.notEqual(started.pid, before.pid);
  assert.equal(await page.locator('p.message').textContent(), 'Process alpha started');

  await clickAction(page, 'alpha', 'restart');
  const restarted = await info('alpha');
  assert.equal(restarted.state, 'RUNNING');
  assert.notEqual(restarted.pid, started.pid, 'a new pid after restart');
  assert.equal(await page.locator('p.message').textContent(), 'Process alpha restarted');
  await page.context().close();
});

test('requests from another local origin are refused', async () => {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  const before = await info('alpha');
  assert.equal(before.state, 'RUNNING');
  const target = `${base}/index.html`;
  const toProcd = (r) => r.url().startsWith(target);
  // The browser blocks an <img>'s HTML answer (ORB) before Playwright sees it; the DevTools protocol
  // still reports the status procd sent.
  const cdp = await ctx.newCDPSession(page);
  await cdp.send('Network.enable');
  const urls = new Map();
  const statuses = [];
  cdp.on('Network.requestWillBeSent', (e) => urls.set(e.requestId, e.request.url));
  cdp.on('Network.responseReceivedExtraInfo', (e) => statuses.push(e));
  const procdStatuses = (url = target) =>
    statuses.filter((e) => (urls.get(e.requestId) || '').startsWith(url)).map((e) => e.statusCode);

  // An auto-submitting form on 127.0.0.1:<other port> (same site, other origin).
  const formResp = page.waitForResponse(toProcd, { timeout: WAIT });
  await page.goto(`http://127.0.0.1:${attackerPort}/form.html`);
  assert.equal((await formResp).status(), 403);
  await page.waitForURL(target, { timeout: WAIT });
  assert.match(await page.textContent('body'), /cross-site request refused/);

  // An <img> on localhost:<other port> (another site) loading the GET URL.
  const seen = procdStatuses().length;
  await page.goto(`http://localhost:${attackerPort}/img.html`);
  await waitFor('the <img> request answered', async () => procdStatuses().length > seen);
  assert.deepEqual(procdStatuses().slice(seen), [403]);

  // The same URL in an <iframe> (a navigation inside the other site's page).
  const frameResp = page.waitForResponse(toProcd, { timeout: WAIT });
  await page.goto(`http://localhost:${attackerPort}/frame.html`);
  assert.equal((await frameResp).status(), 403);

  // A script posting XML-RPC to /RPC2 (as text/plain, no CORS preflight).
  await page.goto(`http://127.0.0.1:${attackerPort}/rpc.html`);
  await waitFor('the /RPC2 post answered', async () => procdStatuses(`${base}/RPC2`).length > 0);
  assert.deepEqual(procdStatuses(`${base}/RPC2`), [403]);

  const after = await info('alpha');
  assert.deepEqual(after, before, 'alpha untouched');
  await ctx.close();
});

test('live switch updates the table when a process changes state', async () => {
  const page = await desktop();
  await page.goto(`${base}/`);
  const live = page.locator('#live');
  await live.waitFor({ state: 'visible', timeout: WAIT });
  assert.equal(await live.isChecked(), false, 'off by default');
  await live.check();
  await page.evaluate(() => {
    window.notReloaded = true;
  });
  const stateOf = (name) => row(page, name).locator('.state').textContent();
  // The stream is open once its first event has arrived (the switch then shows `on`).
  await page.locator('label.live.on').waitFor({ timeout: WAIT });

  await rpc('supervisor.stopProcess', 'web');
  await waitFor('web shown stopped', async () => (await stateOf('web')) === 'stopped');
  await rpc('supervisor.startProcess', 'web');
  await waitFor('web shown running', async () => (await stateOf('web')) === 'running');
  assert.equal(await page.evaluate(() => window.notReloaded), true, 'updated in place');

  // The switch is remembered across reloads, on and off.
  await page.reload();
  assert.equal(await page.locator('#live').isChecked(), true);
  await page.locator('#live').uncheck();
  await page.reload();
  assert.equal(await page.locator('#live').isChecked(), false);
  await page.context().close();
});

test('screenshots at desktop and phone width; the phone layout does not spill', async () => {
  const page = await desktop();
  await page.goto(`${base}/?message=Process%20alpha%20restarted`);
  await page.screenshot({ path: path.join(artifacts, 'status-desktop.png'), fullPage: true });
  await page.context().close();

  const phone = await browser.newContext({
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
  });
  const p = await phone.newPage();
  // Live is off in a fresh browser: the page then makes no requests of its own.
  const own = [];
  p.on('request', (r) => {
    if (r.url().startsWith(base) && r.resourceType() !== 'document') own.push(r.url());
  });
  await p.goto(`${base}/?message=Process%20alpha%20restarted`);
  const widths = await p.evaluate(() => ({
    viewport: window.innerWidth,
    page: document.documentElement.scrollWidth,
    widest: Math.max(...[...document.querySelectorAll('tr, td, button, a')].map((e) => e.getBoundingClientRect().right)),
  }));
  assert.equal(widths.viewport, 390, 'the viewport meta tag makes the layout viewport the device width');
  assert.ok(widths.page <= 390, `page is ${widths.page}px wide at 390px`);
  assert.ok(widths.widest <= 390, `an element reaches ${widths.widest}px at 390px`);
  await p.screenshot({ path: path.join(artifacts, 'status-phone.png'), fullPage: true });

  await p.goto(`${base}/tail.html?processname=web`);
  assert.match(await p.locator('h2').textContent(), /^web /);
  assert.match(await p.locator('pre').textContent(), /listening on :8080/);
  assert.ok((await p.evaluate(() => document.documentElement.scrollWidth)) <= 390);
  await p.screenshot({ path: path.join(artifacts, 'tail-phone.png'), fullPage: true });
  assert.deepEqual(own, [], 'no requests besides the pages themselves');
  await phone.close();
  for (const f of ['status-desktop.png', 'status-phone.png', 'tail-phone.png']) {
    assert.ok(readFileSync(path.join(artifacts, f)).length > 1000, f);
  }
});
