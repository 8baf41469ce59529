/*
 * tandem's browser viewer: joins the share named by the page's path
 * (/s/TOKEN), or the session a signed-in user opens by its id
 * (/session/ID), over the tandem.v1 WebSocket (doc/protocol.md) and
 * shows the session in xterm.js.  Binary frames are terminal output; text
 * frames are JSON messages.  A "closed" message is final; any other
 * loss of the socket is retried with a growing delay.
 */
(function () {
	'use strict';

	var banner = document.getElementById('banner');
	var overlay = document.getElementById('overlay');
	var overlayText = document.getElementById('overlay-text');
	var m = /^\/(s|session)\/([A-Za-z0-9_-]+)$/.exec(
	    window.location.pathname);
	var term, ws = null, closedFinal = false, retry = 0, retryTimer = null;
	var readWrite = false, everJoined = false;
	var bannerText = '', watching = 0;
	var encoder = new TextEncoder();

	function setBanner(text, cls) {
		banner.textContent = text;
		banner.className = cls || '';
	}

	function showOverlay(text) {
		overlayText.textContent = text;
		overlay.hidden = false;
	}

	/* A share for signed-in users: offer the sign-in page, back here. */
	function addSignInLink() {
		var a = document.createElement('a');
		a.href = '/login?next=' + encodeURIComponent(location.pathname);
		a.textContent = 'Sign in';
		overlayText.appendChild(document.createTextNode(' '));
		overlayText.appendChild(a);
	}

	if (!m) {
		setBanner('This is not a share link.', 'problem');
		showOverlay('Not a share link: expected /s/TOKEN');
		return;
	}
	/* The page's path, under /ws/: the same kind and reference. */
	var wsPath = '/ws/' + m[1] + '/' + encodeURIComponent(m[2]);

	term = new window.Terminal({
		cols: 80,
		rows: 24,
		convertEol: false,
		cursorBlink: false,
		scrollback: 1000,
		disableStdin: true,
		fontFamily: 'monospace',
		fontSize: 15
	});
	term.open(document.getElementById('terminal'));
	/* Exposed for tests and for curious users. */
	window.tandemViewer = {
		terminal: term,
		text: function () {
			var b = term.buffer.active, out = [], i, line;
			for (i = 0; i < b.length; i++) {
				line = b.getLine(i);
				out.push(line ? line.translateToString(true) : '');
			}
			return out.join('\n');
		},
		state: function () {
			return { closed: closedFinal, readWrite: readWrite,
			    open: ws !== null && ws.readyState === 1 };
		}
	};

	term.onData(function (data) {
		if (!readWrite || ws === null || ws.readyState !== 1)
			return;
		ws.send(encoder.encode(data));
	});
	term.onBinary(function (data) {
		var bytes, i;
		if (!readWrite || ws === null || ws.readyState !== 1)
			return;
		bytes = new Uint8Array(data.length);
		for (i = 0; i < data.length; i++)
			bytes[i] = data.charCodeAt(i) & 0xff;
		ws.send(bytes);
	});

	function resizeTo(cols, rows) {
		if (cols > 0 && rows > 0 &&
		    (cols !== term.cols || rows !== term.rows))
			term.resize(cols, rows);
	}

	/* Our terminal is the session's size: say so, so that the server
	 * does not think it too small. */
	function tellSize() {
		if (ws !== null && ws.readyState === 1)
			ws.send(JSON.stringify({ type: 'resize', cols: term.cols,
			    rows: term.rows }));
	}

	/* The banner: whose session and how, and how many watch. */
	function showBanner() {
		setBanner(bannerText + (watching > 0 ? ' \u2014 ' + watching +
		    ' watching' : ''), readWrite ? 'read-write' : 'read-only');
	}

	function onStatus(msg) {
		everJoined = true;
		retry = 0;
		readWrite = msg.permission === 'read_write';
		term.options.disableStdin = !readWrite;
		bannerText = (msg.role === 'owner' ? 'Your session' :
		    (msg.owner || 'unknown') + '\'s session') + ' \u2014 ' +
		    (readWrite ? 'read-write' : 'read-only') +
		    (msg.role === 'admin' ? ' (admin)' : '');
		showBanner();
		resizeTo(msg.cols, msg.rows);
		tellSize();
		if (readWrite)
			term.focus();
	}

	function onMessage(text) {
		var msg;
		try {
			msg = JSON.parse(text);
		} catch (e) {
			return;
		}
		if (msg === null || typeof msg !== 'object')
			return;
		switch (msg.type) {
		case 'status':
			onStatus(msg);
			break;
		case 'resize':
			resizeTo(msg.cols, msg.rows);
			tellSize();
			break;
		case 'viewers':
			watching = typeof msg.count === 'number' ?
			    msg.count : watching;
			showBanner();
			break;
		case 'closed':
			closedFinal = true;
			setBanner('Disconnected: ' + msg.reason, 'problem');
			showOverlay('Disconnected: ' + msg.reason);
			if (/signed-in user|sign in/.test(msg.reason))
				addSignInLink();
			break;
		default:
			break;
		}
	}

	function scheduleRetry() {
		var delay = Math.min(30000, 500 * Math.pow(2, retry));
		retry++;
		setBanner('Connection lost; reconnecting in ' +
		    Math.round(delay / 1000) + ' s…', 'problem');
		retryTimer = window.setTimeout(connect, delay);
	}

	function connect() {
		var proto = window.location.protocol === 'https:' ? 'wss:' :
		    'ws:';
		retryTimer = null;
		if (!everJoined)
			setBanner('Connecting…');
		ws = new WebSocket(proto + '//' + window.location.host +
		    wsPath, 'tandem.v1');
		ws.binaryType = 'arraybuffer';
		ws.onmessage = function (ev) {
			if (typeof ev.data === 'string')
				onMessage(ev.data);
			else
				term.write(new Uint8Array(ev.data));
		};
		ws.onclose = function () {
			ws = null;
			if (closedFinal)
				return;
			/* A fresh repaint comes with the next join. */
			term.reset();
			scheduleRetry();
		};
	}

	connect();
}());
