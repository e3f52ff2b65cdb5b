// A real OpenID Connect provider (the npm oidc-provider package) standing in
// for Google or LinkedIn: the issuer has the provider's shape (LinkedIn's
// ends in /oauth), the ID token carries the claims those providers send
// (email, email_verified, given_name, family_name, name, picture, and hd for
// Google, locale for LinkedIn), and the token endpoint authenticates the
// client the way each provider does (HTTP Basic for Google, the form body for
// LinkedIn). A small sign-in form of its own (an email address, no
// password) chooses which test account signs in; consent is granted for the
// one registered client, as for a first-party app.
import { createServer } from 'node:http';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import Provider from 'oidc-provider';

const page = (title, body) => `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head>` +
  `<body><main><h1>${title}</h1>${body}</main></body></html>`;

const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * Starts a provider on 127.0.0.1:port (path "" or "/oauth"). accounts maps
 * an email typed in the sign-in form to the account's claims (sub first).
 * Returns {issuer, clientId, clientSecret, stop, start, accounts}.
 */
export async function startProvider({ port, path = '', kind, clientId, clientSecret, redirectURI, accounts }) {
  const issuer = `http://127.0.0.1:${port}${path}`;
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid: `${kind}-key-1`, use: 'sig', alg: 'RS256' };
  const bySub = new Map(Object.values(accounts).map((c) => [c.sub, c]));
  const claims = kind === 'google'
    ? { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'given_name', 'family_name', 'picture', 'hd'] }
    : { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'given_name', 'family_name', 'picture', 'locale'] };
  const provider = new Provider(issuer, {
    clients: [{
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: [redirectURI],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: kind === 'google' ? 'client_secret_basic' : 'client_secret_post',
    }],
    jwks: { keys: [jwk] },
    claims,
    scopes: ['openid', 'email', 'profile'],
    // Like Google and LinkedIn, put the scope's claims in the ID token.
    conformIdTokenClaims: false,
    cookies: { keys: [randomBytes(32).toString('hex')] },
    ttl: { AccessToken: 600, AuthorizationCode: 60, Grant: 3600, IdToken: 600, Interaction: 600, Session: 3600 },
    features: { devInteractions: { enabled: false } },
    pkce: { required: () => true },
    interactions: { url: (ctx, interaction) => `${path}/interaction/${interaction.uid}` },
    findAccount: (ctx, sub) => {
      const c = bySub.get(sub);
      return c && { accountId: sub, claims: () => ({ ...c }) };
    },
    // The one client is first-party: consent is granted at once.
    loadExistingGrant: async (ctx) => {
      const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
      if (grantId) return ctx.oidc.provider.Grant.find(grantId);
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
      grant.addOIDCScope('openid email profile');
      await grant.save();
      return grant;
    },
    renderError: (ctx, out) => {
      ctx.type = 'html';
      ctx.body = page('Sign-in error', `<p>${esc(out.error)}: ${esc(out.error_description ?? '')}</p>`);
    },
  });
  provider.on('server_error', (ctx, err) => console.error(`oidc-provider ${kind}:`, err));
  const callback = provider.callback();
  const label = kind === 'google' ? 'Google' : 'LinkedIn';

  async function interaction(req, res, uid, post) {
    const details = await provider.interactionDetails(req, res);
    if (details.uid !== uid || details.prompt.name !== 'login') {
      res.writeHead(400, { 'Content-Type': 'text/plain' }).end(`unexpected prompt ${details.prompt.name}`);
      return;
    }
    if (!post) {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(page(`Sign in to ${label}`,
        `<form method="post" action="${path}/interaction/${esc(uid)}/login">` +
        '<label for="email">Email</label> <input id="email" name="email" type="email" autocomplete="username">' +
        ' <button type="submit">Next</button></form>'));
      return;
    }
    const body = new URLSearchParams(await new Promise((resolve) => {
      let b = '';
      req.on('data', (d) => { b += d; });
      req.on('end', () => resolve(b));
    }));
    const account = accounts[body.get('email')];
    if (!account) {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(page(`Sign in to ${label}`, '<p role="alert">No such account.</p>'));
      return;
    }
    await provider.interactionFinished(req, res, { login: { accountId: account.sub } }, { mergeWithLastSubmission: false });
  }

  const handler = async (req, res) => {
    try {
      const url = new URL(req.url, issuer);
      if (!url.pathname.startsWith(path + '/') && url.pathname !== path) {
        res.writeHead(404).end();
        return;
      }
      const m = url.pathname.slice(path.length).match(/^\/interaction\/([^/]+)(\/login)?$/);
      if (m) {
        await interaction(req, res, m[1], req.method === 'POST' && m[2]);
        return;
      }
      req.originalUrl = req.url;
      req.url = req.url.slice(path.length) || '/';
      callback(req, res);
    } catch (err) {
      console.error(`oidc-provider ${kind} interaction:`, err);
      if (!res.headersSent) res.writeHead(500).end(String(err));
    }
  };

  let server;
  const listen = () => new Promise((resolve, reject) => {
    server = createServer(handler);
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  await listen();
  return {
    issuer,
    clientId,
    clientSecret,
    accounts,
    /** Stops listening (the provider is down) until start(). */
    stop: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
    start: listen,
  };
}
