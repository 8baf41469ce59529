/*
 * The browser viewer page in headless Chromium (Debian's /usr/bin/chromium,
 * driven by playwright-core; no browser is ever downloaded).  Run by
 * tests/integration/test_browser.py, which owns the daemon and the
 * owner's session and answers on stdin:
 *
 *   node viewer.test.js URL_RO URL_RW SCREENSHOT MARKER
 *
 * Lines on stdout starting with "@" are steps for the python side:
 *   @resize-me    python resizes the owner's terminal to 100x30 and
 *                 writes "resized"; the page must follow
 *   @ro-typed     typed into the read-only page; python checks the
 *                 owner got nothing, then writes "go"
 *   @rw-typed     typed "echo browser-typed" into the read-write page;
 *                 python checks the owner's screen, revokes the read-only
 *                 share, then writes "revoked"
 *   @done         the read-only page shows the revocation
 */
'use strict';

const path = require('path');
const fs = require('fs');
const readline = require('readline');
const { chromium } = require('playwright-core');

const [urlRo, urlRw, shot, marker] = process.argv.slice(2);
if (!urlRo || !urlRw || !shot || !marker) {
	console.error('usage: viewer.test.js URL_RO URL_RW SCREENSHOT MARKER');
	process.exit(2);
}

const lines = readline.createInterface({ input: process.stdin });
const waiting = [];
const queued = [];
lines.on('line', (l) => {
	if (waiting.length) waiting.shift()(l.trim());
	else queued.push(l.trim());
});
function nextLine() {
	if (queued.length) return Promise.resolve(queued.shift());
	return new Promise((resolve) => waiting.push(resolve));
}
function step(name) {
	process.stdout.write('@' + name + '\n');
}

async function expectLine(want) {
	const got = await nextLine();
	if (got !== want)
		throw new Error(`expected "${want}" from the driver, got "${got}"`);
}

function termText(page) {
	return page.evaluate(() => window.tandemViewer ?
	    window.tandemViewer.text() : '');
}

async function waitTerm(page, re, what) {
	const deadline = Date.now() + 15000;
	let text = '';
	while (Date.now() < deadline) {
		text = await termText(page);
		if (re.test(text)) return text;
		await page.waitForTimeout(100);
	}
	throw new Error(`${what}: no ${re} in the terminal:\n${text}`);
}

async function main() {
	const userDir = fs.mkdtempSync(path.join(require('os').tmpdir(),
	    'tandem-chromium-'));
	/* A fresh, empty profile (--user-data-dir) for every run. */
	const ctx = await chromium.launchPersistentContext(userDir, {
		executablePath: '/usr/bin/chromium',
		headless: true,
		args: ['--no-sandbox', '--disable-gpu', '--disable-quic',
		    '--no-first-run', '--disable-background-networking',
		    '--disable-component-update', '--disable-sync'],
		viewport: { width: 1000, height: 600 },
	});
	const errors = [];
	try {
		const ro = await ctx.newPage();
		const rw = await ctx.newPage();
		for (const p of [ro, rw]) {
			p.on('pageerror', (e) => errors.push(String(e)));
			/* Resource failures are checked by URL below (the
			 * browser's own /favicon.ico request gets a 404). */
			p.on('console', (m) => {
				if (m.type() === 'error' &&
				    !/^Failed to load resource/.test(m.text()))
					errors.push(m.text());
			});
			p.on('response', (r) => {
				if (r.status() >= 400 &&
				    !/\/favicon\.ico$/.test(r.url()))
					errors.push(`${r.status()} ${r.url()}`);
			});
		}
		const markerRe = new RegExp(marker);

		await ro.goto(urlRo);
		await waitTerm(ro, markerRe, 'read-only page');
		await ro.waitForFunction(() => /read-only/.test(
		    document.getElementById('banner').textContent));
		const roBanner = await ro.textContent('#banner');
		if (!/^alice's session — read-only( — \d+ watching)?$/.test(
		    roBanner))
			throw new Error(`read-only banner: "${roBanner}"`);

		await rw.goto(urlRw);
		await waitTerm(rw, markerRe, 'read-write page');
		await rw.waitForFunction(() => /read-write/.test(
		    document.getElementById('banner').textContent));
		const rwBanner = await rw.textContent('#banner');
		if (!/^alice's session — read-write( — \d+ watching)?$/.test(
		    rwBanner))
			throw new Error(`read-write banner: "${rwBanner}"`);

		/* The page's terminal takes the session's size. */
		const size = await rw.evaluate(() => [
		    window.tandemViewer.terminal.cols,
		    window.tandemViewer.terminal.rows]);
		if (size[0] !== 80 || size[1] !== 24)
			throw new Error(`terminal size ${size}`);
		/* Both pages are counted in the banner. */
		await rw.waitForFunction(() => /— 2 watching$/.test(
		    document.getElementById('banner').textContent));
		/* And it follows the owner's resizes. */
		step('resize-me');
		await expectLine('resized');
		await rw.waitForFunction(() =>
		    window.tandemViewer.terminal.cols === 100 &&
		    window.tandemViewer.terminal.rows === 30);

		await ro.click('#terminal');
		await ro.keyboard.type('echo ro-typed-$((40+2))');
		await ro.keyboard.press('Enter');
		step('ro-typed');
		await expectLine('go');

		await rw.click('#terminal');
		await rw.keyboard.type('echo browser-typed');
		await rw.keyboard.press('Enter');
		await waitTerm(rw, /^browser-typed\s*$/m, 'read-write echo');
		await rw.screenshot({ path: shot });
		step('rw-typed');
		await expectLine('revoked');

		await ro.waitForSelector('#overlay:not([hidden])',
		    { timeout: 10000 });
		const over = await ro.textContent('#overlay-text');
		if (!/Disconnected: .*revoked/.test(over))
			throw new Error(`overlay: "${over}"`);
		/* No reconnection after a closed message. */
		await ro.waitForTimeout(1500);
		const st = await ro.evaluate(() => window.tandemViewer.state());
		if (!st.closed || st.open)
			throw new Error(`read-only page state ${JSON.stringify(st)}`);
		await ro.screenshot({ path: shot.replace(/\.png$/, '') +
		    '-revoked.png' });
		/* The read-write page is still live. */
		const rwState = await rw.evaluate(() =>
		    window.tandemViewer.state());
		if (!rwState.open || rwState.closed)
			throw new Error(`read-write page state ${
			    JSON.stringify(rwState)}`);
		if (errors.length)
			throw new Error('page errors:\n' + errors.join('\n'));
		step('done');
	} finally {
		await ctx.close();
		fs.rmSync(userDir, { recursive: true, force: true });
	}
}

main().then(() => process.exit(0), (e) => {
	console.error('viewer.test.js: ' + (e && e.stack || e));
	process.exit(1);
});
