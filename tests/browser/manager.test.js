/*
 * The session manager (/) in headless Chromium (Debian's /usr/bin/chromium
 * driven by playwright-core).  Run by tests/integration/test_manager.py,
 * which owns the daemon, alice's session and an ssh viewer:
 *
 *   node manager.test.js ALICE_LOGIN_URL BOB_PASSWORD SESSION_ID NAME SHOT
 *
 * Alice signs in with a one-time link, bob with the sign-in form.  NAME
 * is hostile markup: alice's session is called that, and her link share
 * gets it as its label; both must show as text.
 *
 * Lines on stdout starting with "@" are steps for the python side:
 *   @link URL     alice made a read-only link share in the dialog; python
 *                 joins it with ssh as bob and writes "joined"
 *   @revoked      alice clicked Revoke on it; python checks the ssh viewer
 *                 was cut off and writes "ok"
 *   @done         everything checked
 */
'use strict';

const path = require('path');
const fs = require('fs');
const readline = require('readline');
const { chromium } = require('playwright-core');

const [aliceUrl, bobPassword, sid, name, shot] = process.argv.slice(2);
if (!aliceUrl || !bobPassword || !sid || !name || !shot) {
	console.error('usage: manager.test.js ALICE_URL BOB_PASSWORD ' +
	    'SESSION_ID NAME SHOT');
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
function step(text) {
	process.stdout.write('@' + text + '\n');
}
async function expectLine(want) {
	const got = await nextLine();
	if (got !== want)
		throw new Error(`expected "${want}" from the driver, got "${got}"`);
}

/* Answers a step provokes on purpose (a share for an unknown user). */
let expected = null;

function watch(page, errors) {
	page.on('pageerror', (e) => errors.push(String(e)));
	page.on('console', (m) => {
		if (m.type() === 'error' &&
		    !/^Failed to load resource/.test(m.text()))
			errors.push(m.text());
	});
	page.on('response', (r) => {
		if (r.status() >= 400 && !/\/favicon\.ico$/.test(r.url()) &&
		    !(expected && expected(r)))
			errors.push(`${r.status()} ${r.url()}`);
	});
}

async function launch(dir) {
	return chromium.launchPersistentContext(dir, {
		executablePath: '/usr/bin/chromium',
		headless: true,
		args: ['--no-sandbox', '--disable-gpu', '--disable-quic',
		    '--no-first-run', '--disable-background-networking',
		    '--disable-component-update', '--disable-sync'],
		viewport: { width: 1100, height: 700 },
	});
}

const block = `.session[data-session="${sid}"]`;

/* A share row of alice's session whose text matches re. */
async function shareRow(page, re, timeout) {
	const deadline = Date.now() + (timeout || 15000);
	while (Date.now() < deadline) {
		const rows = await page.$$(`${block} tr.share`);
		for (const r of rows) {
			if (re.test(await r.textContent()))
				return r;
		}
		await page.waitForTimeout(200);
	}
	throw new Error(`no share row matching ${re}`);
}

async function createShare(page, kind, fill) {
	await page.click(`${block} button:has-text("Share")`);
	await page.waitForSelector('#share-dialog[open]');
	await page.check(`#share-form input[name="kind"][value="${kind}"]`);
	await fill(page);
	await page.click('#share-create');
}

async function main() {
	const tmp = require('os').tmpdir();
	const dirA = fs.mkdtempSync(path.join(tmp, 'tandem-chromium-'));
	const dirB = fs.mkdtempSync(path.join(tmp, 'tandem-chromium-'));
	const errors = [];
	const a = await launch(dirA);
	const b = await launch(dirB);
	try {
		const pa = await a.newPage();
		watch(pa, errors);
		/* The one-time link signs alice in and lands on the manager. */
		await pa.goto(aliceUrl);
		await pa.waitForFunction(() => /Signed in as alice/.test(
		    document.getElementById('who').textContent));
		if (new URL(pa.url()).pathname !== '/')
			throw new Error(`landed on ${pa.url()}`);
		await pa.waitForSelector(`${block} .badge.active`);

		/* A hostile session name is text, never markup. */
		const shown = await pa.textContent(`${block} .name`);
		if (shown !== name)
			throw new Error(`name shown as "${shown}"`);
		const injected = await pa.evaluate(() => [
		    document.querySelectorAll('main img').length,
		    window.pwned === undefined ? 0 : 1]);
		if (injected[0] !== 0 || injected[1] !== 0)
			throw new Error('the session name was run as HTML');

		/* A read-only link for an hour, shown once, with a copy
		 * button. */
		await createShare(pa, 'link', async (p) => {
			await p.selectOption('#share-form select[name="permission"]',
			    'read_only');
			await p.selectOption('#share-form select[name="expires_in"]',
			    '1h');
			await p.fill('#share-form input[name="label"]', name);
		});
		await pa.waitForSelector('#share-result:not([hidden])');
		const url = await pa.inputValue('#share-url');
		if (!/\/s\/[A-Za-z0-9_-]{40}$/.test(url))
			throw new Error(`share URL "${url}"`);
		await pa.click('#share-copy');
		await pa.waitForSelector('#share-copied:not([hidden])');
		await pa.click('#share-close');
		step('link ' + url);
		await expectLine('joined');

		/* The viewer appears without a reload. */
		const linkRow = await shareRow(pa, /link.*1 viewer: bob \(ssh\)/);
		const linkText = await linkRow.textContent();
		if (!/read-only/.test(linkText))
			throw new Error('link share is not read-only');
		if (!/expires in (59m|1h 0m)/.test(linkText))
			throw new Error(`link share expiry: "${linkText}"`);
		/* Its hostile label is text too. */
		const label = await (await linkRow.$('.label')).textContent();
		if (label !== name)
			throw new Error(`label shown as "${label}"`);
		const imgs = await pa.evaluate(() => [
		    document.querySelectorAll('img').length,
		    window.pwned === undefined ? 0 : 1]);
		if (imgs[0] !== 0 || imgs[1] !== 0)
			throw new Error('the share label was run as HTML');

		/* Invite bob, read-write: no token to show, the dialog goes. */
		await createShare(pa, 'user', async (p) => {
			await p.fill('#share-form input[name="username"]', 'bob');
			await p.selectOption('#share-form select[name="permission"]',
			    'read_write');
		});
		await pa.waitForSelector('#share-dialog', { state: 'hidden' });
		await shareRow(pa, /user bob.*read-write/);
		/* A mistake is shown in the dialog. */
		expected = (r) => r.status() === 404 &&
		    r.request().method() === 'POST';
		await createShare(pa, 'user', async (p) => {
			await p.fill('#share-form input[name="username"]',
			    'nobody-here');
		});
		await pa.waitForFunction(() => /no such user/.test(
		    document.getElementById('share-error').textContent));
		expected = null;
		await pa.click('#share-close');

		/* Bob signs in with the form: a wrong password is said so on
		 * the page, the right one lands on the manager. */
		const pb = await b.newPage();
		watch(pb, errors);
		await pb.goto(new URL('/', aliceUrl).href);
		if (new URL(pb.url()).pathname !== '/login')
			throw new Error(`signed out, / went to ${pb.url()}`);
		expected = (r) => r.status() === 401 &&
		    new URL(r.url()).pathname === '/login';
		await pb.fill('#signin-form input[name="user"]', 'bob');
		await pb.fill('#signin-form input[name="password"]',
		    bobPassword + 'x');
		await pb.click('#signin-form button[type="submit"]');
		await pb.waitForFunction(() => document.getElementById(
		    'signin-error').textContent.length > 0);
		expected = null;
		await pb.fill('#signin-form input[name="password"]', bobPassword);
		await pb.click('#signin-form button[type="submit"]');
		await pb.waitForFunction(() => document.getElementById('who') &&
		    /Signed in as bob/.test(
		    document.getElementById('who').textContent));
		await pb.click('#tab-shared');
		const row = `.session-shared[data-session="${sid}"]`;
		await pb.waitForSelector(row);
		const text = await pb.textContent(row);
		if (!/alice/.test(text) || !/read-write/.test(text) ||
		    !/in \d+m|in \d+h/.test(text))
			throw new Error(`shared row: "${text}"`);
		await pb.screenshot({ path: shot.replace(/\.png$/, '') +
		    '-shared.png' });

		await pa.screenshot({ path: shot });
		/* Revoke the link: the ssh viewer is cut off. */
		const again = await shareRow(pa, /link.*bob \(ssh\)/);
		await (await again.$('button:has-text("Revoke")')).click();
		step('revoked');
		await expectLine('ok');
		const deadline = Date.now() + 10000;
		while ((await pa.$$(`${block} tr.share`)).length !== 1) {
			if (Date.now() > deadline)
				throw new Error('the revoked share is still listed');
			await pa.waitForTimeout(200);
		}

		/* Bob signs out in another tab: his manager says so at its
		 * next refresh, with a way back in, and stops polling. */
		const pb2 = await b.newPage();
		watch(pb2, errors);
		await pb2.goto(new URL('/', aliceUrl).href);
		await pb2.waitForFunction(() => /Signed in as bob/.test(
		    document.getElementById('who').textContent));
		expected = (r) => r.status() === 401 &&
		    new URL(r.url()).pathname.startsWith('/api/');
		await pb2.click('#signout');
		await pb2.waitForURL(/\/login$/);
		await pb.waitForSelector('#problem:not([hidden])',
		    { timeout: 10000 });
		const gone = await pb.textContent('#problem');
		const back = await pb.getAttribute('#problem a', 'href');
		if (!/signed out/.test(gone) || back !== '/login?next=/')
			throw new Error(`signed-out message "${gone}" -> ${back}`);
		let polls = 0;
		pb.on('request', (r) => {
			if (new URL(r.url()).pathname.startsWith('/api/'))
				polls++;
		});
		await pb.waitForTimeout(3000);
		if (polls !== 0)
			throw new Error(`${polls} API requests after the 401`);
		if (errors.length)
			throw new Error('page errors:\n' + errors.join('\n'));
		step('done');
	} finally {
		await a.close();
		await b.close();
		fs.rmSync(dirA, { recursive: true, force: true });
		fs.rmSync(dirB, { recursive: true, force: true });
	}
}

main().then(() => process.exit(0), (e) => {
	console.error('manager.test.js: ' + (e && e.stack || e));
	process.exit(1);
});
