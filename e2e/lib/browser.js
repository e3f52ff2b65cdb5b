// A small browser stand-in: fetch with a cookie jar (host-only cookies, Path
// and Max-Age/Expires honoured), redirects followed one step at a time, the
// Gatehouse sign-in form, and extraction of the auto-submitted SAML form.

/** Decodes the HTML character references html/template emits. */
export function htmlUnescape(s) {
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|amp|lt|gt|quot|apos|#39);/g, (_, ref) => {
    switch (ref) {
      case 'amp': return '&';
      case 'lt': return '<';
      case 'gt': return '>';
      case 'quot': return '"';
      case 'apos': return "'";
      default:
        return String.fromCodePoint(ref[1] === 'x' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10));
    }
  });
}

function defaultPath(pathname) {
  if (!pathname.startsWith('/') || pathname.lastIndexOf('/') === 0) {
    return '/';
  }
  return pathname.slice(0, pathname.lastIndexOf('/'));
}

function pathMatches(reqPath, cookiePath) {
  if (reqPath === cookiePath) return true;
  if (!reqPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith('/') || reqPath[cookiePath.length] === '/';
}

export class Browser {
  /** allow lists further origins the browser may visit (a local OpenID Connect provider). */
  constructor(baseURL, { allow = [] } = {}) {
    this.baseURL = baseURL;
    this.origin = new URL(baseURL).origin;
    this.allowed = new Set([this.origin, ...allow.map((u) => new URL(u).origin)]);
    /** @type {Map<string, {name: string, value: string, host: string, path: string, expires: number}>} */
    this.jar = new Map();
  }

  abs(u) {
    return new URL(u, this.baseURL);
  }

  storeCookies(url, headers) {
    for (const line of headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const c = { name: pair.slice(0, eq).trim(), value: pair.slice(eq + 1).trim(), host: url.host, path: defaultPath(url.pathname), expires: Infinity };
      for (const a of attrs) {
        const [k, ...v] = a.trim().split('=');
        const val = v.join('=');
        switch (k.toLowerCase()) {
          case 'path':
            if (val.startsWith('/')) c.path = val;
            break;
          case 'max-age':
            c.expires = Number(val) <= 0 ? 0 : Date.now() + Number(val) * 1000;
            break;
          case 'expires':
            if (c.expires === Infinity) c.expires = Date.parse(val);
            break;
          default:
        }
      }
      const key = `${c.host}|${c.path}|${c.name}`;
      if (c.expires <= Date.now()) {
        this.jar.delete(key);
      } else {
        this.jar.set(key, c);
      }
    }
  }

  cookieHeader(url) {
    const now = Date.now();
    return [...this.jar.values()]
      .filter((c) => c.host === url.host && c.expires > now && pathMatches(url.pathname, c.path))
      .sort((a, b) => b.path.length - a.path.length)
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }

  /** The value of a cookie set by Gatehouse, or undefined. */
  cookie(name) {
    const host = new URL(this.baseURL).host;
    for (const c of this.jar.values()) {
      if (c.host === host && c.name === name && c.expires > Date.now()) return c.value;
    }
    return undefined;
  }

  /**
   * One request, no redirect following. Returns {status, headers, url, body}.
   * Only Gatehouse is ever contacted: the SP addresses in these tests are
   * parsed, never fetched.
   */
  async request(method, u, form) {
    const url = this.abs(u);
    if (!this.allowed.has(url.origin)) {
      throw new Error(`the test browser would leave Gatehouse for ${url.href}`);
    }
    const headers = { 'User-Agent': 'gatehouse-e2e', Accept: 'text/html' };
    const cookies = this.cookieHeader(url);
    if (cookies) headers.Cookie = cookies;
    let body;
    if (form) {
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
      headers.Origin = url.origin; // as a browser posting a same-origin form
      body = new URLSearchParams(form).toString();
    }
    const r = await fetch(url, { method, headers, body, redirect: 'manual' });
    this.storeCookies(url, r.headers);
    return { status: r.status, headers: r.headers, url, body: await r.text() };
  }

  get(u) {
    return this.request('GET', u);
  }

  post(u, form) {
    return this.request('POST', u, form);
  }

  /**
   * Follows redirects that stay on Gatehouse; stops at the first response
   * that is not a redirect, or at a redirect leaving Gatehouse (returned
   * with its Location, for bindings that redirect to the SP).
   */
  async follow(resp) {
    for (let i = 0; i < 10 && resp.status >= 300 && resp.status < 400; i++) {
      const next = new URL(resp.headers.get('location'), resp.url);
      if (next.origin !== this.origin) return resp;
      resp = await this.get(next.href);
    }
    return resp;
  }

  /** Fills in and posts the sign-in form shown by a /login page. */
  async submitSignIn(loginPage, username, password) {
    const csrf = loginPage.body.match(/name="csrf" value="([^"]+)"/);
    if (!csrf) throw new Error(`no CSRF token on the sign-in page: ${loginPage.body.slice(0, 400)}`);
    const next = loginPage.url.searchParams.get('next') ?? '/';
    return this.post('/login', { username, password, csrf: htmlUnescape(csrf[1]), next });
  }

  /** Signs in directly through /login and lands on `next`. */
  async signIn(username, password, next = '/app/UserHome') {
    const page = await this.get('/login?next=' + encodeURIComponent(next));
    return this.follow(await this.submitSignIn(page, username, password));
  }
}

/**
 * Extracts the auto-submitted SAML form of a page: {action, SAMLResponse,
 * SAMLRequest, RelayState}; throws if the page has none.
 */
export function samlForm(page) {
  const action = page.body.match(/<form method="post" action="([^"]+)"/);
  const resp = page.body.match(/name="SAMLResponse" value="([^"]+)"/);
  const req = page.body.match(/name="SAMLRequest" value="([^"]+)"/);
  if (!action || (!resp && !req)) {
    throw new Error(`no SAML POST form in the page (status ${page.status}): ${page.body.slice(page.body.indexOf("<main") > 0 ? page.body.indexOf("<main") : 0, 2000)}`);
  }
  const relay = page.body.match(/name="RelayState" value="([^"]*)"/);
  const out = { action: htmlUnescape(action[1]) };
  if (resp) out.SAMLResponse = htmlUnescape(resp[1]);
  if (req) out.SAMLRequest = htmlUnescape(req[1]);
  if (relay) out.RelayState = htmlUnescape(relay[1]);
  return out;
}

/**
 * Runs an SP-initiated sign-in the way a person's browser would: open the
 * SP's request URL on Gatehouse, get sent to the sign-in page, sign in,
 * and come back to the auto-POST page. Returns {page, form}.
 */
export async function spInitiatedSignIn(browser, requestURL, username, password) {
  let page = await browser.follow(await browser.get(requestURL));
  if (page.url.pathname === '/login') {
    if (!page.body.includes('Sign In')) {
      throw new Error(`expected the sign-in page, got ${page.status}`);
    }
    page = await browser.follow(await browser.submitSignIn(page, username, password));
  }
  return { page, form: samlForm(page) };
}
