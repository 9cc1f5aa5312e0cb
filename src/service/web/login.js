// The sign-in form: posts the name and password, then goes where the visitor was going.
'use strict';

(function () {
  const form = document.getElementById('login');
  const message = document.getElementById('message');

  /** Only a page of this site: `next` is resolved as the browser will resolve it (tabs and
   * newlines dropped, backslashes read as slashes) and anything that lands on another origin,
   * or is not a path, goes to the inbox instead (no open redirect). */
  function next() {
    const n = new URLSearchParams(location.search).get('next') || '/inbox';
    let url;
    try { url = new URL(n, location.origin); } catch (e) { return '/inbox'; }
    if (url.origin !== location.origin || !n.startsWith('/')) return '/inbox';
    // Dot-segments can leave a path like `//evil.example` (`/.//evil.example`): the browser
    // would read that as another site. Only a single leading slash is a path of this site.
    if (/^[/\\]{2}/.test(url.pathname)) return '/inbox';
    return url.pathname + url.search + url.hash;
  }

  fetch('/auth/status', { credentials: 'same-origin' }).then((r) => r.json()).then((s) => {
    if (s.demo) document.getElementById('demo').classList.remove('hidden');
    if (s.signed_in) location.replace(next());
  }).catch(() => {});

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    message.textContent = '';
    const button = form.querySelector('button');
    button.disabled = true;
    try {
      const res = await fetch('/auth/login', {
        method: 'POST', credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({ name: form.elements.name.value.trim(), password: form.elements.password.value }),
      });
      if (res.ok) { location.assign(next()); return; }
      const data = await res.json().catch(() => ({}));
      message.textContent = res.status === 429
        ? 'Te veel pogingen. Probeer het over ' + Math.ceil((data.retry_after || 60) / 60) + ' minuten opnieuw.'
        : (res.status === 401 ? 'Gebruikersnaam of wachtwoord klopt niet.' : (data.message || 'Aanmelden lukt nu niet.'));
      form.elements.password.select();
    } catch (err) {
      message.textContent = 'De server is niet bereikbaar.';
    } finally {
      button.disabled = false;
    }
  });
})();
