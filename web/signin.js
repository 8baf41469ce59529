/*
 * The sign-in page: posts the form with fetch() (no inline script) and
 * follows the server's 303 to the page the user came from.
 */
(function () {
	'use strict';
	var form = document.getElementById('signin-form');
	var error = document.getElementById('signin-error');
	var params = new URLSearchParams(window.location.search);
	var next = params.get('next') || '/';

	function csrf() {
		var m = document.cookie.match(/(?:^|;\s*)tandem_csrf=([0-9a-f]+)/);
		return m ? m[1] : null;
	}
	if (csrf() !== null) {
		document.getElementById('signed-in').hidden = false;
		/* A link from another site (a claim link in a chat) comes
		 * here without the SameSite=Strict cookie: going on from
		 * this page sends it. */
		if (params.get('next') !== null && /^\/(?![\/\\])/.test(next)) {
			var go = document.getElementById('continue');
			go.href = next;
			go.hidden = false;
		}
		document.getElementById('signout').addEventListener('click',
		    function () {
			fetch('/logout', { method: 'POST',
			    headers: { 'X-Tandem-CSRF': csrf() },
			    credentials: 'same-origin' }).then(function () {
				window.location.reload();
			});
		});
	}
	form.addEventListener('submit', function (ev) {
		ev.preventDefault();
		error.textContent = '';
		fetch('/login', {
			method: 'POST', credentials: 'same-origin',
			headers: { 'Content-Type': 'application/json' },
			body: JSON.stringify({ user: form.user.value,
			    password: form.password.value, next: next })
		}).then(function (r) {
			if (r.ok || r.redirected) {
				window.location.assign(r.url || next);
				return null;
			}
			return r.json().then(function (j) {
				error.textContent = j.detail || 'sign-in failed';
			});
		}).catch(function () {
			error.textContent = 'cannot reach the server';
		});
	});
})();
