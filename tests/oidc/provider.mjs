// A certified OpenID provider standing in for the group's identity provider in tests.
//
// Environment: OIDC_ISSUER (its own URL), OIDC_PORT, OIDC_JWKS_FILE (its private signing
// keys, the first one signs: restart with a new key first to rotate), OIDC_REDIRECT_URIS
// (the console's and the report form's, comma-separated). Accounts sign in with the password OIDC_PASSWORD.
import { readFileSync } from 'node:fs';
import { timingSafeEqual } from 'node:crypto';

import Provider from 'oidc-provider';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

const CLIENT = { id: 'hazardloop-console', secret: 'hazardloop-console-secret' };
// The report form: intake exchanges the code on its server, so it is a confidential client too (PKCE on top).
const FORM_CLIENT = { id: 'hazardloop-intake-form', secret: 'hazardloop-intake-form-secret' };
const API = { indicator: 'urn:hazardloop:api', audience: process.env.OIDC_AUDIENCE || 'hazardloop-api' };

const ACCOUNTS = {
  'safety-officer-li': { name: '李安全', tenants: ['refinery'], roles: ['verifier'] },
  'maint-chen': { name: '陈维修', tenants: ['refinery'], roles: ['rectifier'] },
  'manager-zhao': { name: '赵经理', tenants: ['refinery'], roles: ['manager'] },
  'hq-liu': { name: '刘总部', tenants: ['*'], roles: ['auditor', 'manager'] },
  'worker-wang': { name: '王工人', tenants: ['refinery'], roles: ['reporter'] },
  'worker-zhou': { name: '周焊工', tenants: ['mine'], roles: ['reporter'] },
};

const password = Buffer.from(env('OIDC_PASSWORD'));
const passwordMatches = (given) => {
  const typed = Buffer.from(given || '');
  return typed.length === password.length && timingSafeEqual(typed, password);
};

const page = (title, body) => `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head>
<body><h1>${title}</h1>${body}</body></html>`;

const escape = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const loginForm = (uid, error, login = '') => page('Sign in', `${error ? `<p role="alert">${escape(error)}</p>` : ''}
<form method="post" action="/interaction/${uid}/login" autocomplete="off">
  <label>Login <input name="login" value="${escape(login)}" required autofocus></label>
  <label>Password <input name="password" type="password" required></label>
  <button type="submit">Sign in</button>
</form>`);

const redirectUris = env('OIDC_REDIRECT_URIS').split(',').map((uri) => uri.trim()).filter(Boolean);

const provider = new Provider(env('OIDC_ISSUER'), {
  jwks: JSON.parse(readFileSync(env('OIDC_JWKS_FILE'), 'utf8')),
  clients: [CLIENT, FORM_CLIENT].map(({ id, secret }) => ({
    client_id: id,
    client_secret: secret,
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: redirectUris,
    post_logout_redirect_uris: redirectUris.flatMap((uri) => [new URL(uri).origin + '/', new URL(uri).origin + '/f/mine']),
    token_endpoint_auth_method: 'client_secret_basic',
  })),
  cookies: { keys: ['hazardloop-test-provider-cookies'] },
  claims: { openid: ['sub'], profile: ['name'] },
  features: {
    devInteractions: { enabled: false },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => API.indicator,
      useGrantedResource: () => true,
      getResourceServerInfo: (ctx, indicator) => {
        if (indicator !== API.indicator) throw new Provider.errors.InvalidTarget();
        return {
          scope: 'api', audience: API.audience, accessTokenTTL: 3600, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } },
        };
      },
    },
  },
  // The console is the group's own application: signing in to it grants it the API at once.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid profile offline_access');
    grant.addOIDCClaims(['name']);
    grant.addResourceScope(API.indicator, 'api');
    await grant.save();
    return grant;
  },
  issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
  async findAccount(ctx, id) {
    const account = ACCOUNTS[id];
    return account && { accountId: id, claims: async () => ({ sub: id, name: account.name }) };
  },
  async extraTokenClaims(ctx, token) {
    const account = token.kind === 'AccessToken' ? ACCOUNTS[token.accountId] : undefined;
    return account && { name: account.name, tenants: account.tenants, roles: account.roles };
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = page('Error', `<pre>${escape(JSON.stringify(out))}</pre>`);
  },
});
provider.proxy = false;

const formBody = async (req) => {
  let raw = '';
  for await (const chunk of req) raw += chunk;
  return new URLSearchParams(raw);
};

// The sign-in page: the account's login and the shared test password.
provider.use(async (ctx, next) => {
  const match = /^\/interaction\/([\w-]+)(\/login)?$/.exec(ctx.path);
  if (!match) return next();
  ctx.set('Cache-Control', 'no-store');
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  if (details.prompt.name !== 'login') throw new Error(`unexpected prompt ${details.prompt.name}`);
  if (ctx.method === 'GET' && !match[2]) {
    ctx.type = 'html';
    ctx.body = loginForm(details.uid, '', details.params.login_hint);
    return undefined;
  }
  if (ctx.method !== 'POST' || !match[2]) return next();
  const form = await formBody(ctx.req);
  const login = form.get('login');
  if (!ACCOUNTS[login] || !passwordMatches(form.get('password'))) {
    ctx.status = 401;
    ctx.type = 'html';
    ctx.body = loginForm(details.uid, 'Wrong login or password', login);
    return undefined;
  }
  return provider.interactionFinished(ctx.req, ctx.res, { login: { accountId: login } }, { mergeWithLastSubmission: false });
});

const server = provider.listen(Number(env('OIDC_PORT')), '127.0.0.1');
const stop = () => { server.close(() => process.exit(0)); server.closeAllConnections(); };
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
