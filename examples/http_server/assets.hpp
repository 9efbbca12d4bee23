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
  <button id="login-button" type="submit">Log in</button>
</form>
<p>
  <button id="me" type="button">Who am I?</button>
  <button id="refresh" type="button">Refresh now</button>
  <button id="logout" type="button">Log out</button>
  <button id="logout-all" type="button">Log out everywhere</button>
</p>
<p>Transparent refreshes so far: <span id="refreshes">0</span></p>
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

// An API call that survives the end of the access token: refresh once, then repeat.
async function api(method, path) {
  let result = await send(method, path);
  const error = result.data && result.data.error;
  if (result.status === 401 && (error === 'expired' || error === 'not_found')) {
    const refreshed = await send('POST', '/refresh');
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
  const credentials = { username: $('username').value, password: $('password').value };
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
  const result = await send('POST', '/refresh');
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
