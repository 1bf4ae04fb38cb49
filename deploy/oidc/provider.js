// HOP'EN 2 development identity provider: node's oidc-provider (OpenID Certified), ADR 0019.
//
//   node provider.js <config.json>
//
// The config file is written by hopen_common.devstack.oidc (hopen up, the tests' oidc_provider
// fixture): issuer, port, the signing keys (a private JWKS: the FIRST key signs, the others are
// still published so that tokens they signed stay verifiable during a rotation) and the one public
// client. Any login/password is accepted by the development interactions: the token's `sub` is the
// login typed. Access tokens for the resource `urn:hopen` are JWTs (RFC 9068, typ at+jwt) with
// aud "hopen". It never carries rights: those are ours (ADR 0022).
import { readFileSync } from 'node:fs';
import Provider from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const RESOURCE = config.resource ?? 'urn:hopen';

const provider = new Provider(config.issuer, {
  jwks: config.jwks,
  clients: config.clients,
  cookies: { keys: [config.cookie_key] },
  pkce: { required: () => true },
  // Any login is an account whose sub is that login (development only).
  findAccount: async (_ctx, sub) => ({ accountId: sub, claims: async () => ({ sub }) }),
  features: {
    devInteractions: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => RESOURCE,
      useGrantedResource: () => true,
      getResourceServerInfo: (_ctx, indicator) => {
        if (indicator !== RESOURCE) throw new Provider.errors.InvalidTarget();
        return {
          scope: 'hopen',
          audience: config.audience ?? 'hopen',
          accessTokenTTL: config.access_token_ttl ?? 3600,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: config.alg ?? 'RS256' } },
        };
      },
    },
  },
});
provider.on('server_error', (_ctx, err) => console.error('server_error', err));

const server = provider.listen(config.port, config.host ?? '127.0.0.1', () => {
  console.log(`oidc-provider listening on ${config.issuer}`);
});
for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => server.close(() => process.exit(0)));
}
