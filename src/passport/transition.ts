// The Passport transition, switched on by PASSPORT_PUBLIC_KEY and off by removing it:
// introspection accepts Passport's JWT access tokens, and, with PASSPORT_APP_KEY as well, the
// refresh grant exchanges a Passport refresh token once for a pair of ours.
import type { Config } from '../config.js';
import type { ChangeEvents } from '../events.js';
import type { LegacyTokensRepository } from '../repositories/legacy-tokens-repository.js';
import { type LegacyAccessTokens, createLegacyAccessTokens, loadPassportPublicKey } from './legacy-access-tokens.js';
import { type LegacyRefreshTokens, createLegacyRefreshTokens, parseLaravelAppKey } from './legacy-refresh-tokens.js';

export interface PassportTransition {
  accessTokens: LegacyAccessTokens;
  /** Only with PASSPORT_APP_KEY: without Laravel's key a Passport refresh token cannot be read. */
  refreshTokens: LegacyRefreshTokens | undefined;
}

export async function createPassportTransition(
  config: Pick<Config, 'passportPublicKey' | 'passportAppKey' | 'scopes' | 'hashConcurrency'>,
  repository: LegacyTokensRepository,
  events: ChangeEvents,
): Promise<PassportTransition | undefined> {
  if (config.passportPublicKey === undefined) return undefined;
  const accessTokens = createLegacyAccessTokens({
    publicKey: await loadPassportPublicKey(config.passportPublicKey),
    repository,
    events,
    scopes: config.scopes,
  });
  const refreshTokens =
    config.passportAppKey === undefined
      ? undefined
      : createLegacyRefreshTokens({
          appKey: parseLaravelAppKey(config.passportAppKey),
          repository,
          concurrency: config.hashConcurrency,
          onConsumed: () => events.publish('clients'),
        });
  return { accessTokens, refreshTokens };
}
