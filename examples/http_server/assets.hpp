// examples/http_server/assets.hpp - the static page the server sends for GET /, /app.js, /app.css.
//
// The script never sees a token: both live in HttpOnly cookies that the browser attaches to
// same-origin fetch() calls by itself. What the script does know is when the API answered 401
// because the access token ran out (error "expired", or "not_found" once the browser dropped the
// cookie at its Max-Age): it then calls POST /refresh once and repeats the request, which is the
// whole of "transparent refresh" on the client side.
#pragma once

#include <string_view>

namespace demo::assets {

inline constexpr std::string_view kIndexHtml = R"HTML(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>tegata session demo</title>
<link rel="stylesheet" href="/app.css">
<script src="/app.js" defer></script>
</head>
<body>
<h1>tegata session demo</h1>
<p id="status">Not logged in.</p>
<form id="login">
  <label>User <input id="username" name="username" autocomplete="username" value="alice"></label>
  <label>Password <input id="password" name="password" type="password"
         autocomplete="current-password"></label>
  <label><input id="remember" name="remember" type="checkbox" checked> Remember me</label>
  <button id="login-button" type="submit">Log in</button>
</form>
<p>
  <button id="me" type="button">Who am I?</button>
  <button id="refresh" type="button">Refresh now</button>
  <button id="logout" type="button">Log out</button>
  <button id="logout-all" type="button">Log out everywhere</button>
</p>
<p>Transparent refreshes so far: <span id="refreshes">0</span></p>
<h2>Your sessions</h2>
<p><button id="sessions" type="button">Show my sessions</button></p>
<ul id="session-list"></ul>
<pre id="output" data-seq="0"></pre>
<p class="note">Both tokens live in HttpOnly cookies: this page's script cannot read them.
  <code>document.cookie</code> here is <code id="cookies"></code>.</p>
</body>
</html>
)HTML";

inline constexpr std::string_view kAppJs = R"JS('use strict';

const $ = (id) => document.getElementById(id);
let refreshes = 0;
let seq = 0;

// One request. credentials: 'same-origin' makes the browser attach the session cookies.
async function send(method, path, body) {
  const init = { method, credentials: 'same-origin', headers: {} };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  return { status: response.status, ok: response.ok, data };
}

// POST /refresh, tried once more a second later when the server could not answer (503): a
// transient failure keeps the cookies, and the session with them. Any other failure is a
// verdict: the session is over and the server has cleared the cookies.
async function refresh() {
  let refreshed = await send('POST', '/refresh');
  if (refreshed.status === 503) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    refreshed = await send('POST', '/refresh');
  }
  return refreshed;
}

// An API call that survives the end of the access token: refresh once, then repeat.
async function api(method, path) {
  let result = await send(method, path);
  const error = result.data && result.data.error;
  if (result.status === 401 && (error === 'expired' || error === 'not_found')) {
    const refreshed = await refresh();
    if (refreshed.ok) {
      refreshes += 1;
      $('refreshes').textContent = String(refreshes);
      result = await send(method, path);
    }
  }
  return result;
}

function show(label, result, status) {
  $('output').textContent = `${label}: ${result.status}\n${JSON.stringify(result.data, null, 2)}`;
  if (status) $('status').textContent = status;
  $('cookies').textContent = JSON.stringify(document.cookie);
  seq += 1;
  $('output').dataset.seq = String(seq);
}

$('login').addEventListener('submit', async (event) => {
  event.preventDefault();
  const credentials = { username: $('username').value, password: $('password').value,
                        remember: $('remember').checked };
  $('password').value = '';
  const result = await send('POST', '/login', credentials);
  show('POST /login', result, result.ok ? `Logged in as ${result.data.subject}.` : 'Login failed.');
});

$('me').addEventListener('click', async () => {
  const result = await api('GET', '/api/me');
  show('GET /api/me', result,
       result.ok ? `Logged in as ${result.data.subject}.` : 'Not logged in.');
});

$('refresh').addEventListener('click', async () => {
  const result = await refresh();
  show('POST /refresh', result, result.ok ? null : 'Not logged in.');
});

$('logout').addEventListener('click', async () => {
  const result = await api('POST', '/logout');
  show('POST /logout', result, 'Logged out.');
});

$('logout-all').addEventListener('click', async () => {
  const result = await api('POST', '/logout-all');
  show('POST /logout-all', result, result.ok ? 'Logged out everywhere.' : 'Logged out.');
});

// The session list: one line per device, with a button that signs that session out. The device
// is the User-Agent the session logged in with, which anyone can set: text, never markup.
async function showSessions() {
  const result = await api('GET', '/api/sessions');
  const list = $('session-list');
  list.replaceChildren();
  if (result.ok) {
    for (const s of result.data.sessions) {
      const item = document.createElement('li');
      item.dataset.sessionId = s.session_id;
      const used = new Date(s.last_refresh * 1000).toISOString();
      item.textContent = `${s.device || 'unknown device'}, last used ${used}` +
                         (s.current ? ' (this browser)' : '');
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'revoke';
      button.textContent = 'Sign out';
      button.addEventListener('click', async () => {
        const revoked = await api('POST', `/api/sessions/${encodeURIComponent(s.session_id)}/revoke`);
        show(`POST /api/sessions/${s.session_id}/revoke`, revoked, s.current ? 'Logged out.' : null);
        if (!s.current) await showSessions();
      });
      item.append(' ', button);
      list.append(item);
    }
  }
  show('GET /api/sessions', result, result.ok ? null : 'Not logged in.');
}

$('sessions').addEventListener('click', showSessions);

$('cookies').textContent = JSON.stringify(document.cookie);
)JS";

inline constexpr std::string_view kAppCss = R"CSS(body {
  font-family: system-ui, sans-serif;
  max-width: 44rem;
  margin: 2rem auto;
  padding: 0 1rem;
  line-height: 1.4;
}
form label { display: inline-block; margin-right: 1rem; }
button { margin: 0.2rem 0.4rem 0.2rem 0; }
pre { background: #f4f4f4; padding: 0.8rem; min-height: 6rem; overflow-x: auto; }
.note { color: #555; font-size: 0.9rem; }
)CSS";

// No inline script or style anywhere, so the policy can forbid both: an injected <script> would
// not run. The cookies are HttpOnly anyway; this is the layer that keeps XSS from using them.
inline constexpr std::string_view kContentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

}  // namespace demo::assets
