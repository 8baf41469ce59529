/*
 * tandem's session manager (/): the signed-in user's sessions and the
 * sessions shared with them, refreshed from the API (doc/api.md) every
 * few seconds without reloading; a dialog creates shares, and each
 * share has a Revoke button.  Everything shown is built with
 * textContent: session names and labels come from users.
 */
(function () {
	'use strict';

	var REFRESH_MS = 2500;
	var mineList = document.getElementById('mine-list');
	var sharedList = document.getElementById('shared-list');
	var problem = document.getElementById('problem');
	var dialog = document.getElementById('share-dialog');
	var form = document.getElementById('share-form');
	var shareError = document.getElementById('share-error');
	var shareResult = document.getElementById('share-result');
	var shareUrl = document.getElementById('share-url');
	var dialogSession = null;
	var timer = null;
	/* The newest refresh: an older one answering late (a poll started
	 * before a Revoke) must not paint the list as it was. */
	var generation = 0;

	function csrf() {
		var m = document.cookie.match(/(?:^|;\s*)tandem_csrf=([0-9a-f]+)/);
		return m ? m[1] : '';
	}

	function el(tag, cls, text) {
		var e = document.createElement(tag);
		if (cls)
			e.className = cls;
		if (text !== undefined && text !== null)
			e.textContent = String(text);
		return e;
	}

	function button(text, onclick) {
		var b = el('button', null, text);
		b.type = 'button';
		b.addEventListener('click', onclick);
		return b;
	}

	function showProblem(text, signIn) {
		problem.textContent = text;
		if (signIn) {
			var a = el('a', null, 'Sign in again');
			a.href = '/login?next=/';
			problem.appendChild(document.createTextNode(' '));
			problem.appendChild(a);
		}
		problem.hidden = false;
	}

	/* One API call: the parsed answer, or a rejection with the
	 * server's detail. */
	function api(method, path, body) {
		var opts = { method: method, credentials: 'same-origin',
		    headers: {} };
		if (method !== 'GET') {
			opts.headers['X-Tandem-CSRF'] = csrf();
			opts.headers['Content-Type'] = 'application/json';
			opts.body = JSON.stringify(body || {});
		}
		return fetch(path, opts).then(function (r) {
			return r.json().catch(function () {
				return {};
			}).then(function (j) {
				if (r.status === 401) {
					stopRefresh();
					showProblem('You are signed out.', true);
				}
				if (!r.ok)
					throw new Error(j.detail || ('HTTP ' +
					    r.status));
				return j;
			});
		});
	}

	function until(iso) {
		var s = Math.round((Date.parse(iso) - Date.now()) / 1000);
		var d, h, m;
		if (!(s > 0))
			return 'expired';
		d = Math.floor(s / 86400);
		h = Math.floor(s % 86400 / 3600);
		m = Math.floor(s % 3600 / 60);
		if (d > 0)
			return 'in ' + d + 'd ' + h + 'h';
		if (h > 0)
			return 'in ' + h + 'h ' + m + 'm';
		if (m > 0)
			return 'in ' + m + 'm';
		return 'in ' + s + 's';
	}

	function since(iso) {
		var s = Math.round((Date.now() - Date.parse(iso)) / 1000);
		if (s < 60)
			return 'just now';
		if (s < 3600)
			return Math.floor(s / 60) + 'm ago';
		if (s < 86400)
			return Math.floor(s / 3600) + 'h ago';
		return Math.floor(s / 86400) + 'd ago';
	}

	function sessionName(s) {
		return s.name ? s.name : s.id.slice(0, 8);
	}

	function badge(text, cls) {
		return el('span', 'badge ' + cls, text.replace('_', '-'));
	}

	/*
	 * Swap in new content only when it differs.  A poll that changes
	 * nothing then leaves the buttons under the pointer alone (a click
	 * whose button is replaced between press and release is lost) and
	 * keeps a text selection.  Equal nodes mean equal handlers: each
	 * handler uses only ids and names the nodes show.
	 */
	function replaceIfChanged(parent, frag) {
		var now = parent.childNodes, next = frag.childNodes, i;

		if (now.length === next.length) {
			for (i = 0; i < next.length; i++) {
				if (!next[i].isEqualNode(now[i]))
					break;
			}
			if (i === next.length)
				return;
		}
		parent.replaceChildren(frag);
	}

	function openSession(id) {
		window.open('/session/' + encodeURIComponent(id), '_blank');
	}

	/* ---- Mine ------------------------------------------------------- */

	function shareRow(s, sh) {
		var tr = el('tr', 'share'), who, names;
		tr.dataset.share = sh.share_id;
		who = sh.kind === 'user' ? 'user ' + sh.target_user :
		    sh.kind === 'claim' ? 'claim link' : 'link';
		tr.appendChild(el('td', null, who));
		tr.appendChild(el('td')).appendChild(badge(sh.permission,
		    sh.permission));
		tr.appendChild(el('td', 'expires', 'expires ' +
		    until(sh.expires_at)));
		tr.appendChild(el('td', 'label', sh.label));
		names = sh.viewers.map(function (v) {
			return v.user_name + ' (' + v.transport + ')';
		});
		tr.appendChild(el('td', 'viewers', sh.viewer_count + ' viewer' +
		    (sh.viewer_count === 1 ? '' : 's') +
		    (names.length ? ': ' + names.join(', ') : '')));
		tr.appendChild(el('td')).appendChild(button('Revoke',
		    function () {
			api('DELETE', '/api/sessions/' + s.id + '/shares/' +
			    sh.share_id).then(refresh, function (e) {
				showProblem('Revoke failed: ' + e.message);
			});
		}));
		return tr;
	}

	function sessionBlock(s, shares) {
		var div = el('div', 'session ' + s.status), line, table;
		div.dataset.session = s.id;
		line = div.appendChild(el('div', 'line'));
		line.appendChild(el('span', 'name', sessionName(s)));
		line.appendChild(badge(s.status, s.status));
		line.appendChild(el('span', 'meta', 'started ' +
		    since(s.started_at) + ', ' + s.cols + 'x' + s.rows + ', ' +
		    s.viewer_count + ' viewer' + (s.viewer_count === 1 ? '' :
		    's')));
		if (s.status !== 'terminated') {
			line.appendChild(button('Open', function () {
				openSession(s.id);
			}));
			line.appendChild(button('Share…', function () {
				openDialog(s);
			}));
		}
		if (shares && shares.length) {
			table = div.appendChild(el('table', 'shares'));
			shares.forEach(function (sh) {
				table.appendChild(shareRow(s, sh));
			});
		}
		return div;
	}

	function renderMine(sessions, gen) {
		var live = sessions.filter(function (s) {
			return s.status !== 'terminated';
		});
		var ended = sessions.filter(function (s) {
			return s.status === 'terminated';
		});
		return Promise.all(live.map(function (s) {
			return api('GET', '/api/sessions/' + s.id + '/shares')
			    .catch(function () {
				return [];
			});
		})).then(function (lists) {
			var frag = document.createDocumentFragment(), i;

			if (gen !== generation)
				return;
			/* Newest first, the live ones before the ended. */
			for (i = live.length - 1; i >= 0; i--)
				frag.appendChild(sessionBlock(live[i], lists[i]));
			for (i = ended.length - 1; i >= 0; i--)
				frag.appendChild(sessionBlock(ended[i], null));
			replaceIfChanged(mineList, frag);
			document.getElementById('mine-empty').hidden =
			    sessions.length > 0;
		});
	}

	/* ---- Shared with me --------------------------------------------- */

	function renderShared(list) {
		var frag = document.createDocumentFragment();
		list.forEach(function (s) {
			var tr = el('tr', 'session-shared');
			tr.dataset.session = s.id;
			tr.appendChild(el('td', 'name', sessionName(s)));
			tr.appendChild(el('td', 'owner', s.owner));
			tr.appendChild(el('td')).appendChild(badge(s.status,
			    s.status));
			tr.appendChild(el('td')).appendChild(badge(s.permission,
			    s.permission));
			tr.appendChild(el('td', 'expires', until(s.expires_at)));
			if (s.status !== 'terminated')
				tr.appendChild(el('td')).appendChild(button('Open',
				    function () {
					openSession(s.id);
				}));
			frag.appendChild(tr);
		});
		replaceIfChanged(sharedList, frag);
		document.getElementById('shared-table').hidden = list.length === 0;
		document.getElementById('shared-empty').hidden = list.length > 0;
	}

	/* ---- refresh ---------------------------------------------------- */

	function refresh() {
		var gen = ++generation;

		return Promise.all([api('GET', '/api/sessions'),
		    api('GET', '/api/sessions/shared')]).then(function (r) {
			if (gen !== generation)
				return null;
			if (timer !== null)
				problem.hidden = true;
			renderShared(r[1]);
			return renderMine(r[0], gen);
		}).catch(function (e) {
			if (timer !== null)
				showProblem('Cannot reach tandemd: ' + e.message);
		});
	}

	function stopRefresh() {
		if (timer !== null)
			window.clearInterval(timer);
		timer = null;
	}

	/* ---- the share dialog ------------------------------------------- */

	function openDialog(s) {
		dialogSession = s;
		form.reset();
		shareError.textContent = '';
		shareResult.hidden = true;
		document.getElementById('share-copied').hidden = true;
		document.getElementById('share-create').disabled = false;
		document.getElementById('share-session').textContent =
		    sessionName(s);
		dialog.showModal();
	}

	function shareBody() {
		var kind = form.kind.value, body = {
			permission: form.permission.value,
			expires_in: form.expires_in.value
		};
		if (form.label.value !== '')
			body.label = form.label.value;
		if (kind === 'user') {
			body.username = form.username.value.trim();
		} else if (kind === 'claim') {
			body.claim = true;
		} else {
			body.link_share = true;
			body.require_auth = form.require_auth.checked;
			if (form.max_viewers.value !== '')
				body.max_viewers = parseInt(form.max_viewers.value,
				    10);
		}
		return body;
	}

	document.getElementById('share-create').addEventListener('click',
	    function () {
		var s = dialogSession;
		shareError.textContent = '';
		api('POST', '/api/sessions/' + s.id + '/shares', shareBody())
		    .then(function (sh) {
			if (sh.token) {
				shareUrl.value = sh.share_url || sh.token;
				shareResult.hidden = false;
				document.getElementById('share-create')
				    .disabled = true;
			} else {
				dialog.close();
			}
			refresh();
		}, function (e) {
			shareError.textContent = e.message;
		});
	});

	document.getElementById('share-copy').addEventListener('click',
	    function () {
		var done = function () {
			document.getElementById('share-copied').hidden = false;
		};
		if (navigator.clipboard && navigator.clipboard.writeText) {
			navigator.clipboard.writeText(shareUrl.value).then(done,
			    function () {
				shareUrl.select();
				document.execCommand('copy');
				done();
			});
		} else {
			shareUrl.select();
			document.execCommand('copy');
			done();
		}
	});

	document.getElementById('share-close').addEventListener('click',
	    function () {
		/* The token is shown once: forget it with the dialog. */
		shareUrl.value = '';
		dialog.close();
	});

	/* ---- tabs, sign-out, start -------------------------------------- */

	function selectTab(mine) {
		document.getElementById('tab-mine').setAttribute('aria-selected',
		    mine ? 'true' : 'false');
		document.getElementById('tab-shared').setAttribute(
		    'aria-selected', mine ? 'false' : 'true');
		document.getElementById('mine').hidden = !mine;
		document.getElementById('shared').hidden = mine;
	}
	document.getElementById('tab-mine').addEventListener('click',
	    function () {
		selectTab(true);
	});
	document.getElementById('tab-shared').addEventListener('click',
	    function () {
		selectTab(false);
	});

	document.getElementById('signout').addEventListener('click',
	    function () {
		fetch('/logout', { method: 'POST', credentials: 'same-origin',
		    headers: { 'X-Tandem-CSRF': csrf() } }).then(function () {
			window.location.assign('/login');
		});
	});

	api('GET', '/api/me').then(function (me) {
		document.getElementById('who').textContent = 'Signed in as ' +
		    me.name + (me.admin ? ' (admin)' : '');
		timer = window.setInterval(refresh, REFRESH_MS);
		refresh();
	}, function (e) {
		if (problem.hidden)
			showProblem('Cannot reach tandemd: ' + e.message);
	});
}());
